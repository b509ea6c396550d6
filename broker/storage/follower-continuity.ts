/**
 * A follower's assign step: the leader already assigned offsets and leader
 * epochs, so the follower keeps them and only checks that the batches
 * continue its log exactly, before anything is written:
 *
 * - the first batch starts at or after the log end, and each batch after
 *   the one before it ends: never at or before it (an overlap). A batch may
 *   start past that point, as in Kafka: a leader's log has holes where a
 *   cleaner dropped whole batches, and a topic compacted once keeps them
 *   after its policy changes to `delete`, so the follower's own policy
 *   cannot tell whether a hole is expected;
 * - leader epochs never go backwards: not within the append, not below the
 *   log's latest epoch, and never negative (a leader always stamps one).
 *
 * Anything else means the fetcher is out of step with this log (it skipped
 * the OffsetForLeaderEpoch truncation, or fetched from the wrong offset):
 * DiscontinuousAppendError, with the append refused whole. The epochs the
 * append starts (the first batch of each epoch newer than the log's latest)
 * are returned for the epoch cache: a new epoch starts at that batch's base
 * offset, as on the leader.
 */
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LAST_OFFSET_DELTA, BATCH_OFFSET_LEADER_EPOCH, BATCH_OFFSET_LENGTH, readI64 } from '../../protocol/batch/header.js';
import { checkOffsetSpan } from './batch-validation.js';
import type { EpochEntry } from './epoch-cache.js';
import { DiscontinuousAppendError } from './errors.js';

export interface FollowerPlacement {
  /** Base offset of the first batch and last offset of the last one, as the leader assigned them. */
  baseOffset: number;
  lastOffset: number;
  /** Epochs newer than the log's latest that this append starts, oldest first. */
  epochStarts: EpochEntry[];
}

export interface LogTail {
  dir: string;
  logEndOffset: number;
  /** -1 when the log has recorded no epoch. */
  latestEpoch: number;
}

/** Checks that `records` (already validated: whole, framed batches) continue `tail`; see the file comment. */
export function placeFollowerBatches(records: Uint8Array, tail: LogTail): FollowerPlacement {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const epochStarts: EpochEntry[] = [];
  let expected = tail.logEndOffset;
  let epoch = tail.latestEpoch;
  let lastOffset = -1;
  for (let pos = 0; pos < records.byteLength;) {
    const baseOffset = readI64(records, pos);
    const batchEpoch = view.getInt32(pos + BATCH_OFFSET_LEADER_EPOCH);
    if (baseOffset < expected) {
      const what = pos === 0 ? `the log ends at ${expected}` : `the batch before it ends at ${expected - 1}`;
      throw new DiscontinuousAppendError(tail.dir, 'offset', pos, `a batch starts at offset ${baseOffset} but ${what}`);
    }
    if (batchEpoch < 0 || batchEpoch < epoch) {
      const what = batchEpoch < 0 ? 'a leader stamps a non-negative epoch' : pos === 0 ? `the log's latest epoch is ${epoch}` : `the batch before it has epoch ${epoch}`;
      throw new DiscontinuousAppendError(tail.dir, 'epoch', pos, `the batch at offset ${baseOffset} has leader epoch ${batchEpoch} but ${what}`);
    }
    if (batchEpoch > epoch) {
      epochStarts.push({ epoch: batchEpoch, startOffset: baseOffset });
      epoch = batchEpoch;
    }
    lastOffset = baseOffset + view.getInt32(pos + BATCH_OFFSET_LAST_OFFSET_DELTA);
    expected = lastOffset + 1;
    pos += BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
  }
  const baseOffset = readI64(records, 0);
  checkOffsetSpan(baseOffset, lastOffset);
  return { baseOffset, lastOffset, epochStarts };
}
