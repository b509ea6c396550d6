/**
 * A circuit breaker for one broker: after `failureThreshold` failures in a
 * row (a refused or failed connect, a request timed out, a lost connection)
 * it opens and requests to that broker fail at once, for a cool-down; then
 * it lets one request through (half-open). That probe's success closes it;
 * its failure opens it again with twice the cool-down, up to `maxOpenMs`.
 * A success while closed resets the count: only failures in a row trip it.
 *
 * Why not cockatiel's CircuitBreakerPolicy (a dependency already): it reads
 * `Date.now()` itself, so it cannot run on the client's injected clock (a
 * simulated cluster on one ManualClock, and the unit tests), and its
 * half-open state is entered lazily on the next call, so nothing could say
 * "half-open" until someone asked. This one is a small state machine on the
 * injected clock, and its cool-down timer never keeps a process alive.
 *
 * Cool-downs carry +-20 % jitter from the world's randomness, so the clients
 * that lost one broker together do not all probe it in the same instant.
 */
import type { ClientClock, TimerHandle } from '../clock.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  /** Failures in a row that open the breaker. */
  failureThreshold: number;
  /** The first cool-down, in ms. */
  openMs: number;
  /** The longest cool-down, in ms (each failed probe doubles it up to this). */
  maxOpenMs: number;
}

export interface BreakerTransitions {
  /** Opened (`cooldownMs` until a probe may go) after `failures` failures in a row, the last of them `error`. */
  opened(info: { failures: number; cooldownMs: number; error: Error; reopened: boolean }): void;
  /** The cool-down is over: the next request is the probe. */
  halfOpened(): void;
  /** A probe succeeded after the breaker had been open for `openForMs`. */
  closed(info: { openForMs: number }): void;
}

/** The outcome of asking to send: go ahead (`probe` when this request is the half-open probe), or fail fast until `retryAtMs`. */
export type Admission = { admitted: true; probe: boolean } | { admitted: false; retryInMs: number; lastError: Error | null };

const JITTER = 0.2;

export class CircuitBreaker {
  readonly #settings: BreakerSettings;
  readonly #clock: ClientClock;
  readonly #random: () => number;
  readonly #on: BreakerTransitions;
  #state: BreakerState = 'closed';
  #failures = 0;
  /** The cool-down the next opening gets (before jitter): doubled by each failed probe, reset by a success. */
  #nextCooldownMs: number;
  #openedAtMs = 0;
  #retryAtMs = 0;
  #timer: TimerHandle | null = null;
  /** A probe is out (half-open): everything else fails fast until it settles. */
  #probing = false;
  /** Its connection is gone: late outcomes change nothing and announce nothing. */
  #closed = false;
  /** The latest failure (the cause a fast failure carries). */
  #lastError: Error | null = null;
  /** Times it opened (counters for `brokerStats()`). */
  opens = 0;
  /** Requests failed fast while open. */
  rejected = 0;

  constructor(settings: BreakerSettings, clock: ClientClock, random: () => number, on: BreakerTransitions) {
    this.#settings = settings;
    this.#clock = clock;
    this.#random = random;
    this.#on = on;
    this.#nextCooldownMs = settings.openMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** When the current cool-down ends (ms since the epoch); 0 unless open. */
  get retryAtMs(): number {
    return this.#state === 'open' ? this.#retryAtMs : 0;
  }

  /** Whether a request may be sent now; every admitted request must later report `success()` or `failure()`. */
  admit(): Admission {
    if (this.#state === 'closed') return { admitted: true, probe: false };
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return { admitted: true, probe: true };
    }
    this.rejected++;
    return { admitted: false, retryInMs: this.#state === 'open' ? Math.max(0, this.#retryAtMs - this.#clock.nowMs()) : 0, lastError: this.#lastError };
  }

  /** Whether `admit()` would let a request through now (no side effects): for picking a broker to ask. */
  get available(): boolean {
    return this.#state === 'closed' || (this.#state === 'half-open' && !this.#probing);
  }

  /** The broker answered (whatever it said). `probe`: the answer was to the half-open probe. */
  success(probe = false): void {
    if (probe) this.#probing = false;
    if (this.#closed) return;
    this.#failures = 0;
    if (this.#state === 'closed') {
      this.#nextCooldownMs = this.#settings.openMs;
      return;
    }
    // An answer from a request admitted before the breaker opened also proves the broker is back.
    this.#cancelTimer();
    const openForMs = this.#clock.nowMs() - this.#openedAtMs;
    this.#state = 'closed';
    this.#probing = false;
    this.#nextCooldownMs = this.#settings.openMs;
    this.#on.closed({ openForMs });
  }

  /** The broker failed a request (refused, timed out, disconnected). */
  failure(error: Error, probe = false): void {
    if (probe) this.#probing = false;
    if (this.#closed) return;
    this.#failures++;
    this.#lastError = error;
    if (this.#state === 'half-open' && probe) {
      this.#open(error, true);
    } else if (this.#state === 'closed' && this.#failures >= this.#settings.failureThreshold) {
      this.#open(error, false);
    }
  }

  /** An admitted request ended without saying anything of the broker (the client closed): a probe is free again. */
  abandon(probe: boolean): void {
    if (probe) this.#probing = false;
  }

  /** Stops the cool-down timer (the client is closing). */
  close(): void {
    this.#closed = true;
    this.#cancelTimer();
  }

  #open(error: Error, reopened: boolean): void {
    const base = this.#nextCooldownMs;
    this.#nextCooldownMs = Math.min(this.#settings.maxOpenMs, base * 2);
    const cooldownMs = Math.max(1, Math.round(base * (1 - JITTER + 2 * JITTER * this.#random())));
    const nowMs = this.#clock.nowMs();
    if (!reopened) this.#openedAtMs = nowMs;
    this.#state = 'open';
    this.#retryAtMs = nowMs + cooldownMs;
    this.opens++;
    this.#cancelTimer();
    // Unref'd (the clock's default): an open breaker alone never keeps a process alive.
    this.#timer = this.#clock.schedule(cooldownMs, () => {
      this.#timer = null;
      if (this.#state !== 'open') return;
      this.#state = 'half-open';
      this.#on.halfOpened();
    });
    this.#on.opened({ failures: this.#failures, cooldownMs, error, reopened });
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}
