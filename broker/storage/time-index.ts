/**
 * The sparse time index of one segment: "from which offset on can records be
 * at or after time T", for ListOffsets by timestamp and for time retention.
 *
 * On disk (`<base>.timeindex`): 12-byte entries, big-endian,
 * `i64 timestampMs | u32 relativeOffset`. An entry (T, O) means "the largest
 * timestamp among batches up to and including the one ending at offset
 * base+O is T"; entries are added with the offset index entries and only
 * when T grows, so both columns increase and the file is binary-searchable
 * even when producers send timestamps out of order. When a segment rolls or
 * closes, a final entry records its largest timestamp, so the last entry of
 * an inactive segment's time index is the segment's largest timestamp.
 */
import { readI64, writeI64 } from '../../protocol/batch/header.js';
import { assert } from '../world/assert.js';
import type { FileHandle } from '../world/file-system.js';
import { SparseIndex } from './sparse-index.js';

export const TIME_INDEX_ENTRY_BYTES = 12;

/** Keys: timestamps; values: relative offsets. */
export class TimeIndex extends SparseIndex {
  constructor(file: FileHandle, maxIndexBytes: number) {
    super(file, TIME_INDEX_ENTRY_BYTES, maxIndexBytes);
  }

  protected encode(bytes: Uint8Array, view: DataView, pos: number, i: number): void {
    writeI64(bytes, pos, this.keys[i] as number);
    view.setUint32(pos + 8, this.values[i] as number);
  }

  protected decode(bytes: Uint8Array, view: DataView, pos: number, i: number): void {
    this.keys[i] = readI64(bytes, pos);
    this.values[i] = view.getUint32(pos + 8);
  }

  /** Adds (timestampMs, relOffset) if it raises the largest timestamp; returns whether it did. */
  maybeAppend(timestampMs: number, relOffset: number): boolean {
    if (timestampMs < 0) return false;
    const last = this.count - 1;
    if (last >= 0 && timestampMs <= (this.keys[last] as number)) return false;
    assert(last < 0 || relOffset >= (this.values[last] as number), 'time index offsets never decrease', { file: this.file.path, timestampMs, relOffset, lastRelOffset: this.values[last] });
    this.push(timestampMs, relOffset);
    return true;
  }

  /** Index of the greatest entry with timestamp < timestampMs (all batches up to it are older), or -1. */
  lastEntryBefore(timestampMs: number): number {
    return this.lowerBound(this.keys, timestampMs) - 1;
  }

  timestampAt(i: number): number {
    return this.keys[i] as number;
  }

  relOffsetAt(i: number): number {
    return this.values[i] as number;
  }

  /** Drops entries that point at offsets at or after relOffset. */
  truncateFromRelOffset(relOffset: number): void {
    this.truncateEntries(this.lowerBound(this.values, relOffset));
  }

  isSane(): boolean {
    for (let i = 1; i < this.count; i++) {
      if ((this.keys[i] as number) <= (this.keys[i - 1] as number)) return false;
      if ((this.values[i] as number) < (this.values[i - 1] as number)) return false;
    }
    return true;
  }
}
