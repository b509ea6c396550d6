/**
 * Turns the record bytes of one fetched partition into Messages. A fetch
 * answer holds whole batches, except that the first may start before the
 * offset asked for (records below it are skipped) and the last may be cut
 * short by the byte limit (it is dropped, and fetched whole next time).
 * Control batches (transaction markers) are skipped. Every batch's CRC is
 * checked: a damaged batch is an error, never silently skipped.
 *
 * Keys, values and header values are Buffers that view the response frame
 * (no copy). They are made through a Uint8Array subclass whose prototype is
 * Buffer's, the way Node makes its own Buffers; that costs half of
 * `Buffer.from(arrayBuffer, offset, length)`, which counts at millions of
 * records a second.
 */
import {
  ATTR_CODEC_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_LOG_APPEND,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BatchFormatError,
  Codec,
  computeBatchCrc,
  decompress,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  readBatchHeader,
  type BatchHeader,
  type CodecId,
} from '../../protocol/batch/index.js';
import { BATCH_OFFSET_CRC, BATCH_OFFSET_LENGTH } from '../../protocol/batch/header.js';
import { ByteCursor } from '../../protocol/batch/varint.js';
import type { Message } from '../types.js';

/** The smallest record (seven one-byte fields) and header (two): bound counts by the bytes present. */
const MIN_RECORD_BYTES = 7;
const MIN_HEADER_BYTES = 2;

class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);

function asBuffer(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null) return null;
  return new BufferView(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength) as unknown as Buffer;
}

export interface BatchWalk {
  /** Whole batches in `records`, in order. */
  batches: { position: number; header: BatchHeader }[];
  /** Offset after the last whole batch (where the next fetch starts), or -1 if there was none. */
  nextOffset: number;
  /** Size of a cut-off batch that was the first one (so the fetch limit must grow), else 0. */
  truncatedFirstBatchBytes: number;
}

/** Finds the whole batches in `records` without decoding them. */
export function walkBatches(records: Uint8Array): BatchWalk {
  const batches: { position: number; header: BatchHeader }[] = [];
  let position = 0;
  let nextOffset = -1;
  let truncatedFirstBatchBytes = 0;
  const length = records.byteLength;
  while (position < length) {
    const remaining = length - position;
    if (remaining < BATCH_HEADER_BYTES) {
      if (batches.length === 0 && remaining >= BATCH_LOG_OVERHEAD) truncatedFirstBatchBytes = BATCH_LOG_OVERHEAD + readI32(records, position + BATCH_OFFSET_LENGTH);
      break;
    }
    const sizeBytes = BATCH_LOG_OVERHEAD + readI32(records, position + BATCH_OFFSET_LENGTH);
    if (sizeBytes > remaining) {
      if (batches.length === 0) truncatedFirstBatchBytes = sizeBytes;
      break;
    }
    const header = readBatchHeader(records, position);
    batches.push({ position, header });
    nextOffset = header.baseOffset + header.lastOffsetDelta + 1;
    position += sizeBytes;
  }
  return { batches, nextOffset, truncatedFirstBatchBytes };
}

/**
 * Decodes the records at or after `minOffset` (and up to `maxOffset`) of
 * one batch straight into `out` as Messages.
 *
 * This is protocol/batch/reader.ts's `decodeBatch` specialised for the
 * consumer's hot path: same checks (CRC, every length and count bounded by
 * the bytes left, each record exactly its length, offsets rising within
 * lastOffsetDelta, nothing after the last record), but each key and value
 * becomes a Buffer view once, with no intermediate record object. Measured
 * on 16 x 64 KiB batches of 100 B records: 60 ns a record against 164 for
 * decodeBatch plus a mapping. Throws BatchFormatError.
 */
export function decodeMessages(records: Uint8Array, position: number, header: BatchHeader, topic: string, partition: number, minOffset: number, out: Message[], maxOffset = Infinity): void {
  if ((header.attributes & ATTR_CONTROL) !== 0) return;
  const { baseOffset, lastOffsetDelta, recordCount } = header;
  if (baseOffset + lastOffsetDelta < minOffset || baseOffset > maxOffset) return;
  const end = position + header.sizeBytes;
  const crc = computeBatchCrc(records, position, header.sizeBytes);
  if (crc !== header.crc) throw new BatchFormatError(`CRC mismatch: stored 0x${header.crc.toString(16)}, computed 0x${crc.toString(16)}`, position + BATCH_OFFSET_CRC);
  const codec = (header.attributes & ATTR_CODEC_MASK) as CodecId;
  let c: ByteCursor;
  if (codec === Codec.none) {
    c = new ByteCursor(records, position + BATCH_HEADER_BYTES, end, position);
  } else {
    const inflated = decompress(codec, records.subarray(position + BATCH_HEADER_BYTES, end), DEFAULT_MAX_UNCOMPRESSED_BYTES, position + BATCH_HEADER_BYTES);
    c = new ByteCursor(inflated, 0, inflated.byteLength, position, true);
  }
  const bytes = c.buf;
  const arrayBuffer = bytes.buffer as ArrayBuffer;
  const viewBase = bytes.byteOffset;
  const sectionEnd = c.end;
  if (recordCount > (sectionEnd - c.pos) / MIN_RECORD_BYTES) c.fail(`recordCount ${recordCount} cannot fit in ${sectionEnd - c.pos} bytes`);
  const logAppendTimeMs = (header.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0 ? header.maxTimestamp : -1;
  let lastDelta = -1;
  for (let i = 0; i < recordCount; i++) {
    const recordStart = c.pos;
    const length = c.readVarint();
    if (length < MIN_RECORD_BYTES - 1 || length > sectionEnd - c.pos) c.fail(`record ${i} claims ${length} bytes, ${sectionEnd - c.pos} remain`, recordStart);
    const recordEnd = c.pos + length;
    c.end = recordEnd;
    c.pos++; // attributes: unused in v2
    const timestampDelta = c.readVarlong();
    const offsetDelta = c.readVarint();
    if (offsetDelta <= lastDelta || offsetDelta > lastOffsetDelta) c.fail(`record ${i} has offsetDelta ${offsetDelta}: must rise and stay within ${lastOffsetDelta}`, recordStart);
    lastDelta = offsetDelta;
    const key = readView(c, arrayBuffer, viewBase, recordEnd, 'key');
    const value = readView(c, arrayBuffer, viewBase, recordEnd, 'value');
    const headerCount = c.readVarint();
    const headers: Record<string, Buffer | null> = {};
    const headerList = headerCount === 0 ? NO_HEADERS : readHeaders(c, headerCount, headers);
    if (c.pos !== recordEnd) c.fail(`record ${i} claims ${length} bytes but its fields end ${recordEnd - c.pos} bytes early`, recordStart);
    c.end = sectionEnd;
    const offset = baseOffset + offsetDelta;
    if (offset < minOffset) continue;
    // The rest is not wanted (a share member's answer holds whole batches, mostly others' records): the CRC has
    // vouched for every byte already, so stopping here skips only the work.
    if (offset > maxOffset) return;
    const timestamp = logAppendTimeMs >= 0 ? logAppendTimeMs : header.firstTimestamp + timestampDelta;
    out.push({ topic, partition, offset, timestamp, key, value, headers, headerList });
  }
  if (c.pos !== sectionEnd) c.fail(`${sectionEnd - c.pos} bytes after the last of ${recordCount} records`);
}

/** A length-prefixed byte string (-1: null) as a Buffer view, bounded by its record. */
function readView(c: ByteCursor, arrayBuffer: ArrayBuffer, viewBase: number, recordEnd: number, what: string): Buffer | null {
  const length = c.readVarint();
  if (length === -1) return null;
  if (length < -1) c.fail(`${what} length ${length} is negative`);
  if (length > recordEnd - c.pos) c.fail(`${what} of ${length} bytes runs past its record`);
  const view = new BufferView(arrayBuffer, viewBase + c.pos, length) as unknown as Buffer;
  c.pos += length;
  return view;
}

const utf8 = new TextDecoder('utf-8');

/** Shared by every message without headers (most of them): frozen, so no app can add to another's. */
const NO_HEADERS: readonly (readonly [string, Buffer | null])[] = Object.freeze([]);

/** Every header in order (the list), and the last value per key into `byKey`. */
function readHeaders(c: ByteCursor, count: number, byKey: Record<string, Buffer | null>): (readonly [string, Buffer | null])[] {
  if (count < 0 || count > (c.end - c.pos) / MIN_HEADER_BYTES) c.fail(`header count ${count} cannot fit in ${c.end - c.pos} bytes`);
  const list: (readonly [string, Buffer | null])[] = [];
  for (let h = 0; h < count; h++) {
    const keyLength = c.readVarint();
    if (keyLength < 0) c.fail(`header key length ${keyLength}: header keys may not be null`);
    const name = utf8.decode(c.readBytes(keyLength));
    const valueLength = c.readVarint();
    if (valueLength < -1) c.fail(`header value length ${valueLength} is negative`);
    const value = valueLength === -1 ? null : asBuffer(c.readBytes(valueLength));
    // A header named __proto__ is data like any other, not the object's prototype.
    if (name === '__proto__') Object.defineProperty(byKey, name, { value, enumerable: true, writable: true, configurable: true });
    else byKey[name] = value;
    list.push([name, value]);
  }
  return list;
}

function readI32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) | 0;
}
