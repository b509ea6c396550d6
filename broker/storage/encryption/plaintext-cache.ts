/**
 * The plaintext of encrypted logs' newest batches, kept in memory so that
 * the readers of a log's tail (consumers that keep up, followers
 * replicating, share groups and coordinators reading what was just written)
 * get them without opening envelopes.
 *
 * Why: a fetch of a plain topic never touches its bytes (a read into a
 * buffer, then writev), while one of an encrypted topic must run AES-GCM
 * over every byte it serves, some 0.3 ms of a core per MB even with the
 * native cipher, once for every consumer and every follower that reads it.
 * Most reads of a log are of its tail, and its tail passed through the
 * broker in plaintext a moment before, when the leader sealed it: keeping
 * a copy then costs a memcpy, where opening it again costs the cipher.
 *
 * What it holds: for each log, the batches of its latest leader appends,
 * contiguous in offsets, exactly as they were sealed (validated and
 * stamped: the bytes opening them gives back). Only a leader's appends are
 * kept: a follower's log is read by nobody until it leads, and its copies
 * would push out what a leader's readers want. An append that does not
 * continue the log's cached run starts a new one.
 *
 * Bounded per broker (`encryption.cache.bytes`, all logs together), in
 * one ring of that many bytes, allocated on first use and reused: the
 * oldest append anywhere goes first (first in, first out: tail readers
 * want the newest). A ring, not a buffer per append: fresh memory for every
 * append cost page faults and, as V8 external memory, full collections
 * (in a profile of encrypted produce, the copies and the collector took
 * more than the cipher). A read copies its batches out of the ring into a
 * buffer of its own (the fetch's recycled read buffer), so nothing outside
 * holds ring memory that a later append overwrites; the copy is what a
 * plain topic's read from the page cache costs too. An append larger than
 * the ring is not kept.
 *
 * Kept only for logs whose tail is read: once a batch of a log leaves the
 * ring before any read got it (or anything after it), its later appends
 * would most likely go the same way, and copying them only costs the
 * produce path (measured: a broker's CPU per MB of an encrypted produce
 * nobody reads, 2,000-2,200 µs against 1,560-1,720 without the cache; now
 * the same as without it, docs/STORAGE.md). The log then stops copying its
 * appends (what it holds stays, for a reader just behind, until pushed
 * out) until a read comes for what was appended after it stopped. Many
 * logs nobody reads thus cost one pass through the ring in all, not one
 * each.
 *
 * Never different from the disk: the owner drops what the log changes
 * beneath it: a truncation (a follower's, a new leader's, a replica
 * starting over), a compaction swap of the segments holding cached
 * batches, retention, the log going offline, closing or being deleted.
 *
 * What it means for the threat model: the plaintext of recent records is
 * in the broker's memory, as it already is while a produce request or a
 * fetch answer is being handled; encryption at rest is about disks. A host
 * that swaps could write it to a disk: run brokers without swap (or set
 * `encryption.cache.bytes` to 0).
 *
 * Not thread-safe: everything runs on the event loop.
 */
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LAST_OFFSET_DELTA, BATCH_OFFSET_LENGTH, readI64 } from '../../../protocol/batch/header.js';
import { assert } from '../../world/assert.js';
import type { ReadBufferSource } from '../segment.js';
import { copyStreaming } from './stream-copy.js';

/** A batch in the ring. Reused for a later batch once the queue passes it (PlaintextCache's #spare). */
interface CachedBatch {
  baseOffset: number;
  lastOffset: number;
  /** Where it lies in the ring: [start, start + size). */
  start: number;
  size: number;
  /** Times the ring had wrapped when it was written: the ring's write position is behind the oldest batch while their laps differ. */
  lap: number;
  owner: LogTailCache;
  /** False once the batch left its log's cache (evicted, or dropped for a change to the log); its ring space is free once the queue passes it. */
  live: boolean;
}

/** What the cache did, for the metrics endpoint. */
export interface PlaintextCacheStats {
  /** Bytes of live batches held now. */
  sizeBytes: number;
  /** Record bytes of reads of encrypted logs answered from the cache, and of those decrypted from disk. */
  hitBytes: number;
  missBytes: number;
  /** Bytes pushed out to make room for newer appends (not those dropped because their log changed). */
  evictedBytes: number;
}

export class PlaintextCache {
  #ring: Buffer | null = null;
  /** Every batch in the ring, in the order written (so in ring order): the next to go at #head. */
  #queue: (CachedBatch | undefined)[] = [];
  #head = 0;
  /**
   * Batch records the queue passed, for the next appends to reuse: one
   * allocated per batch lived until evicted, long enough for the collector
   * to promote it, and that steady promotion kept the old generation's
   * limit so low that the produce path's short-lived buffers set off a
   * full collection every ~50 ms (measured: the broker's CPU per MB of an
   * encrypted produce nearly doubled in most runs; reused, as without
   * the cache).
   */
  #spare: CachedBatch[] = [];
  /** Where the next append goes, and the lap it is on. */
  #writeAt = 0;
  #lap = 0;
  #bytes = 0;
  #hitBytes = 0;
  #missBytes = 0;
  #evictedBytes = 0;

  constructor(readonly maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes >= 0, 'a plaintext cache size is a non-negative integer', { maxBytes });
  }

  /** The cache of one log (a PartitionLog holds one while it is open). */
  forLog(): LogTailCache {
    return new LogTailCache(this);
  }

  stats(): PlaintextCacheStats {
    return { sizeBytes: this.#bytes, hitBytes: this.#hitBytes, missBytes: this.#missBytes, evictedBytes: this.#evictedBytes };
  }

  /** Batches the ring holds, live or not yet passed (tests check its bound). */
  get queueLength(): number {
    return this.#queue.length - this.#head;
  }

  /** @internal LogTailCache's: counts a read of an encrypted log. */
  noteRead(hit: boolean, bytes: number): void {
    if (hit) this.#hitBytes += bytes;
    else this.#missBytes += bytes;
  }

  /**
   * @internal LogTailCache's: copies `records` (whole batches, at most
   * maxBytes) into the ring, evicting the oldest batches anywhere to make
   * room, and hands their records to the owner, oldest first.
   */
  admit(owner: LogTailCache, records: Uint8Array): void {
    const size = records.byteLength;
    assert(size > 0 && size <= this.maxBytes, 'an admitted append fits the ring', { size, maxBytes: this.maxBytes });
    const ring = (this.#ring ??= Buffer.allocUnsafeSlow(this.maxBytes));
    const at = this.#makeRoom(size);
    copyStreaming(ring, at, records);
    const view = new DataView(ring.buffer, ring.byteOffset + at, size);
    for (let pos = 0; pos < size;) {
      const batchSize = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      const baseOffset = readI64(ring, at + pos);
      const lastOffset = baseOffset + view.getInt32(pos + BATCH_OFFSET_LAST_OFFSET_DELTA);
      const batch = this.#spare.pop() ?? { baseOffset, lastOffset, start: 0, size: 0, lap: 0, owner, live: false };
      batch.baseOffset = baseOffset;
      batch.lastOffset = lastOffset;
      batch.start = at + pos;
      batch.size = batchSize;
      batch.lap = this.#lap;
      batch.owner = owner;
      batch.live = true;
      this.#queue.push(batch);
      owner.admitted(batch);
      pos += batchSize;
    }
    this.#bytes += size;
    this.#writeAt = at + size;
  }

  /** Where `size` bytes go: after the newest batch, or at the ring's start when they do not fit before its end; the batches in the way leave first. */
  #makeRoom(size: number): number {
    for (;;) {
      const oldest = this.#queue[this.#head];
      if (oldest === undefined) {
        // Empty: start over at the beginning.
        this.#writeAt = 0;
        return 0;
      }
      if (oldest.lap === this.#lap) {
        // The free space is after the newest batch, then before the oldest.
        if (this.#writeAt + size <= this.maxBytes) return this.#writeAt;
        if (size <= oldest.start) {
          this.#lap += 1;
          return 0;
        }
      } else if (this.#writeAt + size <= oldest.start) {
        // Wrapped: the free space is between the newest batch and the oldest.
        return this.#writeAt;
      }
      this.#pass();
    }
  }

  /** The queue's oldest batch gives its space back (evicted from its log if it was still live). */
  #pass(): void {
    const oldest = this.#queue[this.#head] as CachedBatch;
    // A passed slot holds nothing: the queue keeps no reference to what it let go.
    this.#queue[this.#head++] = undefined;
    if (oldest.live) {
      oldest.live = false;
      this.#bytes -= oldest.size;
      this.#evictedBytes += oldest.size;
      oldest.owner.evictOldest(oldest);
    }
    // Nothing refers to it now: its log let go of it when it was dropped or evicted, and reads copy synchronously.
    this.#spare.push(oldest);
    [this.#queue, this.#head] = trimPassed(this.#queue, this.#head, 1024);
  }

  /** @internal LogTailCache's: its live batch left for a change to its log (its space comes back when the queue passes it). */
  release(batch: CachedBatch): void {
    assert(batch.live, 'a cached batch leaves once', { baseOffset: batch.baseOffset });
    batch.live = false;
    this.#bytes -= batch.size;
  }

  /** @internal LogTailCache's: copies live batches out of the ring into one buffer from `allocate`; views of it, one a batch. */
  copyOut(batches: readonly CachedBatch[], total: number, allocate: ReadBufferSource): Uint8Array[] {
    const ring = this.#ring as Buffer;
    const into = allocate(total);
    const out: Uint8Array[] = [];
    let pos = 0;
    for (const batch of batches) {
      into.set(ring.subarray(batch.start, batch.start + batch.size), pos);
      out.push(into.subarray(pos, pos + batch.size));
      pos += batch.size;
    }
    return out;
  }
}

export class LogTailCache {
  /** This log's cached batches in offset order, contiguous, oldest at #head. */
  #batches: CachedBatch[] = [];
  #head = 0;
  /** Offsets below this were read (a read the cache answered got them, or one came from past them): batches ending below it were not wasted. */
  #readUpTo = 0;
  /** While appends are not kept: where they stopped being kept; a read from there on starts keeping them again. -1 while they are. */
  #idleFrom = -1;

  constructor(readonly cache: PlaintextCache) {}

  get #count(): number {
    return this.#batches.length - this.#head;
  }

  /** The first cached offset, or -1 when nothing is cached. */
  get startOffset(): number {
    return this.#count === 0 ? -1 : (this.#batches[this.#head] as CachedBatch).baseOffset;
  }

  /** The offset after the last cached batch, or -1 when nothing is cached. */
  get endOffset(): number {
    return this.#count === 0 ? -1 : (this.#batches.at(-1) as CachedBatch).lastOffset + 1;
  }

  /**
   * Keeps a copy of `records` (whole stamped batches, as a leader appended
   * them); a run that does not continue the cached one replaces it.
   */
  add(records: Uint8Array): void {
    if (records.byteLength === 0 || this.#idleFrom >= 0) return;
    const fits = records.byteLength <= this.cache.maxBytes;
    if (!fits || readI64(records, 0) !== this.endOffset) this.#dropAll();
    if (!fits) return;
    this.cache.admit(this, records);
    // Its own batch pushed out to make room for these: it stops after them.
    if (this.#idleFrom >= 0) this.#idleFrom = this.endOffset;
  }

  /** Whether appends are being kept (not while the log's tail goes unread). */
  get keeping(): boolean {
    return this.#idleFrom < 0;
  }

  /**
   * The cached batches from the one holding `fetchOffset`: up to `maxBytes`
   * but at least one, only those that end below `maxOffsetExclusive`, as a
   * read of the log gives them, copied into a buffer from `allocate`; null
   * when `fetchOffset` is not cached (the caller reads the disk).
   */
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, allocate: ReadBufferSource = Buffer.allocUnsafe): Uint8Array[] | null {
    if (this.#count === 0 || fetchOffset < this.startOffset || fetchOffset >= this.endOffset) return null;
    // The last batch whose base is at or below fetchOffset: the cached batches are contiguous, so it holds it.
    let lo = this.#head;
    let hi = this.#batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#batches[mid] as CachedBatch).baseOffset <= fetchOffset) lo = mid;
      else hi = mid - 1;
    }
    const taken: CachedBatch[] = [];
    let bytes = 0;
    for (let i = lo; i < this.#batches.length; i++) {
      const batch = this.#batches[i] as CachedBatch;
      if (batch.lastOffset >= maxOffsetExclusive) break;
      if (taken.length > 0 && bytes + batch.size > maxBytes) break;
      taken.push(batch);
      bytes += batch.size;
    }
    this.cache.noteRead(true, bytes);
    // Nothing taken: the reader waits at its offset for the bound (the high watermark) to move, having read what is before it.
    this.#readUpTo = Math.max(this.#readUpTo, taken.length === 0 ? fetchOffset : (taken.at(-1) as CachedBatch).lastOffset + 1);
    return taken.length === 0 ? [] : this.cache.copyOut(taken, bytes, allocate);
  }

  /** Counts a read of this (encrypted) log from `fetchOffset` that the cache could not answer; one for what was appended since appends stopped being kept starts keeping them again. */
  noteMiss(bytes: number, fetchOffset: number): void {
    this.cache.noteRead(false, bytes);
    this.#readUpTo = Math.max(this.#readUpTo, fetchOffset);
    if (this.#idleFrom >= 0 && fetchOffset >= this.#idleFrom) this.#idleFrom = -1;
  }

  /** Drops every cached batch holding an offset at or after `offset` (a truncation). */
  truncate(offset: number): void {
    while (this.#count > 0 && (this.#batches.at(-1) as CachedBatch).lastOffset >= offset) this.cache.release(this.#batches.pop() as CachedBatch);
    this.#trimHead();
    // What is appended from the new end on is unread, and a read of it counts as one for the tail.
    this.#readUpTo = Math.min(this.#readUpTo, offset);
    if (this.#idleFrom > offset) this.#idleFrom = offset;
  }

  /** Drops every cached batch that starts below `offset` (the segments holding them were rewritten or deleted). */
  dropBelow(offset: number): void {
    while (this.#count > 0 && (this.#batches[this.#head] as CachedBatch).baseOffset < offset) this.cache.release(this.#batches[this.#head++] as CachedBatch);
    this.#trimHead();
  }

  /** Drops everything (the log closes, is deleted, goes offline or starts over at other offsets); appends are kept again. */
  clear(): void {
    this.#dropAll();
    this.#idleFrom = -1;
    this.#readUpTo = 0;
  }

  #dropAll(): void {
    for (let i = this.#head; i < this.#batches.length; i++) this.cache.release(this.#batches[i] as CachedBatch);
    this.#batches = [];
    this.#head = 0;
  }

  /** @internal PlaintextCache's: a batch of this log's append is in the ring (the next after the newest). */
  admitted(batch: CachedBatch): void {
    this.#batches.push(batch);
  }

  /** @internal PlaintextCache's: the broker's oldest live batch, which is this log's oldest, was evicted. */
  evictOldest(batch: CachedBatch): void {
    assert(this.#batches[this.#head] === batch, 'the oldest live batch of the broker is the oldest of its log', { baseOffset: batch.baseOffset });
    // Pushed out before any read got it: stop copying this log's appends (what it holds ages out) until a reader comes for the tail.
    if (this.#idleFrom < 0 && batch.lastOffset >= this.#readUpTo) this.#idleFrom = (this.#batches.at(-1) as CachedBatch).lastOffset + 1;
    this.#head += 1;
    this.#trimHead();
  }

  #trimHead(): void {
    [this.#batches, this.#head] = trimPassed(this.#batches, this.#head, 64);
  }
}

/**
 * `items` read from `head` on (a first-in-first-out array that moves a head
 * instead of shifting), rebuilt without the passed entries once they are
 * all of it, or past `slack` and most of it: amortised O(1) per entry.
 */
function trimPassed<T>(items: T[], head: number, slack: number): [T[], number] {
  if (head === items.length) return [[], 0];
  if (head > slack && head * 2 > items.length) return [items.slice(head), 0];
  return [items, head];
}
