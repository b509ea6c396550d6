/**
 * Client quotas end to end on a real broker process (one PLAINTEXT
 * listener, every client User:ANONYMOUS, so the entities are client ids):
 * - for 30 s at once, a greedy SDK producer, a greedy SDK consumer, and a
 *   rogue raw producer that ignores the throttle time (it pipelines its
 *   next request as soon as it can), each with its own quota: each one's
 *   byte rate over the 30 s is within 10% of its quota. The rogue is held
 *   by the broker's mute alone; the SDK ones also wait their throttle out
 *   (their brokerStats() count throttled responses);
 * - meanwhile a polite producer (another client id, no quota) sends small
 *   records, and its send latency p99 stays bounded;
 * - the throttle metrics count what was throttled, per kind and per
 *   client's budget;
 * - a quota raised at run time takes effect at once (no restart);
 * - `runnel quota set|describe|remove` round-trips, and refuses a bad rate;
 * - a second broker with max.connections.per.ip 3 refuses the fourth
 *   connection from one address, with a log line and a metric, and keeps
 *   serving the three.
 */
import t from 'tap';
import { Runnel, type Admin } from '../../client/index.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { RawClient, decodeOrThrow } from '../support/raw-client.js';
import { runCliProcess } from '../support/cli-process.js';
import { quotaCommand } from '../../tools/commands/quota.js';

const RATE = 200_000;
const WINDOW_MS = 30_000;
const VALUE_BYTES = 8 * 1024;
const clients: Runnel[] = [];
let broker: BrokerProcess;
/** A second broker, started alongside, for the connection limit. */
let limited: BrokerProcess;
let admin: Admin;

function client(clientId: string): Runnel {
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId, connectTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  clients.push(runnel);
  return runnel;
}

function metricsPort(of: BrokerProcess): number {
  for (const line of of.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { event?: string; port?: number };
    if (entry.event === 'metricsListening' && typeof entry.port === 'number') return entry.port;
  }
  throw new Error('no metricsListening line');
}

const value = (i: number): Buffer => Buffer.alloc(VALUE_BYTES, i % 251);
const within = (rate: number, quota: number): boolean => Math.abs(rate - quota) <= 0.1 * quota;

t.before(async () => {
  [broker, limited] = await Promise.all([
    startBrokerProcess({ args: ['--set', 'logger.format=json', '--set', 'metrics.listen=127.0.0.1:0'] }),
    startBrokerProcess({ args: ['--set', 'logger.format=json', '--set', 'metrics.listen=127.0.0.1:0', '--set', 'max.connections.per.ip=3'] }),
  ]);
  admin = client('quota-admin').admin();
  await admin.createTopic({ name: 'greedy-in', partitions: 1 });
  await admin.createTopic({ name: 'rogue-in', partitions: 1 });
  await admin.createTopic({ name: 'polite-in', partitions: 1 });
  await admin.createTopic({ name: 'prefilled', partitions: 1 });
  // Enough for the greedy consumer to read at its quota for the whole window, and then some.
  const filler = client('filler').producer({ lingerMs: 5 });
  const needed = Math.ceil((RATE * (WINDOW_MS / 1000) * 1.5) / VALUE_BYTES);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < needed; i++) sends.push(filler.send({ topic: 'prefilled', messages: [{ value: value(i) }] }));
  await Promise.all(sends);
  await filler.close();
  await admin.alterClientQuotas([
    { entity: { clientId: 'greedy-producer' }, set: { producer_byte_rate: RATE } },
    { entity: { clientId: 'rogue-producer' }, set: { producer_byte_rate: RATE } },
    { entity: { clientId: 'greedy-consumer' }, set: { consumer_byte_rate: RATE } },
  ]);
});

t.teardown(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all([broker?.stop(), limited?.stop()]);
});

/** Keeps `depth` sends in flight until `untilMs`; the bytes acknowledged by then, and the throttled responses the SDK saw. */
async function greedyProducer(runnel: Runnel, topic: string, untilMs: number, depth = 16): Promise<{ acked: number; throttled: number }> {
  const producer = runnel.producer({ lingerMs: 0 });
  let acked = 0;
  let i = 0;
  const lane = async (): Promise<void> => {
    while (Date.now() < untilMs) {
      await producer.send({ topic, messages: [{ value: value(i++) }] });
      if (Date.now() <= untilMs) acked += VALUE_BYTES;
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  const throttled = producer.brokerStats().reduce((sum, b) => sum + b.throttledResponses, 0);
  await producer.close({ timeoutMs: 0 }).catch(() => undefined);
  return { acked, throttled };
}

/** Raw Produce requests, 4 pipelined, each sent the moment a slot frees: the throttle time is read and ignored. */
async function rogueProducer(untilMs: number): Promise<{ acked: number; throttled: number }> {
  const raw = await RawClient.connect(broker.host, broker.port);
  let acked = 0;
  let throttled = 0;
  let i = 0;
  const lane = async (): Promise<void> => {
    while (Date.now() < untilMs) {
      const records = buildBatch([{ key: null, value: value(i++) }], { nowMs: Date.now() });
      const frame = await raw.requestFrame('Produce', 0, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'rogue-in', partitions: [{ partition: 0, records }] }] }, { clientId: 'rogue-producer' });
      const response = decodeOrThrow('Produce', 0, frame);
      if (response.throttleTimeMs > 0) throttled += 1;
      if (Date.now() <= untilMs) acked += VALUE_BYTES;
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  raw.close();
  return { acked, throttled };
}

async function greedyConsumer(runnel: Runnel, untilMs: number): Promise<number> {
  const consumer = runnel.consumer({ maxWaitMs: 200, maxBytes: 64 * 1024, partitionMaxBytes: 64 * 1024 });
  consumer.assign([{ topic: 'prefilled', partition: 0, offset: 'earliest' }]);
  let read = 0;
  const stop = setTimeout(() => void consumer.close(), untilMs - Date.now());
  try {
    for await (const batch of consumer.batches()) {
      if (Date.now() > untilMs) break;
      for (const m of batch.messages) read += m.value?.length ?? 0;
    }
  } finally {
    clearTimeout(stop);
    await consumer.close();
  }
  return read;
}

/** Small sends, one every 50 ms: their latencies, and the throttled responses its SDK saw (none: it has no quota). */
async function politeProducer(runnel: Runnel, untilMs: number): Promise<{ latencies: number[]; throttled: number }> {
  const producer = runnel.producer({ lingerMs: 0 });
  const latencies: number[] = [];
  while (Date.now() < untilMs) {
    const start = performance.now();
    await producer.send({ topic: 'polite-in', messages: [{ value: Buffer.alloc(200, 1) }] });
    latencies.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const throttled = producer.brokerStats().reduce((sum, b) => sum + b.throttledResponses, 0);
  await producer.close();
  return { latencies, throttled };
}

t.test('greedy clients are held to their quotas over 30 s; a polite one is unaffected', async (t) => {
  const greedy = client('greedy-producer');
  const consumer = client('greedy-consumer');
  const polite = client('polite');
  const startMs = Date.now();
  const untilMs = startMs + WINDOW_MS;
  const [produced, rogue, consumed, politeRun] = await Promise.all([greedyProducer(greedy, 'greedy-in', untilMs), rogueProducer(untilMs), greedyConsumer(consumer, untilMs), politeProducer(polite, untilMs)]);
  const seconds = WINDOW_MS / 1000;
  const rates = { producer: produced.acked / seconds, rogue: rogue.acked / seconds, consumer: consumed / seconds };
  t.comment(`quota ${RATE} B/s; over ${seconds} s: producer ${Math.round(rates.producer)} B/s, rogue (ignores throttle) ${Math.round(rates.rogue)} B/s with ${rogue.throttled} throttled answers, consumer ${Math.round(rates.consumer)} B/s`);
  t.ok(within(rates.producer, RATE), `the SDK producer's rate is within 10% of its quota (${Math.round(rates.producer)} B/s)`);
  t.ok(within(rates.rogue, RATE), `the producer that ignores the throttle time is held by the mute alone (${Math.round(rates.rogue)} B/s)`);
  t.ok(within(rates.consumer, RATE), `the consumer's rate is within 10% of its quota (${Math.round(rates.consumer)} B/s)`);
  t.ok(rogue.throttled > 0, 'the rogue was told its throttle time');
  t.ok(produced.throttled > 0, `the SDK producer saw throttled responses (brokerStats: ${produced.throttled})`);
  const latencies = politeRun.latencies;
  t.equal(politeRun.throttled, 0, 'the polite client is never throttled: the greedy ones\' budgets are their own');
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
  t.comment(`polite producer: ${latencies.length} sends, p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
  t.ok(latencies.length > 100, 'the polite producer kept sending throughout');
  // Loose for a loaded 2-core CI machine; a throttled polite client would wait out whole throttle times and show them.
  t.ok(p99 < 500, `the polite producer's p99 send latency stays under 500 ms (${p99.toFixed(1)} ms)`);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort(broker)}/metrics`)).text();
  for (const kind of ['producer_byte_rate', 'consumer_byte_rate']) {
    const line = metrics.split('\n').find((l) => l.startsWith(`runnel_quota_throttled_requests_total{kind="${kind}"}`));
    t.ok(line !== undefined && Number(line.split(' ').pop()) > 0, `the broker counts throttled ${kind} requests (${line ?? 'no line'})`);
  }
  // Who was held back: each greedy client's own budget (a quota by client id alone: no user part).
  const budgetLine = (clientId: string, kind: string): string | undefined => metrics.split('\n').find((l) => l.startsWith(`runnel_quota_client_throttled_requests_total{kind="${kind}",user="",client_id="${clientId}"}`));
  for (const [clientId, kind] of [['greedy-producer', 'producer_byte_rate'], ['rogue-producer', 'producer_byte_rate'], ['greedy-consumer', 'consumer_byte_rate']] as const) {
    const line = budgetLine(clientId, kind);
    t.ok(line !== undefined && Number(line.split(' ').pop()) > 0, `the broker counts ${clientId}'s throttled ${kind} requests under its budget (${line ?? 'no line'})`);
  }
  t.notOk(metrics.includes('client_id="polite"'), 'the polite client, never throttled, has no budget series');
});

t.test('a quota changed at run time takes effect without a restart', async (t) => {
  await admin.alterClientQuotas([{ entity: { clientId: 'greedy-producer' }, set: { producer_byte_rate: 4 * RATE } }]);
  const described = await admin.describeClientQuotas({ clientId: 'greedy-producer' });
  t.same(described, [{ entity: { clientId: 'greedy-producer' }, quotas: { producer_byte_rate: 4 * RATE } }], 'described as set');
  const seconds = 4;
  const { acked } = await greedyProducer(client('greedy-producer'), 'greedy-in', Date.now() + seconds * 1000);
  const rate = acked / seconds;
  t.comment(`raised to ${4 * RATE} B/s: ${Math.round(rate)} B/s over ${seconds} s`);
  t.ok(rate > 2 * RATE, `the raised quota lets it go well past the old one (${Math.round(rate)} B/s)`);
  t.ok(rate < 4 * RATE * 1.35, 'and it is still held to the new one (within its burst)');
});

t.test('max.connections.per.ip: the N+1th connection from one address is closed, logged and counted; the broker serves on', async (t) => {
  const raws = await Promise.all([1, 2, 3].map(() => RawClient.connect(limited.host, limited.port)));
  t.teardown(() => raws.forEach((r) => r.close()));
  for (const raw of raws) t.equal((await raw.request('ApiVersions', { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode, 0, 'one of the first three is served');
  const fourth = await RawClient.connect(limited.host, limited.port);
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([fourth.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 10_000); })]);
  clearTimeout(timer);
  fourth.close();
  t.ok(closed, 'the fourth is closed by the broker');
  const deadline = Date.now() + 10_000;
  let refusedLine: string | undefined;
  while (refusedLine === undefined && Date.now() < deadline) {
    refusedLine = limited.output().split('\n').find((l) => l.includes('"event":"connectionsRefused"'));
    if (refusedLine === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.match(refusedLine, /max\.connections\.per\.ip 3/, 'a log line says which limits refused it');
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort(limited)}/metrics`)).text();
  t.match(metrics, /runnel_connections_refused_total\{limit="max\.connections\.per\.ip"\} 1/, 'and the metric counts it');
  t.equal((await raws[0]!.request('ApiVersions', { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode, 0, 'the accepted connections are still served');
  for (const raw of raws) raw.close();
});

t.test('the CLI sets, describes and removes quotas, and refuses a bad one', async (t) => {
  const cli = (...args: string[]) => runCliProcess(['quota', ...args, '-b', broker.bootstrap]);
  const set = await cli('set', '--user-default', '--client-id', 'etl', 'request_rate=50', 'consumer_byte_rate=1048576');
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /set: user <default>, client-id etl: request_rate=50 consumer_byte_rate=1048576/);
  const removed = await cli('remove', '--user-default', '--client-id', 'etl', 'request_rate');
  t.equal(removed.code, 0, removed.stderr);
  const described = await cli('describe', '--client-id', 'etl', '--json');
  t.same(JSON.parse(described.stdout), [{ entity: { user: null, clientId: 'etl' }, quotas: { consumer_byte_rate: 1048576 } }], 'describe --json: null is the default user; only the removed kind is gone');
  // Usage errors are caught before any connection: checked in process (a CLI process costs seconds to start).
  await t.rejects(quotaCommand().parseAsync(['set', '--user', 'bob', 'producer_byte_rate=-5'], { from: 'user' }), /producer_byte_rate must be a whole number above 0/);
  await t.rejects(quotaCommand().parseAsync(['remove', '--user', 'bob', '--user-default', 'request_rate'], { from: 'user' }), /--user or --user-default, not both/);
  await t.rejects(quotaCommand().parseAsync(['set', 'request_rate=5'], { from: 'user' }), /name the entity/);
});
