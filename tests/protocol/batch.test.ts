/**
 * The record-batch codec: varints at their boundaries, round trips over
 * seeded random records for every codec, the byte layout Kafka expects, and
 * hostile input (flipped bits, truncations, oversized counts and lengths,
 * trailing garbage, decompression bombs), which must always end in a
 * BatchFormatError and never in another exception, a hang or a huge allocation.
 */
import t from 'tap';
import lz4 from 'lz4-napi';
import zlib from 'node:zlib';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import {
  ATTR_TIMESTAMP_LOG_APPEND,
  BATCH_HEADER_BYTES,
  BatchBuilder,
  BatchFormatError,
  batchesIn,
  buildBatch,
  Codec,
  compress,
  decodeBatch,
  decompress,
  readBatchHeader,
  sealBatchCrc,
  stampBatch,
  verifyBatchCrc,
  type CodecName,
  type DecodedRecord,
  type RecordInput,
} from '../../protocol/batch/index.js';
import { readI64, writeI64 } from '../../protocol/batch/header.js';
import { lz4FrameCompress, lz4FrameDecompress } from '../../protocol/batch/lz4-frame.js';
import { ByteCursor, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../protocol/batch/varint.js';
import { xxhash32 } from '../../protocol/batch/xxhash32.js';

const CODECS: CodecName[] = ['none', 'gzip', 'lz4'];
const NOW_MS = 1_760_000_000_000;

/** Runs `fn`; returns the BatchFormatError it threw, or a description of what happened instead. */
function formatErrorOf(fn: () => unknown): BatchFormatError | string {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof BatchFormatError ? err : `${(err as Error)?.name}: ${(err as Error)?.message}`;
  }
}

function hex(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function randomBytes(rng: Rng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
  return bytes;
}

function randomPayload(rng: Rng, maxBytes: number): Uint8Array | null {
  const kind = rng.int(10);
  if (kind === 0) return null;
  if (kind === 1) return new Uint8Array(0);
  if (kind < 5) return Buffer.from('event-'.repeat(1 + rng.int(maxBytes / 6)).slice(0, 1 + rng.int(maxBytes))); // compressible
  return randomBytes(rng, rng.int(maxBytes));
}

const TIMESTAMP_DELTAS = [0, 1, -1, 63, -64, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3, -(2 ** 40) - 5];
const HEADER_KEYS = ['', 'trace-id', 'ünïcødé-🙂', 'content-type'];

function randomRecord(rng: Rng): RecordInput {
  const record: RecordInput = { key: randomPayload(rng, 40), value: randomPayload(rng, 300) };
  if (rng.int(3) === 0) {
    record.headers = [];
    const count = rng.int(4);
    for (let i = 0; i < count; i++) record.headers.push({ key: HEADER_KEYS[rng.int(HEADER_KEYS.length)]!, value: randomPayload(rng, 20) });
  }
  if (rng.int(4) !== 0) record.timestamp = NOW_MS + TIMESTAMP_DELTAS[rng.int(TIMESTAMP_DELTAS.length)]! + rng.int(1000) - 500;
  return record;
}

function expected(records: RecordInput[], baseOffset: number): object[] {
  return records.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp ?? NOW_MS,
    key: hex(r.key),
    value: hex(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: hex(h.value) })),
  }));
}

function comparable(records: DecodedRecord[]): object[] {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })),
  }));
}

/** A copy of `batch` with `edit` applied and its CRC resealed, so only the record parser can object. */
function edited(batch: Uint8Array, edit: (copy: Buffer) => Buffer | void): Buffer {
  let copy: Buffer = Buffer.from(batch);
  copy = edit(copy) ?? copy;
  copy.writeInt32BE(copy.length - 12, 8);
  sealBatchCrc(copy, 0, copy.length);
  return copy;
}

/** Zig-zag varlong by the book, with BigInt: the oracle for writeVarlong. */
function referenceVarlong(value: number): string {
  let zz = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
  const out: number[] = [];
  while (zz >= 0x80n) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return Buffer.from(out).toString('hex');
}

t.test('varints: boundaries, Kafka byte encodings, and bounds-checked reads', async (t) => {
  const known: [number, string][] = [
    [0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'], [-65, '8101'],
    [8191, 'fe7f'], [8192, '808001'], [2 ** 31 - 1, 'feffffff0f'], [-(2 ** 31), 'ffffffff0f'],
  ];
  const buf = Buffer.alloc(16);
  for (const [value, bytes] of known) {
    const end = writeVarint(buf, 0, value);
    t.equal(buf.subarray(0, end).toString('hex'), bytes, `varint ${value}`);
    t.equal(sizeOfVarint(value), end, `sizeOfVarint ${value}`);
    t.equal(new ByteCursor(buf, 0, end).readVarint(), value, `read varint ${value}`);
  }

  const rng = seededRng(7);
  const longs = [0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 35, -(2 ** 35), 2 ** 49 - 1, -(2 ** 49), 2 ** 52, -(2 ** 52), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  for (let i = 0; i < 300; i++) longs.push(Math.floor((rng.next() - 0.5) * 2 ** (1 + rng.int(53))));
  const mismatches: string[] = [];
  for (const value of longs) {
    const end = writeVarlong(buf, 0, value);
    const cursor = new ByteCursor(buf, 0, end);
    const back = cursor.readVarlong();
    const got = buf.subarray(0, end).toString('hex');
    if (got !== referenceVarlong(value) || sizeOfVarlong(value) !== end || back !== value || cursor.pos !== end) {
      mismatches.push(`${value}: wrote ${got}, want ${referenceVarlong(value)}, size ${sizeOfVarlong(value)}, read ${back}`);
    }
  }
  t.same(mismatches, [], 'varlongs match the BigInt reference encoding, size and read-back for boundaries and 300 seeded values');

  const bad: [string, string, (c: ByteCursor) => number][] = [
    ['', 'runs past|no bytes', (c) => c.readVarint()],
    ['80', 'runs past', (c) => c.readVarint()],
    ['ffffffff10', '32 bits', (c) => c.readVarint()],
    ['ffffffff8f01', '32 bits', (c) => c.readVarint()],
    ['ffffffffff', 'runs past', (c) => c.readVarlong()],
    ['ffffffffffffffffff02', '64 bits', (c) => c.readVarlong()],
    [referenceVarlong(2 ** 60).padEnd(2, '0'), 'safe integer', (c) => c.readVarlong()],
  ];
  for (const [bytes, message, read] of bad) {
    const data = Buffer.from(bytes, 'hex');
    const err = formatErrorOf(() => read(new ByteCursor(data, 0, data.length)));
    t.ok(err instanceof BatchFormatError && new RegExp(message).test(err.message), `${bytes || '(empty)'} -> BatchFormatError /${message}/ (${String(err)})`);
  }
  const narrowed = Buffer.from('8001', 'hex');
  t.ok(formatErrorOf(() => new ByteCursor(narrowed, 0, 1).readVarint()) instanceof BatchFormatError, 'a read stops at the cursor end, not the buffer end');
});

t.test('i64 header fields without BigInt', async (t) => {
  const buf = Buffer.alloc(8);
  for (const value of [0, 1, -1, 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_760_000_000_123]) {
    writeI64(buf, 0, value);
    t.equal(buf.readBigInt64BE(0), BigInt(value), `writeI64 ${value}`);
    t.equal(readI64(buf, 0), value, `readI64 ${value}`);
  }
  t.throws(() => readI64(buf, 1), RangeError, 'out-of-bounds i64 read throws');
});

t.test('layout: one record byte for byte as Kafka writes it', async (t) => {
  const batch = Buffer.from(buildBatch([{ key: null, value: Buffer.from('a'), timestamp: 1000 }], { nowMs: 5 }));
  t.equal(batch.length, BATCH_HEADER_BYTES + 8, 'header + one 8-byte record');
  t.equal(batch.readBigInt64BE(0), 0n, 'baseOffset 0');
  t.equal(batch.readInt32BE(8), batch.length - 12, 'batchLength');
  t.equal(batch.readInt32BE(12), -1, 'partitionLeaderEpoch -1');
  t.equal(batch[16], 2, 'magic 2');
  t.equal(batch.readInt16BE(21), 0, 'attributes: no codec, CreateTime');
  t.equal(batch.readInt32BE(23), 0, 'lastOffsetDelta');
  t.equal(batch.readBigInt64BE(27), 1000n, 'firstTimestamp');
  t.equal(batch.readBigInt64BE(35), 1000n, 'maxTimestamp');
  t.equal(batch.readBigInt64BE(43), -1n, 'producerId -1');
  t.equal(batch.readInt16BE(51), -1, 'producerEpoch -1');
  t.equal(batch.readInt32BE(53), -1, 'baseSequence -1');
  t.equal(batch.readInt32BE(57), 1, 'recordCount');
  // length 7 | attrs 0 | tsDelta 0 | offsetDelta 0 | key null (-1) | value length 1 | 'a' | 0 headers
  t.equal(batch.subarray(61).toString('hex'), '0e000000010261' + '00', 'record bytes');
  t.ok(verifyBatchCrc(batch, 0, batch.length), 'CRC sealed');
});

t.test('round trips: seeded random records, every codec', async (t) => {
  for (const codec of CODECS) {
    const failures: string[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const rng = seededRng(seed * 31 + codec.length);
      const records: RecordInput[] = [];
      const count = 1 + rng.int(60);
      for (let i = 0; i < count; i++) records.push(randomRecord(rng));
      const producerId = rng.int(2) === 0 ? -1 : rng.int(2 ** 40);
      const builder = new BatchBuilder({ codec, producerId, producerEpoch: 3, baseSequence: 17, initialCapacityBytes: 1 + rng.int(512) });
      for (const record of records) {
        const before = builder.sizeBytes;
        const predicted = builder.recordSizeBytes(record, NOW_MS);
        builder.append(record, NOW_MS);
        if (builder.sizeBytes - before !== predicted) failures.push(`seed ${seed}: recordSizeBytes ${predicted}, appended ${builder.sizeBytes - before}`);
      }
      if (builder.recordCount !== count) failures.push(`seed ${seed}: recordCount ${builder.recordCount} != ${count}`);
      const uncompressedBytes = builder.sizeBytes;
      const batch = builder.build();
      if (codec === 'none' && batch.length !== uncompressedBytes) failures.push(`seed ${seed}: sizeBytes ${uncompressedBytes} != built ${batch.length}`);
      const baseOffset = rng.int(2 ** 45);
      stampBatch(batch, 0, baseOffset, 9);
      const { header, records: decoded } = decodeBatch(batch);
      const timestamps = records.map((r) => r.timestamp ?? NOW_MS);
      const want = {
        offsets: [baseOffset, count - 1, count, 9, Codec[codec]],
        times: [timestamps[0], Math.max(...timestamps)],
        producer: [producerId, 3, 17],
        records: expected(records, baseOffset),
      };
      const got = {
        offsets: [header.baseOffset, header.lastOffsetDelta, header.recordCount, header.partitionLeaderEpoch, header.attributes & 7],
        times: [header.firstTimestamp, header.maxTimestamp],
        producer: [header.producerId, header.producerEpoch, header.baseSequence],
        records: comparable(decoded),
      };
      if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`seed ${seed}: ${JSON.stringify(got).slice(0, 300)} != ${JSON.stringify(want).slice(0, 300)}`);
    }
    t.same(failures, [], `${codec}: 40 random batches round-trip (header fields, offsets, timestamps, null/empty keys and values, headers); recordSizeBytes predicts every append`);
  }
});

t.test('large batches: gzip, and lz4 across several 64 KiB frame blocks', async (t) => {
  const rng = seededRng(99);
  const records: RecordInput[] = [];
  for (let i = 0; i < 40; i++) records.push({ key: Buffer.from(`k${i}`), value: i % 3 === 0 ? randomBytes(rng, 9000) : Buffer.alloc(5000, i) });
  for (const codec of CODECS) {
    const batch = buildBatch(records, { codec, nowMs: NOW_MS });
    const { records: decoded } = decodeBatch(batch);
    t.same(comparable(decoded), expected(records, 0), `${codec}: ${records.length} records in a ${batch.length}-byte batch`);
  }
});

t.test('zero-copy keys and values in uncompressed batches', async (t) => {
  const batch = buildBatch([{ key: Buffer.from('key'), value: Buffer.from('value') }], { nowMs: NOW_MS });
  const { records } = decodeBatch(batch);
  const record = records[0]!;
  t.equal(record.key!.buffer, batch.buffer, 'key views the batch buffer');
  t.equal(record.value!.buffer, batch.buffer, 'value views the batch buffer');
  t.equal(Buffer.from(record.value!).toString(), 'value');
});

t.test('builder: sizes, finish, and refusals', async (t) => {
  const builder = new BatchBuilder({ initialCapacityBytes: 64 });
  t.equal(builder.sizeBytes, BATCH_HEADER_BYTES, 'an empty builder is a header');
  t.throws(() => builder.build(), /no records/, 'an empty batch is not built');
  builder.append({ key: null, value: Buffer.alloc(1000, 1) }, NOW_MS);
  builder.append({ key: null, value: null, timestamp: NOW_MS - 5 }, NOW_MS);
  t.equal(builder.recordCount, 2);
  const size = builder.sizeBytes;
  const batch = builder.build();
  t.equal(batch.length, size, 'sizeBytes is the built size (no codec)');
  t.equal(builder.build(), batch, 'build() again returns the same bytes');
  t.throws(() => builder.append({ key: null, value: null }, NOW_MS), /after build/, 'append after build throws');
  t.same(decodeBatch(batch).records.map((r) => r.timestamp), [NOW_MS, NOW_MS - 5], 'negative timestamp delta');
  t.equal(readBatchHeader(batch).maxTimestamp, NOW_MS, 'maxTimestamp is the largest, not the last');
  t.throws(() => new BatchBuilder().append({ key: null, value: null, timestamp: 1.5 }, NOW_MS), RangeError, 'fractional timestamp refused');
  t.throws(() => new BatchBuilder().append({ key: null, value: null, timestamp: 2 ** 53 }, NOW_MS), RangeError, 'unsafe timestamp refused');
  const far = new BatchBuilder();
  far.append({ key: null, value: null, timestamp: Number.MAX_SAFE_INTEGER }, NOW_MS);
  t.throws(() => far.append({ key: null, value: null, timestamp: Number.MIN_SAFE_INTEGER }, NOW_MS), RangeError, 'unrepresentable delta refused');
  for (const codec of ['snappy', 'zstd'] as CodecName[]) {
    const err = formatErrorOf(() => new BatchBuilder({ codec }));
    t.ok(err instanceof BatchFormatError && /codec not supported/.test(err.message), `${codec} refused at construction`);
  }
});

t.test('stampBatch: offsets and epoch change, the CRC stays valid', async (t) => {
  for (const codec of CODECS) {
    const batch = buildBatch([{ key: null, value: Buffer.from('x') }, { key: null, value: Buffer.from('y') }], { codec, nowMs: NOW_MS });
    const crc = readBatchHeader(batch).crc;
    stampBatch(batch, 0, 2 ** 40 + 7, 12);
    const header = readBatchHeader(batch);
    t.same([header.baseOffset, header.partitionLeaderEpoch, header.crc], [2 ** 40 + 7, 12, crc], `${codec}: stamped, CRC unchanged`);
    t.ok(verifyBatchCrc(batch, 0, batch.length), `${codec}: CRC still verifies`);
    t.same(decodeBatch(batch).records.map((r) => r.offset), [2 ** 40 + 7, 2 ** 40 + 8]);
  }
  t.throws(() => stampBatch(new Uint8Array(70), 0, -1, 0), RangeError, 'negative baseOffset refused');
});

t.test('a flipped bit anywhere in a batch is detected', async (t) => {
  const rng = seededRng(5);
  for (const codec of CODECS) {
    const records: RecordInput[] = [];
    for (let i = 0; i < 8; i++) records.push(randomRecord(rng));
    const batch = buildBatch(records, { codec, nowMs: NOW_MS });
    const missed: string[] = [];
    const wrongType: string[] = [];
    for (let byte = 0; byte < batch.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(batch);
        copy[byte]! ^= 1 << bit;
        const err = formatErrorOf(() => decodeBatch(copy));
        // baseOffset (0-7) and partitionLeaderEpoch (12-15) sit outside the CRC by design: the leader rewrites them.
        const stamped = byte < 8 || (byte >= 12 && byte < 16);
        if (typeof err === 'string' && !(stamped && err === 'no error')) (err === 'no error' ? missed : wrongType).push(`${byte}.${bit}: ${err}`);
        // With the CRC resealed, the parser alone must still fail cleanly or decode.
        const resealed = edited(batch, (c) => {
          c[byte]! ^= 1 << bit;
          if (byte >= 8 && byte < 12) return c.subarray(0, Math.max(BATCH_HEADER_BYTES, Math.min(c.length, c.readInt32BE(8) + 12)));
        });
        const parsed = formatErrorOf(() => decodeBatch(resealed));
        if (typeof parsed === 'string' && parsed !== 'no error') wrongType.push(`resealed ${byte}.${bit}: ${parsed}`);
      }
    }
    t.same(missed, [], `${codec}: all ${(batch.length - 12) * 8} bits outside baseOffset and leaderEpoch are detected (${batch.length}-byte batch)`);
    t.same(wrongType, [], `${codec}: only BatchFormatError, also with the CRC resealed`);
  }
});

t.test('every truncation gives BatchFormatError', async (t) => {
  const rng = seededRng(11);
  for (const codec of CODECS) {
    const records: RecordInput[] = [];
    for (let i = 0; i < 6; i++) records.push(randomRecord(rng));
    const batch = buildBatch(records, { codec, nowMs: NOW_MS });
    const wrong: string[] = [];
    for (let cut = 0; cut < batch.length; cut++) {
      const err = formatErrorOf(() => decodeBatch(batch.subarray(0, cut)));
      if (typeof err === 'string') wrong.push(`raw ${cut}: ${err}`);
      if (cut >= BATCH_HEADER_BYTES) {
        // Length and CRC made consistent with the cut: the records parser (or codec) must notice.
        const consistent = edited(batch, (c) => c.subarray(0, cut));
        const err2 = formatErrorOf(() => decodeBatch(consistent));
        if (typeof err2 === 'string') wrong.push(`consistent ${cut}: ${err2}`);
      }
    }
    t.same(wrong, [], `${codec}: all ${batch.length} truncations refused with BatchFormatError`);
  }
});

/** An uncompressed one-record batch whose records section is `records`, with `count` claimed; CRC sealed. */
function handMade(records: Buffer, count: number, lastOffsetDelta = Math.max(0, count - 1)): Buffer {
  const base = Buffer.from(buildBatch([{ key: null, value: null }], { nowMs: NOW_MS }));
  return edited(base, (c) => {
    const out = Buffer.concat([c.subarray(0, BATCH_HEADER_BYTES), records]);
    out.writeInt32BE(count, 57);
    out.writeInt32BE(lastOffsetDelta, 23);
    return out;
  });
}

function varints(...values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 5);
  let pos = 0;
  for (const v of values) pos = writeVarint(buf, pos, v);
  return buf.subarray(0, pos);
}

t.test('lengths and counts are never trusted', async (t) => {
  const oneRecord = varints(6, 0, 0, 0, -1, -1, 0); // length 6: attrs, ts, offset, null key, null value, 0 headers
  t.same(decodeBatch(handMade(oneRecord, 1)).records.length, 1, 'the hand-made record itself is valid');
  const cases: [string, Buffer, RegExp][] = [
    ['recordCount 2^31-1 over 7 bytes', handMade(oneRecord, 0x7fffffff), /recordCount 2147483647 cannot fit/],
    ['recordCount larger than the records', handMade(oneRecord, 2), /recordCount|remain|past/],
    ['recordCount smaller than the records (trailing record)', handMade(Buffer.concat([oneRecord, varints(6, 0, 0, 1, -1, -1, 0)]), 1, 1), /after the last of 1 records/],
    ['trailing garbage after the records', handMade(Buffer.concat([oneRecord, Buffer.from([1, 2, 3])]), 1), /3 bytes after the last/],
    ['record length past the section', handMade(varints(1_000_000, 0, 0, 0, -1, -1, 0), 1), /claims 1000000 bytes/],
    ['record length shorter than its fields', handMade(Buffer.concat([varints(6, 0, 0, 0, -1, 2), Buffer.from('ab'), varints(0)]), 1), /past the end|needed/],
    ['record length longer than its fields', handMade(Buffer.concat([varints(7, 0, 0, 0, -1, -1, 0), Buffer.from([0])]), 1), /end 1 bytes early/],
    ['key length 2^30', handMade(varints(8, 0, 0, 0, 2 ** 30, -1, 0), 1), /bytes needed/],
    ['negative key length', handMade(varints(6, 0, 0, 0, -7, -1, 0), 1), /key length -7/],
    ['header count 2^31-1', handMade(varints(10, 0, 0, 0, -1, -1, 0x7fffffff), 1), /header count 2147483647 cannot fit/],
    ['null header key', handMade(varints(8, 0, 0, 0, -1, -1, 1, -1, -1), 1), /header keys may not be null/],
    ['offsetDelta beyond lastOffsetDelta', handMade(varints(6, 0, 0, 5, -1, -1, 0), 1), /offsetDelta 5/],
    ['batchLength 2^31-1', edited(Buffer.from(buildBatch([{ key: null, value: null }], { nowMs: 1 })), () => undefined).fill(0x7f, 8, 9), /runs past the end/],
    ['batchLength below the header', Buffer.from(buildBatch([{ key: null, value: null }], { nowMs: 1 })).fill(0, 8, 12), /shorter than/],
  ];
  for (const [name, batch, message] of cases) {
    const started = performance.now();
    const err = formatErrorOf(() => decodeBatch(batch));
    const elapsedMs = performance.now() - started;
    t.ok(err instanceof BatchFormatError && message.test(err.message), `${name}: ${String(err)}`);
    t.ok(elapsedMs < 1000, `${name}: refused without work proportional to the claim (${elapsedMs.toFixed(1)} ms)`);
  }
  t.ok(formatErrorOf(() => [...batchesIn(handMade(oneRecord, 1), { maxBatchBytes: 64 })]) instanceof BatchFormatError, 'batchesIn honours maxBatchBytes');

  // Positions point into the caller's buffer: a bad record in the second batch of a run.
  const good = Buffer.from(buildBatch([{ key: null, value: null }], { nowMs: NOW_MS }));
  const bad = handMade(varints(6, 0, 0, 0, -7, -1, 0), 1);
  const run = Buffer.concat([good, bad]);
  const inRun = formatErrorOf(() => decodeBatch(run, good.length));
  t.ok(inRun instanceof BatchFormatError && inRun.position === good.length + BATCH_HEADER_BYTES + 5, `position is absolute: ${String(inRun)}`);
  // In a compressed batch the bad bytes exist only once inflated: the error names the batch and the offset inside.
  const squeezed = edited(bad, (c) => Buffer.concat([c.subarray(0, BATCH_HEADER_BYTES), Buffer.from(compress(Codec.gzip, c.subarray(BATCH_HEADER_BYTES)))]).fill(0, 21, 22).fill(Codec.gzip, 22, 23));
  const inflatedErr = formatErrorOf(() => decodeBatch(Buffer.concat([good, squeezed]), good.length));
  t.ok(inflatedErr instanceof BatchFormatError && inflatedErr.position === good.length && /decompressed records offset 5/.test(inflatedErr.message), `compressed: ${String(inflatedErr)}`);
});

t.test('decompression bombs are refused, not inflated', async (t) => {
  const zeros = Buffer.alloc(1 << 20);
  const limit = 64 * 1024;
  for (const codec of ['gzip', 'lz4'] as CodecName[]) {
    const batch = buildBatch([{ key: null, value: zeros }], { codec, nowMs: NOW_MS });
    t.ok(batch.length < 20_000, `${codec}: 1 MiB of zeros packs into ${batch.length} bytes`);
    const err = formatErrorOf(() => decodeBatch(batch, 0, { maxUncompressedBytes: limit }));
    t.ok(err instanceof BatchFormatError && /exceed/.test(err.message), `${codec}: refused at ${limit} bytes: ${String(err)}`);
    t.equal(decodeBatch(batch, 0, { maxUncompressedBytes: 2 << 20 }).records[0]!.value!.length, 1 << 20, `${codec}: accepted under a 2 MiB limit`);
    const section = compress(Codec[codec], zeros);
    t.equal(decompress(Codec[codec], section, zeros.length).length, zeros.length, `${codec}: a limit equal to the size is enough`);
    t.ok(formatErrorOf(() => decompress(Codec[codec], section, zeros.length - 1)) instanceof BatchFormatError, `${codec}: one byte less is refused`);
  }
  // An lz4 frame without a content size (lz4-napi's own encoder): the block walk still stops it.
  const foreign = lz4.compressFrameSync(zeros);
  const err = formatErrorOf(() => lz4FrameDecompress(foreign, limit));
  t.ok(err instanceof BatchFormatError && /exceeds the limit/.test(err.message), `lz4 frame without content size refused: ${String(err)}`);
  t.ok(formatErrorOf(() => decompress(Codec.none, zeros, limit)) instanceof BatchFormatError, 'none: a section above the limit is refused too');
});

t.test('codecs: unsupported ones refused, corrupt input is a BatchFormatError', async (t) => {
  const batch = buildBatch([{ key: null, value: Buffer.from('hello') }], { nowMs: NOW_MS });
  for (const codec of [Codec.snappy, Codec.zstd, 5]) {
    const withCodec = edited(batch, (c) => void c.writeInt16BE(codec, 21));
    const err = formatErrorOf(() => decodeBatch(withCodec));
    t.ok(err instanceof BatchFormatError && /codec not supported/.test(err.message), `codec ${codec}: ${String(err)}`);
    t.ok(formatErrorOf(() => compress(codec as 2, Buffer.from('x'))) instanceof BatchFormatError, `compress(${codec}) refused`);
  }
  const garbage = Buffer.from('definitely not compressed data');
  for (const codec of [Codec.gzip, Codec.lz4]) {
    t.ok(formatErrorOf(() => decompress(codec, garbage, 1 << 20)) instanceof BatchFormatError, `codec ${codec}: garbage refused`);
    t.ok(formatErrorOf(() => decompress(codec, new Uint8Array(0), 1 << 20)) instanceof BatchFormatError, `codec ${codec}: empty input refused`);
  }
});

t.test('lz4 frames: Kafka-readable output, and every frame Kafka clients write', async (t) => {
  t.equal(xxhash32(Buffer.from('')), 0x02cc5d05, 'xxh32 of nothing');
  t.equal(xxhash32(Buffer.from('abc')), 0x32d153ff, 'xxh32 of abc');
  t.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f, 'xxh32 past 16 bytes');
  const around = Buffer.from('<<Nobody inspects the spammish repetition>>>');
  t.equal(xxhash32(around, 0, 2, around.length - 3), 0xe2293b2f, 'xxh32 of a range, past 16 bytes');
  t.equal(xxhash32(around, 0, 5, 8), xxhash32(Buffer.from('ody')), 'xxh32 of a short range');

  const rng = seededRng(3);
  const data = Buffer.concat([Buffer.from('abc'.repeat(30000)), Buffer.from(randomBytes(rng, 70000)), Buffer.alloc(1000)]);
  const ours = lz4FrameCompress(data);
  t.ok(lz4.decompressFrameSync(ours).equals(data), 'a reference frame decoder reads our frames (header checksum, content size, raw and compressed blocks)');
  t.equal(ours.readUInt32LE(0), 0x184d2204, 'frame magic');
  t.equal(ours[4]! & 0xe0, 0x60, 'version 1, independent blocks');
  t.equal(ours[5], 0x40, '64 KiB blocks, as Kafka writes');
  t.ok(Buffer.from(lz4FrameDecompress(ours, data.length)).equals(data), 'we read our frames');
  for (const options of [undefined, { blockChecksums: true, contentChecksum: true }]) {
    const theirs = lz4.compressFrameSync(data, options);
    t.ok(Buffer.from(lz4FrameDecompress(theirs, data.length)).equals(data), `we read lz4-napi frames (${JSON.stringify(options ?? {})})`);
  }
  // Linked blocks (lz4's default blockMode when a writer does not ask for independence): the second block
  // refers back into the first, so it decodes only with the first as its dictionary.
  const first = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(20));
  const second = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(10));
  const blocks = [lz4.compressSync(first).subarray(4), lz4.compressSync(second, first).subarray(4)];
  const descriptor = Buffer.from([0x40, 0x40]);
  const linked = Buffer.concat([
    Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([(xxhash32(descriptor) >>> 8) & 0xff]),
    ...blocks.flatMap((b) => [Buffer.from(Uint32Array.of(b.length).buffer), b]),
    Buffer.alloc(4),
  ]);
  t.ok(Buffer.from(lz4FrameDecompress(linked, 1 << 20)).equals(Buffer.concat([first, second])), 'linked blocks decode with the previous output as dictionary');
  const badHc = Buffer.from(ours);
  badHc[14]! ^= 1;
  t.match(String(formatErrorOf(() => lz4FrameDecompress(badHc, 1 << 20))), /header checksum/, 'a wrong header checksum is refused');
  const lying = Buffer.from(ours);
  lying.writeUInt32LE(data.length - 10, 6);
  lying[14] = (xxhash32(lying.subarray(4, 14)) >>> 8) & 0xff;
  t.ok(formatErrorOf(() => lz4FrameDecompress(lying, 1 << 20)) instanceof BatchFormatError, 'blocks holding more than the content size are refused');
});

t.test('LogAppendTime: every record takes the batch maxTimestamp', async (t) => {
  const batch = buildBatch([{ key: null, value: null, timestamp: 10 }, { key: null, value: null, timestamp: 20 }], { nowMs: NOW_MS });
  const appendTime = edited(batch, (c) => {
    c.writeInt16BE(c.readInt16BE(21) | ATTR_TIMESTAMP_LOG_APPEND, 21);
    writeI64(c, 35, NOW_MS);
  });
  t.same(decodeBatch(appendTime).records.map((r) => r.timestamp), [NOW_MS, NOW_MS], 'LogAppendTime gives maxTimestamp');
  t.same(decodeBatch(batch).records.map((r) => r.timestamp), [10, 20], 'CreateTime keeps each record its own');
  const noTime = edited(appendTime, (c) => writeI64(c, 35, -1));
  t.same(decodeBatch(noTime).records.map((r) => r.timestamp), [-1, -1], 'LogAppendTime of -1 (no timestamp) is kept, not mistaken for CreateTime');
  const overflow = edited(batch, (c) => writeI64(c, 27, Number.MAX_SAFE_INTEGER - 5));
  t.match(String(formatErrorOf(() => decodeBatch(overflow))), /outside the safe integer range/, 'firstTimestamp + delta past 2^53 is refused, not rounded');
});

t.test('an empty batch (as compaction leaves) decodes to no records, whatever its codec', async (t) => {
  const batch = buildBatch([{ key: null, value: null }], { nowMs: NOW_MS });
  for (const codec of [Codec.none, Codec.gzip, Codec.lz4]) {
    const empty = edited(batch, (c) => {
      const out = c.subarray(0, BATCH_HEADER_BYTES);
      out.writeInt32BE(0, 57);
      out.writeInt16BE(codec, 21);
      return out;
    });
    const { header, records } = decodeBatch(empty);
    t.same([header.recordCount, records.length], [0, 0], `codec ${codec}`);
  }
});

t.test('batchesIn walks whole batches and points at a bad one', async (t) => {
  const batches = CODECS.map((codec, i) => buildBatch([{ key: null, value: Buffer.alloc(100 * (i + 1), i) }], { codec, nowMs: NOW_MS }));
  const all = Buffer.concat(batches);
  const walked = [...batchesIn(all)];
  const positions = [0, batches[0]!.length, batches[0]!.length + batches[1]!.length];
  t.same(walked.map((b) => b.position), positions, 'positions');
  t.same(walked.map((b) => b.header.sizeBytes), batches.map((b) => b.length), 'sizes');
  t.same(walked.map((b) => decodeBatch(all, b.position).records[0]!.value!.length), [100, 200, 300], 'decodeBatch at each position');
  t.same([...batchesIn(new Uint8Array(0))], [], 'no bytes, no batches');

  const corrupt = Buffer.from(all);
  corrupt[positions[1]! + 70]! ^= 0xff;
  t.equal([...batchesIn(corrupt)].length, 3, 'a header walk does not read the records');
  const crcErr = formatErrorOf(() => [...batchesIn(corrupt, { verifyCrc: true })]);
  t.ok(crcErr instanceof BatchFormatError && crcErr.position === positions[1]! + 17, `verifyCrc points at the second batch's CRC: ${String(crcErr)}`);
  const torn = all.subarray(0, all.length - 5);
  const tornErr = formatErrorOf(() => [...batchesIn(torn)]);
  t.ok(tornErr instanceof BatchFormatError && tornErr.position === positions[2]! + 8, `a torn last batch is reported at its length field: ${String(tornErr)}`);
  const tail = Buffer.concat([all, Buffer.alloc(20)]);
  const tailErr = formatErrorOf(() => [...batchesIn(tail)]);
  t.ok(tailErr instanceof BatchFormatError && tailErr.position === all.length, `a partial header at the end is reported where it starts: ${String(tailErr)}`);
});
