/**
 * New connections per second per client address (Kafka's per-IP
 * connection_creation_rate, KIP-612): a client that reconnects in a loop
 * costs the broker a TLS handshake or a SASL exchange each time, so past
 * the rate its new connections are refused at once, and its established
 * ones are left alone. A leaky bucket per address with a burst of one
 * second; addresses gone quiet are dropped by `sweep`.
 */
import { LeakyBucket } from './leaky-bucket.js';

export class ConnectionRateLimiter {
  readonly #rate: number;
  readonly #overrides: ReadonlyMap<string, number>;
  readonly #buckets = new Map<string, LeakyBucket>();

  /** `ratePerSecond`: the default per address (0: unlimited); `overrides`: per-address rates (0: unlimited). */
  constructor(ratePerSecond: number, overrides: ReadonlyMap<string, number> = new Map()) {
    this.#rate = ratePerSecond;
    this.#overrides = overrides;
  }

  /**
   * Whether a new connection from `address` is accepted. Only accepted ones
   * count: a client refused while it retries in a loop gets in again as soon
   * as its rate allows, instead of digging a debt it could never repay.
   */
  admit(address: string, nowMs: number): boolean {
    const rate = this.#overrides.get(address) ?? this.#rate;
    if (rate <= 0) return true;
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      bucket = new LeakyBucket(rate, 1000, nowMs);
      this.#buckets.set(address, bucket);
    }
    return bucket.tryAdd(1, nowMs);
  }

  sweep(nowMs: number): number {
    let dropped = 0;
    for (const [address, bucket] of this.#buckets) {
      if (bucket.isEmpty(nowMs)) {
        this.#buckets.delete(address);
        dropped += 1;
      }
    }
    return dropped;
  }
}
