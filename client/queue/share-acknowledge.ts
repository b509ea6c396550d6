/**
 * Sends a batch of acknowledgements on its own (ShareAcknowledge), when no
 * fetch took them within the linger. Retried with backoff while the
 * coordinator moves, restarts or the connection drops, for up to a request
 * timeout (a coordinator back within it still has the locks: they are
 * rebuilt from its log); a member that was removed fails them (its locks
 * were released already).
 */
import { errorNameOf } from '../../protocol/errors.js';
import { clientClosed, RunnelError } from '../errors.js';
import { coordinatorMoved } from '../consumer/group-coordinator.js';
import type { AckBatch } from './acknowledgements.js';
import { fencedError, type FetchContext } from './share-fetch.js';

export async function sendAcknowledgements(ctx: FetchContext, batch: AckBatch): Promise<void> {
  const { cluster, membership, coordinator } = ctx;
  let lastError: RunnelError | null = null;
  const deadlineMs = cluster.clock.nowMs() + ctx.requestTimeoutMs;
  for (let attempt = 0; attempt === 0 || cluster.clock.nowMs() < deadlineMs; attempt++) {
    if (attempt > 0) await cluster.sleep(Math.min(cluster.backoffMs(attempt - 1), Math.max(0, deadlineMs - cluster.clock.nowMs())));
    if (cluster.closed) break;
    const epoch = membership.epoch;
    if (epoch <= 0) {
      batch.fail(fencedError(coordinator.groupId, 'it is not a member now'));
      return;
    }
    let res;
    try {
      res = await coordinator.request('ShareAcknowledge', { groupId: coordinator.groupId, memberId: membership.memberId, memberEpoch: epoch, topics: batch.wire() }, ctx.requestTimeoutMs);
    } catch (err) {
      lastError = err instanceof RunnelError ? err : new RunnelError('NETWORK_EXCEPTION', (err as Error).message, { cause: err });
      if (!lastError.retriable) break;
      continue;
    }
    const error = errorNameOf(res.errorCode);
    if (error === 'NONE') {
      batch.settle(res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, errorCode: p.errorCode, errorMessage: p.errorMessage, failed: p.failedAcknowledgements }))));
      return;
    }
    if (error === 'FENCED_MEMBER_EPOCH' || error === 'UNKNOWN_MEMBER_ID') {
      batch.fail(fencedError(coordinator.groupId, `ShareAcknowledge answered ${error}`));
      if (membership.epoch === epoch) membership.fenced(`ShareAcknowledge answered ${error}`);
      return;
    }
    lastError = RunnelError.fromCode(res.errorCode, `Acknowledging records of share group "${coordinator.groupId}"`, res.errorMessage);
    if (coordinatorMoved(error)) coordinator.forget();
    if (!lastError.retriable) break;
  }
  // No answer at all means the client closed before the first try.
  batch.fail(lastError ?? clientClosed(`Acknowledging records of share group "${coordinator.groupId}"`));
}
