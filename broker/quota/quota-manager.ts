/**
 * Client quotas at run time: for each request, the bytes it produced or
 * fetched and the request itself are counted against the quotas that apply
 * (quota-entities.ts) in leaky buckets (leaky-bucket.ts), and the answer is
 * the throttle time: the longest any of them asks for. The broker puts it
 * in the response and stops reading from the connection for that long, and
 * the SDK waits it out before its next request to the broker: a client over
 * its quota is slowed down, never failed.
 *
 * Quotas can change while clients run (`setQuotas`): buckets keep what they
 * hold and drain at the new rate. Buckets of clients gone quiet are dropped
 * by `sweep`, so memory follows the clients active recently, not every
 * client id ever seen.
 */
import { LeakyBucket } from './leaky-bucket.js';
import { QuotaTable, type QuotaBudget, type QuotaEntry, type QuotaKind } from './quota-entities.js';

export interface QuotaUsage {
  readonly user: string;
  readonly clientId: string;
  readonly producedBytes: number;
  readonly fetchedBytes: number;
}

export interface QuotaManagerOptions {
  /** How much of a rate may arrive at once before throttling starts (Kafka's samples span about 1 s). */
  readonly burstMs?: number;
  /** The longest throttle a single request is answered with (a huge request is not made to wait for minutes at once). */
  readonly maxThrottleMs?: number;
}

export class QuotaManager {
  #table: QuotaTable;
  readonly #burstMs: number;
  readonly #maxThrottleMs: number;
  readonly #buckets = new Map<string, { bucket: LeakyBucket; rate: number }>();

  constructor(entries: readonly QuotaEntry[] = [], opts: QuotaManagerOptions = {}) {
    this.#table = new QuotaTable(entries);
    this.#burstMs = opts.burstMs ?? 1000;
    this.#maxThrottleMs = opts.maxThrottleMs ?? 30_000;
  }

  get bucketCount(): number {
    return this.#buckets.size;
  }

  quotas(): QuotaEntry[] {
    return this.#table.entries();
  }

  /** Replaces every quota; buckets carry their level over to the new rates (see record). */
  setQuotas(entries: readonly QuotaEntry[]): void {
    this.#table = new QuotaTable(entries);
  }

  /**
   * Counts one request and its bytes; the throttle time in ms (0: within
   * every quota). Each kind that has a quota is counted even when another
   * already throttles, so no budget is spent twice or skipped.
   * `onThrottled` hears each kind that asks for a throttle, how long
   * (uncapped) and whose budget ran out, for metrics.
   */
  record(usage: QuotaUsage, nowMs: number, onThrottled?: (kind: QuotaKind, throttleMs: number, budget: QuotaBudget) => void): number {
    let throttle = 0;
    const count = (kind: QuotaKind, amount: number): void => {
      throttle = Math.max(throttle, this.#count(kind, usage, amount, nowMs, onThrottled));
    };
    count('request_rate', 1);
    if (usage.producedBytes > 0) count('producer_byte_rate', usage.producedBytes);
    if (usage.fetchedBytes > 0) count('consumer_byte_rate', usage.fetchedBytes);
    return Math.min(throttle, this.#maxThrottleMs);
  }

  /** Drops the buckets that have drained empty (their clients went quiet); returns how many. */
  sweep(nowMs: number): number {
    let dropped = 0;
    for (const [key, { bucket }] of this.#buckets) {
      if (bucket.isEmpty(nowMs)) {
        this.#buckets.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  #count(kind: QuotaKind, usage: QuotaUsage, amount: number, nowMs: number, onThrottled: ((kind: QuotaKind, throttleMs: number, budget: QuotaBudget) => void) | undefined): number {
    const quota = this.#table.resolve(kind, usage.user, usage.clientId);
    if (quota === null) return 0;
    let held = this.#buckets.get(quota.bucketKey);
    if (held === undefined) {
      held = { bucket: new LeakyBucket(quota.rate, this.#burstMs, nowMs), rate: quota.rate };
      this.#buckets.set(quota.bucketKey, held);
    } else if (held.rate !== quota.rate) {
      held.bucket.setRate(quota.rate, this.#burstMs, nowMs);
      held.rate = quota.rate;
    }
    const ms = held.bucket.record(amount, nowMs);
    if (ms > 0) onThrottled?.(kind, ms, quota.budget);
    return ms;
  }
}
