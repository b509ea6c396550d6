/**
 * Exponential backoff with jitter, the one policy for reconnects and for
 * retrying retriable errors: `initial * 2^attempt`, capped at `max`, then
 * spread by ±20% so a fleet of clients that lost the same broker does not
 * come back in lockstep. The jitter's randomness is the caller's (its
 * world's), so a simulated client replays exactly.
 */
export interface RetryPolicy {
  /** How many times a failed request is tried again (0: never). */
  retries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 10, initialBackoffMs: 100, maxBackoffMs: 1000 };

const JITTER = 0.2;

export function backoffMs(policy: Pick<RetryPolicy, 'initialBackoffMs' | 'maxBackoffMs'>, attempt: number, random: () => number): number {
  const exp = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt, 30));
  return Math.max(0, Math.round(exp * (1 - JITTER + 2 * JITTER * random())));
}
