/**
 * Quota metrics: how often and how long client quotas throttle (by kind:
 * producer_byte_rate, consumer_byte_rate, request_rate; Kafka's
 * throttle-time per quota type), and connections refused at the per-address
 * limits (by reason), on the broker's registry.
 */
import type { Registry } from 'prom-client';
import type { QuotaKind } from '../quota/quota-entities.js';
import type { QuotaMeter } from '../quota/client-quotas.js';
import { HotCounter } from './hot-series.js';

export type ConnectionRefusal = 'max.connections.per.ip' | 'max.connection.creation.rate' | 'max.connections';

export class QuotaMetrics implements QuotaMeter {
  readonly #throttleMs: HotCounter;
  readonly #throttled: HotCounter;
  readonly #refused: HotCounter;

  constructor(registry: Registry) {
    this.#throttleMs = new HotCounter({ name: 'runnel_quota_throttle_time_ms_total', help: 'Throttle time asked of clients over their quota, by quota kind (a request over several counts under each).', labelNames: ['kind'], registry });
    this.#throttled = new HotCounter({ name: 'runnel_quota_throttled_requests_total', help: 'Requests answered with a throttle time, by the quota kind that asked for it.', labelNames: ['kind'], registry });
    this.#refused = new HotCounter({ name: 'runnel_connections_refused_total', help: 'Connections closed at accept by a connection limit, by the limit.', labelNames: ['limit'], registry });
  }

  throttled(kind: QuotaKind, throttleMs: number): void {
    this.#throttleMs.series(kind).value += throttleMs;
    this.#throttled.series(kind).value += 1;
  }

  connectionRefused(limit: ConnectionRefusal): void {
    this.#refused.series(limit).value += 1;
  }
}
