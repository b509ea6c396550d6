/**
 * Time as broker code sees it. Only the adapter (`systemClock`, in
 * client/clock.ts) reads the wall clock or arms real timers; everything else
 * takes a `Clock`, so retention, rolling, flush timers and session expiry can
 * be driven by a test without sleeping, and a simulated cluster replays
 * exactly from its seed.
 */
import type { ClientClock, TimerHandle } from '../../client/clock.js';

/**
 * The broker's clock is the client's: the broker hands it to the client
 * connections it opens to other nodes (follower fetch, controller RPCs).
 * Broker timers are unref'd unless they ask otherwise.
 */
export type Clock = ClientClock;
export type { TimerHandle };
export { systemClock } from '../../client/clock.js';

/**
 * A clock that moves only when told to. `advance(ms)` fires, in time order,
 * every timer that falls due, so a test can cross a `segment.ms` or
 * `retention.ms` boundary in microseconds.
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #timers: { dueMs: number; seq: number; fn: () => void; live: boolean }[] = [];
  #seq = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  monotonicNs(): bigint {
    return BigInt(this.#nowMs) * 1_000_000n;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer = { dueMs: this.#nowMs + Math.max(0, delayMs), seq: this.#seq++, fn, live: true };
    this.#timers.push(timer);
    return { cancel: () => { timer.live = false; } };
  }

  /** Moves time forward by `ms`, firing due timers in (due time, creation) order. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.live);
      this.#timers.sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq);
      const next = this.#timers[0];
      if (next === undefined || next.dueMs > targetMs) break;
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.live = false;
      next.fn();
    }
    this.#nowMs = targetMs;
  }
}
