/**
 * OffsetForLeaderEpoch's answer from storage (`EpochCache.endOffsetFor`,
 * `PartitionLog.endOffsetForEpoch`), with Kafka's semantics
 * (LeaderEpochFileCache.endOffsetFor): the largest epoch <= the one asked
 * and the start offset of the epoch after it, or the log end for the
 * latest; (-1, -1) for a negative epoch, one newer than the latest, or a
 * log that knows none; for an epoch older than every epoch still known
 * (retention removed them) the asked epoch with the start of the earliest
 * known, so a follower truncates to at most the leader's log start. Also
 * after truncation from the end, retention from the start, and restarts,
 * and a truncation's epoch cache on disk before the recovery point passes it.
 */
import t from 'tap';
import { stampBatch } from '../../protocol/batch/header.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { EpochCache } from '../../broker/storage/epoch-cache.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { makeBatch } from '../support/storage-fixtures.js';

const NONE = { epoch: -1, endOffset: -1 };

function cacheOf(entries: [number, number][]): EpochCache {
  const cache = new EpochCache();
  for (const [epoch, startOffset] of entries) cache.assign(epoch, startOffset);
  return cache;
}

t.test('endOffsetFor answers as Kafka does', async (t) => {
  const cache = cacheOf([[0, 0], [2, 20], [5, 50], [7, 70]]);
  const logEnd = 80;
  t.same(cache.endOffsetFor(-1, logEnd), NONE, 'a negative epoch');
  t.same(cache.endOffsetFor(0, logEnd), { epoch: 0, endOffset: 20 }, 'an epoch ends where the next begins');
  t.same(cache.endOffsetFor(1, logEnd), { epoch: 0, endOffset: 20 }, 'an epoch never written: the largest one below it, ending where the next begins');
  t.same(cache.endOffsetFor(5, logEnd), { epoch: 5, endOffset: 70 });
  t.same(cache.endOffsetFor(6, logEnd), { epoch: 5, endOffset: 70 });
  t.same(cache.endOffsetFor(7, logEnd), { epoch: 7, endOffset: 80 }, 'the latest epoch ends at the log end');
  t.same(cache.endOffsetFor(8, logEnd), NONE, 'newer than the latest');
  t.same(new EpochCache().endOffsetFor(0, 10), NONE, 'no epoch known');
});

t.test('after truncation from the end: the latest remaining epoch ends at the new log end', async (t) => {
  const cache = cacheOf([[0, 0], [2, 20], [5, 50], [7, 70]]);
  t.ok(cache.truncateFromEnd(60), 'epoch 7 started past the cut');
  t.same(cache.entries(), [{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 20 }, { epoch: 5, startOffset: 50 }]);
  t.same(cache.endOffsetFor(5, 60), { epoch: 5, endOffset: 60 });
  t.same(cache.endOffsetFor(7, 60), NONE, 'a forgotten epoch is unknown');
  t.ok(cache.truncateFromEnd(50), 'a cut at an epoch start forgets that epoch');
  t.same(cache.endOffsetFor(5, 50), NONE);
  t.same(cache.endOffsetFor(2, 50), { epoch: 2, endOffset: 50 });
  t.notOk(cache.truncateFromEnd(50), 'nothing more to forget');
  t.ok(cache.truncateFromEnd(0), 'a cut to the log start forgets every epoch');
  t.same(cache.entries(), []);
});

t.test('after retention from the start: an epoch older than every known one ends at the earliest known start', async (t) => {
  const cache = cacheOf([[0, 0], [2, 20], [5, 50], [7, 70]]);
  t.ok(cache.truncateFromStart(25), 'the log now starts inside epoch 2');
  t.same(cache.entries()[0], { epoch: 2, startOffset: 25 }, 'the epoch in force at the new start begins there');
  t.same(cache.endOffsetFor(0, 80), { epoch: 0, endOffset: 25 }, 'the asked epoch, with the earliest known start (Kafka)');
  t.same(cache.endOffsetFor(1, 80), { epoch: 1, endOffset: 25 });
  t.same(cache.endOffsetFor(2, 80), { epoch: 2, endOffset: 50 });
  t.ok(cache.truncateFromStart(70), 'the log now starts where epoch 7 begins');
  t.same(cache.entries(), [{ epoch: 7, startOffset: 70 }]);
  t.same(cache.endOffsetFor(5, 80), { epoch: 5, endOffset: 70 });
  t.same(cache.endOffsetFor(7, 80), { epoch: 7, endOffset: 80 });
  t.notOk(cache.truncateFromStart(70), 'nothing changes at the same start');
  const reparsed = EpochCache.parse(cache.serialize());
  t.same(reparsed.entries(), cache.entries(), 'the checkpoint keeps the moved start');
  t.ok(cache.clear() && cache.entries().length === 0 && !cache.clear(), 'clear forgets everything, once');
});

t.test('a log answers the same after truncation, retention and restarts', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = parseLogConfig({ 'segment.bytes': '1024', 'segment.index.bytes': '4096', 'retention.bytes': '2048', 'fsync': 'always' });
  let log = await PartitionLog.open({ dir: '/d/t-0', config, fs, clock });
  const epochs = [0, 0, 0, 0, 2, 2, 2, 2, 5, 5, 5, 5, 7, 7, 7, 7];
  for (const epoch of epochs) log.append(makeBatch(1, 400, clock.nowMs()), { leaderEpoch: epoch });
  await log.flush();
  t.same(log.epochEntries(), [{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 4 }, { epoch: 5, startOffset: 8 }, { epoch: 7, startOffset: 12 }]);
  await log.truncateTo(14);
  t.same(log.endOffsetForEpoch(7), { epoch: 7, endOffset: 14 }, 'the latest epoch ends at the truncated log end');
  await log.truncateTo(12);
  t.same(log.endOffsetForEpoch(7), NONE, 'a truncation to an epoch\'s start forgets it');
  t.same(log.endOffsetForEpoch(5), { epoch: 5, endOffset: 12 });
  const result = await log.applyRetention();
  t.ok(result.deletedSegments > 0, `retention deleted ${result.deletedSegments} segments`);
  const start = log.logStartOffset;
  t.ok(start > 4 && start < 8, `the log now starts inside epoch 2 (at ${start})`);
  const expected = [{ epoch: 2, startOffset: start }, { epoch: 5, startOffset: 8 }];
  t.same(log.epochEntries(), expected, 'the epoch cache starts at the log start');
  const answers = (): unknown[] => [0, 1, 2, 5, 6, 7].map((epoch) => log.endOffsetForEpoch(epoch));
  const expectedAnswers = [{ epoch: 0, endOffset: start }, { epoch: 1, endOffset: start }, { epoch: 2, endOffset: 8 }, { epoch: 5, endOffset: 12 }, NONE, NONE];
  t.same(answers(), expectedAnswers);
  await log.close();
  log = await PartitionLog.open({ dir: '/d/t-0', config, fs, clock });
  t.same([log.epochEntries(), answers()], [expected, expectedAnswers], 'after a clean restart');
  fs.crash();
  log = await PartitionLog.open({ dir: '/d/t-0', config, fs, clock });
  t.same([log.epochEntries(), answers()], [expected, expectedAnswers], 'after a crash');
  await log.close();
});

t.test('a truncation\'s epoch cache is on disk before the recovery point can pass it', async (t) => {
  for (const restart of ['clean', 'crash'] as const) {
    const fs = new SimulatedFileSystem();
    const clock = new ManualClock();
    const config = parseLogConfig({ 'segment.bytes': '1024', 'segment.index.bytes': '4096', 'flush.ms': '9223372036854775807' });
    let log = await PartitionLog.open({ dir: '/d/t-0', config, fs, clock });
    for (let i = 0; i < 10; i++) log.append(makeBatch(1, 100, clock.nowMs()), { leaderEpoch: 0 });
    for (let i = 0; i < 10; i++) log.append(makeBatch(1, 100, clock.nowMs()), { leaderEpoch: 1 });
    await log.flush();
    // Cut inside epoch 0, below where epoch 1 began; then more of epoch 0, flushed far past it (new segments:
    // the recovery point moves past offset 10, so recovery no longer rescans where epoch 1 began).
    await log.truncateTo(5);
    t.same(log.epochEntries(), [{ epoch: 0, startOffset: 0 }]);
    for (let i = 0; i < 40; i++) log.appendAsFollower(stampedAt(log.logEndOffset, 0));
    await log.flush();
    await log.checkpointRecoveryPoint();
    if (restart === 'clean') await log.close();
    else fs.crash();
    log = await PartitionLog.open({ dir: '/d/t-0', config, fs, clock });
    t.same(log.epochEntries(), [{ epoch: 0, startOffset: 0 }], `${restart} restart: epoch 1 stays forgotten`);
    t.same(log.endOffsetForEpoch(0), { epoch: 0, endOffset: log.logEndOffset });
    await log.close();
  }
});

/** A one-record batch as a leader stamped it. */
function stampedAt(baseOffset: number, epoch: number): Uint8Array {
  const batch = makeBatch(1, 100, 1);
  stampBatch(batch, 0, baseOffset, epoch);
  return batch;
}
