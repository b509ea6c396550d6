/**
 * A follower's side of storage (issue 7): `appendAsFollower` keeps the
 * leader's bytes, offsets and per-batch epochs and writes through the
 * leader's path (rolls, pending segments, durability); it refuses batches
 * that do not continue the log (DiscontinuousAppendError) and bad bytes,
 * but not the leader's limits; holes (a cleaner's, kept after a switch to
 * the delete policy) are taken;
 * `beginLeaderEpoch` (KIP-279), `truncateTo` at or past the log end (epoch
 * cache only) and `truncateFullyAndStartAt`; divergent tails truncated by
 * the OffsetForLeaderEpoch rule and fetched again (KIP-101 / KIP-279).
 * Deterministic: ManualClock, seededRng, SimulatedFileSystem.
 */
import t, { type Test } from 'tap';
import { BATCH_OFFSET_CRC, BATCH_OFFSET_LAST_OFFSET_DELTA, BATCH_OFFSET_RECORD_COUNT, BatchFormatError, sealBatchCrc, stampBatch } from '../../protocol/batch/header.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { ManualClock } from '../../broker/world/clock.js';
import { InvariantError } from '../../broker/world/assert.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { parseLogConfig, type LogConfig } from '../../broker/storage/log-config.js';
import { AppendBackpressureError, DiscontinuousAppendError, OffsetOutOfRangeError, RecordTooLargeError } from '../../broker/storage/errors.js';
import { KeylessRecordError } from '../../broker/storage/compaction-records.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { PendingBudget } from '../../broker/storage/pending-budget.js';
import { EPOCH_CHECKPOINT_FILE, PARTITION_META_FILE } from '../../broker/storage/segment-names.js';
import { bytes, makeBatch } from '../support/storage-fixtures.js';
import { allBatches, batchSizeAt, concat, epochsOf, replicate, truncateDivergentTail } from '../support/follower-sync.js';
import { oneGroupLog } from '../fixtures/compaction-log.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function config(overrides: Record<string, string> = {}): LogConfig {
  return parseLogConfig({ 'segment.bytes': '4096', 'segment.index.bytes': '8192', 'index.interval.bytes': '256', 'flush.ms': '9223372036854775807', ...overrides });
}

/** Two logs on one simulated disk: what a leader and its follower hold. */
class Pair {
  fs = new SimulatedFileSystem();
  leaderClock = new ManualClock(1_000_000);
  followerClock = new ManualClock(5_000_000);
  leader!: PartitionLog;
  follower!: PartitionLog;
  constructor(
    readonly leaderConfig: LogConfig,
    readonly followerConfig: LogConfig = leaderConfig,
    readonly followerBudget?: PendingBudget,
  ) {}

  async open(): Promise<this> {
    this.leader = await PartitionLog.open({ dir: '/leader/t-0', config: this.leaderConfig, fs: this.fs, clock: this.leaderClock });
    await this.openFollower();
    return this;
  }

  /** Power loss: both logs come back from what their disk kept. */
  async crashAndReopen(): Promise<void> {
    this.fs.crash();
    await this.open();
  }

  async openFollower(): Promise<PartitionLog> {
    this.follower = await PartitionLog.open({ dir: '/follower/t-0', config: this.followerConfig, fs: this.fs, clock: this.followerClock, pendingBudget: this.followerBudget });
    return this.follower;
  }

  leaderAppends(rng: Rng, count: number, epoch: number): void {
    for (let i = 0; i < count; i++) {
      this.leaderClock.advance(1 + rng.int(50));
      this.leader.append(makeBatch(1 + rng.int(4), rng.int(200), this.leaderClock.nowMs() - rng.int(1000)), { leaderEpoch: epoch });
    }
  }
}

/** The follower's batches equal the leader's, byte for byte, and so do the epoch caches. */
async function sameLogs(t: Test, leader: PartitionLog, follower: PartitionLog, label: string, opts: { sameEpochCache?: boolean } = {}): Promise<void> {
  const [a, b] = [await allBatches(leader), await allBatches(follower)];
  t.equal(follower.logEndOffset, leader.logEndOffset, `${label}: same log end`);
  t.equal(b.length, a.length, `${label}: same batch count`);
  t.ok(a.every((batch, i) => b[i] !== undefined && Buffer.compare(Buffer.from(batch), Buffer.from(b[i] as Uint8Array)) === 0), `${label}: every batch byte for byte`);
  if (opts.sameEpochCache !== false) t.same(follower.epochEntries(), leader.epochEntries(), `${label}: same epoch cache`);
  t.same(follower.epochEntries(), epochsOf(b), `${label}: the epoch cache is what the batches say`);
}

/** A one-record batch stamped with `baseOffset` and `epoch` (outside the CRC, as a leader stamps). */
function stamped(baseOffset: number, epoch: number, records = 1): Uint8Array {
  const batch = makeBatch(records, 8, 1_000);
  stampBatch(batch, 0, baseOffset, epoch);
  return batch;
}

t.test('a follower keeps the leader\'s bytes, offsets and per-batch epochs, across rolls and restarts', async (t) => {
  for (const timestampType of ['CreateTime', 'LogAppendTime']) {
    const rng = seededRng(timestampType.length);
    const pair = await new Pair(config({ 'message.timestamp.type': timestampType })).open();
    pair.leaderAppends(rng, 30, 0);
    pair.leaderAppends(rng, 30, 2);
    await pair.leader.beginLeaderEpoch(5);
    pair.leaderAppends(rng, 40, 5);
    const appends = await replicate(pair.leader, pair.follower, { maxBytes: () => 1 + rng.int(3000) });
    t.ok(appends > 10, `${timestampType}: replicated in ${appends} appends of varying size`);
    t.ok(pair.follower.segmentCount > 1, `${timestampType}: the follower rolled segments (${pair.follower.segmentCount})`);
    await sameLogs(t, pair.leader, pair.follower, timestampType);
    t.same(pair.follower.epochEntries().map((e) => e.epoch), [0, 2, 5]);
    await pair.follower.close();
    await pair.openFollower();
    await sameLogs(t, pair.leader, pair.follower, `${timestampType}, reopened`);
    await pair.follower.flush();
    await pair.leader.flush();
    await pair.crashAndReopen();
    pair.leader = await PartitionLog.open({ dir: '/leader/t-0', config: pair.leaderConfig, fs: pair.fs, clock: pair.leaderClock });
    await sameLogs(t, pair.leader, pair.follower, `${timestampType}, after a crash of a flushed follower`);
  }
});

t.test('appendAsFollower refuses batches that do not continue the log, and changes nothing', async (t) => {
  const pair = await new Pair(config()).open();
  pair.follower.appendAsFollower(concat([stamped(0, 3, 2), stamped(2, 3)]));
  t.equal(pair.follower.logEndOffset, 3);
  const before = await allBatches(pair.follower);
  const cases: { label: string; records: Uint8Array; rule: 'offset' | 'epoch'; position: (r: Uint8Array) => number }[] = [
    { label: 'an overlap with the log', records: stamped(2, 3), rule: 'offset', position: () => 0 },
    { label: 'two batches overlapping', records: concat([stamped(3, 3, 2), stamped(4, 3)]), rule: 'offset', position: (r) => batchSizeAt(r, 0) },
    { label: 'an epoch below the log\'s latest', records: stamped(3, 2), rule: 'epoch', position: () => 0 },
    { label: 'epochs going back within the append', records: concat([stamped(3, 5), stamped(4, 4)]), rule: 'epoch', position: (r) => batchSizeAt(r, 0) },
    { label: 'a negative epoch', records: stamped(3, -1), rule: 'epoch', position: () => 0 },
  ];
  for (const c of cases) {
    const copy = c.records.slice();
    const thrown = (() => {
      try {
        pair.follower.appendAsFollower(c.records);
        return null;
      } catch (err) {
        return err;
      }
    })();
    t.ok(thrown instanceof DiscontinuousAppendError, `${c.label}: DiscontinuousAppendError`);
    if (thrown instanceof DiscontinuousAppendError) {
      t.equal(thrown.rule, c.rule, `${c.label}: the ${c.rule} rule`);
      t.equal(thrown.position, c.position(c.records), `${c.label}: positioned at the offending batch`);
    }
    t.same(Buffer.from(c.records), Buffer.from(copy), `${c.label}: the refused bytes are untouched`);
    t.equal(pair.follower.logEndOffset, 3, `${c.label}: nothing appended`);
    t.same(pair.follower.epochEntries(), [{ epoch: 3, startOffset: 0 }], `${c.label}: the epoch cache is unchanged`);
  }
  t.same((await allBatches(pair.follower)).map((b) => Buffer.from(b)), before.map((b) => Buffer.from(b)), 'the log holds what it held');
  const next = pair.follower.appendAsFollower(concat([stamped(3, 3), stamped(4, 6, 3), stamped(7, 6), stamped(8, 9)]));
  t.same([next.baseOffset, next.lastOffset, next.batchCount, next.logAppendTimeMs], [3, 8, 4, -1]);
  t.same(pair.follower.epochEntries(), [{ epoch: 3, startOffset: 0 }, { epoch: 6, startOffset: 4 }, { epoch: 9, startOffset: 8 }], 'each new epoch starts at its first batch');
  t.equal(pair.follower.latestEpoch, 9);
  const past = pair.follower.appendAsFollower(stamped(12, 9));
  t.same([past.baseOffset, pair.follower.logEndOffset], [12, 13], 'a batch past the log end (a hole the leader\'s cleaner left) is taken, as Kafka\'s followers do');
});

t.test('a follower re-checks the bytes, not the leader\'s limits', async (t) => {
  const pair = await new Pair(config({ 'max.message.bytes': '200' })).open();
  const big = stamped(0, 1, 20);
  t.throws(() => pair.leader.append(big.slice(), { leaderEpoch: 1 }), RecordTooLargeError, 'the leader applies max.message.bytes');
  pair.follower.appendAsFollower(big);
  t.equal(pair.follower.logEndOffset, 20, 'a follower takes a batch its leader accepted under another limit');
  const damaged = stamped(20, 1);
  damaged[damaged.byteLength - 1] = (damaged[damaged.byteLength - 1] as number) ^ 1;
  t.throws(() => pair.follower.appendAsFollower(damaged), { name: 'BatchFormatError', position: BATCH_OFFSET_CRC }, 'a damaged batch is refused (CRC)');
  const thinned = stamped(20, 1, 2);
  // lastOffsetDelta larger than the record count: what a compacted batch looks like (offsets kept, records fewer)
  new DataView(thinned.buffer, thinned.byteOffset).setInt32(BATCH_OFFSET_LAST_OFFSET_DELTA, 4);
  sealBatchCrc(thinned, 0, thinned.byteLength);
  t.throws(() => pair.leader.append(thinned.slice(), { leaderEpoch: 1 }), BatchFormatError, 'a leader wants a producer\'s dense batch');
  const info = pair.follower.appendAsFollower(thinned);
  t.same([info.baseOffset, info.lastOffset], [20, 24], 'a follower takes a thinned batch, offsets as the leader left them');
  t.equal(pair.follower.logEndOffset, 25);
  const over = stamped(25, 1);
  new DataView(over.buffer, over.byteOffset).setInt32(BATCH_OFFSET_RECORD_COUNT, 2);
  sealBatchCrc(over, 0, over.byteLength);
  t.throws(() => pair.follower.appendAsFollower(over), BatchFormatError, 'more records than offsets is refused');

  const compacted = await new Pair(config({ 'cleanup.policy': 'compact' })).open();
  const keyless = buildBatch([{ key: null, value: bytes('v') }], { nowMs: 1 });
  t.throws(() => compacted.leader.append(keyless.slice(), { leaderEpoch: 0 }), KeylessRecordError, 'a compacted topic\'s leader wants keys');
  stampBatch(keyless, 0, 0, 0);
  compacted.follower.appendAsFollower(keyless);
  t.equal(compacted.follower.logEndOffset, 1, 'its follower takes what the leader holds (written before the topic was compacted)');
});

t.test('a compacted topic\'s follower takes the holes the leader\'s cleaner left', async (t) => {
  const { fs, writer, clock, config: compactConfig } = await oneGroupLog(7);
  const leader = writer.log;
  const result = await leader.compact();
  t.ok(result.stats.batchesDropped > 0, `the cleaner dropped ${result.stats.batchesDropped} whole batches`);
  const follower = await PartitionLog.open({ dir: '/follower/topic-0', config: compactConfig, fs, clock });
  await replicate(leader, follower, { maxBytes: (round) => 100 + ((round * 977) % 3000) });
  // The leader's cache says where epoch 0 began (offset 0); the follower's where its first surviving batch is.
  await sameLogs(t, leader, follower, 'compacted', { sameEpochCache: false });
  // A topic compacted once and then switched to cleanup.policy=delete keeps its holes: its followers must still take them.
  const switched = await PartitionLog.open({ dir: '/switched/topic-0', config: parseLogConfig({}), fs, clock });
  await replicate(leader, switched, { maxBytes: (round) => 100 + ((round * 977) % 3000) });
  await sameLogs(t, leader, switched, 'compacted, then delete policy', { sameEpochCache: false });
});

t.test('appendAsFollower writes through the leader\'s path: rolls, pending segments, durability, backpressure', async (t) => {
  const rng = seededRng(11);
  const pair = await new Pair(config({ 'segment.bytes': '1024' }), config({ 'segment.bytes': '1024' }), new PendingBudget({ partitionBytesMax: 4096 })).open();
  pair.leaderAppends(rng, 60, 1);
  let refused = 0;
  for (let round = 0; round < 1000 && pair.follower.logEndOffset < pair.leader.logEndOffset; round++) {
    const fetched = await pair.leader.read(pair.follower.logEndOffset, 600);
    try {
      pair.follower.appendAsFollower(concat(fetched.records));
    } catch (err) {
      if (!(err instanceof AppendBackpressureError)) throw err;
      refused += 1;
      t.notOk(pair.follower.appendable, 'refused only while not appendable');
      t.ok(pair.follower.pendingBytes > 0 && pair.follower.writtenEndOffset < pair.follower.logEndOffset, 'rolled segments wait in memory for the disk');
      await pair.follower.waitAppendable();
    }
  }
  t.ok(refused > 0, `the pending budget held the follower back ${refused} times`);
  t.ok(pair.follower.durableEndOffset < pair.follower.logEndOffset, 'nothing forced a sync of the tail');
  await pair.follower.waitDurable(pair.follower.logEndOffset);
  t.equal(pair.follower.durableEndOffset, pair.follower.logEndOffset, 'waitDurable covers follower appends');
  t.equal(pair.follower.writtenEndOffset, pair.follower.logEndOffset, 'and every pending segment is written');
  await pair.leader.flush();
  await pair.crashAndReopen();
  await sameLogs(t, pair.leader, pair.follower, 'after a crash once durable');

  const always = await new Pair(config({ fsync: 'always' })).open();
  always.leaderAppends(rng, 5, 0);
  await replicate(always.leader, always.follower);
  await always.follower.waitDurable(always.follower.logEndOffset);
  await always.crashAndReopen();
  t.equal(always.follower.logEndOffset, always.leader.logEndOffset, 'fsync=always: acknowledged follower appends survive a crash');
});

t.test('beginLeaderEpoch: a new leader\'s epoch starts at its log end before it writes (KIP-279)', async (t) => {
  const rng = seededRng(5);
  const pair = await new Pair(config()).open();
  pair.leaderAppends(rng, 5, 0);
  const end = pair.leader.logEndOffset;
  await pair.leader.beginLeaderEpoch(2);
  t.same(pair.leader.epochEntries().at(-1), { epoch: 2, startOffset: end });
  t.same(pair.leader.endOffsetForEpoch(1), { epoch: 0, endOffset: end }, 'an epoch it never wrote in ends where its leadership began');
  const checkpoint = text(await pair.fs.readFile('/leader/t-0/' + EPOCH_CHECKPOINT_FILE));
  t.match(checkpoint, new RegExp(`\\n2 ${end}\\n$`), 'durable when it resolves');
  await pair.leader.beginLeaderEpoch(2);
  t.equal(pair.leader.epochEntries().length, 2, 'the latest epoch again: nothing changes');
  await pair.leader.beginLeaderEpoch(3);
  t.same(pair.leader.epochEntries().map((e) => e.epoch), [0, 3], 'an epoch that wrote nothing is superseded at the same offset');
  pair.leaderAppends(rng, 2, 3);
  t.same(pair.leader.epochEntries().at(-1), { epoch: 3, startOffset: end }, 'appends in it keep its start');
  await t.rejects(pair.leader.beginLeaderEpoch(1), InvariantError, 'a leader epoch never goes back');
});

t.test('a divergent tail is truncated by the leader\'s epoch end offsets, then fetched again (KIP-101 / KIP-279)', async (t) => {
  const rng = seededRng(21);
  const pair = await new Pair(config({ 'segment.bytes': '2048' })).open();
  const { leader, follower } = pair;
  pair.leaderAppends(rng, 20, 0);
  await replicate(leader, follower);
  // The follower led epoch 1 for a while and wrote a tail nobody else has.
  await follower.beginLeaderEpoch(1);
  for (let i = 0; i < 15; i++) follower.append(makeBatch(2, 50, 1), { leaderEpoch: 1 });
  // The other replica led epoch 2 from where the logs agreed, then epoch 4 (3 was a leadership that wrote nothing).
  await leader.beginLeaderEpoch(2);
  pair.leaderAppends(rng, 10, 2);
  await leader.beginLeaderEpoch(3);
  await leader.beginLeaderEpoch(4);
  pair.leaderAppends(rng, 10, 4);
  const agreed = leader.epochEntries()[1]?.startOffset as number;
  const fromAgreed = concat((await leader.read(agreed, 1 << 20)).records);
  t.throws(() => follower.appendAsFollower(fromAgreed), DiscontinuousAppendError, 'the leader\'s batches do not continue the follower\'s divergent tail');
  const to = await truncateDivergentTail(leader, follower);
  t.equal(to, agreed, 'truncated to where epoch 0 ended on the leader');
  t.equal(follower.logEndOffset, agreed);
  t.same(follower.epochEntries(), [{ epoch: 0, startOffset: 0 }], 'epoch 1 is forgotten');
  t.equal(follower.durableEndOffset, follower.logEndOffset, 'durable end at the new log end');
  t.equal(follower.writtenEndOffset, follower.logEndOffset, 'written end at the new log end');
  // At once after the truncation resolves, with nothing in between.
  await replicate(leader, follower);
  await sameLogs(t, leader, follower, 'caught up after the truncation');
  t.same(follower.epochEntries().map((e) => e.epoch), [0, 2, 4]);

  // The leader wrote more in epoch 4 than the follower fetched; the follower then led epoch 5 and wrote
  // nothing (its epoch entry sits at its log end); the other replica leads epoch 6 and the follower follows.
  pair.leaderAppends(rng, 6, 4);
  await replicate(leader, follower, { upTo: leader.logEndOffset - 3 });
  const followerEnd = follower.logEndOffset;
  await follower.beginLeaderEpoch(5);
  await leader.beginLeaderEpoch(6);
  pair.leaderAppends(rng, 3, 6);
  const epoch4 = concat((await leader.read(followerEnd, 1 << 20)).records);
  t.throws(() => follower.appendAsFollower(epoch4), DiscontinuousAppendError, 'epoch 4 batches after an empty epoch 5 are refused');
  t.equal(await truncateDivergentTail(leader, follower), followerEnd, 'the answer is the follower\'s own log end: no batch goes');
  t.equal(follower.logEndOffset, followerEnd);
  t.same(follower.epochEntries().map((e) => e.epoch), [0, 2, 4], 'truncateTo at the log end forgot the empty epoch 5');
  t.notMatch(text(await pair.fs.readFile('/follower/t-0/' + EPOCH_CHECKPOINT_FILE)), /\n5 /, 'and the checkpoint says so');
  await replicate(leader, follower);
  await sameLogs(t, leader, follower, 'caught up after dropping the empty epoch');
});

t.test('truncateFullyAndStartAt empties the log and restarts it anywhere, durably', async (t) => {
  const rng = seededRng(31);
  const pair = await new Pair(config({ 'segment.bytes': '1024' })).open();
  const { follower } = pair;
  pair.leaderAppends(rng, 30, 2);
  await replicate(pair.leader, follower);
  await follower.flush();
  // Some of it only in memory and not durable: its waiter must fail, not pass.
  pair.leaderAppends(rng, 10, 2);
  await replicate(pair.leader, follower);
  const waiting = follower.waitDurable(follower.logEndOffset);
  const start = follower.logEndOffset + 1000;
  await follower.truncateFullyAndStartAt(start);
  await t.rejects(waiting, OffsetOutOfRangeError, 'a wait for discarded offsets fails');
  t.same([follower.logStartOffset, follower.logEndOffset, follower.writtenEndOffset, follower.durableEndOffset, follower.segmentCount, follower.pendingBytes], [start, start, start, start, 1, 0]);
  t.same(follower.epochEntries(), [], 'no epoch is known');
  t.match(text(await pair.fs.readFile('/follower/t-0/' + PARTITION_META_FILE)), new RegExp(`recovery\\.point=${start}\\n`), 'the recovery point starts there too');
  follower.appendAsFollower(stamped(start, 9, 3));
  t.same(follower.epochEntries(), [{ epoch: 9, startOffset: start }]);
  await follower.flush();
  await pair.crashAndReopen();
  t.same([pair.follower.logStartOffset, pair.follower.logEndOffset], [start, start + 3], 'the restart survives a crash');
  t.same(pair.follower.epochEntries(), [{ epoch: 9, startOffset: start }]);
  await pair.follower.truncateFullyAndStartAt(start);
  t.same([pair.follower.logStartOffset, pair.follower.logEndOffset, pair.follower.segmentCount], [start, start, 1], 'restarting at its own base keeps the segment\'s files, emptied');
  await pair.follower.truncateFullyAndStartAt(5);
  t.same([pair.follower.logStartOffset, pair.follower.logEndOffset], [5, 5], 'and below it');
  await pair.follower.close();
  await pair.openFollower();
  t.same([pair.follower.logStartOffset, pair.follower.logEndOffset], [5, 5]);
});
