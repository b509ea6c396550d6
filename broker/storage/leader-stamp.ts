/**
 * A leader's assign step, after validation (batch-validation.ts) and before
 * the write: the offsets from the log end, its leader epoch and, for
 * LogAppendTime topics, its clock, stamped into the batches in place. The
 * base offset and the epoch lie outside the CRC (Kafka put them there so a
 * leader can stamp without recomputing it); LogAppendTime rewrites
 * maxTimestamp and the attributes, which the CRC covers, so those batches
 * are sealed again. A follower never stamps: it keeps what its leader wrote.
 */
import {
  ATTR_TIMESTAMP_LOG_APPEND,
  BATCH_LOG_OVERHEAD,
  BATCH_OFFSET_ATTRIBUTES,
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LENGTH,
  BATCH_OFFSET_MAX_TIMESTAMP,
  sealBatchCrc,
  stampBatch,
  writeI64,
} from '../../protocol/batch/header.js';

/**
 * Stamps each batch of an append in place: its base offset (from
 * `baseOffset` on, batch after batch) and `leaderEpoch`, and when
 * `logAppendTimeMs` >= 0 that time as maxTimestamp, with the CRC sealed again.
 */
export function stampBatches(records: Uint8Array, baseOffset: number, leaderEpoch: number, logAppendTimeMs: number): void {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let offset = baseOffset;
  for (let pos = 0; pos < records.byteLength;) {
    const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
    stampBatch(records, pos, offset, leaderEpoch);
    if (logAppendTimeMs >= 0) {
      view.setInt16(pos + BATCH_OFFSET_ATTRIBUTES, view.getInt16(pos + BATCH_OFFSET_ATTRIBUTES) | ATTR_TIMESTAMP_LOG_APPEND);
      writeI64(records, pos + BATCH_OFFSET_MAX_TIMESTAMP, logAppendTimeMs);
      sealBatchCrc(records, pos, sizeBytes);
    }
    offset += view.getInt32(pos + BATCH_OFFSET_LAST_OFFSET_DELTA) + 1;
    pos += sizeBytes;
  }
}
