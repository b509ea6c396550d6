/**
 * The features people reach for first in kcat and kafka-console-*, through
 * the real CLI against a real broker process: produce with -H headers (a key
 * repeated), --partition, --null-value and --compression; consume with
 * --format json, --print-headers, --from-time and --exit-at-end; topic create
 * --if-not-exists; and topic alter --partitions (CreatePartitions), which
 * must survive a restart, be finished by a restart that finds the new
 * partition's log missing (a crash between the commit and the log), refuse
 * to shrink, and refuse to adopt a stray log.
 */
import t, { type Test } from 'tap';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Runnel } from '../../client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { linesOf, runnel } from './run-cli.js';

let broker: BrokerProcess;
t.before(async () => {
  broker = await startBrokerProcess();
});
t.teardown(async () => {
  await broker?.stop();
});

const cli = (args: string[], input?: string) => runnel([...args, '-b', broker.bootstrap], input === undefined ? {} : { input });

interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | { base64: string } | null;
  value: string | { base64: string } | null;
  headers: [string, string | { base64: string } | null][];
}

async function consumeJson(t: Test, args: string[]): Promise<JsonRecord[]> {
  const result = await cli(['consume', ...args, '--format', 'json', '--exit-at-end']);
  t.equal(result.code, 0, result.stderr);
  return linesOf(result.stdout).map((line) => JSON.parse(line) as JsonRecord);
}

t.test('produce -H (a key repeated), --partition, --null-value, --compression; consume --format json and --print-headers', async (t) => {
  t.equal((await cli(['topic', 'create', 'feat', '--partitions', '3', '--config', 'cleanup.policy=compact'])).code, 0);
  const produced = await cli(
    ['produce', 'feat', '--key-separator', ':', '-H', 'hop=a', '-H', 'hop=b', '-H', 'note=x=y', '-H', 'empty=', '--partition', '2', '--null-value', '--compression', 'lz4'],
    'k1:v1\nk2:\nk3:é\n',
  );
  t.equal(produced.code, 0, produced.stderr);
  t.equal(produced.stderr, 'Sent 3 records to feat.\n');

  const records = await consumeJson(t, ['feat', '--from-beginning']);
  const headers: JsonRecord['headers'] = [['hop', 'a'], ['hop', 'b'], ['note', 'x=y'], ['empty', '']];
  t.same(records.map(({ timestamp: _, ...rest }) => rest), [
    { topic: 'feat', partition: 2, offset: 0, key: 'k1', value: 'v1', headers },
    { topic: 'feat', partition: 2, offset: 1, key: 'k2', value: null, headers },
    { topic: 'feat', partition: 2, offset: 2, key: 'k3', value: 'é', headers },
  ], 'every field; headers in order with the repeated key; an empty value sent as null (a tombstone)');

  const logDir = join(broker.dataDir, 'feat-2');
  const dumped = await runnel(['dump-log', join(logDir, readdirSync(logDir).find((f) => f.endsWith('.log'))!), '--json']);
  t.ok(linesOf(dumped.stdout).map((l) => JSON.parse(l) as { type: string; codec?: string }).filter((e) => e.type === 'batch').every((b) => b.codec === 'lz4'), 'the batches on disk are lz4');

  const text = await cli(['consume', 'feat', '--partition', '2', '--from-beginning', '--exit-at-end', '--print-offset', '--print-headers', '--print-key']);
  t.equal(text.code, 0, text.stderr);
  t.equal(text.stdout, 'Offset:0\thop:a,hop:b,note:x=y,empty:\tk1\tv1\nOffset:1\thop:a,hop:b,note:x=y,empty:\tk2\tnull\nOffset:2\thop:a,hop:b,note:x=y,empty:\tk3\té\n');

  t.equal((await cli(['produce', 'feat', '--key-separator', ':', '--partition', '0'], 'plain:1\n')).code, 0);
  const plain = await cli(['consume', 'feat', '--partition', '0', '--from-beginning', '--exit-at-end', '--print-headers']);
  t.equal(plain.stdout, 'NO_HEADERS\t1\n', 'a record without headers says so');

  const outOfRange = await cli(['produce', 'feat', '--partition', '3'], 'x\n');
  t.not(outOfRange.code, 0);
  t.same(linesOf(outOfRange.stderr), ['error: topic feat has no partition 3; its partitions are 0 to 2'], 'refused before any line is sent');
  const jsonWithPrint = await cli(['consume', 'feat', '--format', 'json', '--print-key']);
  t.same(linesOf(jsonWithPrint.stderr), ['error: --format json prints every field already; drop --print-key']);
  const badHeader = await cli(['produce', 'feat', '-H', 'novalue'], 'x\n');
  t.same(linesOf(badHeader.stderr), ["error: option '-H, --header <key=value>' argument 'novalue' is invalid. Give key=value, e.g. trace-id=abc123."], 'the value named once, then what to give');
});

t.test('consume --format json: bytes that are not UTF-8 come as base64; null header values as null', async (t) => {
  t.equal((await cli(['topic', 'create', 'binary'])).code, 0);
  // Lines of stdin are text: binary records come from the SDK.
  const runnelClient = new Runnel({ bootstrap: [broker.bootstrap] });
  try {
    const headers: [string, Buffer | null][] = [['raw', Buffer.from([0x80])], ['gone', null], ['raw', Buffer.from('ok')]];
    await runnelClient.producer().send({ topic: 'binary', messages: [{ key: Buffer.from([0xc3, 0x28]), value: Buffer.from([0xff, 0xfe, 0x00]), headers }] });
  } finally {
    await runnelClient.close();
  }
  const [record] = await consumeJson(t, ['binary', '--from-beginning']);
  t.match(record, {
    key: { base64: Buffer.from([0xc3, 0x28]).toString('base64') },
    value: { base64: '//4A' },
    headers: [['raw', { base64: 'gA==' }], ['gone', null], ['raw', 'ok']],
  });
});

t.test('consume --exit-at-end stops at the end of every partition, empty ones included, with no timeout', async (t) => {
  t.equal((await cli(['topic', 'create', 'ends', '--partitions', '4'])).code, 0);
  const empty = await cli(['consume', 'ends', '--from-beginning', '--exit-at-end']);
  t.equal(empty.code, 0, empty.stderr);
  t.equal(empty.stdout, '');
  t.equal(empty.stderr, 'Processed a total of 0 messages.\n', 'an empty topic ends at once');

  const lines = Array.from({ length: 40 }, (_, i) => `k${i % 7}:v${i}`);
  t.equal((await cli(['produce', 'ends', '--key-separator', ':'], `${lines.join('\n')}\n`)).code, 0);
  const all = await cli(['consume', 'ends', '--from-beginning', '--exit-at-end']);
  t.equal(all.code, 0, all.stderr);
  t.same(linesOf(all.stdout).sort(), lines.map((l) => l.split(':')[1]!).sort(), 'every record once, then the end');
  const latest = await cli(['consume', 'ends', '--exit-at-end']);
  t.equal(latest.stdout, '', 'starting at the end, there is nothing to read: it ends at once');
  const inPartition1 = linesOf((await cli(['consume', 'ends', '--partition', '1', '--from-beginning', '--exit-at-end'])).stdout);
  const lastTwo = await cli(['consume', 'ends', '--offset', '-2', '--partition', '1', '--exit-at-end']);
  t.same(linesOf(lastTwo.stdout), inPartition1.slice(-2), '--offset -2 --exit-at-end: the last two records of the partition, then the end');
});

t.test('consume --from-time: ms since the epoch or ISO 8601', async (t) => {
  t.equal((await cli(['topic', 'create', 'timed', '--partitions', '2'])).code, 0);
  t.equal((await cli(['produce', 'timed'], 'old-1\nold-2\n')).code, 0);
  const newest = Math.max(...(await consumeJson(t, ['timed', '--from-beginning'])).map((r) => r.timestamp));
  // Wait (by the clock the producer stamps with) until the next records must be newer.
  while (Date.now() <= newest) await nextTurn();
  const cut = newest + 1;
  t.equal((await cli(['produce', 'timed'], 'new-1\nnew-2\nnew-3\n')).code, 0);

  const byMs = await consumeJson(t, ['timed', '--from-time', String(cut)]);
  t.same(byMs.map((r) => r.value).sort(), ['new-1', 'new-2', 'new-3'], 'from a time in ms: only the records at or after it');
  const byIso = await consumeJson(t, ['timed', '--from-time', new Date(cut).toISOString()]);
  t.same(byIso.map((r) => r.value).sort(), ['new-1', 'new-2', 'new-3'], 'the same time in ISO 8601');
  const beforeAll = await consumeJson(t, ['timed', '--from-time', '2000-01-01']);
  t.equal(beforeAll.length, 5, 'a date before every record reads them all');
  const future = await consumeJson(t, ['timed', '--from-time', String(Date.now() + 3_600_000)]);
  t.equal(future.length, 0, 'a time after every record starts at the end');
  const conflicting = await cli(['consume', 'timed', '--from-time', '0', '--from-beginning']);
  t.match(linesOf(conflicting.stderr), [/--from-beginning' cannot be used with option '--from-time/]);
  const bad = await cli(['consume', 'timed', '--from-time', 'yesterday']);
  t.same(linesOf(bad.stderr), ["error: option '--from-time <time>' argument 'yesterday' is invalid. Give milliseconds since the epoch or an ISO date-time such as 2026-01-31T09:30:00Z."], 'the value named once, then what to give');
});

t.test('topic create --if-not-exists succeeds on an existing topic and changes nothing', async (t) => {
  const first = await cli(['topic', 'create', 'once', '--partitions', '2', '--if-not-exists']);
  t.equal(first.stdout, 'Created topic once with 2 partitions.\n');
  const again = await cli(['topic', 'create', 'once', '--partitions', '5', '--if-not-exists']);
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stdout, 'Topic once already exists; left as it is.\n');
  const described = JSON.parse((await cli(['topic', 'describe', 'once', '--json'])).stdout) as { partitions: unknown[] };
  t.equal(described.partitions.length, 2, 'the partition count asked for the second time was not applied');
  t.not((await cli(['topic', 'create', 'once'])).code, 0, 'without the flag it is an error');
});

t.test('topic alter --partitions adds partitions durably; never shrinks; a restart finishes a commit whose log is missing', async (t) => {
  t.equal((await cli(['topic', 'create', 'grow', '--partitions', '2'])).code, 0);
  t.equal((await cli(['produce', 'grow', '--partition', '1'], 'before\n')).code, 0);
  const grown = await cli(['topic', 'alter', 'grow', '--partitions', '4']);
  t.equal(grown.code, 0, grown.stderr);
  t.equal(grown.stdout, 'Topic grow now has 4 partitions.\n');
  t.equal((await cli(['produce', 'grow', '--partition', '3'], 'in-new-partition\n')).code, 0, 'the new partition takes records at once');

  for (const [count, why] of [[4, 'already has 4 partitions'], [3, 'has 4 partitions and cannot shrink to 3'], [5000, 'at most 1000 (max.partitions.per.topic)']] as const) {
    const refused = await cli(['topic', 'alter', 'grow', '--partitions', String(count)]);
    t.not(refused.code, 0);
    t.equal(linesOf(refused.stderr).length, 1, refused.stderr);
    t.match(refused.stderr, why);
  }
  t.match((await runnel(['topic', 'alter', 'grow'])).stderr, /required option '--partitions <n>'/);

  // The new count is a metadata change of its own, written with the oldest schema that expresses it whole.
  const entries = metadataSchemaVersions(join(broker.dataDir, 'metadata', 'changes.log'));
  t.ok(entries.length >= 3, `${entries.length} metadata entries`);
  t.equal(entries[0], 1, 'the clusterCreated entry stays readable by a v1 build');
  // `runnel produce` is an idempotent producer: its id came from a block the controller recorded (producerIdsAllocated, v5).
  // The broker's registration names its listeners (brokerRegistered with listeners, v6).
  t.same([...new Set(entries.filter((v) => v !== 1 && v !== 5 && v !== 6))], [3], 'topics and partitions carry their replica assignments, which only schema v3 has');
  t.ok(entries.includes(5), 'the producer id block is recorded too (schema v5)');
  t.ok(entries.includes(6), 'the registration with its listeners is recorded (schema v6)');

  // A crash after the commit, before the log of a new partition was created: the restart creates it.
  await broker.stop();
  rmSync(join(broker.dataDir, 'grow-2'), { recursive: true });
  broker = await startBrokerProcess({ dataDir: broker.dataDir });
  const described = JSON.parse((await cli(['topic', 'describe', 'grow', '--json'])).stdout) as { partitions: { partition: number }[] };
  t.same(described.partitions.map((p) => p.partition), [0, 1, 2, 3], 'still 4 partitions after the restart');
  t.same((await consumeJson(t, ['grow', '--from-beginning'])).map((r) => [r.partition, r.value]).sort(), [[1, 'before'], [3, 'in-new-partition']], 'the records, where they were');
  t.equal((await cli(['produce', 'grow', '--partition', '2'], 'recreated\n')).code, 0, 'the missing log was created at start and serves');

  // A log on disk where a new partition would go, which the metadata never knew, is not adopted.
  await broker.stop();
  cpSync(join(broker.dataDir, 'grow-1'), join(broker.dataDir, 'grow-4'), { recursive: true });
  broker = await startBrokerProcess({ dataDir: broker.dataDir });
  const stray = await cli(['topic', 'alter', 'grow', '--partitions', '5']);
  t.not(stray.code, 0);
  t.match(linesOf(stray.stderr), [/^error: the data directory already holds logs for grow-4, which the topic metadata does not know; move them out/]);
  rmSync(join(broker.dataDir, 'grow-4'), { recursive: true });
});

/** The schema-version byte of every entry of the metadata log (local-store.ts has the format). */
function metadataSchemaVersions(file: string): number[] {
  const bytes = readFileSync(file);
  const versions: number[] = [];
  for (let position = 0; position + 9 <= bytes.byteLength; position += 8 + bytes.readUInt32BE(position)) versions.push(bytes[position + 8]!);
  return versions;
}
