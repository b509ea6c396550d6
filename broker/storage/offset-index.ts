/**
 * The sparse offset index of one segment: "where in the .log does the batch
 * starting at (about) offset X begin", so a read seeks instead of scanning.
 *
 * On disk (`<base>.index`): 8-byte entries, big-endian,
 * `u32 relativeOffset | u32 position`, where relativeOffset = a batch's
 * baseOffset - the segment's base offset and position is that batch's byte
 * position in the .log. Both strictly increase. One entry is added after
 * every `index.interval.bytes` of log (not for the first batch: its position
 * is 0). No checksum: the index is derived data, rebuilt from the log when in
 * doubt. Lookup = binary search for the greatest entry <= target, then a
 * forward scan of batch headers from its position.
 */
import { assert } from '../world/assert.js';
import type { FileHandle } from '../world/file-system.js';
import { SparseIndex } from './sparse-index.js';

export const OFFSET_INDEX_ENTRY_BYTES = 8;

/** Keys: relative offsets; values: positions. */
export class OffsetIndex extends SparseIndex {
  constructor(file: FileHandle, maxIndexBytes: number) {
    super(file, OFFSET_INDEX_ENTRY_BYTES, maxIndexBytes);
  }

  protected encode(_bytes: Uint8Array, view: DataView, pos: number, i: number): void {
    view.setUint32(pos, this.keys[i] as number);
    view.setUint32(pos + 4, this.values[i] as number);
  }

  protected decode(_bytes: Uint8Array, view: DataView, pos: number, i: number): void {
    this.keys[i] = view.getUint32(pos);
    this.values[i] = view.getUint32(pos + 4);
  }

  append(relOffset: number, position: number): void {
    const last = this.count - 1;
    assert(last < 0 || (relOffset > (this.keys[last] as number) && position > (this.values[last] as number)),
      'offset index entries strictly increase', { file: this.file.path, relOffset, position, lastRelOffset: this.keys[last], lastPosition: this.values[last] });
    assert(relOffset >= 0 && relOffset <= 0xffffffff && position > 0 && position <= 0xffffffff, 'offset index entry fits u32', { relOffset, position });
    this.push(relOffset, position);
  }

  /** Index of the greatest entry with relativeOffset <= relOffset, or -1 (start at position 0). */
  floorEntry(relOffset: number): number {
    return this.lowerBound(this.keys, relOffset + 1) - 1;
  }

  relOffsetAt(i: number): number {
    return this.keys[i] as number;
  }

  positionAt(i: number): number {
    return this.values[i] as number;
  }

  /** Drops entries whose batch starts at or after byte `position` of the log. */
  truncateFromPosition(position: number): void {
    this.truncateEntries(this.lowerBound(this.values, position));
  }

  /** True when the loaded entries are well-formed for a log of `logSizeBytes`. */
  isSane(logSizeBytes: number): boolean {
    for (let i = 0; i < this.count; i++) {
      const position = this.values[i] as number;
      if (position === 0 || position >= logSizeBytes) return false;
      if (i > 0 && ((this.keys[i] as number) <= (this.keys[i - 1] as number) || position <= (this.values[i - 1] as number))) return false;
    }
    return true;
  }
}
