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
 * broker in plaintext a moment before, when the leader sealed it.
 *
 * What it holds: for each log, the batches of its latest leader appends,
 * contiguous in offsets, exactly as they were sealed (validated and
 * stamped: the bytes opening them gives back). Only a leader's appends are
 * kept: a follower's log is read by nobody until it leads, and its batches
 * would push out what a leader's readers want. An append that does not
 * continue the log's cached run starts a new one.
 *
 * Without a copy where it can: a produce request's batches are views of
 * its frame, which nothing writes to after the append (the transport never
 * reuses what it read), so the cache keeps those views, and reads hand out
 * views of them in turn: no byte is copied on either side. Other appends
 * (the broker's own writers, whose buffers may be reused) are copied once.
 * A first version copied every append into fresh memory: the copies and
 * the collections of V8 external memory they caused took more of an
 * encrypted produce's CPU than the cipher; a second copied into one
 * reused ring, and the memcpy into memory out of the CPU's cache still
 * took 5-8% of the produce's CPU (and the ring's reads had to copy out).
 *
 * Bounded per broker (`encryption.cache.bytes`, all logs together) in the
 * memory it keeps alive: a view keeps its whole buffer (a socket read, or
 * a gathered frame), so each buffer counts once, whole, while any batch in
 * it is cached. The oldest append anywhere goes first (first in, first out:
 * tail readers want the newest). An append whose buffer is larger than the
 * whole budget is not kept.
 *
 * Never different from the disk: the owner drops what the log changes
 * beneath it: a truncation (a follower's, a new leader's, a replica
 * starting over), a compaction swap of the segments holding cached
 * batches, retention, the log going offline, closing or being deleted. A
 * read that got views keeps them valid after an eviction (they hold their
 * buffer).
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

/** One buffer the cache keeps alive, counted once, whole, while any batch in it is cached. */
interface Pin {
  readonly buffer: ArrayBufferLike;
  readonly size: number;
  /** Live cached batches in it. */
  refs: number;
}

interface CachedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** A view of the pinned buffer; never written to. */
  readonly bytes: Uint8Array;
  readonly pin: Pin;
  readonly owner: LogTailCache;
  /** False once the batch left its log's cache (evicted, or dropped for a change to the log); the broker-wide queue skips it when its turn comes. */
  live: boolean;
}

/** What the cache did, for the metrics endpoint. */
export interface PlaintextCacheStats {
  /** Bytes of the buffers kept alive now. */
  sizeBytes: number;
  /** Record bytes of reads of encrypted logs answered from the cache, and of those decrypted from disk. */
  hitBytes: number;
  missBytes: number;
  /** Batch bytes pushed out to make room for newer appends (not those dropped because their log changed). */
  evictedBytes: number;
}

export class PlaintextCache {
  /** Every cached batch in the order it came, the next to go at #head; batches their log dropped stay, not live, until passed or compacted away. */
  #queue: (CachedBatch | undefined)[] = [];
  #head = 0;
  /** Entries of #queue past #head that are no longer live. */
  #dropped = 0;
  readonly #pins = new WeakMap<ArrayBufferLike, Pin>();
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

  /** Batches in the broker-wide queue, dropped ones included (tests check its bound). */
  get queueLength(): number {
    return this.#queue.length - this.#head;
  }

  /** @internal LogTailCache's: counts a read of an encrypted log. */
  noteRead(hit: boolean, bytes: number): void {
    if (hit) this.#hitBytes += bytes;
    else this.#missBytes += bytes;
  }

  /**
   * @internal LogTailCache's: keeps the whole batches of `records` (views
   * of it when `immutable`, else of a copy), then evicts the oldest batches
   * anywhere until what is kept alive fits; null when its buffer alone
   * would not fit (nothing kept).
   */
  admit(owner: LogTailCache, records: Uint8Array, immutable: boolean): CachedBatch[] | null {
    const kept = immutable ? records : Uint8Array.from(records);
    const pin = this.#pins.get(kept.buffer) ?? { buffer: kept.buffer, size: kept.buffer.byteLength, refs: 0 };
    if (pin.refs === 0 && pin.size > this.maxBytes) return null;
    const view = new DataView(kept.buffer, kept.byteOffset, kept.byteLength);
    const added: CachedBatch[] = [];
    for (let pos = 0; pos < kept.byteLength;) {
      const size = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      const baseOffset = readI64(kept, pos);
      const batch: CachedBatch = { baseOffset, lastOffset: baseOffset + view.getInt32(pos + BATCH_OFFSET_LAST_OFFSET_DELTA), bytes: kept.subarray(pos, pos + size), pin, owner, live: true };
      added.push(batch);
      this.#queue.push(batch);
      pos += size;
    }
    if (pin.refs === 0) {
      this.#pins.set(pin.buffer, pin);
      this.#bytes += pin.size;
    }
    pin.refs += added.length;
    while (this.#bytes > this.maxBytes && this.#head < this.#queue.length) this.#pass();
    this.#compact();
    return added;
  }

  /** The queue's oldest batch goes (evicted from its log if it was still live). */
  #pass(): void {
    const oldest = this.#queue[this.#head] as CachedBatch;
    // A passed slot holds nothing: the queue keeps no reference to what it let go.
    this.#queue[this.#head++] = undefined;
    if (!oldest.live) {
      this.#dropped -= 1;
      return;
    }
    this.#evictedBytes += oldest.bytes.byteLength;
    oldest.owner.evictOldest(oldest);
    this.#unpin(oldest);
  }

  /** @internal LogTailCache's: its live batch left for a change to its log. */
  release(batch: CachedBatch): void {
    this.#unpin(batch);
    this.#dropped += 1;
    this.#compact();
  }

  #unpin(batch: CachedBatch): void {
    assert(batch.live, 'a cached batch leaves once', { baseOffset: batch.baseOffset });
    batch.live = false;
    const pin = batch.pin;
    pin.refs -= 1;
    if (pin.refs === 0) {
      this.#pins.delete(pin.buffer);
      this.#bytes -= pin.size;
    }
  }

  /** Keeps the queue within about twice its live batches, however many batches logs drop with no eviction to pass them. */
  #compact(): void {
    const waiting = this.#queue.length - this.#head;
    if (this.#dropped > 1024 && this.#dropped * 2 > waiting) {
      this.#queue = this.#queue.slice(this.#head).filter((batch) => batch?.live === true);
      this.#head = 0;
      this.#dropped = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

export class LogTailCache {
  /** This log's cached batches in offset order, contiguous, oldest at #head. */
  #batches: CachedBatch[] = [];
  #head = 0;

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
   * Keeps `records` (whole stamped batches, as a leader appended them): as
   * they are when `immutable` (nothing will write to them again: a request
   * frame's bytes), else a copy. A run that does not continue the cached
   * one replaces it.
   */
  add(records: Uint8Array, immutable: boolean): void {
    if (records.byteLength === 0) return;
    if (readI64(records, 0) !== this.endOffset) this.clear();
    const added = this.cache.admit(this, records, immutable);
    if (added === null) {
      this.clear();
      return;
    }
    for (const batch of added) this.#batches.push(batch);
  }

  /**
   * The cached batches from the one holding `fetchOffset`: up to `maxBytes`
   * but at least one, only those that end below `maxOffsetExclusive`, as a
   * read of the log gives them (views the caller must not write to); null
   * when `fetchOffset` is not cached (the caller reads the disk).
   */
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive: number): Uint8Array[] | null {
    if (this.#count === 0 || fetchOffset < this.startOffset || fetchOffset >= this.endOffset) return null;
    // The last batch whose base is at or below fetchOffset: the cached batches are contiguous, so it holds it.
    let lo = this.#head;
    let hi = this.#batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#batches[mid] as CachedBatch).baseOffset <= fetchOffset) lo = mid;
      else hi = mid - 1;
    }
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (let i = lo; i < this.#batches.length; i++) {
      const batch = this.#batches[i] as CachedBatch;
      if (batch.lastOffset >= maxOffsetExclusive) break;
      if (out.length > 0 && bytes + batch.bytes.byteLength > maxBytes) break;
      out.push(batch.bytes);
      bytes += batch.bytes.byteLength;
    }
    this.cache.noteRead(true, bytes);
    return out;
  }

  /** Counts a read of this (encrypted) log that the cache could not answer. */
  noteMiss(bytes: number): void {
    this.cache.noteRead(false, bytes);
  }

  /** Drops every cached batch holding an offset at or after `offset` (a truncation). */
  truncate(offset: number): void {
    while (this.#count > 0 && (this.#batches.at(-1) as CachedBatch).lastOffset >= offset) this.cache.release(this.#batches.pop() as CachedBatch);
    this.#trimHead();
  }

  /** Drops every cached batch that starts below `offset` (the segments holding them were rewritten or deleted). */
  dropBelow(offset: number): void {
    while (this.#count > 0 && (this.#batches[this.#head] as CachedBatch).baseOffset < offset) this.cache.release(this.#batches[this.#head++] as CachedBatch);
    this.#trimHead();
  }

  /** Drops everything (the log closes, is deleted, goes offline or starts over). */
  clear(): void {
    for (let i = this.#head; i < this.#batches.length; i++) this.cache.release(this.#batches[i] as CachedBatch);
    this.#batches = [];
    this.#head = 0;
  }

  /** @internal PlaintextCache's: the broker's oldest live batch, which is this log's oldest, was evicted. */
  evictOldest(batch: CachedBatch): void {
    assert(this.#batches[this.#head] === batch, 'the oldest live batch of the broker is the oldest of its log', { baseOffset: batch.baseOffset });
    this.#head += 1;
    this.#trimHead();
  }

  #trimHead(): void {
    if (this.#head === this.#batches.length) {
      this.#batches = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
  }
}
