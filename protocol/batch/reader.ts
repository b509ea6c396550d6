/**
 * Reads record batches: one batch into its records (`decodeBatch`), or a run
 * of concatenated batches header by header (`batchesIn`, for fetch responses
 * and log scans that never look inside the records).
 *
 * Nothing read is trusted. Every length and count is checked against the
 * bytes that remain before anything is allocated or looped over (a
 * recordCount of 2^31 over ten bytes fails at once), each record must use
 * exactly the bytes its length prefix claims, the batch must hold exactly
 * `recordCount` records and nothing after them, and every failure is a
 * BatchFormatError that says what and where. Keys and values of uncompressed
 * batches are zero-copy views of the caller's buffer; of compressed batches,
 * views of the one decompressed buffer.
 */
import { decompress } from './compression.js';
import {
  ATTR_CODEC_MASK,
  ATTR_TIMESTAMP_LOG_APPEND,
  BATCH_HEADER_BYTES,
  BATCH_OFFSET_CRC,
  BatchFormatError,
  Codec,
  computeBatchCrc,
  readBatchHeader,
  type BatchHeader,
  type CodecId,
} from './header.js';
import type { RecordHeader } from './builder.js';
import { ByteCursor } from './varint.js';

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface DecodeOptions {
  /** Cap on a compressed batch's records once inflated; larger is refused, not inflated. Default 64 MiB. */
  maxUncompressedBytes?: number;
  /** Check the CRC-32C before parsing (default true). Off only for bytes already verified. */
  verifyCrc?: boolean;
}

export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * The smallest record: length, attributes, timestampDelta, offsetDelta,
 * keyLength, valueLength and headerCount, one byte each. Bounds recordCount
 * by the bytes present before the loop starts.
 */
const MIN_RECORD_BYTES = 7;
/** A header is at least its key length and value length varints. */
const MIN_HEADER_BYTES = 2;

const utf8 = new TextDecoder('utf-8');

/** Decodes the batch at `pos` in `buf` into its header and records. */
export function decodeBatch(buf: Uint8Array, pos = 0, opts: DecodeOptions = {}): { header: BatchHeader; records: DecodedRecord[] } {
  const header = readBatchHeader(buf, pos);
  const end = pos + header.sizeBytes;
  if (opts.verifyCrc !== false) checkCrc(buf, pos, header);
  const codec = (header.attributes & ATTR_CODEC_MASK) as CodecId;
  const recordsStart = pos + BATCH_HEADER_BYTES;
  let cursor: ByteCursor;
  if (codec === Codec.none || (header.recordCount === 0 && recordsStart === end)) {
    // (An empty batch, as compaction leaves behind to keep producer state, has no records section to inflate.)
    // Plain Uint8Array views: subarray on a Buffer goes through its species constructor at ~1.7x the cost.
    cursor = new ByteCursor(plainView(buf), recordsStart, end, pos);
  } else {
    const maxBytes = opts.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
    const inflated = decompress(codec, buf.subarray(recordsStart, end), maxBytes, recordsStart);
    cursor = new ByteCursor(plainView(inflated), 0, inflated.length, pos, true);
  }
  return { header, records: decodeRecords(cursor, header) };
}

function decodeRecords(cursor: ByteCursor, header: BatchHeader): DecodedRecord[] {
  const count = header.recordCount;
  if (count > cursor.remaining / MIN_RECORD_BYTES) {
    cursor.fail(`recordCount ${count} cannot fit in ${cursor.remaining} bytes of records`);
  }
  const { baseOffset, firstTimestamp, lastOffsetDelta } = header;
  const logAppendTime = (header.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0;
  const maxTimestamp = header.maxTimestamp;
  const sectionEnd = cursor.end;
  const records: DecodedRecord[] = new Array(count);
  let previousOffsetDelta = -1;
  for (let i = 0; i < count; i++) {
    const recordStart = cursor.pos;
    const length = cursor.readVarint();
    if (length < MIN_RECORD_BYTES - 1 || length > sectionEnd - cursor.pos) {
      cursor.fail(`record ${i} claims ${length} bytes, ${sectionEnd - cursor.pos} remain`, recordStart);
    }
    const recordEnd = cursor.pos + length;
    cursor.end = recordEnd; // the record's fields may not read past its own length
    cursor.pos++; // attributes: unused in v2
    const timestampDelta = cursor.readVarlong();
    const offsetDelta = cursor.readVarint();
    if (offsetDelta <= previousOffsetDelta || offsetDelta > lastOffsetDelta) {
      cursor.fail(`record ${i} has offsetDelta ${offsetDelta}: must rise and stay within lastOffsetDelta ${lastOffsetDelta}`, recordStart);
    }
    previousOffsetDelta = offsetDelta;
    const key = readNullableBytes(cursor, 'key');
    const value = readNullableBytes(cursor, 'value');
    const headers = readHeaders(cursor);
    if (cursor.pos !== recordEnd) cursor.fail(`record ${i} claims ${length} bytes but its fields end ${recordEnd - cursor.pos} bytes early`, recordStart);
    cursor.end = sectionEnd;
    const timestamp = logAppendTime ? maxTimestamp : firstTimestamp + timestampDelta;
    const offset = baseOffset + offsetDelta;
    if (timestamp > Number.MAX_SAFE_INTEGER || timestamp < Number.MIN_SAFE_INTEGER || offset > Number.MAX_SAFE_INTEGER) {
      cursor.fail(`record ${i} has offset ${offset} or timestamp ${timestamp} outside the safe integer range`, recordStart);
    }
    records[i] = { offset, timestamp, key, value, headers };
  }
  if (cursor.pos !== sectionEnd) cursor.fail(`${sectionEnd - cursor.pos} bytes after the last of ${count} records`);
  return records;
}

function readNullableBytes(cursor: ByteCursor, what: string): Uint8Array | null {
  const length = cursor.readVarint();
  if (length === -1) return null;
  if (length < -1) cursor.fail(`${what} length ${length} is negative`);
  return cursor.readBytes(length);
}

function readHeaders(cursor: ByteCursor): RecordHeader[] {
  const count = cursor.readVarint();
  if (count === 0) return [];
  if (count < 0 || count > cursor.remaining / MIN_HEADER_BYTES) cursor.fail(`header count ${count} cannot fit in ${cursor.remaining} bytes`);
  const headers: RecordHeader[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const keyLength = cursor.readVarint();
    if (keyLength < 0) cursor.fail(`header key length ${keyLength}: header keys may not be null`);
    const key = utf8.decode(cursor.readBytes(keyLength));
    headers[i] = { key, value: readNullableBytes(cursor, 'header value') };
  }
  return headers;
}

export interface BatchesInOptions {
  /** Largest batch accepted (bytes, header included); a larger one is a format error. */
  maxBatchBytes?: number;
  /** Also check each batch's CRC-32C (default false: a header walk, for callers that verify elsewhere). */
  verifyCrc?: boolean;
}

/**
 * Walks the whole batches concatenated in `buf`, yielding each one's position
 * and header without decoding its records. Any malformed batch (including a
 * partial one at the end) throws a BatchFormatError positioned at it.
 */
export function* batchesIn(buf: Uint8Array, opts: BatchesInOptions = {}): Generator<{ position: number; header: BatchHeader }> {
  const maxBatchBytes = opts.maxBatchBytes ?? 0x7fffffff;
  let position = 0;
  while (position < buf.byteLength) {
    const header = readBatchHeader(buf, position, maxBatchBytes);
    if (opts.verifyCrc === true) checkCrc(buf, position, header);
    yield { position, header };
    position += header.sizeBytes;
  }
}

function checkCrc(buf: Uint8Array, pos: number, header: BatchHeader): void {
  const computed = computeBatchCrc(buf, pos, header.sizeBytes);
  if (computed !== header.crc) {
    throw new BatchFormatError(`CRC mismatch: stored 0x${hex(header.crc)}, computed 0x${hex(computed)}`, pos + BATCH_OFFSET_CRC);
  }
}

function plainView(buf: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(buf) === Uint8Array.prototype ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
