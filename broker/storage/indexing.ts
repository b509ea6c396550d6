/**
 * When a batch gets index entries: one rule shared by the append path, an
 * inline index rebuild and the recovery worker, so an index rebuilt after a
 * crash is the same index the appends built (Kafka's LogSegment.append rule).
 *
 * Per batch, in log order: first the running largest timestamp takes the
 * batch into account; then, if more than `index.interval.bytes` of log were
 * written since the last entry, the batch gets an offset-index entry
 * (its base offset -> its position) and the time index gets
 * (largest timestamp so far -> offset where it was seen) if that grew.
 */

export interface IndexingState {
  bytesSinceLastIndexEntry: number;
  /** Largest batch maxTimestamp in the segment so far (-1 when none). */
  maxTimestampMs: number;
  /** Last offset of the batch that holds maxTimestampMs (absolute; -1 when none). */
  offsetOfMaxTimestamp: number;
  /** Timestamp of the last time-index entry (-1 when none): entries only grow. */
  lastTimeIndexTimestampMs: number;
}

export interface IndexSink {
  offsetEntry(relOffset: number, position: number): void;
  timeEntry(timestampMs: number, relOffset: number): void;
}

export function freshIndexingState(): IndexingState {
  return { bytesSinceLastIndexEntry: 0, maxTimestampMs: -1, offsetOfMaxTimestamp: -1, lastTimeIndexTimestampMs: -1 };
}

export function indexBatch(
  state: IndexingState,
  sink: IndexSink,
  segmentBaseOffset: number,
  indexIntervalBytes: number,
  baseOffset: number,
  lastOffset: number,
  maxTimestampMs: number,
  position: number,
  sizeBytes: number,
): void {
  if (maxTimestampMs > state.maxTimestampMs) {
    state.maxTimestampMs = maxTimestampMs;
    state.offsetOfMaxTimestamp = lastOffset;
  }
  if (state.bytesSinceLastIndexEntry > indexIntervalBytes) {
    sink.offsetEntry(baseOffset - segmentBaseOffset, position);
    appendTimeEntry(state, sink, segmentBaseOffset);
    state.bytesSinceLastIndexEntry = 0;
  }
  state.bytesSinceLastIndexEntry += sizeBytes;
}

/** The time entry for the largest timestamp so far, if it grew (also the final entry at a roll). */
export function appendTimeEntry(state: IndexingState, sink: IndexSink, segmentBaseOffset: number): void {
  if (state.maxTimestampMs > state.lastTimeIndexTimestampMs) {
    sink.timeEntry(state.maxTimestampMs, state.offsetOfMaxTimestamp - segmentBaseOffset);
    state.lastTimeIndexTimestampMs = state.maxTimestampMs;
  }
}
