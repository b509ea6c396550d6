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
 * series (Kafka expires its quota sensors after an hour too; `expire`, from
 * the quota enforcer's sweep, runs while requests come in, quotas or not),
 * at most BUDGET_SERIES_MAX are kept, the least recently throttled dropped
 * first, and a label value longer than LABEL_MAX_CHARS (client ids are the
 * client's to choose, up to 32 KiB) is cut, with a hash of the whole to
 * keep it apart from others. The by-kind totals count everything. A series
 * dropped and made again starts from 0: Prometheus reads a counter reset.
 */
import { createHash } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { QuotaBudget, QuotaKind } from '../quota/quota-entities.js';
import type { QuotaMeter } from '../quota/client-quotas.js';
import { HotCounter, type CounterSeries } from './hot-series.js';

export const BUDGET_SERIES_MAX = 1_000;
export const BUDGET_IDLE_MS = 60 * 60_000;
export const LABEL_MAX_CHARS = 128;

/** A user or client id as a label value: as it is, or cut to LABEL_MAX_CHARS with a hash of the whole at the end. */
export function budgetLabel(value: string): string {
  if (value.length <= LABEL_MAX_CHARS) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 16);
  return `${value.slice(0, LABEL_MAX_CHARS - hash.length - 1)}~${hash}`;
}

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

  /** Drops the series of budgets not throttled for BUDGET_IDLE_MS before `nowMs`. */
  expire(nowMs: number): void {
    // Least recently throttled first: the first one still fresh ends the search (a clock stepping back only delays it).
    for (const [key, series] of this.#budgets) {
      if (nowMs - series.lastMs < BUDGET_IDLE_MS) break;
      this.#drop(key, series);
    }
  }

  /** The series of `budget` for `kind`, made most recent; past the bound, the least recent dropped. */
  #budgetSeries(kind: QuotaKind, budget: QuotaBudget, nowMs: number): BudgetSeries {
    // The bucket key names the kind with the budget.
    const key = budget.key;
    let series = this.#budgets.get(key);
    if (series === undefined) {
      if (this.#budgets.size >= BUDGET_SERIES_MAX) {
        const [oldestKey, oldest] = this.#budgets.entries().next().value as [string, BudgetSeries];
        this.#drop(oldestKey, oldest);
      }
      const labels: BudgetSeries['labels'] = [kind, budgetLabel(budget.user), budgetLabel(budget.clientId)];
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
