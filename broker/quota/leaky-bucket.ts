/**
 * A leaky bucket metering one rate (bytes/s or requests/s): what a client
 * sends fills it, it drains at the quota's rate, and it holds a burst of
 * `burstMs` worth of the rate. What overflows is the debt: the throttle time
 * is how long the bucket takes to drain back to full, so a client that waits
 * it out before its next request is held to the rate on average, however it
 * spreads its requests, while a client under the rate never waits.
 *
 * Kafka measures a rate over sampled windows and throttles by how far it is
 * over; a bucket gives the same long-run rate with state of two numbers per
 * client, and a throttle time that is exact for the request that overflowed
 * (no window edge where a burst passes twice). Time comes in as an argument:
 * the caller reads its injected clock.
 */
export class LeakyBucket {
  #ratePerMs: number;
  #capacity: number;
  #level = 0;
  #atMs: number;

  /** `ratePerSecond` > 0; `burstMs`: how much of the rate may arrive at once before throttling starts. */
  constructor(ratePerSecond: number, burstMs: number, nowMs: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = Math.max(1, ratePerSecond * (burstMs / 1000));
    this.#atMs = nowMs;
  }

  /** The rate changed at run time: the level (what was sent and not yet drained) carries over. */
  setRate(ratePerSecond: number, burstMs: number, nowMs: number): void {
    this.#drain(nowMs);
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = Math.max(1, ratePerSecond * (burstMs / 1000));
  }

  /**
   * Counts `amount` sent at `nowMs` and returns the throttle time in ms:
   * 0 while the bucket holds it, otherwise how long until it has drained to
   * its capacity again. The amount is always counted (the request was already
   * read), so a client that ignores the throttle only deepens its debt.
   */
  record(amount: number, nowMs: number): number {
    this.#drain(nowMs);
    this.#level += amount;
    return this.throttleMs(nowMs);
  }

  /** Adds `amount` only if the bucket holds it without overflowing; whether it did (a refusal costs nothing). */
  tryAdd(amount: number, nowMs: number): boolean {
    this.#drain(nowMs);
    if (this.#level + amount > this.#capacity) return false;
    this.#level += amount;
    return true;
  }

  /** How long until the bucket is back within its capacity, without adding anything. */
  throttleMs(nowMs: number): number {
    return this.msUntilRoom(0, nowMs);
  }

  /** How long until `amount` more fits without overflowing (0: now). */
  msUntilRoom(amount: number, nowMs: number): number {
    this.#drain(nowMs);
    const over = this.#level + amount - this.#capacity;
    return over <= 0 ? 0 : Math.ceil(over / this.#ratePerMs);
  }

  /** What may be added now without overflowing (0 while in debt). */
  room(nowMs: number): number {
    this.#drain(nowMs);
    return Math.max(0, this.#capacity - this.#level);
  }

  /** What it holds beyond its capacity (a debt that later additions pay back first). */
  debt(nowMs: number): number {
    this.#drain(nowMs);
    return Math.max(0, this.#level - this.#capacity);
  }

  /** Starts full (no burst allowance left), as a throttle that must not let a burst through at once. */
  fill(extra = 0): void {
    this.#level = this.#capacity + extra;
  }

  /** Whether the bucket has drained completely (an idle client's bucket may be dropped). */
  isEmpty(nowMs: number): boolean {
    this.#drain(nowMs);
    return this.#level === 0;
  }

  #drain(nowMs: number): void {
    const elapsed = nowMs - this.#atMs;
    if (elapsed > 0) {
      this.#level = Math.max(0, this.#level - elapsed * this.#ratePerMs);
      this.#atMs = nowMs;
    }
  }
}
