/**
 * A broker connection behind its circuit breaker and request bulkhead: the
 * SDK's way to one broker (metadata.ts makes one per broker and bootstrap
 * address). A subclass rather than code in connection.ts, so the wire
 * (framing, versions, TLS/SASL on connect) and the failure policy stay apart.
 *
 * - Breaker (circuit-breaker.ts): while open, a request fails at once with
 *   the retriable BROKER_CIRCUIT_OPEN instead of waiting out a connect or a
 *   request timeout; what retries it (the producer, a lookup) refreshes
 *   metadata first, so it finds the partition's new leader after a
 *   failover. Failures are the connection's, counted once each: a failed
 *   connect attempt, a request timed out, a broker silent even to the
 *   liveness probe (the connection's `onTrouble`). Not every request that a
 *   failure fails: one timeout resets the connection and fails all it
 *   carried, and counting each would open the breaker on one lost answer.
 *   Any answer, an error code included, is a success: the broker is there.
 *   The half-open probe's own outcome decides: its failure reopens.
 * - Bulkhead: `maxInFlightRequests` are written at once (the connection's
 *   own limit) and at most `maxQueuedRequests` more wait for a slot; beyond
 *   that a request fails at once with the retriable BROKER_BULKHEAD_FULL, so
 *   callers that pile requests on a hung broker cannot grow its queue (and
 *   the memory behind it) without bound.
 */
import type { ApiName } from '../../protocol/api-keys.js';
import type { OutgoingRequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { Connection, type ConnectionOptions } from '../connection.js';
import { RunnelError, type RunnelErrorName } from '../errors.js';
import type { CircuitBreaker } from './circuit-breaker.js';

/** What the connection fails a request with when the broker, not the request, is the problem. */
const BROKER_FAILURES: ReadonlySet<RunnelErrorName> = new Set<RunnelErrorName>(['CONNECTION_FAILED', 'NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT']);

export interface GuardOptions {
  /** Null: no breaker (every request goes to the connection). */
  breaker: CircuitBreaker | null;
  /** Requests that may wait for an in-flight slot beyond `maxInFlightRequests`. */
  maxQueuedRequests: number;
  /** Called when a request is refused because the bulkhead is full (once per refusal). */
  onBulkheadFull?: (outstanding: number) => void;
}

export class GuardedConnection extends Connection {
  readonly breaker: CircuitBreaker | null;
  readonly #maxOutstanding: number;
  readonly #onBulkheadFull: ((outstanding: number) => void) | undefined;
  /** Requests sent through this connection and not yet settled (in flight plus waiting for a slot). */
  #outstanding = 0;
  /** Requests the bulkhead refused. */
  bulkheadRejected = 0;

  constructor(opts: ConnectionOptions, guard: GuardOptions) {
    const breaker = guard.breaker;
    super(breaker === null ? opts : {
      ...opts,
      onTrouble: (error, reason, sinceMs) => {
        breaker.failure(error);
        opts.onTrouble?.(error, reason, sinceMs);
      },
    });
    this.breaker = breaker;
    this.#maxOutstanding = opts.maxInFlightRequests + guard.maxQueuedRequests;
    this.#onBulkheadFull = guard.onBulkheadFull;
  }

  /** Whether a request sent now would be tried (the breaker is not open; a half-open one has its probe free). */
  get available(): boolean {
    return this.breaker?.available ?? true;
  }

  get outstandingRequests(): number {
    return this.#outstanding;
  }

  override request<A extends ApiName>(api: A, body: OutgoingRequestBodies[A], timeoutMs?: number): Promise<ResponseBodies[A]> {
    return this.#guarded(api, () => super.request(api, body, timeoutMs));
  }

  override sendOnly<A extends ApiName>(api: A, body: OutgoingRequestBodies[A]): Promise<void> {
    return this.#guarded(api, () => super.sendOnly(api, body));
  }

  async #guarded<T>(api: ApiName, send: () => Promise<T>): Promise<T> {
    if (this.#outstanding >= this.#maxOutstanding) {
      this.bulkheadRejected++;
      this.#onBulkheadFull?.(this.#outstanding);
      throw new RunnelError('BROKER_BULKHEAD_FULL', `${this.#outstanding} requests to ${this.address} are in flight or waiting for a slot already; not queueing a ${api} request behind them.`);
    }
    const admission = this.breaker?.admit() ?? { admitted: true as const, probe: false };
    if (!admission.admitted) {
      const when = admission.retryInMs > 0 ? `a probe goes in about ${admission.retryInMs} ms` : 'a probe is out';
      // The last failure is the cause, so what reads causes (an errno such as ECONNREFUSED) still finds why.
      const last = admission.lastError === null ? '' : `; the last failure: ${admission.lastError.message}`;
      throw new RunnelError('BROKER_CIRCUIT_OPEN', `The circuit breaker for ${this.address} is open after repeated failures; not sending ${api} there for now (${when})${last}.`, { cause: admission.lastError ?? undefined });
    }
    this.#outstanding++;
    try {
      const result = await send();
      this.breaker?.success(admission.probe);
      return result;
    } catch (err) {
      // A broker failure was counted as the connection's trouble; only the probe's own failure says more (reopen).
      if (err instanceof RunnelError && BROKER_FAILURES.has(err.errorName)) {
        if (admission.probe) this.breaker?.failure(err, true);
      } else if (err instanceof RunnelError && err.errorName === 'CLIENT_CLOSED') this.breaker?.abandon(admission.probe);
      // Any other error is the broker's answer (or a request it could not take): it is there.
      else this.breaker?.success(admission.probe);
      throw err;
    } finally {
      this.#outstanding--;
    }
  }
}
