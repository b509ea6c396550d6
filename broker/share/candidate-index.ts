/**
 * What lets a share window (window.ts) hand records out without scanning
 * itself on every ShareFetch: before it, an acquisition walked the whole
 * window whenever it held an available record it could not hand out (one
 * delayed, or one whose key an earlier record held with ordering "key"),
 * so a full window of 20,000 cost 20,000 steps per fetch.
 *
 * - CandidateIndex: the offsets that may be available, in two heaps: due
 *   ones by offset (handed out oldest first), not yet due ones by due time
 *   (moved over when due). The window offers an offset whenever its record
 *   becomes available (taken in, released, parked, its key freed); the
 *   index does not follow later changes: the window checks each offset it
 *   pops against the record (lazy deletion), so a stale one costs one pop.
 * - KeyHeads: per key hash, the unsettled offsets in offset order; with
 *   ordering "key" only the first of them (the head) may be handed out.
 *   Settled offsets are dropped from the front lazily, when the head is
 *   asked for.
 */
import { OffsetHeap } from './offset-heap.js';

export class CandidateIndex {
  readonly #ready = new OffsetHeap();
  readonly #waiting = new OffsetHeap();

  /** `offset` may be available from `dueMs` (0: now). */
  offer(offset: number, dueMs: number): void {
    if (dueMs === 0) this.#ready.push(offset, offset);
    else this.#waiting.push(dueMs, offset);
  }

  /** The next offset to look at, oldest first among those due by `nowMs`; undefined when none is left. */
  next(nowMs: number): number | undefined {
    while (this.#waiting.peekPriority() <= nowMs) {
      const offset = this.#waiting.pop()!;
      this.#ready.push(offset, offset);
    }
    return this.#ready.pop();
  }

  clear(): void {
    this.#ready.clear();
    this.#waiting.clear();
  }
}

interface KeyQueue {
  offsets: number[];
  /** Index of the first offset not yet dropped. */
  head: number;
}

/** A queue's dropped front is compacted away once it is this long and more than half the array. */
const COMPACT_AT = 1024;

export class KeyHeads {
  readonly #queues = new Map<number, KeyQueue>();

  /** Adds `offset` (above every offset of the key added before) as unsettled. */
  push(keyHash: number, offset: number): void {
    const q = this.#queues.get(keyHash);
    if (q === undefined) this.#queues.set(keyHash, { offsets: [offset], head: 0 });
    else q.offsets.push(offset);
  }

  /** The key's first offset that `unsettled` still says is unsettled (dropping those before it), or undefined. */
  head(keyHash: number, unsettled: (offset: number) => boolean): number | undefined {
    const q = this.#queues.get(keyHash);
    if (q === undefined) return undefined;
    while (q.head < q.offsets.length && !unsettled(q.offsets[q.head]!)) q.head++;
    if (q.head === q.offsets.length) {
      this.#queues.delete(keyHash);
      return undefined;
    }
    if (q.head >= COMPACT_AT && 2 * q.head > q.offsets.length) {
      q.offsets.splice(0, q.head);
      q.head = 0;
    }
    return q.offsets[q.head];
  }

  clear(): void {
    this.#queues.clear();
  }
}
