/**
 * File names inside a partition directory, in one place:
 *
 * ```
 * <topic>-<partition>/
 *   00000000000000000000.log        record batches (Kafka RecordBatch v2), back to back
 *   00000000000000000000.index      sparse offset index (see offset-index.ts)
 *   00000000000000000000.timeindex  sparse time index (see time-index.ts)
 *   <any of the above>.deleted      renamed before unlink: a crash mid-delete finishes the delete
 *   <any of the above>.cleaned      a compacted segment being written (see compaction-swap.ts)
 *   <any of the above>.swap         a compacted segment being swapped in: the next open finishes it
 *   leader-epoch-checkpoint         epoch -> start offset (see epoch-cache.ts)
 *   partition.meta                  recovery point (see partition-meta.ts)
 *   cleaner-offset-checkpoint       where compaction's clean part ends (see partition-meta.ts)
 *   clean-shutdown                  present only between a clean close and the next open
 *   cut-in-progress                 a `runnel recover` cut not finished: the broker keeps the log offline (log-surgery.ts)
 *   *.tmp                           an atomic write that did not finish: removed on open
 * ```
 *
 * A segment is named by its base offset, zero-padded to 20 digits so that
 * names sort as offsets do.
 */
export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const SEGMENT_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] as const;
export const EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const PARTITION_META_FILE = 'partition.meta';
export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
export const LOG_START_FILE = 'log-start-offset';
export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';
export const CUT_IN_PROGRESS_FILE = 'cut-in-progress';

const BASE_OFFSET_DIGITS = 20;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(BASE_OFFSET_DIGITS, '0') + suffix;
}

/** The base offset of a segment file name with this suffix, or null if the name is not one. */
export function parseSegmentFileName(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null;
  const digits = name.slice(0, -suffix.length);
  if (digits.length !== BASE_OFFSET_DIGITS || !/^\d+$/.test(digits)) return null;
  const baseOffset = Number(digits);
  return Number.isSafeInteger(baseOffset) ? baseOffset : null;
}
