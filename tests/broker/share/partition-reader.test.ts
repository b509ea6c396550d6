/**
 * What a ShareFetch answer carries (broker/share/partition-reader.ts): the
 * whole batches holding the acquired offsets, in offset order, each once;
 * batches the candidates read already brought are not read again, and the
 * partition is read only for offsets none of them holds.
 */
import t from 'tap';
import { batchesIn, buildBatch } from '../../../protocol/batch/index.js';
import { stampBatch } from '../../../protocol/batch/header.js';
import { readBatchesHolding, type PartitionData } from '../../../broker/share/partition-reader.js';

/** A log of batches of 3 records each, at offsets 0-2, 3-5, ..., 27-29. */
const batches = Array.from({ length: 10 }, (_, n) => {
  const batch = buildBatch([0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`r${n * 3 + i}`) })), { nowMs: 1 });
  stampBatch(batch, 0, n * 3, 0);
  return batch;
});

function logOf(): PartitionData & { reads: number[] } {
  const reads: number[] = [];
  return {
    reads,
    logStartOffset: 0,
    highWatermark: 30,
    async read(offset) {
      reads.push(offset);
      // As a log read: from the batch holding `offset`, two batches at a time.
      const first = Math.floor(offset / 3);
      return { records: batches.slice(first, first + 2) };
    },
  };
}

const baseOffsets = (buf: Buffer): number[] => [...batchesIn(buf)].map((b) => b.header.baseOffset);

t.test('batches the candidates brought are carried as they are; only offsets outside them are read', async (t) => {
  const log = logOf();
  const known = [batches[6]!, batches[7]!];
  const got = await readBatchesHolding(log, [1, 19, 20, 22], known);
  t.same(baseOffsets(got), [0, 18, 21], 'each holding batch once, in offset order');
  t.same(log.reads, [1], 'one read, for the offset the known batches do not hold');
});

t.test('without known batches every holding batch is read, a batch holding several offsets once', async (t) => {
  const log = logOf();
  const got = await readBatchesHolding(log, [3, 4, 12, 29]);
  t.same(baseOffsets(got), [3, 12, 27]);
  t.same(log.reads, [3, 12, 29]);
  t.equal((await readBatchesHolding(log, [])).length, 0, 'nothing acquired, nothing carried');
});
