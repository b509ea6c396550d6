/**
 * The fixed 61-byte header of a record batch: Kafka's RecordBatch v2
 * (magic 2), byte for byte, so batches from Kafka clients can later pass
 * through unchanged.
 *
 * ```
 * offset size field
 *      0  i64 baseOffset            stamped by the leader on append
 *      8  i32 batchLength           bytes after this field (total = 12 + batchLength)
 *     12  i32 partitionLeaderEpoch  stamped by the leader on append
 *     16  i8  magic                 always 2
 *     17  u32 crc                   CRC-32C of bytes [21, end)
 *     21  i16 attributes            bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
 *     23  i32 lastOffsetDelta
 *     27  i64 firstTimestamp
 *     35  i64 maxTimestamp
 *     43  i64 producerId
 *     51  i16 producerEpoch
 *     53  i32 baseSequence
 *     57  i32 recordCount
 *     61      records (compressed as one block when the codec bits say so)
 * ```
 *
 * Offsets and timestamps are JS numbers in memory (safe integers: 2^53 is
 * about 285 years of a million records a second) and i64 on the wire.
 * The CRC starts at `attributes`, so stamping `baseOffset` and
 * `partitionLeaderEpoch` never invalidates it.
 */
import crc32c from 'fast-crc32c';

export const BATCH_OFFSET_BASE_OFFSET = 0;
export const BATCH_OFFSET_LENGTH = 8;
export const BATCH_OFFSET_LEADER_EPOCH = 12;
export const BATCH_OFFSET_MAGIC = 16;
export const BATCH_OFFSET_CRC = 17;
export const BATCH_OFFSET_ATTRIBUTES = 21;
export const BATCH_OFFSET_LAST_OFFSET_DELTA = 23;
export const BATCH_OFFSET_FIRST_TIMESTAMP = 27;
export const BATCH_OFFSET_MAX_TIMESTAMP = 35;
export const BATCH_OFFSET_PRODUCER_ID = 43;
export const BATCH_OFFSET_PRODUCER_EPOCH = 51;
export const BATCH_OFFSET_BASE_SEQUENCE = 53;
export const BATCH_OFFSET_RECORD_COUNT = 57;
/** Size of the fixed header; records start here. */
export const BATCH_HEADER_BYTES = 61;
/** `baseOffset` + `batchLength`: the bytes not counted by `batchLength`. */
export const BATCH_LOG_OVERHEAD = 12;
export const BATCH_MAGIC = 2;

export const ATTR_CODEC_MASK = 0x07;
export const ATTR_TIMESTAMP_LOG_APPEND = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

/** Codec ids in the low three attribute bits (Kafka's numbering). */
export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof Codec;
export type CodecId = (typeof Codec)[CodecName];

/** What a reader learns from the header alone, without touching the records. */
export interface BatchHeader {
  baseOffset: number;
  /** Total bytes of the batch on the wire and on disk (header included). */
  sizeBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Raised for any batch bytes that do not parse: says what is wrong and where. */
export class BatchFormatError extends Error {
  override name = 'BatchFormatError';
  constructor(
    message: string,
    /** Byte position (relative to the buffer or file being parsed) where the problem was found. */
    readonly position: number,
  ) {
    super(`${message} (at byte ${position})`);
  }
}

export function readI64(buf: Uint8Array, pos: number): number {
  const view = viewOf(buf);
  const value = view.getBigInt64(pos);
  return Number(value);
}

export function writeI64(buf: Uint8Array, pos: number, value: number): void {
  viewOf(buf).setBigInt64(pos, BigInt(value));
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Reads the header of the batch starting at `pos` in `buf`. Checks only what
 * the header itself can prove (enough bytes, magic, length bounds); the CRC is
 * checked separately by `verifyBatchCrc` because callers on the hot path
 * decide when to pay for it.
 */
export function readBatchHeader(buf: Uint8Array, pos = 0, maxBatchBytes = 0x7fffffff): BatchHeader {
  const remaining = buf.byteLength - pos;
  if (remaining < BATCH_HEADER_BYTES) {
    throw new BatchFormatError(`batch header needs ${BATCH_HEADER_BYTES} bytes, only ${remaining} remain`, pos);
  }
  const view = new DataView(buf.buffer, buf.byteOffset + pos, remaining);
  const batchLength = view.getInt32(BATCH_OFFSET_LENGTH);
  const sizeBytes = BATCH_LOG_OVERHEAD + batchLength;
  if (sizeBytes < BATCH_HEADER_BYTES) {
    throw new BatchFormatError(`batchLength ${batchLength} is shorter than the ${BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD}-byte header it must cover`, pos + BATCH_OFFSET_LENGTH);
  }
  if (sizeBytes > maxBatchBytes) {
    throw new BatchFormatError(`batch of ${sizeBytes} bytes exceeds the limit of ${maxBatchBytes}`, pos + BATCH_OFFSET_LENGTH);
  }
  if (sizeBytes > remaining) {
    throw new BatchFormatError(`batchLength ${batchLength} runs past the end: ${sizeBytes} bytes needed, ${remaining} remain`, pos + BATCH_OFFSET_LENGTH);
  }
  const magic = view.getInt8(BATCH_OFFSET_MAGIC);
  if (magic !== BATCH_MAGIC) {
    throw new BatchFormatError(`unsupported batch magic ${magic}, expected ${BATCH_MAGIC}`, pos + BATCH_OFFSET_MAGIC);
  }
  const recordCount = view.getInt32(BATCH_OFFSET_RECORD_COUNT);
  const lastOffsetDelta = view.getInt32(BATCH_OFFSET_LAST_OFFSET_DELTA);
  if (recordCount < 0 || lastOffsetDelta < 0) {
    throw new BatchFormatError(`negative recordCount ${recordCount} or lastOffsetDelta ${lastOffsetDelta}`, pos + BATCH_OFFSET_LAST_OFFSET_DELTA);
  }
  return {
    baseOffset: Number(view.getBigInt64(BATCH_OFFSET_BASE_OFFSET)),
    sizeBytes,
    partitionLeaderEpoch: view.getInt32(BATCH_OFFSET_LEADER_EPOCH),
    magic,
    crc: view.getUint32(BATCH_OFFSET_CRC),
    attributes: view.getInt16(BATCH_OFFSET_ATTRIBUTES),
    lastOffsetDelta,
    firstTimestamp: Number(view.getBigInt64(BATCH_OFFSET_FIRST_TIMESTAMP)),
    maxTimestamp: Number(view.getBigInt64(BATCH_OFFSET_MAX_TIMESTAMP)),
    producerId: Number(view.getBigInt64(BATCH_OFFSET_PRODUCER_ID)),
    producerEpoch: view.getInt16(BATCH_OFFSET_PRODUCER_EPOCH),
    baseSequence: view.getInt32(BATCH_OFFSET_BASE_SEQUENCE),
    recordCount,
  };
}

/** CRC-32C over `[attributes, end)` of the batch at `[pos, pos + sizeBytes)`. */
export function computeBatchCrc(buf: Uint8Array, pos: number, sizeBytes: number): number {
  const covered = buf.subarray(pos + BATCH_OFFSET_ATTRIBUTES, pos + sizeBytes);
  // fast-crc32c's types say Buffer; any Uint8Array works (measured in PACKAGES.md).
  return crc32c.calculate(covered as Buffer, 0) >>> 0;
}

/** True when the stored CRC matches the bytes. */
export function verifyBatchCrc(buf: Uint8Array, pos: number, sizeBytes: number): boolean {
  const stored = new DataView(buf.buffer, buf.byteOffset + pos + BATCH_OFFSET_CRC, 4).getUint32(0);
  return stored === computeBatchCrc(buf, pos, sizeBytes);
}

/** Writes the CRC of a fully built batch into its header. */
export function sealBatchCrc(buf: Uint8Array, pos: number, sizeBytes: number): void {
  new DataView(buf.buffer, buf.byteOffset + pos + BATCH_OFFSET_CRC, 4).setUint32(0, computeBatchCrc(buf, pos, sizeBytes));
}

/** The leader's stamp: offsets and epoch, outside the CRC, written in place. */
export function stampBatch(buf: Uint8Array, pos: number, baseOffset: number, leaderEpoch: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset + pos, BATCH_HEADER_BYTES);
  view.setBigInt64(BATCH_OFFSET_BASE_OFFSET, BigInt(baseOffset));
  view.setInt32(BATCH_OFFSET_LEADER_EPOCH, leaderEpoch);
}

/** True when fast-crc32c loaded its SSE4.2 path (it falls back to slow JS silently). */
export function crcIsNative(): boolean {
  return String(crc32c.calculate).includes('[native code]');
}
