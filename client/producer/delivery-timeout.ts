/**
 * The errors sends get when their `deliveryTimeoutMs` runs out: what they
 * were waiting for, and the problem behind the wait (a broker no connection
 * can reach, or the last error a lookup or a request met), so the caller
 * reads "Delivery timed out after 120000 ms waiting for the metadata of topic
 * "p": broker 127.0.0.1:9092 unreachable for 2 min (ECONNREFUSED)." rather
 * than a bare timeout. The problem's own error is the `cause`.
 *
 * A batch times out at the deadline of the earliest send among those whose
 * records it carries, and fails them all; a send that joined the batch later
 * is told so, with its own time, rather than a deadline it never had.
 */
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';

/** The timeout for each send that waited for `waitingFor` (as `{ sentAtMs }`), made at `nowMs`. */
export function deliveryTimeoutErrors(cluster: Cluster, timeoutMs: number, waitingFor: string, lastError: RunnelError | null, nowMs = cluster.clock.nowMs()): (send: { sentAtMs: number }) => RunnelError {
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
  const why = `${waitingFor}${problem === '' ? '' : `: ${problem}`}.`;
  const options = cause === null ? undefined : { cause };
  return ({ sentAtMs }) => {
    const waitedMs = nowMs - sentAtMs;
    const when = waitedMs >= timeoutMs
      ? `after ${timeoutMs} ms`
      : `${formatDuration(waitedMs)} after this send, before its own ${timeoutMs} ms were up: its records were in a batch with an earlier send's, whose deadline passed,`;
    return new RunnelError('DELIVERY_TIMEOUT', `Delivery timed out ${when} ${why}`, options);
  };
}

/** 850 ms, 12 s, 3 min: as precise as a person needs. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
