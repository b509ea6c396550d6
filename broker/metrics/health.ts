/**
 * Whether this broker serves, for a load balancer or an orchestrator's
 * readiness probe: `/health` answers 200 with a small JSON while it does,
 * 503 with the reasons while it does not. It does not serve when:
 * - its listener is not up yet, or it is shutting down (from the first
 *   moment of a clean shutdown: the controlled shutdown that moves its
 *   leaderships away comes before the listener closes, and a balancer should
 *   stop sending new clients from the start of it);
 * - it is fenced: not registered with its controller yet, fenced by it, or
 *   its heartbeat lease ran out (BrokerLifecycle.whyFenced); a fenced broker
 *   takes no writes;
 * - its data directory failed: a hosted log went offline because a write or
 *   an fsync to the disk failed (Kafka takes the whole log directory offline
 *   on an I/O error). A log that was found corrupt when opened is counted
 *   (runnel_offline_replicas) but does not fail the check: the broker serves
 *   everything else, and `runnel recover` is the fix, not a restart;
 * - a broken invariant stopped it (broker/faults.ts).
 */
import { LogOfflineError } from '../storage/errors.js';
import type { Partition } from '../partition.js';

export interface HealthSources {
  readonly nodeId: number;
  /** The broker's listener is up and not closing. */
  listening(): boolean;
  shuttingDown(): boolean;
  /** Why the broker takes no writes now, or null (BrokerLifecycle.whyFenced). */
  whyFenced(): string | null;
  hostedPartitions(): Iterable<Partition>;
  /** Set once a broken invariant stopped the broker. */
  failure(): Error | null;
}

export interface HealthReport {
  readonly status: 200 | 503;
  readonly body: { status: 'ok' | 'unavailable'; nodeId: number; reasons: string[]; offlineLogs: string[] };
}

/** At most this many offline logs are named in the answer (the count is in the metrics). */
const NAMED_OFFLINE_MAX = 10;

export function checkHealth(sources: HealthSources): HealthReport {
  const reasons: string[] = [];
  const failure = sources.failure();
  if (failure !== null) reasons.push(`stopped after a broken invariant: ${failure.message}`);
  if (sources.shuttingDown()) reasons.push('shutting down');
  else if (!sources.listening()) reasons.push('its listener is not up');
  const fenced = sources.whyFenced();
  if (fenced !== null) reasons.push(`fenced: ${fenced}`);
  const failedDisk: string[] = [];
  const offlineLogs: string[] = [];
  for (const partition of sources.hostedPartitions()) {
    const reason = partition.offlineReason;
    if (reason === null || partition.deleted) continue;
    const name = `${partition.topic}-${partition.index}`;
    if (offlineLogs.length < NAMED_OFFLINE_MAX) offlineLogs.push(name);
    if (reason instanceof LogOfflineError) failedDisk.push(name);
  }
  if (failedDisk.length > 0) reasons.push(`the data directory failed: ${failedDisk.length} log(s) went offline on a failed write or fsync (${failedDisk.slice(0, NAMED_OFFLINE_MAX).join(', ')})`);
  const ok = reasons.length === 0;
  return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'unavailable', nodeId: sources.nodeId, reasons, offlineLogs } };
}
