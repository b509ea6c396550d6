/**
 * Damaged data reaches the command line in its words, naming the partition
 * and what to type: a batch that arrives damaged (a byte flipped in a
 * segment under a running broker) stops `runnel consume` after the records
 * before it, with the offset to read on from, and that advice works; a
 * partition the broker took offline as corrupt fails `runnel produce` and
 * `runnel offsets` with the real partition in the recover command, as
 * CLI.md's examples show them. Real broker processes.
 */
import t from 'tap';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runnel } from '../../client/index.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { batchesIn, flipByte } from '../support/segment-damage.js';
import { linesOf, runnel } from './run-cli.js';
import { repoRoot } from '../support/repo-root.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** The example lines of the fenced block that follows `intro` in CLI.md. */
function cliDocExample(intro: string): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'CLI.md'), 'utf8');
  const at = doc.indexOf(intro);
  if (at < 0) throw new Error(`CLI.md has no "${intro}"`);
  return /```\n([\s\S]*?)```/.exec(doc.slice(at))![1]!.trim();
}

/** A line with its numbers and checksums taken out, to compare a doc example with a run. */
const shape = (line: string): string => line.replace(/0x[0-9a-f]+/g, '0x…').replace(/\d+/g, 'N');

t.test('a damaged batch stops `runnel consume` after the records before it, naming the offsets to read on from', async (t) => {
  const broker = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const client = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => client.close());
  await client.admin().createTopic({ name: 'orders', partitions: 1 });
  const producer = client.producer({ lingerMs: 0 });
  // Five batches of ten records: offsets 0-9, 10-19, ...
  for (let b = 0; b < 5; b++) await producer.send({ topic: 'orders', messages: Array.from({ length: 10 }, (_, i) => ({ value: `b${b}-r${i}` })) });
  const log = join(broker.dataDir, 'orders-0', readdirSync(join(broker.dataDir, 'orders-0')).find((n) => n.endsWith('.log'))!);
  const batches = batchesIn(log);
  t.equal(batches.length, 5);
  // A byte inside the third batch's records, under the running broker: it serves the bytes as they are on disk.
  flipByte(log, batches[2]!.position + batches[2]!.sizeBytes - 5);

  const consumed = await runnel(['consume', 'orders', '--from-beginning', '--exit-at-end', '--bootstrap', broker.bootstrap]);
  t.equal(consumed.code, 1);
  t.same(linesOf(consumed.stdout), Array.from({ length: 20 }, (_, i) => `b${Math.floor(i / 10)}-r${i % 10}`), 'the records before the damaged batch, in order');
  const [line, ...more] = linesOf(consumed.stderr);
  t.same(more, [], 'one line on stderr');
  t.match(line, /^error: the batch of orders-0 with offsets 20 to 29, as fetched, is damaged \(CRC mismatch: .*\); read past it with `runnel consume orders --partition 0 --offset 30`, look at the segment with `runnel dump-log <data\.dir>\/orders-0\/<segment>\.log`, and if the log on disk is damaged, stop the broker and run `runnel recover <data\.dir>\/orders-0`$/);
  t.notMatch(line, /CORRUPT_MESSAGE|seek/, 'in CLI words, not the SDK\'s');
  t.equal(shape(line!), shape(cliDocExample('A record batch that arrives damaged')), "CLI.md's example has the shape of what it prints");

  const onward = await runnel(['consume', 'orders', '--partition', '0', '--offset', '30', '--exit-at-end', '--bootstrap', broker.bootstrap]);
  t.equal(onward.code, 0, onward.stderr);
  t.same(linesOf(onward.stdout), Array.from({ length: 20 }, (_, i) => `b${3 + Math.floor(i / 10)}-r${i % 10}`), 'the advice reads on past it');
});

t.test('a partition offline as corrupt: produce and offsets name it, with its own recover command, as CLI.md shows', async (t) => {
  let broker = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const { dataDir } = broker;
  const client = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  await client.admin().createTopic({ name: 'cx', partitions: 2, config: { fsync: 'always', 'segment.bytes': '4096' } });
  const producer = client.producer({ lingerMs: 0 });
  for (let i = 0; i < 30; i++) await producer.send({ topic: 'cx', messages: [{ value: `record-${i}-${'x'.repeat(300)}`, partition: 0 }] });
  await client.close();
  await broker.kill('SIGKILL');
  // A flipped byte in the last batch of the first segment, with valid data after it: damage, not a torn tail.
  const partitionDir = join(dataDir, 'cx-0');
  const segment0 = join(partitionDir, readdirSync(partitionDir).filter((n) => n.endsWith('.log')).sort()[0]!);
  const last = batchesIn(segment0).at(-1)!;
  writeFileSync(join(partitionDir, 'partition.meta'), 'version=1\ntopic=cx\npartition=0\nrecovery.point=0\n');
  flipByte(segment0, last.position + last.sizeBytes - 3);
  broker = await startBrokerProcess({ dataDir });

  const produced = await runnel(['produce', 'cx', '--partition', '0', '--bootstrap', broker.bootstrap], { input: 'more\n' });
  t.equal(produced.code, 1);
  const producedLines = linesOf(produced.stderr);
  t.equal(producedLines.length, 1, produced.stderr);
  t.match(producedLines[0], /^error: line 1 was not sent: CORRUPT_SEGMENT on cx-0: .*stop the broker and run `runnel recover <data\.dir>\/cx-0`/, 'the real partition in the advice, not a placeholder');
  t.notMatch(produced.stderr, /<topic>-<partition>/);

  const offsets = await runnel(['offsets', 'cx', '--bootstrap', broker.bootstrap]);
  t.equal(offsets.code, 1);
  t.same(linesOf(offsets.stderr).length, 1);
  t.match(offsets.stderr, /^error: CORRUPT_SEGMENT on cx-0: .*`runnel recover <data\.dir>\/cx-0`/);
  const example = cliDocExample('fails with `CORRUPT_SEGMENT`, for example:');
  t.equal(example, linesOf(offsets.stderr)[0]!.replaceAll('cx-0', 'orders-0'), "CLI.md's CORRUPT_SEGMENT example is what `runnel offsets` prints");

  // The other partition still works.
  const other = await runnel(['produce', 'cx', '--partition', '1', '--bootstrap', broker.bootstrap], { input: 'fine\n' });
  t.equal(other.code, 0, other.stderr);
});
