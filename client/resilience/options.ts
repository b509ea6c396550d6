/**
 * The SDK's resilience settings, checked and with their defaults
 * (docs/CLIENT.md "Failure isolation" says why these values).
 */
import { invalidArgument } from '../errors.js';
import type { ResilienceOptions } from '../types.js';
import type { BreakerSettings } from './circuit-breaker.js';

export interface ResolvedResilience {
  /** Null: no breakers. */
  breaker: BreakerSettings | null;
  maxQueuedRequests: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, openMs: 1000, maxOpenMs: 30_000 };
export const DEFAULT_MAX_QUEUED_REQUESTS = 1000;

/** What a Cluster made without settings gets (the broker's own clients, simulations): no breaker, no request limit beyond the in-flight one. */
export const NO_RESILIENCE: ResolvedResilience = { breaker: null, maxQueuedRequests: Number.MAX_SAFE_INTEGER };

export function resolveResilience(given: ResilienceOptions | undefined): ResolvedResilience {
  if (given !== undefined && (given === null || typeof given !== 'object')) throw invalidArgument('resilience must be an object: { breaker?, maxQueuedRequestsPerBroker? }');
  const b = given?.breaker;
  let breaker: BreakerSettings | null;
  if (b === false) {
    breaker = null;
  } else if (b === undefined) {
    breaker = DEFAULT_BREAKER;
  } else if (b === null || typeof b !== 'object') {
    throw invalidArgument('resilience.breaker must be false or { failureThreshold?, openMs?, maxOpenMs? }');
  } else {
    const openMs = positive('resilience.breaker.openMs', b.openMs ?? DEFAULT_BREAKER.openMs);
    const maxOpenMs = positive('resilience.breaker.maxOpenMs', b.maxOpenMs ?? Math.max(openMs, DEFAULT_BREAKER.maxOpenMs));
    if (maxOpenMs < openMs) throw invalidArgument(`resilience.breaker.maxOpenMs (${maxOpenMs}) must be at least openMs (${openMs})`);
    breaker = { failureThreshold: positive('resilience.breaker.failureThreshold', b.failureThreshold ?? DEFAULT_BREAKER.failureThreshold), openMs, maxOpenMs };
  }
  const maxQueuedRequests = given?.maxQueuedRequestsPerBroker ?? DEFAULT_MAX_QUEUED_REQUESTS;
  if (!Number.isInteger(maxQueuedRequests) || maxQueuedRequests < 0) throw invalidArgument(`resilience.maxQueuedRequestsPerBroker must be a non-negative integer, got ${String(maxQueuedRequests)}`);
  return { breaker, maxQueuedRequests };
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw invalidArgument(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}
