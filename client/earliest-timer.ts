/**
 * One timer that fires at the earliest of the times it is asked for: the
 * producer's linger and retry deadlines, the consumer's retry deadlines.
 * Asking for a later time than the one armed is free, so the hot path can
 * ask on every append.
 */
export class EarliestTimer {
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | null = null;
  #dueMs = Infinity;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  armAt(dueMs: number, nowMs: number): void {
    if (dueMs >= this.#dueMs || dueMs === Infinity) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#dueMs = dueMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#dueMs = Infinity;
      this.#fire();
    }, Math.max(0, dueMs - nowMs));
  }

  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dueMs = Infinity;
  }
}
