/**
 * The broker's client-quota enforcement (Kafka's KIP-219 shape), between a
 * connection and the quota manager: for each answered request, which user
 * (the session's principal without `User:`) and client id it counts for,
 * which bytes (a Produce request's size against producer_byte_rate; a Fetch
 * or ShareFetch response's size against consumer_byte_rate), and every
 * request against request_rate. The throttle time it returns goes into the
 * response, and the connection stops reading for that long
 * (net/connection.ts), so a client over its quota is slowed, never failed,
 * whether or not it honours the throttle time itself.
 *
 * Quotas come from the metadata image and are picked up as changes arrive
 * (the image's quota map is a new object on every change, so one identity
 * check per request suffices). Traffic between brokers is exempt: follower
 * fetches and the controller APIs, as Kafka exempts replication.
 *
 * Quotas are per broker, as Kafka's: a client talking to three brokers may
 * reach three times its rate in all.
 */
import type { ApiName } from '../../protocol/api-keys.js';
import type { ClientQuotas as QuotaMap } from '../metadata/apply-client-quota.js';
import { monotonicMs, type Clock } from '../world/clock.js';
import { QuotaManager } from './quota-manager.js';
import type { QuotaBudget, QuotaKind } from './quota-entities.js';

/** Where throttling is counted (broker/metrics/quota-metrics.ts). */
export interface QuotaMeter {
  /** `budget`: whose quota asked for it; `nowMs`: the enforcer's clock (series of budgets long quiet are dropped by it). */
  throttled(kind: QuotaKind, throttleMs: number, budget: QuotaBudget, nowMs: number): void;
  /** Lets go of what it keeps for budgets long quiet (called with the enforcer's sweep). */
  expire?(nowMs: number): void;
}

/** One answered request, as the connection saw it. */
export interface QuotaRequest {
  readonly api: ApiName;
  readonly principal: string;
  readonly clientId: string | null;
  /** The decoded request (a Fetch's replicaId says whether a follower sent it). */
  readonly request: unknown;
  readonly requestBytes: number;
  /** 0 when there is no response (acks=0). */
  readonly responseBytes: number;
}

/** The APIs only brokers and the controller speak among themselves. */
const INTER_BROKER: ReadonlySet<ApiName> = new Set<ApiName>(['BrokerRegistration', 'BrokerHeartbeat', 'AlterPartition', 'AllocateProducerIds', 'MetadataChanges']);
/** How often buckets of clients gone quiet are dropped. */
const SWEEP_INTERVAL_MS = 60_000;
const PRINCIPAL_PREFIX = 'User:';

export class ClientQuotaEnforcer {
  readonly #manager: QuotaManager;
  readonly #quotas: () => QuotaMap | undefined;
  readonly #clock: Clock;
  readonly #meter: QuotaMeter | undefined;
  #applied: QuotaMap | undefined;
  #lastSweepMs: number;

  /** `quotas`: the current image's (read per request); `maxThrottleMs`: the longest one response asks for. */
  constructor(opts: { quotas: () => QuotaMap | undefined; clock: Clock; meter?: QuotaMeter; maxThrottleMs?: number; burstMs?: number }) {
    this.#quotas = opts.quotas;
    this.#clock = opts.clock;
    this.#meter = opts.meter;
    this.#manager = new QuotaManager([], { ...(opts.maxThrottleMs === undefined ? {} : { maxThrottleMs: opts.maxThrottleMs }), ...(opts.burstMs === undefined ? {} : { burstMs: opts.burstMs }) });
    this.#lastSweepMs = monotonicMs(opts.clock);
  }

  /** The throttle time for `request` in ms (0: within every quota, or exempt). */
  throttleMs(request: QuotaRequest): number {
    const quotas = this.#quotas();
    if (quotas !== this.#applied) {
      this.#applied = quotas;
      this.#manager.setQuotas([...(quotas?.values() ?? [])]);
    }
    const nowMs = monotonicMs(this.#clock);
    // Before the checks below: the meter's series of budgets gone quiet expire even once every quota is removed.
    if (nowMs - this.#lastSweepMs >= SWEEP_INTERVAL_MS) {
      this.#lastSweepMs = nowMs;
      this.#manager.sweep(nowMs);
      this.#meter?.expire?.(nowMs);
    }
    if (quotas === undefined || quotas.size === 0 || isExempt(request)) return 0;
    const user = request.principal.startsWith(PRINCIPAL_PREFIX) ? request.principal.slice(PRINCIPAL_PREFIX.length) : request.principal;
    const fetches = request.api === 'Fetch' || request.api === 'ShareFetch';
    const usage = { user, clientId: request.clientId ?? '', producedBytes: request.api === 'Produce' ? request.requestBytes : 0, fetchedBytes: fetches ? request.responseBytes : 0 };
    const meter = this.#meter;
    return this.#manager.record(usage, nowMs, meter === undefined ? undefined : (kind, ms, budget) => meter.throttled(kind, ms, budget, nowMs));
  }
}

function isExempt(request: QuotaRequest): boolean {
  if (INTER_BROKER.has(request.api)) return true;
  // A follower's fetch (replicaId >= 0) is replication, not a consumer.
  return request.api === 'Fetch' && ((request.request as { replicaId?: number } | undefined)?.replicaId ?? -1) >= 0;
}
