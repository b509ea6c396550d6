/**
 * One timer that fires at the earliest of the times it is asked for: the
 * producer's linger and retry deadlines, the consumer's retry deadlines.
 * Asking for a later time than the one armed is free, so the hot path can
 * ask on every append. It runs on the client's clock (the world's), so a
 * whole client can run in a simulation. While armed it keeps the process
 * alive (a process awaiting a send whose batch lingers must not exit before
 * it goes); its owners cancel it when idle, so it never holds an idle
 * process. One made with `keepAlive: false` never holds the process (for
 * checks that matter only while something else keeps it running).
 */
import type { ClientClock, TimerHandle } from './clock.js';

export class EarliestTimer {
  readonly #fire: () => void;
  readonly #clock: ClientClock;
  #timer: TimerHandle | null = null;
  #dueMs = Infinity;
  readonly #keepAlive: boolean;

  constructor(clock: ClientClock, fire: () => void, opts: { keepAlive?: boolean } = {}) {
    this.#clock = clock;
    this.#fire = fire;
    this.#keepAlive = opts.keepAlive ?? true;
  }

  armAt(dueMs: number, nowMs: number): void {
    if (dueMs >= this.#dueMs || dueMs === Infinity) return;
    this.#timer?.cancel();
    this.#dueMs = dueMs;
    this.#timer = this.#clock.schedule(Math.max(0, dueMs - nowMs), () => {
      this.#timer = null;
      this.#dueMs = Infinity;
      this.#fire();
    }, { keepAlive: this.#keepAlive });
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#dueMs = Infinity;
  }
}
