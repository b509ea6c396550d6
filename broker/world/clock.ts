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
 * Milliseconds on the monotonic clock (an arbitrary origin): what every
 * duration a broker measures must be read from (session and lease expiry,
 * ISR lag, deadlines, backoffs, rate buckets). The wall clock (`nowMs`) can
 * be stepped by NTP or an operator, forward or back: read for a duration, a
 * step forward expires every session at once and a step back holds a dead
 * follower in the ISR for as long as the step. The wall clock is for what
 * is dated: record timestamps, retention, commit times.
 */
export function monotonicMs(clock: Clock): number {
  return Number(clock.monotonicNs() / 1_000_000n);
}

/**
 * A clock that moves only when told to. `advance(ms)` fires, in time order,
 * every timer that falls due, so a test can cross a `segment.ms` or
 * `retention.ms` boundary in microseconds. A simulation instead moves one
 * timer at a time (`nextDueMs`, `fireNext`), letting promises settle in
 * between as a real event loop does between two timer callbacks.
 *
 * Timers sit in a binary heap ordered by (due time, creation), so a
 * simulation with thousands of pending timers pays O(log n) per timer, and
 * two timers due at the same time fire in the order they were scheduled.
 * A cancelled timer stays in the heap and is skipped when it comes up.
 */
interface ManualTimer {
  dueMs: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

export class ManualClock implements Clock {
  #nowMs: number;
  readonly #heap: ManualTimer[] = [];
  #seq = 0;
  /** How far the wall clock was stepped away from the time timers run on. */
  #wallStepMs = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs + this.#wallStepMs;
  }

  /**
   * Steps the wall clock (`nowMs`) by `deltaMs`, forward or back, as NTP or
   * an operator may: monotonic time and timers keep running as before.
   */
  stepWall(deltaMs: number): void {
    this.#wallStepMs += deltaMs;
  }

  monotonicNs(): bigint {
    return BigInt(this.#nowMs) * 1_000_000n;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = { dueMs: this.#nowMs + Math.max(0, delayMs), seq: this.#seq++, fn, live: true };
    this.#push(timer);
    return { cancel: () => { timer.live = false; } };
  }

  /** When the earliest live timer falls due, or undefined when none is pending. */
  nextDueMs(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.dueMs;
  }

  /** Fires the earliest live timer (time moves to its due time, never back); false when none is pending. */
  fireNext(): boolean {
    this.#dropCancelled();
    const next = this.#pop();
    if (next === undefined) return false;
    this.#nowMs = Math.max(this.#nowMs, next.dueMs);
    next.live = false;
    next.fn();
    return true;
  }

  /** Moves time forward by `ms`, firing due timers in (due time, creation) order. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      const due = this.nextDueMs();
      if (due === undefined || due > targetMs) break;
      this.fireNext();
    }
    this.#nowMs = targetMs;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && !this.#heap[0]!.live) this.#pop();
  }

  static #before(a: ManualTimer, b: ManualTimer): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  #push(timer: ManualTimer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!ManualClock.#before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): ManualTimer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && ManualClock.#before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && ManualClock.#before(heap[right]!, heap[least]!)) least = right;
      if (least === i) break;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
    return top;
  }
}
