/**
 * The records of one stored batch as the share-group coordinator needs
 * them, walked in place instead of decoded into objects (layout in
 * protocol/batch/header.ts, records as protocol/batch/builder.ts writes
 * them):
 *
 * - `recordMetas`: what the window takes in of each record at or after an
 *   offset (offset, key hash, due time, timestamp). Records before that
 *   offset are stepped over by their length prefix, so reading a
 *   2,000-record batch 500 records at a time costs each record once, not
 *   once per read.
 * - `sliceBatch`: the batch cut down to the records a member acquired, so
 *   a member taking 500 records of a 2,000-record batch is sent those 500,
 *   not all 2,000. The cut batch is what log compaction leaves
 *   (broker/storage/compaction-records.ts): the same baseOffset,
 *   lastOffsetDelta, timestamps and producer fields, the kept records byte
 *   for byte (their deltas stay valid), recordCount and the CRC made anew.
 *
 * A compressed batch is decoded whole (protocol/batch/reader.ts) and sent
 * whole: cutting it would mean compressing it again, per answer.
 *
 * Nothing read is trusted: the CRC is checked before anything is read,
 * every length is checked against the bytes left (ByteCursor), offsets
 * must rise within lastOffsetDelta, and every failure is a
 * BatchFormatError.
 */
import {
  ATTR_CODEC_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_LOG_APPEND,
  BATCH_HEADER_BYTES,
  BATCH_OFFSET_CRC,
  BatchFormatError,
  Codec,
  computeBatchCrc,
  type BatchHeader,
} from '../../protocol/batch/header.js';
import { decodeBatch, type DecodedRecord } from '../../protocol/batch/reader.js';
import { rebuildBatch } from '../storage/compaction-records.js';
import { ByteCursor } from '../../protocol/batch/varint.js';
import { xxhash32 } from '../../protocol/batch/xxhash32.js';
import { DELIVER_AT_HEADER, deliverAtOf, parseDeliverAt } from '../../protocol/headers.js';
import type { RecordMeta } from './window.js';

/** The smallest record: seven one-byte fields (protocol/batch/reader.ts). */
const MIN_RECORD_BYTES = 7;
const DELIVER_AT = Buffer.from(DELIVER_AT_HEADER, 'utf8');

/**
 * Appends to `out` the metadata of the records of the batch at `buf[pos]`
 * (its `header` read) with offsets >= `fromOffset`, until `out` holds
 * `max`. Returns the offset after the last record looked at: the batch's
 * end when it ran out first.
 */
export function recordMetas(buf: Uint8Array, pos: number, header: BatchHeader, fromOffset: number, max: number, out: RecordMeta[]): number {
  const batchEnd = header.baseOffset + header.lastOffsetDelta + 1;
  if ((header.attributes & ATTR_CODEC_MASK) !== Codec.none) return compressedMetas(buf, pos, fromOffset, max, out, batchEnd);
  const logAppendTimeMs = (header.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0 ? header.maxTimestamp : -1;
  const walk = new RecordWalk(buf, pos, header);
  const c = walk.cursor;
  while (walk.next()) {
    const offset = header.baseOffset + walk.offsetDelta;
    if (offset >= fromOffset) {
      if (out.length >= max) return offset;
      const keyLength = c.readVarint();
      const keyAt = c.pos;
      skipBytes(c, keyLength, 'key');
      const keyHash = keyLength === -1 ? null : xxhash32(c.buf, 0, keyAt, c.pos) | 0;
      skipBytes(c, c.readVarint(), 'value');
      const dueMs = deliverAtIn(c) ?? 0;
      if (c.pos !== walk.recordEnd) walk.fail(`fields that end ${walk.recordEnd - c.pos} bytes before its length says`);
      out.push({ offset, keyHash, dueMs, timestampMs: logAppendTimeMs >= 0 ? logAppendTimeMs : header.firstTimestamp + walk.timestampDelta });
    }
  }
  return batchEnd;
}

/**
 * The batch at `buf[pos]` (its `header` read) holding only the records
 * at `offsets` (ascending; those outside the batch are ignored): the batch
 * itself when it holds no other record, is compressed or is a control
 * batch. `crcChecked`: recordMetas has just walked this very batch (its CRC
 * is not computed again; the cut batch gets a new one, so it must have
 * been checked once).
 */
export function sliceBatch(buf: Uint8Array, pos: number, header: BatchHeader, offsets: readonly number[], crcChecked = false): Uint8Array {
  const whole = buf.subarray(pos, pos + header.sizeBytes);
  if ((header.attributes & (ATTR_CODEC_MASK | ATTR_CONTROL)) !== 0) return whole;
  const walk = new RecordWalk(buf, pos, header, crcChecked);
  /** Start and end of each run of kept records, in `buf`. */
  const spans: number[] = [];
  let kept = 0;
  let next = 0;
  while (walk.next()) {
    const offset = header.baseOffset + walk.offsetDelta;
    while (next < offsets.length && offsets[next]! < offset) next++;
    if (next < offsets.length && offsets[next] === offset) {
      if (spans.length > 0 && spans[spans.length - 1] === walk.recordStart) spans[spans.length - 1] = walk.recordEnd;
      else spans.push(walk.recordStart, walk.recordEnd);
      kept++;
    }
  }
  if (kept === header.recordCount) return whole;
  // What compaction leaves, made the same way: the spans are positions in `buf`, its own records section.
  return rebuildBatch(buf, pos, header.sizeBytes, buf, spans, kept);
}

/**
 * The records of one uncompressed batch, one at a time: `next()` reads a
 * record's length, attributes, timestamp delta and offset delta (checked
 * to rise within the batch) and leaves the cursor after them, bounded by
 * the record; the next `next()` goes on from the record's end, whatever
 * the caller read of it. One object per batch, not per record.
 */
class RecordWalk {
  readonly cursor: ByteCursor;
  recordStart = 0;
  recordEnd = 0;
  timestampDelta = 0;
  offsetDelta = -1;
  readonly #header: BatchHeader;
  readonly #sectionEnd: number;
  #index = -1;

  /** Checks the batch's CRC (unless `crcChecked`) and that its record count can fit before anything is read. */
  constructor(buf: Uint8Array, pos: number, header: BatchHeader, crcChecked = false) {
    const crc = crcChecked ? header.crc : computeBatchCrc(buf, pos, header.sizeBytes);
    if (crc !== header.crc) throw new BatchFormatError(`CRC mismatch: stored 0x${header.crc.toString(16)}, computed 0x${crc.toString(16)}`, pos + BATCH_OFFSET_CRC);
    // A plain Uint8Array view: subarray on a Buffer goes through its species constructor at ~1.7x the cost.
    const plain = Object.getPrototypeOf(buf) === Uint8Array.prototype ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.cursor = new ByteCursor(plain, pos + BATCH_HEADER_BYTES, pos + header.sizeBytes, pos);
    this.#header = header;
    this.#sectionEnd = pos + header.sizeBytes;
    if (header.recordCount > this.cursor.remaining / MIN_RECORD_BYTES) this.cursor.fail(`recordCount ${header.recordCount} cannot fit in ${this.cursor.remaining} bytes of records`);
  }

  /** Moves to the next record; false after the last (the batch must end there). */
  next(): boolean {
    const c = this.cursor;
    if (this.#index >= 0) {
      c.pos = this.recordEnd;
      c.end = this.#sectionEnd;
    }
    if (++this.#index >= this.#header.recordCount) {
      if (c.pos !== this.#sectionEnd) c.fail(`${this.#sectionEnd - c.pos} bytes after the last of ${this.#header.recordCount} records`);
      return false;
    }
    this.recordStart = c.pos;
    const length = c.readVarint();
    if (length < MIN_RECORD_BYTES - 1 || length > this.#sectionEnd - c.pos) this.fail(`a length of ${length} bytes, ${this.#sectionEnd - c.pos} remain`);
    this.recordEnd = c.pos + length;
    c.end = this.recordEnd;
    c.pos++; // attributes: unused in v2
    this.timestampDelta = c.readVarlong();
    const offsetDelta = c.readVarint();
    if (offsetDelta <= this.offsetDelta || offsetDelta > this.#header.lastOffsetDelta) this.fail(`offsetDelta ${offsetDelta}: must rise and stay within lastOffsetDelta ${this.#header.lastOffsetDelta}`);
    this.offsetDelta = offsetDelta;
    return true;
  }

  fail(what: string): never {
    return this.cursor.fail(`record ${this.#index} has ${what}`, this.recordStart);
  }
}

/** The headers at `c` (count, then each): the last runnel.deliver.at's time, or undefined. */
function deliverAtIn(c: ByteCursor): number | undefined {
  const count = c.readVarint();
  if (count < 0 || count > c.remaining / 2) c.fail(`header count ${count} cannot fit in ${c.remaining} bytes`);
  let dueMs: number | undefined;
  for (let h = 0; h < count; h++) {
    const keyLength = c.readVarint();
    if (keyLength < 0) c.fail(`header key length ${keyLength}: header keys may not be null`);
    const keyAt = c.pos;
    skipBytes(c, keyLength, 'header key');
    const ours = keyLength === DELIVER_AT.length && startsWith(c.buf, keyAt, DELIVER_AT);
    const valueLength = c.readVarint();
    if (!ours) skipBytes(c, valueLength, 'header value');
    else if (valueLength < -1) c.fail(`header value length ${valueLength} is negative`);
    else dueMs = parseDeliverAt(valueLength === -1 ? null : c.readBytes(valueLength));
  }
  return dueMs;
}

/** Steps over a length-prefixed field's `length` bytes (-1: null), bounded as readBytes is, without making a view of them. */
function skipBytes(c: ByteCursor, length: number, what: string): void {
  if (length < -1) c.fail(`${what} length ${length} is negative`);
  if (length > c.end - c.pos) c.fail(`${what} of ${length} bytes runs past its record`);
  if (length > 0) c.pos += length;
}

function startsWith(buf: Uint8Array, pos: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}

function compressedMetas(buf: Uint8Array, pos: number, fromOffset: number, max: number, out: RecordMeta[], batchEnd: number): number {
  for (const record of decodeBatch(buf, pos).records) {
    if (record.offset < fromOffset) continue;
    if (out.length >= max) return record.offset;
    out.push(metaOf(record));
  }
  return batchEnd;
}

function metaOf(record: DecodedRecord): RecordMeta {
  return { offset: record.offset, keyHash: record.key === null ? null : xxhash32(record.key) | 0, dueMs: deliverAtOf(record.headers) ?? 0, timestampMs: record.timestamp };
}
