/**
 * DeleteRecords in storage (PartitionLog.advanceLogStart): the log start
 * moves to an offset inside a segment, reads below it are out of range,
 * segments wholly below it are deleted whatever the cleanup policy, the
 * move survives a crash (the log-start-offset file is durable before the
 * call returns), and a truncation below it lowers it.
 */
import t from 'tap';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { OffsetOutOfRangeError } from '../../broker/storage/errors.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { makeBatch } from '../support/storage-fixtures.js';

const DIR = '/data/dlq-0';

async function filled(policy: string, overrides: Record<string, string> = {}): Promise<{ fs: SimulatedFileSystem; clock: ManualClock; log: PartitionLog; open: () => Promise<PartitionLog> }> {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = parseLogConfig({ 'segment.bytes': '1024', 'cleanup.policy': policy, 'flush.ms': '9223372036854775807', ...overrides });
  const open = () => PartitionLog.open({ dir: DIR, config, fs, clock });
  const log = await open();
  // 12 one-record batches of ~400 bytes: two a segment.
  for (let i = 0; i < 12; i++) log.append(makeBatch(1, 350, clock.nowMs()), { leaderEpoch: 0 });
  return { fs, clock, log, open };
}

for (const policy of ['delete', 'compact']) {
  t.test(`cleanup.policy=${policy}: the start moves inside a segment, segments below go, a crash keeps it`, async (t) => {
    const { fs, log, open } = await filled(policy);
    t.same(log.segmentBaseOffsets(), [0, 2, 4, 6, 8, 10]);
    const result = await log.advanceLogStart(5);
    t.equal(log.logStartOffset, 5, 'inside the segment starting at 4');
    t.same(log.segmentBaseOffsets(), [4, 6, 8, 10], 'the segments wholly below 5 are deleted');
    t.equal(result.deletedSegments, 2);
    await t.rejects(log.read(4, 10_000), OffsetOutOfRangeError, 'a read below the start is out of range');
    t.ok((await log.read(5, 10_000)).records.length > 0, 'a read at the start works');
    t.same(await log.advanceLogStart(3), { deletedSegments: 0, deletedBytes: 0 }, 'a lower offset changes nothing');
    t.equal(log.logStartOffset, 5);
    t.match(new TextDecoder().decode(await fs.readFile(`${DIR}/log-start-offset`)), /^version=1\nlog\.start\.offset=5\n$/);

    fs.crash();
    const reopened = await open();
    t.equal(reopened.logStartOffset, 5, 'after a crash the log still starts at 5');
    await t.rejects(reopened.read(4, 10_000), OffsetOutOfRangeError);
    await reopened.close();
  });
}

t.test('a truncation below the start lowers it to the new end; the next open agrees', async (t) => {
  const { log, open } = await filled('delete');
  await log.advanceLogStart(11);
  await log.truncateFullyAndStartAt(7);
  t.equal(log.logStartOffset, 7, 'started over lower');
  t.equal(log.logEndOffset, 7);
  log.append(makeBatch(3, 10, 1), { leaderEpoch: 1 });
  await log.close();
  const reopened = await open();
  t.equal(reopened.logStartOffset, 7, 'the lowered start was written: records 7..9 are not hidden behind the old 11');
  t.equal(reopened.logEndOffset, 10);
  await reopened.close();
});

t.test('moving the start deletes only what it breaches: time retention waits for its own pass', async (t) => {
  const { clock, log } = await filled('delete', { 'retention.ms': '1000' });
  clock.advance(10_000);
  await log.advanceLogStart(3);
  t.same(log.segmentBaseOffsets(), [2, 4, 6, 8, 10], 'every segment is past retention.ms, but only the one below 3 went');
  t.equal((await log.applyRetention(8)).deletedSegments, 3, 'the retention pass, bounded by its high watermark, does the rest');
});
