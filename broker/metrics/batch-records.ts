/**
 * Records in a fetch answer's batch slices, from each batch header's record
 * count (two reads per batch, no decoding): what
 * runnel_topic_records_out_total counts. A slice ends on a batch boundary;
 * should one not, the partial batch at its end is not counted.
 */
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH, BATCH_OFFSET_RECORD_COUNT } from '../../protocol/batch/header.js';

export function recordsIn(slices: readonly Uint8Array[]): number {
  let records = 0;
  for (const slice of slices) {
    const view = new DataView(slice.buffer, slice.byteOffset, slice.byteLength);
    for (let pos = 0; pos + BATCH_HEADER_BYTES <= slice.byteLength;) {
      const size = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      if (size < BATCH_HEADER_BYTES || pos + size > slice.byteLength) break;
      records += view.getInt32(pos + BATCH_OFFSET_RECORD_COUNT);
      pos += size;
    }
  }
  return records;
}
