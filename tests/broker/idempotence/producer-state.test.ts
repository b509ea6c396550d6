/**
 * The partition's producer state (broker/storage/producer-state.ts) and its
 * use by a Partition: duplicates of the last five batches answered with the
 * original offsets and nothing appended, gaps and stale epochs refused,
 * sequences wrapping, and the state rebuilt from the log's batch headers on
 * open and after a truncation that took a producer's kept batches.
 */
import t from 'tap';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { stampBatch, stampProducer } from '../../../protocol/batch/header.js';
import { ProtocolError } from '../../../protocol/errors.js';
import { Partition } from '../../../broker/partition.js';
import { parseLogConfig } from '../../../broker/storage/log-config.js';
import { PartitionLog } from '../../../broker/storage/partition-log.js';
import { loadProducerState } from '../../../broker/storage/producer-state-loader.js';
import { SNAPSHOTS_KEPT, snapshotFileName, writeProducerSnapshot } from '../../../broker/storage/producer-snapshot.js';
import { lastSequenceOf, PRODUCER_BATCHES_KEPT, ProducerStateTable, type ProducerBatchHeader } from '../../../broker/storage/producer-state.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../../broker/world/file-system.js';

const h = (producerId: number, producerEpoch: number, baseSequence: number, records = 1, maxTimestamp = 1000): ProducerBatchHeader => ({ producerId, producerEpoch, baseSequence, lastOffsetDelta: records - 1, maxTimestamp });

t.test('the table: next sequence appends, the last five duplicates answer with their offsets, gaps and old epochs are refused', async (t) => {
  const table = new ProducerStateTable();
  t.same(table.check(h(7, 0, 42)), { kind: 'append' }, 'an unknown producer is taken at any sequence (its state may have gone with retention)');
  let offset = 100;
  for (let seq = 0; seq < 8 * 3; seq += 3) {
    t.same(table.check(h(7, 0, seq, 3)), seq === 0 ? { kind: 'append' } : { kind: 'append' });
    table.record(h(7, 0, seq, 3), offset, offset + 2);
    offset += 10;
  }
  t.equal(table.entry(7)!.batches.length, PRODUCER_BATCHES_KEPT, 'five batches kept');
  const dup = table.check(h(7, 0, 21, 3));
  t.same(dup, { kind: 'duplicate', batch: { firstSeq: 21, lastSeq: 23, baseOffset: 170, lastOffset: 172, logAppendTimeMs: -1 } }, 'the last batch again: its original offsets');
  t.match(table.check(h(7, 0, 9, 3)), { kind: 'duplicate', batch: { baseOffset: 130 } }, 'the oldest of the five too');
  t.match(table.check(h(7, 0, 6, 3)), { kind: 'refuse', error: 'DUPLICATE_SEQUENCE_NUMBER' }, 'older than the five: a duplicate whose offsets are gone');
  t.match(table.check(h(7, 0, 25, 1)), { kind: 'refuse', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }, 'a gap (24 expected)');
  t.same(table.check(h(7, 0, 24, 1)), { kind: 'append' }, 'the next one');
  t.match(table.check(h(7, 0, 22, 1)), { kind: 'refuse', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }, 'a range overlapping a kept batch is not a retry of it');
  table.record(h(7, 1, 0, 1), 500, 500);
  t.match(table.check(h(7, 0, 24, 1)), { kind: 'refuse', error: 'INVALID_PRODUCER_EPOCH' }, 'the old epoch is fenced once a newer one appended');
  t.match(table.check(h(7, 2, 5, 1)), { kind: 'refuse', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }, 'a new epoch starts at 0');
  t.same(table.check(h(7, 2, 0, 1)), { kind: 'append' });
  t.same(table.check(h(8, 0, 0, 1)), { kind: 'append' }, 'producers are separate');
});

t.test('sequences wrap after 2^31 - 1', async (t) => {
  t.equal(lastSequenceOf({ baseSequence: 0x7ffffffe, lastOffsetDelta: 3 }), 1);
  const table = new ProducerStateTable();
  table.record(h(1, 0, 0x7ffffffe, 2), 0, 1);
  t.same(table.check(h(1, 0, 0, 1)), { kind: 'append' }, '0 follows 2^31 - 1');
  table.record(h(1, 0, 0x7ffffffd, 1), 5, 5);
  t.equal(table.entry(1)!.batches.length, 2, 'recorded whatever the log holds');
});

t.test('truncation forgets batches at and after the offset; a producer left with none asks for a rebuild', async (t) => {
  const table = new ProducerStateTable();
  table.record(h(1, 0, 0, 1), 0, 0);
  table.record(h(1, 0, 1, 1), 1, 1);
  table.record(h(2, 0, 0, 1), 2, 2);
  t.equal(table.truncate(2), false, 'producer 2 lost everything kept: rebuild');
  t.equal(table.entry(2), undefined);
  t.equal(table.truncate(1), true, 'producer 1 keeps its first batch: exact');
  t.same(table.entry(1)!.batches.map((b) => b.firstSeq), [0]);
  t.same(table.check(h(1, 0, 1, 1)), { kind: 'append' }, 'the truncated batch may come again');
});

t.test('expiry forgets producers whose newest batch timestamp is the expiration old; a batch of an older timestamp does not move the clock back', async (t) => {
  const table = new ProducerStateTable();
  table.record(h(1, 0, 0, 1, 5_000), 0, 0);
  table.record(h(1, 0, 1, 1, 3_000), 1, 1); // a CreateTime batch stamped earlier than the one before it
  table.record(h(2, 0, 0, 1, 9_000), 2, 2);
  t.same(table.entry(1)!.lastTimestampMs, 5_000, 'the newest timestamp seen, not the last');
  t.equal(table.expire(14_999, 10_000), 0, 'one millisecond short: kept');
  t.equal(table.expire(15_000, 10_000), 1, 'producer 1 forgotten at exactly the expiration');
  t.equal(table.entry(1), undefined);
  t.same(table.check(h(1, 0, 7, 1)), { kind: 'append' }, 'a forgotten producer is taken at any sequence');
  t.ok(table.entry(2), 'producer 2 (newer) kept');
  table.restore(3, { epoch: 0, batches: [], lastTimestampMs: undefined as unknown as number });
  t.equal(table.expire(1_000_000, 10_000), 1, 'only producer 2 goes: an entry of unknown time starts its clock at the check');
  t.equal(table.expire(1_009_999, 10_000), 0);
  t.equal(table.expire(1_010_000, 10_000), 1, 'and expires one expiration later');
});

/** The wire error `fn` throws, or 'none'. */
function refusal(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (error) {
    return error instanceof ProtocolError ? error.errorName : String(error);
  }
}

const DIR = '/data/t-0';
const config = parseLogConfig({});

function producerBatch(producerId: number, epoch: number, seq: number, values: string[]): Uint8Array {
  const batch = buildBatch(values.map((v) => ({ key: null, value: Buffer.from(v) })), { nowMs: 1000 });
  stampProducer(batch, 0, batch.byteLength, producerId, epoch, seq);
  return batch;
}

async function openPartition(fs: SimulatedFileSystem, clock: ManualClock, logConfig = config, leaderEpoch = 1): Promise<Partition> {
  return (await openWithLog(fs, clock, logConfig, leaderEpoch)).partition;
}

async function openWithLog(fs: SimulatedFileSystem, clock: ManualClock, logConfig = config, leaderEpoch = 1): Promise<{ partition: Partition; log: PartitionLog }> {
  const log = await PartitionLog.open({ dir: DIR, config: logConfig, fs, clock });
  const partition = new Partition('t', 0, log, logConfig);
  await partition.producersLoaded();
  await partition.becomeLeader(0, { leaderEpoch, partitionEpoch: leaderEpoch, isr: [0], replicas: [0] } as never, clock.nowMs());
  return { partition, log };
}

t.test('a leader answers a retried batch with its original offsets and appends nothing; refusals append nothing', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const partition = await openPartition(fs, clock);
  const first = partition.append(producerBatch(9, 0, 0, ['a', 'b']));
  partition.append(Buffer.from(buildBatch([{ key: null, value: Buffer.from('plain') }], { nowMs: 1000 })));
  const second = partition.append(producerBatch(9, 0, 2, ['c']));
  t.same([first.info.baseOffset, second.info.baseOffset, partition.logEndOffset], [0, 3, 4]);
  const again = partition.append(producerBatch(9, 0, 0, ['a', 'b']));
  t.same([again.duplicate, again.info.baseOffset, again.info.lastOffset, partition.logEndOffset], [true, 0, 1, 4], 'the retry: offsets 0..1 again, the log end unchanged');
  await again.committed;
  t.equal(refusal(() => partition.append(producerBatch(9, 0, 5, ['x']))), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  t.equal(refusal(() => partition.append(Buffer.concat([producerBatch(9, 0, 3, ['x']), producerBatch(9, 0, 5, ['y'])]))), 'INVALID_RECORD', 'batches of one request must follow each other in sequence');
  t.equal(partition.logEndOffset, 4, 'refused batches were not appended');
  const group = partition.append(Buffer.concat([producerBatch(9, 0, 3, ['d', 'e']), producerBatch(9, 0, 5, ['f']), producerBatch(9, 0, 6, ['g'])]));
  t.same([group.info.baseOffset, group.info.lastOffset], [4, 7], 'three consecutive batches in one request');
  t.same(partition.producers.entry(9)!.batches.map((b) => [b.firstSeq, b.baseOffset]), [[0, 0], [2, 3], [3, 4], [5, 6], [6, 7]], 'each remembered on its own');
  t.match(partition.append(producerBatch(9, 0, 5, ['f'])), { duplicate: true, info: { baseOffset: 6, lastOffset: 6 } }, 'one of them retried alone: its own offsets');
  t.match(partition.append(Buffer.concat([producerBatch(9, 0, 3, ['d', 'e']), producerBatch(9, 0, 5, ['f'])])), { duplicate: true, info: { baseOffset: 4, lastOffset: 6 } }, 'a retried group stored together: its offsets');
  t.equal(partition.logEndOffset, 8, 'retries appended nothing');
});

t.test('the state is rebuilt from the log when the partition opens again, and after a truncation', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const before = await openPartition(fs, clock);
  for (let seq = 0; seq < 8; seq++) before.append(producerBatch(4, 3, seq, [`v${seq}`]));
  before.append(producerBatch(5, 0, 0, ['other']));
  await before.waitAppendable();

  const after = await openPartition(fs, clock);
  t.same(after.producers.entry(4)?.batches.map((b) => [b.firstSeq, b.baseOffset]), [[3, 3], [4, 4], [5, 5], [6, 6], [7, 7]], 'the last five batches of producer 4, from the batch headers');
  t.match(after.append(producerBatch(4, 3, 7, ['v7'])), { duplicate: true, info: { baseOffset: 7 } }, 'a retry after the restart is still recognised');
  t.equal(refusal(() => after.append(producerBatch(4, 2, 8, ['old']))), 'INVALID_PRODUCER_EPOCH', 'and the epoch is remembered');

  after.becomeFollower(1, 2);
  await after.truncateTo(8);
  await after.producersLoaded();
  t.equal(after.producers.entry(5), undefined, 'producer 5 lost its only batch');
  t.same(after.producers.entry(4)?.batches.map((b) => b.firstSeq), [3, 4, 5, 6, 7], 'producer 4 kept its batches below the cut');
  await after.truncateTo(2);
  await after.producersLoaded();
  t.same(after.producers.entry(4)?.batches.map((b) => b.firstSeq), [0, 1], 'a cut below every kept batch: rebuilt from the log, the two batches left');
});

t.test('a clean shutdown snapshot is loaded at the next open and only the batches after it are scanned; it stays, true to the log', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const first = await openPartition(fs, clock);
  for (let seq = 0; seq < 3; seq++) first.append(producerBatch(4, 0, seq, [`v${seq}`]));
  await first.waitAppendable();
  // A producer only the snapshot knows of: proves the state came from it and not from a scan of the whole log.
  first.producers.record(h(77, 0, 10), 1, 1);
  await first.writeProducerSnapshot();
  t.ok((await fs.readdir(DIR)).includes(snapshotFileName(3)), 'written as 00000000000000000003.snapshot');
  first.append(producerBatch(4, 0, 3, ['v3']));
  await first.waitAppendable();

  const second = await openPartition(fs, clock);
  t.equal(second.producersScannedFrom, 3, 'the log was read from the snapshot on');
  t.same(second.producers.entry(77)?.batches.map((b) => b.firstSeq), [10], 'loaded from the snapshot');
  t.same(second.producers.entry(4)?.batches.map((b) => b.firstSeq), [0, 1, 2, 3], 'and the batch after it from the log');
  t.ok((await fs.readdir(DIR)).includes(snapshotFileName(3)), 'the snapshot stays: it still describes the log');

  await fs.writeFileAtomic(`${DIR}/${snapshotFileName(4)}`, Buffer.from('{"v":1,"offset":4,"crc":1,"producers":[[78,{"epoch":0,"batches":[]}]]}\n'));
  const third = await openPartition(fs, clock);
  t.equal(third.producers.entry(78), undefined, 'a snapshot whose checksum fails is ignored');
  t.equal(third.producersScannedFrom, 3, 'the next older one is used instead');
});

t.test('the log rolls: the first append of each new segment snapshots the state, so a load after a crash scans from there, and a retry is still answered', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const small = parseLogConfig({ 'segment.bytes': '1024', 'flush.messages': '1' });
  const first = await openPartition(fs, clock, small);
  const value = 'x'.repeat(200);
  for (let seq = 0; seq < 12; seq++) first.append(producerBatch(4, 0, seq, [value]));
  await first.waitAppendable();
  await settle(first);
  const snapshots = (await fs.readdir(DIR)).filter((name) => name.endsWith('.snapshot'));
  t.equal(snapshots.length, SNAPSHOTS_KEPT, `the newest ${SNAPSHOTS_KEPT} kept, older ones deleted`);
  const newest = Number(snapshots.sort().at(-1)!.slice(0, 20));
  t.ok(newest > 0 && newest <= 12, `the newest at a roll (${newest})`);
  fs.crash();

  const after = await openPartition(fs, clock, small);
  t.ok(after.producersScannedFrom >= newest - 1 && after.producersScannedFrom > 0, `after the crash the load scanned from a snapshot (${after.producersScannedFrom}), not from 0`);
  t.match(after.append(producerBatch(4, 0, 11, [value])), { duplicate: true, info: { baseOffset: 11 } }, 'the last batch retried after the crash is still a duplicate');
  t.same([...after.producers.entries()], [...(await fullScan(fs, clock, small)).entries()], 'the state the whole log gives');
});

t.test('a truncation deletes the snapshots above the cut before the log loses what they counted', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const small = parseLogConfig({ 'segment.bytes': '1024', 'flush.messages': '1' });
  const { partition, log } = await openWithLog(fs, clock, small);
  const value = 'x'.repeat(200);
  for (let seq = 0; seq < 12; seq++) partition.append(producerBatch(4, 0, seq, [value]));
  await partition.waitAppendable();
  await settle(partition);
  partition.becomeFollower(1, 2);
  await partition.truncateTo(2);
  t.same((await fs.readdir(DIR)).filter((name) => name.endsWith('.snapshot')).map((name) => Number(name.slice(0, 20))).filter((at) => at > 2), [], 'none above the cut is left');
  // The new leader's batches at the same offsets: another producer.
  for (let seq = 0; seq < 10; seq++) partition.appendAsFollower(stamped(producerBatch(9, 0, seq, [value]), 2 + seq));
  await partition.waitAppendable();
  await settle(partition);
  await log.close();

  const after = await openPartition(fs, clock, small, 3);
  t.ok(after.producersScannedFrom <= 2, `loaded from a snapshot at or below the cut (${after.producersScannedFrom})`);
  t.same(after.producers.entry(4)?.batches.map((b) => b.firstSeq), [0, 1], 'producer 4 as the cut left it, not as a deleted snapshot counted it');
  t.same([...after.producers.entries()], [...(await fullScan(fs, clock, small)).entries()], 'the state the whole log gives');
});

t.test('at open, snapshots above the log end recovery left are deleted before the log grows past them', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const first = await openPartition(fs, clock);
  first.append(producerBatch(4, 0, 0, ['a']));
  await first.waitAppendable();
  // As if a torn tail had been cut below a snapshot that counted it.
  const table = new ProducerStateTable();
  table.record(h(77, 0, 10), 5, 5);
  await writeProducerSnapshot(fs, DIR, 6, table);

  const log = await PartitionLog.open({ dir: DIR, config, fs, clock });
  const reopened = new Partition('t', 0, log, config);
  await reopened.becomeLeader(0, { leaderEpoch: 2, partitionEpoch: 2, isr: [0], replicas: [0] } as never, clock.nowMs());
  // The state is not loaded yet (no producer batch came): plain batches take the log past offset 6.
  for (let i = 0; i < 8; i++) reopened.append(Buffer.from(buildBatch([{ key: null, value: Buffer.from(`p${i}`) }], { nowMs: 1000 })));
  await reopened.waitAppendable();
  await reopened.producersLoaded();
  t.equal(reopened.producers.entry(77), undefined, 'the stale snapshot was not taken, though the log now reaches past it');
  t.same(reopened.producers.entry(4)?.batches.map((b) => b.firstSeq), [0]);
  t.notOk((await fs.readdir(DIR)).includes(snapshotFileName(6)), 'and it is gone');
});

t.test('a partition forgets producers silent for the expiration, only once its state is loaded', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const partition = await openPartition(fs, clock);
  partition.append(producerBatch(4, 0, 0, ['a']));
  t.equal(partition.expireProducers(1000 + 59_999, 60_000), 0);
  t.equal(partition.expireProducers(1000 + 60_000, 60_000), 1, 'the batch was stamped at 1000');
  t.same(partition.append(producerBatch(4, 0, 5, ['late'])).duplicate, null, 'it comes back at any sequence');
});

/** The producer state a scan of the whole log gives. */
async function fullScan(fs: SimulatedFileSystem, clock: ManualClock, logConfig: typeof config): Promise<ProducerStateTable> {
  const log = await PartitionLog.open({ dir: DIR, config: logConfig, fs, clock });
  const table = new ProducerStateTable();
  await loadProducerState(log, table, 0, () => false);
  return table;
}

/** Lets the partition's background snapshot writes finish (roll snapshots are written while appends go on). */
async function settle(partition: Partition): Promise<void> {
  await partition.snapshotsWritten();
}

/** A new leader's batch as a follower receives it: its offsets and the leader's epoch (2) stamped. */
function stamped(batch: Uint8Array, baseOffset: number): Uint8Array {
  stampBatch(batch, 0, baseOffset, 2);
  return batch;
}
