/**
 * The storage layer's typed errors. Storage never speaks wire codes: the
 * broker maps these to `protocol/errors.ts` once, at its handler edge
 * (OffsetOutOfRangeError -> OFFSET_OUT_OF_RANGE, RecordTooLargeError ->
 * MESSAGE_TOO_LARGE, LogOfflineError -> KAFKA_STORAGE_ERROR, CorruptLogError
 * -> CORRUPT_SEGMENT, and so does a LogOfflineError caused by one;
 * AppendBackpressureError -> REQUEST_TIMED_OUT; bad batch bytes in an
 * append raise protocol's BatchFormatError -> CORRUPT_MESSAGE).
 * DiscontinuousAppendError is a replica fetcher's business, never a
 * client's: the follower refetches after truncating (OffsetForLeaderEpoch).
 */

/** A read or lookup asked for an offset outside [logStartOffset, logEndOffset]. */
export class OffsetOutOfRangeError extends Error {
  override name = 'OffsetOutOfRangeError';
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is outside the log's range [${logStartOffset}, ${logEndOffset}]`);
  }
}

/** A batch larger than the topic's max.message.bytes. */
export class RecordTooLargeError extends Error {
  override name = 'RecordTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly maxMessageBytes: number,
    /** Byte position of the batch inside the appended buffer. */
    readonly position: number,
  ) {
    super(`record batch of ${sizeBytes} bytes at byte ${position} exceeds max.message.bytes (${maxMessageBytes})`);
  }
}

/**
 * A follower's append (`PartitionLog.appendAsFollower`) whose batches do not
 * continue this log exactly as the leader wrote them: the first batch does
 * not start at the log end, a batch does not start where the one before it
 * ended, or leader epochs go backwards (within the append, or below the
 * log's latest epoch). Nothing was appended. The fetcher is out of step
 * with the log (a divergent tail not yet truncated, a fetch from the wrong
 * offset): it must ask the leader where its epoch ended and truncate.
 */
export class DiscontinuousAppendError extends Error {
  override name = 'DiscontinuousAppendError';
  constructor(
    readonly dir: string,
    /** 'offset' or 'epoch': which rule the batch broke. */
    readonly rule: 'offset' | 'epoch',
    /** Byte position of the offending batch inside the appended buffer. */
    readonly position: number,
    reason: string,
  ) {
    super(`follower append to ${dir} refused at byte ${position}: ${reason}; nothing was appended`);
  }
}

/**
 * An append refused before it changed anything, because rolled segments
 * waiting for the disk already hold this log's share of memory
 * (pending-budget.ts). Callers wait for `PartitionLog.waitAppendable()`
 * first, so only one that did not meets it; retrying later is safe.
 */
export class AppendBackpressureError extends Error {
  override name = 'AppendBackpressureError';
  constructor(
    readonly dir: string,
    readonly pendingBytes: number,
    readonly totalPendingBytes: number,
  ) {
    super(`log ${dir} holds ${pendingBytes} bytes of rolled segments in memory (${totalPendingBytes} across the broker) until its disk catches up; nothing was appended, try again once it has`);
  }
}

/**
 * The log stopped serving reads and writes because its disk failed it (a
 * failed fsync or write) or its files are corrupt. It stays offline until the
 * broker reopens it, which runs recovery: a failed fsync is never retried as
 * if the data it covered were safe.
 */
export class LogOfflineError extends Error {
  override name = 'LogOfflineError';
  constructor(
    readonly dir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`log ${dir} is offline: ${reason}`, options);
  }
}

/** A batch that fails its checks somewhere other than a torn tail: reported, never skipped. */
export class CorruptLogError extends Error {
  override name = 'CorruptLogError';
  constructor(
    readonly file: string,
    /** Byte position of the bad batch in `file`. */
    readonly position: number,
    reason: string,
  ) {
    super(`corrupt log segment ${file} at byte ${position}: ${reason}`);
  }
}

/**
 * The CorruptLogError behind `error`, if any: itself, or one in its cause
 * chain (a log that went offline because a segment does not read back, a
 * partition whose log could not be opened).
 */
export function corruptionIn(error: unknown): CorruptLogError | null {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    if (current instanceof CorruptLogError) return current;
    seen.add(current);
  }
  return null;
}

/**
 * A `runnel recover` cut was interrupted (the partition holds its
 * cut-in-progress marker): part of what it sets aside may already be gone
 * from the partition, so the log is not served until the same command, run
 * again, finishes the cut. A CorruptLogError, so the partition answers
 * CORRUPT_SEGMENT (only an operator can fix it), naming where the cut is.
 */
export class InterruptedCutError extends CorruptLogError {
  override name = 'InterruptedCutError';
  constructor(
    file: string,
    position: number,
    /** The command that finishes the cut. */
    readonly finishCommand: string,
  ) {
    super(file, position, `\`runnel recover\` was cutting the log here and was interrupted; the partition stays offline until \`${finishCommand}\` finishes the cut`);
  }
}
