/**
 * The error a send gets when its `deliveryTimeoutMs` runs out: what it was
 * waiting for, and the problem behind the wait (a broker no connection can
 * reach, or the last error a lookup or a request met), so the caller reads
 * "Delivery timed out after 120000 ms waiting for the metadata of topic "p":
 * broker 127.0.0.1:9092 unreachable for 2 min (ECONNREFUSED)." rather than a
 * bare timeout. The problem's own error is the `cause`.
 */
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';

export function deliveryTimeout(cluster: Cluster, timeoutMs: number, waitingFor: string, lastError: RunnelError | null, nowMs = Date.now()): RunnelError {
  const down = cluster.unreachableBrokers();
  let problem = '';
  let cause: RunnelError | null = lastError;
  if (down.length > 0) {
    problem = down.map((u) => `broker ${u.broker} unreachable for ${formatDuration(nowMs - u.sinceMs)} (${u.reason})`).join('; ');
    // A broker that cannot be reached explains any later error (a lookup that found no connection, a reset request).
    cause = down[0]!.error;
  } else if (lastError !== null) {
    problem = `last error: ${lastError.message.replace(/\.$/, '')}`;
  }
  return new RunnelError('DELIVERY_TIMEOUT', `Delivery timed out after ${timeoutMs} ms ${waitingFor}${problem === '' ? '' : `: ${problem}`}.`, cause === null ? undefined : { cause });
}

/** 850 ms, 12 s, 3 min: as precise as a person needs. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
