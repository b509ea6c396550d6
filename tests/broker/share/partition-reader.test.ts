/**
 * What a ShareFetch answer carries (broker/share/partition-reader.ts): the
 * batches holding the acquired offsets, in offset order, each once and cut
 * down to the acquired records (batch-records.ts sliceBatch); batches the
 * candidates read already brought are not read again, and the partition is
 * read only for offsets none of them holds.
 */
import t from 'tap';
import { batchesIn, buildBatch, decodeBatch } from '../../../protocol/batch/index.js';
import { stampBatch } from '../../../protocol/batch/header.js';
import { readBatchesHolding, readCandidates, type PartitionData } from '../../../broker/share/partition-reader.js';

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
/** Every record carried, decoded (CRC checked): offset and value. */
const carried = (buf: Buffer): string[] => [...batchesIn(buf)].flatMap((b) => decodeBatch(buf, b.position).records.map((r) => `${r.offset}:${Buffer.from(r.value!).toString()}`));

t.test('batches the candidates brought are not read again; only offsets outside them are read', async (t) => {
  const log = logOf();
  const known = [batches[6]!, batches[7]!];
  const { bytes: got, late, failed } = await readBatchesHolding(log, [1, 19, 20, 22], known);
  t.same([late, failed], [[], []]);
  t.same(baseOffsets(got), [0, 18, 21], 'each holding batch once, in offset order');
  t.same(carried(got), ['1:r1', '19:r19', '20:r20', '22:r22'], 'only the acquired records, as they were');
  t.same(log.reads, [1], 'one read, for the offset the known batches do not hold');
});

t.test('without known batches every holding batch is read, a batch holding several offsets once', async (t) => {
  const log = logOf();
  const { bytes: got, late, failed } = await readBatchesHolding(log, [3, 4, 12, 29]);
  t.same([late, failed], [[], []]);
  t.same(baseOffsets(got), [3, 12, 27]);
  t.same(carried(got), ['3:r3', '4:r4', '12:r12', '29:r29']);
  t.same(log.reads, [3, 12, 29]);
  t.equal((await readBatchesHolding(log, [])).bytes.length, 0, 'nothing acquired, nothing carried');
});

t.test('a read that does not answer before `until` leaves its offsets unread; what was read or known is still carried', async (t) => {
  const log = logOf();
  const read = log.read.bind(log);
  let stall: (() => void) | null = null;
  // The second read (offset 12 on) never answers until released, as a cut-off leader's.
  log.read = (offset, maxBytes) => (offset < 12 ? read(offset, maxBytes) : new Promise((resolve) => (stall = () => resolve(read(offset, maxBytes)))));
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const held = readBatchesHolding(log, [1, 4, 13, 19, 22, 27], [batches[9]!], until);
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(stall !== null, 'the read of offset 13 is under way');
  stop();
  const { bytes, late, failed } = await held;
  t.same(carried(bytes), ['1:r1', '4:r4', '27:r27'], 'the batches read before it, and the known one');
  t.same(late, [13, 19, 22], 'the rest, late');
  t.same(failed, [], 'none failed');
  (stall as unknown as () => void)();
});

t.test('a read that fails, finds nothing, or brings a batch that does not check out leaves the rest failed, saying why', async (t) => {
  const log = logOf();
  const read = log.read.bind(log);
  log.read = (offset, maxBytes) => (offset >= 12 ? Promise.reject(new Error('leader unreachable')) : read(offset, maxBytes));
  const rejected = await readBatchesHolding(log, [4, 12, 29]);
  t.same([carried(rejected.bytes), rejected.late, rejected.failed, rejected.failure?.message], [['4:r4'], [], [12, 29], 'leader unreachable'], 'a rejected read');

  const empty = logOf();
  const readEmpty = empty.read.bind(empty);
  empty.read = async (offset, maxBytes) => (offset >= 12 ? { records: [] } : readEmpty(offset, maxBytes));
  const nothing = await readBatchesHolding(empty, [4, 12, 29]);
  t.same([carried(nothing.bytes), nothing.failed, nothing.failure], [['4:r4'], [12, 29], null], 'a read that finds nothing (a leader behind the window)');

  const corrupt = logOf();
  const readCorrupt = corrupt.read.bind(corrupt);
  corrupt.read = async (offset, maxBytes) => {
    const got = await readCorrupt(offset, maxBytes);
    if (offset < 12) return got;
    // A record byte flipped: the batch's CRC no longer matches.
    const bad = got.records.map((b) => Uint8Array.from(b));
    bad[0]![bad[0]!.byteLength - 1]! ^= 0xff;
    return { records: bad };
  };
  const broken = await readBatchesHolding(corrupt, [4, 12, 13, 29]);
  t.same([carried(broken.bytes), broken.failed], [['4:r4'], [12, 13, 29]], 'a batch that fails its CRC: nothing of that read carried');
  t.ok(broken.failure !== null, `the failure says why (${broken.failure?.message})`);
});

t.test('candidates: from the offset asked, at most max, going on from the first record not taken', async (t) => {
  const asked: number[] = [];
  const log = logOf();
  const read = log.read.bind(log);
  log.read = (offset, maxBytes) => {
    asked.push(maxBytes);
    return read(offset, maxBytes);
  };
  const seen: Uint8Array[] = [];
  const got = await readCandidates(log, 4, 5, seen);
  t.same(got.records.map((r) => r.offset), [4, 5, 6, 7, 8]);
  t.same([got.fromOffset, got.toOffset], [4, 9]);
  t.same(seen.map((b) => batchesIn(b).next().value!.header.baseOffset), [3, 6], 'the batches looked into, for the answer');
  t.ok(asked.every((bytes) => bytes <= 64 * 1024 + 5 * 256), `reads sized to what is needed (${asked.join(', ')} bytes), not a megabyte each`);
  const rest = await readCandidates(log, 28, 10);
  t.same([rest.records.map((r) => r.offset), rest.toOffset], [[28, 29], 30], 'to the end of the log');
});
