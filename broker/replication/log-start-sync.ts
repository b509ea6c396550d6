/**
 * DeleteRecords is answered once every in-sync replica has moved its log
 * start too (Kafka's DelayedDeleteRecords). Kafka's followers say their log
 * start in each fetch; Runnel's Fetch does not carry it, so the leader
 * infers it from the fetch rhythm instead, with no change to the protocol:
 *
 * - every fetch answer to a follower carries the leader's log start, and the
 *   follower applies it (replica-fetcher.ts) before it sends its next fetch;
 * - so once a follower has sent two fetches after the leader moved its
 *   start, the answer to the first of them (built after the move) carried
 *   the new start, and the second proves it was applied. One fetch is not
 *   enough: its predecessor's answer may have been built before the move.
 *
 * A follower that leaves the ISR no longer holds anything up (as for the
 * high watermark). Pure bookkeeping: the partition feeds it fetch counts
 * (leader-state.ts) and ISR changes.
 */
import type { LeaderState } from './leader-state.js';

interface Waiter {
  /** Per ISR follower at the move: the fetch count it must reach. */
  readonly needed: Map<number, number>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class LogStartSync {
  #waiters: Waiter[] = [];

  /** Resolves once every follower now in the ISR of `state` has applied a log start moved just before this call. */
  wait(state: LeaderState): Promise<void> {
    const needed = new Map<number, number>();
    for (const id of state.isrFollowers()) needed.set(id, (state.follower(id)?.fetches ?? 0) + 2);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ needed, resolve, reject });
      this.check(state);
    });
  }

  /** After a follower's fetch or an ISR change: resolves the waiters now satisfied. */
  check(state: LeaderState): void {
    if (this.#waiters.length === 0) return;
    const isr = new Set(state.isrFollowers());
    this.#waiters = this.#waiters.filter((waiter) => {
      for (const [id, count] of waiter.needed) {
        if (isr.has(id) && (state.follower(id)?.fetches ?? 0) < count) return true;
      }
      waiter.resolve();
      return false;
    });
  }

  /** Leadership ended (or the partition went away): nobody can confirm any more. */
  failAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
