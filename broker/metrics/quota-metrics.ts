/**
 * Quota metrics: how often and how long client quotas throttle (by kind:
 * producer_byte_rate, consumer_byte_rate, request_rate; Kafka's
 * throttle-time per quota type), the same per budget (the user and client
 * id a quota is kept for, Kafka's quota metric tags: who is being held
 * back), and connections refused at the per-address limits (by reason),
 * on the broker's registry.
 *
 * Budget series are bounded: a quota on `<default>` gives every user or
 * client id one, so a broker with many clients could grow a series per
 * client id ever throttled. A budget not throttled for an hour loses its
 * series (Kafka expires its quota sensors after an hour too), and at most
 * BUDGET_SERIES_MAX are kept, the least recently throttled dropped first;
 * the by-kind totals count everything.
 */
import type { Registry } from 'prom-client';
import type { QuotaBudget, QuotaKind } from '../quota/quota-entities.js';
import type { QuotaMeter } from '../quota/client-quotas.js';
import { HotCounter, type CounterSeries } from './hot-series.js';

export const BUDGET_SERIES_MAX = 1_000;
export const BUDGET_IDLE_MS = 60 * 60_000;
/** How often, at most, budgets gone idle are looked for (on a throttle: nothing to expire otherwise). */
const EXPIRY_INTERVAL_MS = 60_000;

interface BudgetSeries {
  readonly labels: [kind: QuotaKind, user: string, clientId: string];
  readonly timeMs: CounterSeries;
  readonly requests: CounterSeries;
  lastMs: number;
}

export type ConnectionRefusal = 'max.connections.per.ip' | 'max.connection.creation.rate' | 'max.connections';

export class QuotaMetrics implements QuotaMeter {
  readonly #throttleMs: HotCounter;
  readonly #throttled: HotCounter;
  readonly #refused: HotCounter;
  readonly #budgetMs: HotCounter;
  readonly #budgetRequests: HotCounter;
  /** By budget and kind, least recently throttled first (a throttle moves its budget to the end). */
  readonly #budgets = new Map<string, BudgetSeries>();
  #lastExpiryMs = -Infinity;

  constructor(registry: Registry) {
    this.#throttleMs = new HotCounter({ name: 'runnel_quota_throttle_time_ms_total', help: 'Throttle time asked of clients over their quota, by quota kind (a request over several counts under each).', labelNames: ['kind'], registry });
    this.#throttled = new HotCounter({ name: 'runnel_quota_throttled_requests_total', help: 'Requests answered with a throttle time, by the quota kind that asked for it.', labelNames: ['kind'], registry });
    this.#refused = new HotCounter({ name: 'runnel_connections_refused_total', help: 'Connections closed at accept by a connection limit, by the limit.', labelNames: ['limit'], registry });
    const budgetLabels = ['kind', 'user', 'client_id'];
    this.#budgetMs = new HotCounter({ name: 'runnel_quota_client_throttle_time_ms_total', help: 'Throttle time asked of clients, by quota kind and the budget over it (user and client id; empty for a part the quota does not divide by). Budgets not throttled for an hour are dropped.', labelNames: budgetLabels, registry });
    this.#budgetRequests = new HotCounter({ name: 'runnel_quota_client_throttled_requests_total', help: 'Requests answered with a throttle time, by quota kind and the budget over it (user and client id). Budgets not throttled for an hour are dropped.', labelNames: budgetLabels, registry });
  }

  throttled(kind: QuotaKind, throttleMs: number, budget: QuotaBudget, nowMs: number): void {
    this.#throttleMs.series(kind).value += throttleMs;
    this.#throttled.series(kind).value += 1;
    const series = this.#budgetSeries(kind, budget, nowMs);
    series.timeMs.value += throttleMs;
    series.requests.value += 1;
  }

  /** The series of `budget` for `kind`, made most recent; budgets idle for an hour, or past the bound, dropped. */
  #budgetSeries(kind: QuotaKind, budget: QuotaBudget, nowMs: number): BudgetSeries {
    if (nowMs - this.#lastExpiryMs >= EXPIRY_INTERVAL_MS) {
      this.#lastExpiryMs = nowMs;
      for (const [key, series] of this.#budgets) {
        if (nowMs - series.lastMs < BUDGET_IDLE_MS) break;
        this.#drop(key, series);
      }
    }
    const key = `${kind}\u0000${budget.user}\u0000${budget.clientId}`;
    let series = this.#budgets.get(key);
    if (series === undefined) {
      if (this.#budgets.size >= BUDGET_SERIES_MAX) {
        const [oldestKey, oldest] = this.#budgets.entries().next().value as [string, BudgetSeries];
        this.#drop(oldestKey, oldest);
      }
      const labels: BudgetSeries['labels'] = [kind, budget.user, budget.clientId];
      series = { labels, timeMs: this.#budgetMs.series(...labels), requests: this.#budgetRequests.series(...labels), lastMs: nowMs };
    } else {
      this.#budgets.delete(key);
    }
    series.lastMs = nowMs;
    this.#budgets.set(key, series);
    return series;
  }

  #drop(key: string, series: BudgetSeries): void {
    this.#budgets.delete(key);
    this.#budgetMs.remove(...series.labels);
    this.#budgetRequests.remove(...series.labels);
  }

  connectionRefused(limit: ConnectionRefusal): void {
    this.#refused.series(limit).value += 1;
  }
}
