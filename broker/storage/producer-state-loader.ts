/**
 * Rebuilds a partition's producer state (producer-state.ts) from the batch
 * headers of its log: every batch that carries a producer id is recorded,
 * in offset order, so the table ends as it was when the last of them was
 * appended. Used when the log opens (after a restart, from the latest
 * snapshot on, producer-snapshot.ts) and after a truncation took away a
 * producer's kept batches. Reads whole batches, one bounded chunk at a time,
 * and follows the log end while it grows (appends that arrive meanwhile are
 * recorded too).
 */
import { ATTR_TIMESTAMP_LOG_APPEND, readBatchHeader } from '../../protocol/batch/header.js';
import type { PartitionLog } from './partition-log.js';
import type { ProducerStateTable } from './producer-state.js';

const CHUNK_BYTES = 1 << 20;

/**
 * Records every producer batch of `log` from `fromOffset` (clamped to the
 * log start) to its end into `table`. `stale()` true stops the scan early:
 * a newer rebuild replaced this one.
 */
export async function loadProducerState(log: PartitionLog, table: ProducerStateTable, fromOffset: number, stale: () => boolean): Promise<void> {
  let offset = Math.max(fromOffset, log.logStartOffset);
  while (offset < log.logEndOffset && !stale() && !log.isOffline) {
    const { records } = await log.read(offset, CHUNK_BYTES);
    if (stale()) return;
    if (records.length === 0) return;
    for (const chunk of records) {
      for (let pos = 0; pos < chunk.byteLength; ) {
        const h = readBatchHeader(chunk, pos);
        const lastOffset = h.baseOffset + h.lastOffsetDelta;
        // A read starts at the batch holding `offset`: skip what an earlier chunk recorded.
        if (h.producerId >= 0 && lastOffset >= offset) table.record(h, h.baseOffset, lastOffset, appendTimeOf(h));
        offset = Math.max(offset, lastOffset + 1);
        pos += h.sizeBytes;
      }
    }
  }
}

/** The append time a produce response reports for a stored batch: its stamped time on a LogAppendTime topic, else -1. */
export function appendTimeOf(h: { attributes: number; maxTimestamp: number }): number {
  return (h.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0 ? h.maxTimestamp : -1;
}
