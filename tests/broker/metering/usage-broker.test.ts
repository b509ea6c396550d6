/**
 * Usage metering end to end on a real broker process: two SCRAM users
 * (made with `runnel users create --data` before it starts) produce and
 * fetch known batches over SASL_PLAINTEXT with raw connections, so every
 * byte, record and request is known; `runnel usage --json` (over the
 * PLAINTEXT listener, as User:ANONYMOUS, whose own usage is left out of
 * the checks) must then show exactly that, per principal and per topic:
 * - after a periodic flush (usage.flush.interval.ms 300);
 * - after a clean restart, with more usage counted by a broker whose
 *   periodic flush never comes (10 minutes): only the shutdown flush can
 *   have written it, and the first run's counts are still there.
 */
import t, { type Test } from 'tap';
import { ScramClient } from '../../../client/security/scram-client.js';
import type { UsageReport } from '../../../tools/commands/usage.js';
import { buildBatch } from '../../../protocol/batch/index.js';
import { freshDataDir, startBrokerProcess, type BrokerProcess } from '../../support/broker-process.js';
import { runCliProcess } from '../../support/cli-process.js';
import { RawClient } from '../../support/raw-client.js';

const PASSWORD = 'metering-test-password';
const LISTENERS = 'listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0';

const batch = (n: number, tag: string): Uint8Array => buildBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}-${i}-${'x'.repeat(20 + i)}`) })), { nowMs: Date.now() });

async function start(dataDir: string, flushMs: number): Promise<BrokerProcess> {
  return startBrokerProcess({ dataDir, args: ['--set', LISTENERS, '--set', `usage.flush.interval.ms=${flushMs}`, '--set', 'logger.format=json'] });
}

function port(broker: BrokerProcess, listener: string): number {
  const found = broker.listeners.get(listener);
  if (found === undefined) throw new Error(`no ${listener} listener: ${[...broker.listeners.keys()].join(', ')}`);
  return found;
}

/** A raw connection logged in as `user`: every request after this is one the test sends itself. */
async function login(t: Test, broker: BrokerProcess, user: string): Promise<RawClient> {
  const client = await RawClient.connect('127.0.0.1', port(broker, 'SASL_PLAINTEXT'));
  t.teardown(() => client.close());
  await client.request('SaslHandshake', { mechanism: 'SCRAM-SHA-256' });
  const scram = new ScramClient('SCRAM-SHA-256', user, PASSWORD, `n${Math.floor(Math.random() * 1e9)}`);
  const first = await client.request('SaslAuthenticate', { authBytes: Buffer.from(scram.firstMessage()) });
  const final = await client.request('SaslAuthenticate', { authBytes: Buffer.from(scram.finalMessage(Buffer.from(first.authBytes).toString())) });
  if (final.errorCode !== 0) throw new Error(`${user} could not log in: ${final.errorMessage}`);
  return client;
}

async function produce(client: RawClient, topic: string, partitions: [number, Uint8Array][]): Promise<void> {
  const response = await client.request('Produce', { acks: 1, timeoutMs: 10_000, topics: [{ name: topic, partitions: partitions.map(([partition, records]) => ({ partition, records })) }] });
  for (const p of response.topics[0]!.partitions) if (p.errorCode !== 0) throw new Error(`produce to ${topic}-${p.partition}: ${p.errorMessage}`);
}

/** One Fetch from offset 0 of each partition, not waiting: the bytes it got back. */
async function fetchAll(client: RawClient, topic: string, partitions: number[]): Promise<number> {
  const response = await client.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ name: topic, partitions: partitions.map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 })) }] }, 1);
  let bytes = 0;
  for (const p of response.topics[0]!.partitions) {
    if (p.errorCode !== 0) throw new Error(`fetch from ${topic}-${p.partition}: error ${p.errorCode}`);
    for (const slice of p.records) bytes += slice.byteLength;
  }
  return bytes;
}

async function usage(broker: BrokerProcess, by: string): Promise<UsageReport> {
  const run = await runCliProcess(['usage', '--since', '1h', '--by', by, '--json', '-b', `127.0.0.1:${port(broker, 'PLAINTEXT')}`]);
  if (run.code !== 0) throw new Error(`runnel usage failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as UsageReport;
}

type Counts = { bytesIn: number; recordsIn: number; bytesOut: number; recordsOut: number; requests: number };
const counts = (c: Partial<Counts>): Counts => ({ bytesIn: 0, recordsIn: 0, bytesOut: 0, recordsOut: 0, requests: 0, ...c });

/** The rows of alice and bob (the CLI's own ANONYMOUS usage left out), as a map. */
function rowsOf(report: UsageReport): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const { principal, topic, bytesIn, recordsIn, bytesOut, recordsOut, requests } of report.rows) {
    if (principal === 'User:ANONYMOUS' || (principal === undefined && topic === '')) continue;
    out[[principal, topic].filter((x) => x !== undefined).join(' ')] = { bytesIn, recordsIn, bytesOut, recordsOut, requests };
  }
  return out;
}

const sorted = (rows: Record<string, Counts>): Record<string, Counts> => Object.fromEntries(Object.entries(rows).sort(([x], [y]) => x.localeCompare(y)));

/** Polls `runnel usage` (bounded) until it shows `expected`; the last report otherwise. */
async function usageShows(broker: BrokerProcess, by: string, expected: Record<string, Counts>): Promise<{ rows: Record<string, Counts>; report: UsageReport }> {
  let report: UsageReport | undefined;
  let rows: Record<string, Counts> = {};
  for (let attempt = 0; attempt < 20; attempt++) {
    report = await usage(broker, by);
    rows = rowsOf(report);
    if (JSON.stringify(sorted(rows)) === JSON.stringify(sorted(expected))) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return { rows, report: report! };
}

t.test('runnel usage shows exactly what each principal produced, fetched and asked, through a flush and a clean restart', async (t) => {
  const dataDir = freshDataDir();
  for (const user of ['alice', 'bob']) {
    const made = await runCliProcess(['users', 'create', user, '--data', dataDir, '--password-stdin', '--mechanism', 'SCRAM-SHA-256'], { input: `${PASSWORD}\n` });
    if (made.code !== 0) throw new Error(`users create ${user} --data failed: ${made.stderr}`);
  }
  let broker = await start(dataDir, 300);
  t.teardown(() => broker.kill('SIGKILL'));
  const admin = await RawClient.connect('127.0.0.1', port(broker, 'PLAINTEXT'));
  t.teardown(() => admin.close());
  const created = await admin.request('CreateTopics', { topics: [{ name: 'orders', partitions: 2, replicationFactor: 1, configs: [] }, { name: 'audit', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  t.same(created.topics.map((x) => x.errorCode), [0, 0], 'topics created');

  const [a0, a1, c, d] = [batch(3, 'a0'), batch(2, 'a1'), batch(1, 'c'), batch(4, 'd')];
  const alice = await login(t, broker, 'alice');
  const bob = await login(t, broker, 'bob');
  await produce(alice, 'orders', [[0, a0], [1, a1]]); // 1 request, 2 partitions
  await produce(alice, 'audit', [[0, c]]);
  t.equal(await fetchAll(alice, 'orders', [0, 1]), a0.byteLength + a1.byteLength, 'alice fetched both batches back');
  t.equal(await fetchAll(bob, 'orders', [0]), a0.byteLength, 'bob fetched one');
  await bob.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });

  const first = {
    'User:alice audit': counts({ bytesIn: c.byteLength, recordsIn: 1, requests: 1 }),
    'User:alice orders': counts({ bytesIn: a0.byteLength + a1.byteLength, recordsIn: 5, bytesOut: a0.byteLength + a1.byteLength, recordsOut: 5, requests: 2 }),
    'User:bob ': counts({ requests: 1 }),
    'User:bob orders': counts({ bytesOut: a0.byteLength, recordsOut: 3, requests: 1 }),
  };
  t.same(sorted((await usageShows(broker, 'principal-topic', first)).rows), first, 'per principal and topic, after a periodic flush');
  t.same(rowsOf(await usage(broker, 'principal')), {
    'User:alice': counts({ bytesIn: a0.byteLength + a1.byteLength + c.byteLength, recordsIn: 6, bytesOut: a0.byteLength + a1.byteLength, recordsOut: 5, requests: 3 }),
    'User:bob': counts({ bytesOut: a0.byteLength, recordsOut: 3, requests: 2 }),
  }, 'per principal');
  // Per topic is the same roll-up (tests/broker/metering/usage.test.ts, usage-cluster.test.ts); one CLI run less here.

  // Second run: no periodic flush will come; what bob does is written only by the clean shutdown.
  for (const client of [admin, alice, bob]) client.close();
  t.equal(await broker.stop(), 0, 'clean stop');
  broker = await start(dataDir, 600_000);
  const bob2 = await login(t, broker, 'bob');
  await produce(bob2, 'audit', [[0, d]]);
  t.equal(await fetchAll(bob2, 'orders', [0]), a0.byteLength);
  bob2.close();
  t.equal(await broker.stop(), 0, 'clean stop with counts held');
  broker = await start(dataDir, 600_000);
  const second = {
    ...first,
    'User:bob audit': counts({ bytesIn: d.byteLength, recordsIn: 4, requests: 1 }),
    'User:bob orders': counts({ bytesOut: 2 * a0.byteLength, recordsOut: 6, requests: 2 }),
  };
  const last = await usage(broker, 'principal-topic');
  t.same(sorted(rowsOf(last)), sorted(second), 'the first run\'s usage survived two restarts, and the second run\'s was written on shutdown');
  t.ok(last.rows.some((r) => r.principal === 'User:ANONYMOUS'), 'the CLI\'s own requests are metered');
  t.notOk(last.rows.some((r) => r.topic === '__usage'), 'but not its reads of __usage (runnel usage ran at least twice in the first run, flushed every 300 ms and at its stop)');
  t.equal(await broker.stop(), 0);
});
