/**
 * The share coordinator's in-place walk of stored batches
 * (broker/share/batch-records.ts), against the full decoder
 * (protocol/batch/reader.ts) on seeded random batches: keys or none,
 * values or none, headers with and without runnel.deliver.at (the last
 * one wins, an unreadable one means "at once"), create and log-append
 * time, gaps that compaction left, compressed batches.
 *
 * - recordMetas gives, from any offset on and up to any count, exactly the
 *   metadata the decoded records give, and where to go on from.
 * - sliceBatch gives a valid batch (CRC, lengths) holding exactly the
 *   records asked for, byte for byte with the same offsets and
 *   timestamps; the batch itself when nothing is left out, or when it is
 *   compressed.
 * - Damaged bytes are a BatchFormatError, never a wrong answer or a crash.
 */
import t from 'tap';
import { buildBatch, decodeBatch, type DecodedRecord, type RecordInput } from '../../../protocol/batch/index.js';
import { ATTR_TIMESTAMP_LOG_APPEND, BATCH_OFFSET_ATTRIBUTES, BatchFormatError, readBatchHeader, sealBatchCrc, stampBatch, type CodecName } from '../../../protocol/batch/header.js';
import { xxhash32 } from '../../../protocol/batch/xxhash32.js';
import { deliverAtOf, DELIVER_AT_HEADER } from '../../../protocol/headers.js';
import { recordMetas, sliceBatch } from '../../../broker/share/batch-records.js';
import { forEachRecord, rebuildBatch, recordsSection } from '../../../broker/storage/compaction-records.js';
import type { RecordMeta } from '../../../broker/share/window.js';
import { seededRng, type Rng } from '../../../broker/world/rng.js';

const SEEDS = 40;
const BASE_OFFSET = 1000;

function randomRecord(rng: Rng, i: number): RecordInput {
  const headers = Array.from({ length: rng.int(4) }, () => {
    const pick = rng.int(4);
    if (pick === 0) return { key: DELIVER_AT_HEADER, value: Buffer.from(String(1_700_000_000_000 + rng.int(1_000_000))) };
    if (pick === 1) return { key: DELIVER_AT_HEADER, value: rng.int(2) === 0 ? null : Buffer.from('soon') };
    return { key: `h${rng.int(3)}`, value: rng.int(3) === 0 ? null : Buffer.from(`v${i}`) };
  });
  return {
    key: rng.int(4) === 0 ? null : Buffer.from(`key-${'k'.repeat(rng.int(40))}${rng.int(50)}`),
    value: rng.int(5) === 0 ? null : rng.fill(new Uint8Array(rng.int(300))),
    headers,
    timestamp: 1_600_000_000_000 + rng.int(100_000),
  };
}

/** A stored batch at BASE_OFFSET: random records, some compacted away, maybe compressed, maybe log-append time. */
function randomBatch(rng: Rng, codec: CodecName = 'none'): Uint8Array {
  const count = 1 + rng.int(60);
  let batch = buildBatch(Array.from({ length: count }, (_, i) => randomRecord(rng, i)), { codec, nowMs: 1_650_000_000_000 });
  stampBatch(batch, 0, BASE_OFFSET, 3);
  if (rng.int(3) === 0) {
    // Compaction's gaps: a batch whose records skip offsets, first and last ones included.
    const header = readBatchHeader(batch, 0);
    const section = recordsSection(batch, 0, header, 1 << 26);
    const kept: number[] = [];
    forEachRecord(section, header, 0, (_s, _ks, _kl, _offset, _tomb, start, end) => {
      if (rng.int(3) !== 0) kept.push(start, end);
    });
    if (kept.length > 0) batch = rebuildBatch(batch, 0, header.sizeBytes, section, kept, kept.length / 2);
  }
  if (rng.int(3) === 0) {
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    view.setInt16(BATCH_OFFSET_ATTRIBUTES, view.getInt16(BATCH_OFFSET_ATTRIBUTES) | ATTR_TIMESTAMP_LOG_APPEND);
    sealBatchCrc(batch, 0, batch.byteLength);
  }
  return batch;
}

const expectedMeta = (r: DecodedRecord): RecordMeta => ({ offset: r.offset, keyHash: r.key === null ? null : xxhash32(r.key) | 0, dueMs: deliverAtOf(r.headers) ?? 0, timestampMs: r.timestamp });

/** A batch placed at a random position in a larger buffer, as a log read returns it. */
function inChunk(rng: Rng, batch: Uint8Array): { chunk: Buffer; pos: number } {
  const pos = rng.int(100);
  const chunk = Buffer.alloc(pos + batch.byteLength + rng.int(100));
  chunk.set(batch, pos);
  return { chunk, pos };
}

t.test('recordMetas: the decoded records metadata, from any offset, up to any count', async (t) => {
  let checked = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rng = seededRng(seed);
    const batch = randomBatch(rng, rng.int(4) === 0 ? 'gzip' : 'none');
    const { chunk, pos } = inChunk(rng, batch);
    const header = readBatchHeader(chunk, pos);
    const all = decodeBatch(batch).records;
    const end = header.baseOffset + header.lastOffsetDelta + 1;
    const from = BASE_OFFSET + rng.int(header.lastOffsetDelta + 2);
    const wanted = all.filter((r) => r.offset >= from);
    const max = rng.int(wanted.length + 2);
    const already: RecordMeta[] = Array.from({ length: rng.int(3) }, (_, i) => ({ offset: i, keyHash: null, dueMs: 0, timestampMs: 0 }));
    const out = [...already];
    const next = recordMetas(chunk, pos, header, from, already.length + max, out);
    t.same(out.slice(already.length), wanted.slice(0, max).map(expectedMeta), `seed ${seed}: the records from ${from}, at most ${max}`);
    t.equal(next, max < wanted.length ? wanted[max]!.offset : end, `seed ${seed}: goes on from the first record not taken, or the batch's end`);
    checked += out.length - already.length;
  }
  t.ok(checked > 200, `${checked} records compared`);
});

t.test('sliceBatch: a valid batch of exactly the records asked for, as they were', async (t) => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rng = seededRng(1000 + seed);
    const batch = randomBatch(rng);
    const { chunk, pos } = inChunk(rng, batch);
    const header = readBatchHeader(chunk, pos);
    const all = decodeBatch(batch).records;
    // Offsets asked for: some of the batch's, some it lacks (compacted away, or outside it).
    const asked = [BASE_OFFSET - 2, ...all.filter(() => rng.int(2) === 0).map((r) => r.offset), BASE_OFFSET + header.lastOffsetDelta + 5].sort((a, b) => a - b);
    const kept = all.filter((r) => asked.includes(r.offset));
    const sliced = sliceBatch(chunk, pos, header, asked);
    if (kept.length === 0) continue;
    const decoded = decodeBatch(sliced); // checks the CRC, every length and the record count
    t.same(decoded.records, kept, `seed ${seed}: ${kept.length} of ${all.length} records, offsets, timestamps, keys, values and headers as they were`);
    t.equal(decoded.header.baseOffset, header.baseOffset, 'the base offset stays');
    t.equal(decoded.header.lastOffsetDelta, header.lastOffsetDelta, 'the batch still ends where it ended');
    if (kept.length === all.length) t.equal(sliced.buffer, chunk.buffer, `seed ${seed}: nothing left out: the batch itself, not a copy`);
    else t.ok(sliced.byteLength < header.sizeBytes, `seed ${seed}: smaller than the whole batch`);
  }
});

t.test('sliceBatch sends a compressed batch whole (cutting it would mean compressing again)', async (t) => {
  const rng = seededRng(7);
  const batch = randomBatch(rng, 'gzip');
  const header = readBatchHeader(batch, 0);
  const first = decodeBatch(batch).records[0]!.offset;
  t.same(Buffer.from(sliceBatch(batch, 0, header, [first])), Buffer.from(batch));
});

t.test('damaged batches are BatchFormatErrors', async (t) => {
  const rng = seededRng(99);
  const batch = buildBatch(Array.from({ length: 5 }, (_, i) => randomRecord(rng, i)), { nowMs: 1 });
  const header = readBatchHeader(batch, 0);
  const offsets = [0, 1, 2, 3, 4];
  const flipped = Uint8Array.from(batch);
  flipped[flipped.length - 3]! ^= 0x40;
  t.throws(() => recordMetas(flipped, 0, header, 0, 10, []), BatchFormatError, 'a flipped bit: the CRC');
  t.throws(() => sliceBatch(flipped, 0, header, [1]), BatchFormatError);
  // Lengths that lie, under a CRC made to match: the walk must catch them, not read past the record or the batch.
  for (const at of [61, 62, 65, 70]) {
    const lying = Uint8Array.from(batch);
    lying[at] = 0x7e;
    sealBatchCrc(lying, 0, lying.length);
    t.throws(() => recordMetas(lying, 0, header, 0, 10, []), BatchFormatError, `byte ${at} changed: refused by recordMetas`);
    t.throws(() => sliceBatch(lying, 0, header, offsets.slice(1)), BatchFormatError, `byte ${at} changed: refused by sliceBatch`);
  }
});
