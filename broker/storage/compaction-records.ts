/**
 * Record-level work of log compaction, on batch bytes (layout in
 * protocol/batch/header.ts, records as protocol/batch/builder.ts writes them):
 * walk the records of a batch with their keys and offsets, rebuild a batch
 * from a subset of its records, and refuse keyless records on compacted
 * topics at append time.
 *
 * A rebuilt batch keeps everything that gives its records their meaning:
 * baseOffset, lastOffsetDelta (so the batch still ends where it ended and
 * offsets never shift), firstTimestamp and maxTimestamp (each record's
 * timestamp is firstTimestamp + its delta, or maxTimestamp under
 * LogAppendTime), the producer fields and the leader epoch. The surviving
 * records are copied byte for byte (their offset and timestamp deltas stay
 * valid), recompressed with the batch's codec, and the CRC is sealed again.
 * A batch left with no records becomes an empty batch (recordCount 0, no
 * records section, codec none), as Kafka writes them, so it can still mark
 * where a run of offsets ends.
 */
import { compress, decompress } from '../../protocol/batch/compression.js';
import {
  ATTR_CODEC_MASK,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_OFFSET_ATTRIBUTES,
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LENGTH,
  BATCH_OFFSET_RECORD_COUNT,
  BatchFormatError,
  Codec,
  sealBatchCrc,
  type BatchHeader,
  type CodecId,
} from '../../protocol/batch/header.js';
import { ByteCursor } from '../../protocol/batch/varint.js';

/**
 * A keyless record sent to a topic whose cleanup.policy includes compact.
 * Kafka refuses these (the cleaner could never tell which value is the
 * latest); so does Runnel, at append, before anything is written. It is a
 * BatchFormatError so every caller that maps bad batches keeps working; a
 * handler may map it more precisely (Kafka: INVALID_RECORD).
 */
export class KeylessRecordError extends BatchFormatError {
  override name = 'KeylessRecordError';
  constructor(recordIndex: number, batchPosition: number) {
    super(`record ${recordIndex} has no key, and a topic with cleanup.policy=compact keeps only keyed records (the newest value per key)`, batchPosition);
  }
}

/**
 * Called once per record, in order. `keyLength` is -1 for a null key (the
 * key is `section[keyStart, keyStart + keyLength)`); the record's own bytes
 * are `section[recordStart, recordEnd)`.
 */
export type RecordVisitor = (
  section: Uint8Array,
  keyStart: number,
  keyLength: number,
  offset: number,
  tombstone: boolean,
  recordStart: number,
  recordEnd: number,
) => void;

/** Bytes of the smallest record (see protocol/batch/reader.ts): bounds recordCount before looping. */
const MIN_RECORD_BYTES = 7;

/**
 * The records section of the batch at `pos` (its `header` already read),
 * inflated if compressed, refusing more than `maxUncompressedBytes`.
 */
export function recordsSection(buf: Uint8Array, pos: number, header: BatchHeader, maxUncompressedBytes: number): Uint8Array {
  const start = pos + BATCH_HEADER_BYTES;
  const end = pos + header.sizeBytes;
  const codec = (header.attributes & ATTR_CODEC_MASK) as CodecId;
  if (codec === Codec.none || start === end) return buf.subarray(start, end);
  return decompress(codec, buf.subarray(start, end), maxUncompressedBytes, start);
}

/**
 * Walks every record of a records section, checking each length and count
 * against the bytes left (as the batch reader does) and that offsets rise
 * within lastOffsetDelta. Throws BatchFormatError positioned at the batch.
 */
export function forEachRecord(section: Uint8Array, header: BatchHeader, batchPosition: number, visit: RecordVisitor): void {
  const cursor = new ByteCursor(section, 0, section.byteLength, batchPosition, true);
  const count = header.recordCount;
  if (count > section.byteLength / MIN_RECORD_BYTES) cursor.fail(`recordCount ${count} cannot fit in ${section.byteLength} bytes of records`);
  let previousDelta = -1;
  for (let i = 0; i < count; i++) {
    const recordStart = cursor.pos;
    const length = cursor.readVarint();
    if (length < MIN_RECORD_BYTES - 1 || length > section.byteLength - cursor.pos) cursor.fail(`record ${i} claims ${length} bytes`, recordStart);
    const recordEnd = cursor.pos + length;
    cursor.end = recordEnd;
    cursor.pos += 1; // attributes
    cursor.readVarlong(); // timestamp delta
    const offsetDelta = cursor.readVarint();
    if (offsetDelta <= previousDelta || offsetDelta > header.lastOffsetDelta) cursor.fail(`record ${i} has offsetDelta ${offsetDelta}`, recordStart);
    previousDelta = offsetDelta;
    const keyLength = cursor.readVarint();
    if (keyLength < -1 || keyLength > recordEnd - cursor.pos) cursor.fail(`record ${i} has key length ${keyLength}`, recordStart);
    const keyStart = cursor.pos;
    if (keyLength > 0) cursor.pos += keyLength;
    const valueLength = cursor.readVarint();
    if (valueLength < -1 || valueLength > recordEnd - cursor.pos) cursor.fail(`record ${i} has value length ${valueLength}`, recordStart);
    visit(section, keyStart, keyLength, header.baseOffset + offsetDelta, valueLength === -1, recordStart, recordEnd);
    cursor.pos = recordEnd;
    cursor.end = section.byteLength;
  }
  if (cursor.pos !== section.byteLength) cursor.fail(`${section.byteLength - cursor.pos} bytes after the last of ${count} records`);
}

/**
 * Throws KeylessRecordError if any record of the batch at `pos` has a null
 * key (for appends to compacted topics). Compressed batches are inflated,
 * bounded, as Kafka's validator does for compacted topics.
 */
export function assertRecordsKeyed(buf: Uint8Array, pos: number, header: BatchHeader, maxUncompressedBytes: number): void {
  const section = recordsSection(buf, pos, header, maxUncompressedBytes);
  let index = 0;
  forEachRecord(section, header, pos, (_section, _keyStart, keyLength) => {
    if (keyLength < 0) throw new KeylessRecordError(index, pos);
    index += 1;
  });
}

/**
 * A new batch holding only the records at `kept` (start, end pairs into
 * `section`, in order) of the batch at `buf[pos, pos + sizeBytes)`. Offsets,
 * timestamps and producer fields are kept (see the file comment); an empty
 * `kept` gives an empty batch.
 */
export function rebuildBatch(buf: Uint8Array, pos: number, sizeBytes: number, section: Uint8Array, kept: readonly number[], keptCount: number): Uint8Array {
  const view = new DataView(buf.buffer, buf.byteOffset + pos, sizeBytes);
  let attributes = view.getInt16(BATCH_OFFSET_ATTRIBUTES);
  const codec = (attributes & ATTR_CODEC_MASK) as CodecId;
  let recordsBytes = 0;
  for (let i = 0; i < kept.length; i += 2) recordsBytes += (kept[i + 1] as number) - (kept[i] as number);
  if (keptCount === 0) attributes &= ~ATTR_CODEC_MASK;
  const compressed = keptCount > 0 && codec !== Codec.none;
  // Uncompressed, the kept records go straight into the new batch (share fetch answers cut batches per fetch: one copy, not two).
  const records = compressed ? new Uint8Array(recordsBytes) : null;
  const plain = records ?? new Uint8Array(BATCH_HEADER_BYTES + recordsBytes);
  let at = records === null ? BATCH_HEADER_BYTES : 0;
  for (let i = 0; i < kept.length; i += 2) {
    plain.set(section.subarray(kept[i] as number, kept[i + 1] as number), at);
    at += (kept[i + 1] as number) - (kept[i] as number);
  }
  let out = plain;
  if (records !== null) {
    const packed = compress(codec, records);
    out = new Uint8Array(BATCH_HEADER_BYTES + packed.byteLength);
    out.set(packed, BATCH_HEADER_BYTES);
  }
  out.set(buf.subarray(pos, pos + BATCH_HEADER_BYTES), 0);
  const outView = new DataView(out.buffer);
  outView.setInt32(BATCH_OFFSET_LENGTH, out.byteLength - BATCH_LOG_OVERHEAD);
  outView.setInt16(BATCH_OFFSET_ATTRIBUTES, attributes);
  outView.setInt32(BATCH_OFFSET_RECORD_COUNT, keptCount);
  // lastOffsetDelta stays as it was: the batch still ends at the same offset.
  outView.setInt32(BATCH_OFFSET_LAST_OFFSET_DELTA, view.getInt32(BATCH_OFFSET_LAST_OFFSET_DELTA));
  sealBatchCrc(out, 0, out.byteLength);
  return out;
}
