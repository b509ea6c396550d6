/**
 * File mechanics shared by the offset index and the time index: fixed-size
 * big-endian entries, kept in memory (the "memory-mapped style" of the
 * design) and written through to a file that is preallocated to
 * `segment.index.bytes` while its segment is active and trimmed to its real
 * length when the segment rolls or the log closes cleanly.
 *
 * "Written through" is batched: new entries reach the file in one write when
 * enough have collected, and always before a roll, a flush or a close. Only
 * the active segment's index can lag its file, and recovery rebuilds the
 * active segment's indexes from the log anyway (an index is never trusted
 * beyond the last flush; it has no checksum, it is derived data).
 *
 * Not thread-safe; one PartitionLog owns it.
 */
import { assert } from '../world/assert.js';
import type { FileHandle } from '../world/file-system.js';

/** Entries collected in memory before one write pushes them to the file. */
const WRITE_BATCH_ENTRIES = 512;

/**
 * Entries are (key, value) pairs: keys are sorted (binary-searched), values
 * are u32. The subclasses say what they mean and how they look on disk.
 */
export abstract class SparseIndex {
  protected count = 0;
  protected keys = new Float64Array(0);
  protected values = new Uint32Array(0);
  #written = 0;
  readonly maxEntries: number;

  constructor(
    readonly file: FileHandle,
    readonly entryBytes: number,
    maxIndexBytes: number,
  ) {
    this.maxEntries = Math.floor(maxIndexBytes / entryBytes);
    assert(this.maxEntries >= 1, 'an index holds at least one entry', { maxIndexBytes, entryBytes });
  }

  get entries(): number {
    return this.count;
  }

  /** True when `more` entries would not fit: the segment must roll first. */
  wouldOverflow(more: number): boolean {
    return this.count + more > this.maxEntries;
  }

  protected abstract encode(bytes: Uint8Array, view: DataView, pos: number, index: number): void;
  protected abstract decode(bytes: Uint8Array, view: DataView, pos: number, index: number): void;

  #grow(capacity: number): void {
    const keys = new Float64Array(capacity);
    const values = new Uint32Array(capacity);
    keys.set(this.keys.subarray(0, this.count));
    values.set(this.values.subarray(0, this.count));
    this.keys = keys;
    this.values = values;
  }

  protected push(key: number, value: number): void {
    assert(this.count < this.maxEntries, 'index append only when not full', { file: this.file.path, count: this.count });
    if (this.count === this.keys.length) this.#grow(Math.min(this.maxEntries, Math.max(64, this.count * 2)));
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count += 1;
    if (this.count - this.#written >= WRITE_BATCH_ENTRIES) this.writeThrough();
  }

  /** Pushes entries not yet in the file to it, in one write. */
  writeThrough(): void {
    if (this.#written >= this.count) {
      this.#written = this.count;
      return;
    }
    const out = new Uint8Array((this.count - this.#written) * this.entryBytes);
    const view = new DataView(out.buffer);
    for (let i = this.#written; i < this.count; i++) this.encode(out, view, (i - this.#written) * this.entryBytes, i);
    this.file.write(out, this.#written * this.entryBytes);
    this.#written = this.count;
  }

  /** Grows the file to its full size (sparse zeros), as an active segment's index. */
  preallocate(): void {
    this.writeThrough();
    this.file.truncate(this.maxEntries * this.entryBytes);
  }

  /** Shrinks the file to the entries it holds, as an inactive segment's index. */
  trim(): void {
    this.writeThrough();
    this.file.truncate(this.count * this.entryBytes);
  }

  /** Keeps the first `entries` entries (the file is rewritten from there on the next write-through). */
  protected truncateEntries(entries: number): void {
    assert(entries >= 0 && entries <= this.count, 'index truncation within bounds', { entries, count: this.count });
    this.count = entries;
    this.#written = Math.min(this.#written, entries);
  }

  reset(): void {
    this.truncateEntries(0);
  }

  /**
   * Reads every entry of a trimmed file into memory. Returns false (and holds
   * no entries) when the file's length is not a whole number of entries.
   */
  load(): boolean {
    const sizeBytes = this.file.sizeBytes();
    this.reset();
    if (sizeBytes % this.entryBytes !== 0 || sizeBytes / this.entryBytes > this.maxEntries) return false;
    const entries = sizeBytes / this.entryBytes;
    const raw = new Uint8Array(sizeBytes);
    const read = this.file.read(raw, 0, sizeBytes, 0);
    if (read !== sizeBytes) return false;
    if (entries > this.keys.length) this.#grow(entries);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < entries; i++) this.decode(raw, view, i * this.entryBytes, i);
    this.count = entries;
    this.#written = entries;
    return true;
  }

  /** Lowest i in [0, count) with column[i] >= target (count if none); the column must be sorted. */
  protected lowerBound(column: Float64Array | Uint32Array, target: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((column[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
