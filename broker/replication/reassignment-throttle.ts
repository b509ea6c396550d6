/**
 * The reassignment throttle, on the leader's side: the bytes a broker sends
 * to replicas that a reassignment is adding (those in a partition's
 * `addingReplicas`), all partitions together, are held to the cluster-wide
 * rate in the metadata (`reassignmentThrottle`, set with
 * AlterPartitionReassignments; Kafka's leader.replication.throttled.rate).
 * Replicas already in the assignment, and consumers, are never throttled, so
 * a move never slows the ISR or the acks=all path.
 *
 * A token bucket on the injected Clock: it fills at the rate, up to one
 * second's worth, and starts empty. A read may take what the bucket holds;
 * since a read returns at least one whole batch, it can overdraw by up to a
 * batch, which later reads pay back before they get more. So over any span
 * of T seconds the bytes sent are at most rate x T plus one second's worth
 * plus one batch. While the bucket is empty, a throttled fetch gets no
 * records and waits (`waitMs`) instead of returning at once, so the
 * follower does not spin.
 */
import type { Clock } from '../world/clock.js';

export class ReassignmentThrottle {
  readonly #clock: Clock;
  #rate = 0;
  #tokens = 0;
  #lastMs: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#lastMs = clock.nowMs();
  }

  /** Bytes a throttled read may take now, at `rate` bytes/s (0: unlimited, Infinity). */
  available(rate: number): number {
    this.#refill(rate);
    return rate === 0 ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(this.#tokens));
  }

  /** A throttled read sent `bytes`. */
  spent(bytes: number): void {
    if (this.#rate > 0) this.#tokens -= bytes;
  }

  /** How long until a throttled read may take something (0: now). */
  waitMs(rate: number): number {
    this.#refill(rate);
    if (rate === 0 || this.#tokens >= 1) return 0;
    return Math.ceil(((1 - this.#tokens) * 1000) / rate);
  }

  #refill(rate: number): void {
    const now = this.#clock.nowMs();
    if (rate !== this.#rate) {
      // A new rate starts a new bucket (a debt from a slower one is kept).
      this.#rate = rate;
      this.#tokens = Math.min(this.#tokens, 0);
    } else {
      this.#tokens = Math.min(rate, this.#tokens + ((now - this.#lastMs) * rate) / 1000);
    }
    this.#lastMs = now;
  }
}
