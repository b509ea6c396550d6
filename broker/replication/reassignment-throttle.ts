/**
 * The reassignment throttle, on the leader's side: the bytes a broker sends
 * to replicas that a reassignment is adding (those in a partition's
 * `addingReplicas`), all partitions together, are held to the cluster-wide
 * rate in the metadata (`reassignmentThrottle`, set with
 * AlterPartitionReassignments; Kafka's leader.replication.throttled.rate).
 * Replicas already in the assignment, and consumers, are never throttled, so
 * a move never slows the ISR or the acks=all path.
 *
 * A leaky bucket (broker/quota/leaky-bucket.ts, as client quotas use) on
 * the injected Clock: it drains at the rate, holds one second's worth, and
 * starts full. A read may take what the bucket has room for; since a read
 * returns at least one whole batch, it can overfill it by up to a batch,
 * which later reads pay back before they get more. So over any span of T
 * seconds the bytes sent are at most rate x T plus one second's worth plus
 * one batch. While the bucket has no room, a throttled fetch gets no
 * records and waits (`waitMs`) instead of returning at once, so the
 * follower does not spin.
 */
import { LeakyBucket } from '../quota/leaky-bucket.js';
import { monotonicMs, type Clock } from '../world/clock.js';

export class ReassignmentThrottle {
  readonly #clock: Clock;
  #rate = 0;
  /** Null while unlimited (rate 0). */
  #bucket: LeakyBucket | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Bytes a throttled read may take now, at `rate` bytes/s (0: unlimited, Infinity). */
  available(rate: number): number {
    const bucket = this.#at(rate);
    return bucket === null ? Number.POSITIVE_INFINITY : Math.floor(bucket.room(monotonicMs(this.#clock)));
  }

  /** A throttled read sent `bytes`. */
  spent(bytes: number): void {
    this.#bucket?.record(bytes, monotonicMs(this.#clock));
  }

  /** How long until a throttled read may take something (0: now). */
  waitMs(rate: number): number {
    const bucket = this.#at(rate);
    return bucket === null ? 0 : bucket.msUntilRoom(1, monotonicMs(this.#clock));
  }

  /** The bucket for `rate`: a leaky bucket holding one second's worth (leaky-bucket.ts). A new rate starts a new one, full (a debt from a slower one is kept). */
  #at(rate: number): LeakyBucket | null {
    if (rate === this.#rate) return this.#bucket;
    const now = monotonicMs(this.#clock);
    const debt = this.#bucket?.debt(now) ?? 0;
    this.#rate = rate;
    this.#bucket = rate === 0 ? null : new LeakyBucket(rate, 1000, now);
    this.#bucket?.fill(debt);
    return this.#bucket;
  }
}
