/**
 * Names and kinds of the files in a partition directory, as storage writes
 * them: `<20-digit base offset>.log` (record batches), `.index` (sparse
 * offset index: u32 relative offset, u32 file position) and `.timeindex`
 * (sparse time index: i64 timestamp, u32 relative offset), all big-endian.
 * dump-log reads these without the broker, so it restates the format here.
 */
import { basename, dirname, join } from 'node:path';

export type SegmentFileKind = 'log' | 'index' | 'timeindex';

export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

export interface SegmentFileName {
  kind: SegmentFileKind;
  baseOffset: number;
  /** The `.log` file of the same segment (it may not exist). */
  logPath: string;
}

const NAME = /^(\d{20})\.(log|index|timeindex)$/;

/** Parses a segment file path; undefined when the name is not one of the three kinds. */
export function parseSegmentFileName(path: string): SegmentFileName | undefined {
  const match = NAME.exec(basename(path));
  if (match === null) return undefined;
  const [, digits, kind] = match;
  return {
    kind: kind as SegmentFileKind,
    baseOffset: Number(digits),
    logPath: join(dirname(path), `${digits}.log`),
  };
}
