/**
 * One receive: ShareFetch long polls to the group's coordinator until
 * records come or the wait is over, carrying the acknowledgements waiting
 * to be sent (so a member that keeps fetching needs no other request to
 * settle what it processed).
 *
 * Failures, as the schema's errors say:
 * - NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE / a lost connection: the
 *   coordinator is looked up again and the fetch retried (within the
 *   wait); its acknowledgements go out again. When the lost request had in
 *   fact been applied, a repeated accept is refused (INVALID_RECORD_STATE)
 *   although the record was accepted: the rare false alarm of at-least-once.
 * - FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: the member was removed (its
 *   locks released); the acknowledgements fail, the member rejoins, and
 *   the fetch goes on once it has.
 * - anything else not retriable: the receive rejects with it.
 * - a topic this principal may not read (TOPIC_AUTHORIZATION_FAILED for its
 *   partitions, the others served): its acknowledgements fail with it, and
 *   a fetch that acquired nothing elsewhere rejects with it (a later receive
 *   tries again: the grant may have come meanwhile).
 */
import { Errors, errorNameOf } from '../../protocol/errors.js';
import type { ShareFetchResponse } from '../../protocol/messages.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { coordinatorMoved, type GroupCoordinator } from '../consumer/group-coordinator.js';
import type { Acknowledgements, AckBatch, AckResult, WireAcks } from './acknowledgements.js';
import type { ShareMembership } from './share-membership.js';
import { acquiredRecords } from './share-records.js';
import type { Message } from '../types.js';

/** A soft bound on one answer's record bytes. */
const FETCH_MAX_BYTES = 8 * 1024 * 1024;

/** Makes what a receive returns of one acquired record (one call per record: no intermediate object). */
export type MakeAcquired<T> = (message: Message, deliveryCount: number, lockExpiresAtMs: number) => T;

export interface FetchContext {
  cluster: Cluster;
  coordinator: GroupCoordinator;
  membership: ShareMembership;
  acks: Acknowledgements;
  requestTimeoutMs: number;
  closed(): boolean;
}

/** The member was removed: what its acknowledgements in flight are told. */
export function fencedError(group: string, reason: string): RunnelError {
  return new RunnelError('FENCED_MEMBER_EPOCH', `Share group "${group}" removed this member (${reason}); the records it held were released and may be redelivered, so this acknowledgement was not applied`);
}

/** Records acquired by one receive (up to `max`, waiting up to `waitMs`); [] when none came or the queue closed. */
export async function shareFetch<T>(ctx: FetchContext, max: number, waitMs: number, make: MakeAcquired<T>): Promise<T[]> {
  const { cluster, membership } = ctx;
  const deadlineMs = cluster.clock.nowMs() + waitMs;
  // The first join may take a round trip or two even when the caller would not wait at all.
  const joinDeadlineMs = Math.max(deadlineMs, cluster.clock.nowMs() + ctx.requestTimeoutMs);
  let failures = 0;
  for (;;) {
    if (ctx.closed()) return [];
    if (membership.fatal !== null) throw membership.fatal;
    const nowMs = cluster.clock.nowMs();
    if (membership.epoch <= 0 || membership.assignment.length === 0) {
      const until = membership.epoch <= 0 ? joinDeadlineMs : deadlineMs;
      if (nowMs >= until) {
        if (membership.epoch <= 0) throw new RunnelError('COORDINATOR_NOT_AVAILABLE', `Joining share group "${ctx.coordinator.groupId}" took longer than ${ctx.requestTimeoutMs} ms; still trying`, { retriable: true });
        return [];
      }
      membership.start();
      await membership.changed(until - nowMs);
      continue;
    }
    const batch = ctx.acks.take();
    const epoch = membership.epoch;
    let res: ShareFetchResponse;
    try {
      res = await ctx.coordinator.request('ShareFetch', {
        groupId: ctx.coordinator.groupId,
        memberId: membership.memberId,
        memberEpoch: epoch,
        maxWaitMs: Math.max(0, deadlineMs - nowMs),
        maxRecords: max,
        maxBytes: FETCH_MAX_BYTES,
        topics: fetchTopics(membership, batch),
      }, Math.max(0, deadlineMs - nowMs) + ctx.requestTimeoutMs);
    } catch (err) {
      if (batch !== null) ctx.acks.putBack(batch);
      if (ctx.closed()) return [];
      if (!(err instanceof RunnelError) || !err.retriable || cluster.clock.nowMs() >= deadlineMs) throw err;
      await cluster.sleep(cluster.backoffMs(failures++));
      continue;
    }
    const error = errorNameOf(res.errorCode);
    if (error === 'NONE') {
      batch?.settle(ackResults(res));
      const acquired = acquiredOf(res, nowMs, make);
      if (acquired.length === 0) {
        const refused = topicRefusal(res, ctx.coordinator.groupId);
        if (refused !== null) throw refused;
      }
      if (acquired.length > 0 || cluster.clock.nowMs() >= deadlineMs || ctx.closed()) return acquired;
      continue;
    }
    if (error === 'FENCED_MEMBER_EPOCH' || error === 'UNKNOWN_MEMBER_ID') {
      batch?.fail(fencedError(ctx.coordinator.groupId, `ShareFetch answered ${error}`));
      if (membership.epoch === epoch) membership.fenced(`ShareFetch answered ${error}`);
      continue;
    }
    const err = RunnelError.fromCode(res.errorCode, `Fetching from share group "${ctx.coordinator.groupId}"`, res.errorMessage);
    if (coordinatorMoved(error)) ctx.coordinator.forget();
    if (err.retriable && cluster.clock.nowMs() < deadlineMs) {
      if (batch !== null) ctx.acks.putBack(batch);
      await cluster.sleep(cluster.backoffMs(failures++));
      continue;
    }
    batch?.fail(err);
    throw err;
  }
}

/** Every assigned partition, with its acknowledgements; partitions with acknowledgements and no longer assigned too. */
function fetchTopics(membership: ShareMembership, batch: AckBatch | null): WireAcks {
  const acks = batch?.wire() ?? [];
  const byKey = new Map<string, { topic: string; partition: number; acknowledgements: WireAcks[number]['partitions'][number]['acknowledgements'] }>();
  for (const tp of membership.assignment) byKey.set(`${tp.topic}\0${tp.partition}`, { ...tp, acknowledgements: [] });
  for (const t of acks) {
    for (const p of t.partitions) {
      const key = `${t.topic}\0${p.partition}`;
      const entry = byKey.get(key);
      if (entry === undefined) byKey.set(key, { topic: t.topic, partition: p.partition, acknowledgements: p.acknowledgements });
      else entry.acknowledgements = p.acknowledgements;
    }
  }
  const byTopic = new Map<string, WireAcks[number]['partitions']>();
  for (const e of byKey.values()) {
    let list = byTopic.get(e.topic);
    if (list === undefined) byTopic.set(e.topic, (list = []));
    list.push({ partition: e.partition, acknowledgements: e.acknowledgements });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

/** The first partition of `res` refused for authorization, as the error a receive rejects with; null when none is. */
function topicRefusal(res: ShareFetchResponse, groupId: string): RunnelError | null {
  for (const t of res.topics) {
    for (const p of t.partitions) {
      if (errorNameOf(p.errorCode) === 'TOPIC_AUTHORIZATION_FAILED') {
        return RunnelError.fromCode(p.errorCode, `Fetching ${t.topic}-${p.partition} for share group "${groupId}"`, p.errorMessage, { topicPartition: { topic: t.topic, partition: p.partition } });
      }
    }
  }
  return null;
}

function ackResults(res: ShareFetchResponse): AckResult[] {
  // A partition's errorCode here is about fetching it; its acknowledgements are judged by failedAcknowledgements alone.
  return res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, errorCode: Errors.NONE.code, errorMessage: null, failed: p.failedAcknowledgements })));
}

function acquiredOf<T>(res: ShareFetchResponse, sentAtMs: number, make: MakeAcquired<T>): T[] {
  const lockExpiresAtMs = sentAtMs + res.acquisitionLockTimeoutMs;
  const out: T[] = [];
  for (const t of res.topics) {
    for (const p of t.partitions) {
      acquiredRecords(t.topic, p.partition, p.records, p.acquiredRecords, (message, deliveryCount) => out.push(make(message, deliveryCount, lockExpiresAtMs)));
    }
  }
  return out;
}
