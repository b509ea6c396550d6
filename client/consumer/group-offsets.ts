/**
 * OffsetCommit and OffsetFetch as a member: each attempt carries the
 * member's epoch as it is at that moment (a heartbeat may have moved it on
 * while a commit was retrying: STALE_MEMBER_EPOCH is retried with the new
 * one), and a coordinator that moved is found again. FENCED_MEMBER_EPOCH
 * and UNKNOWN_MEMBER_ID are not retried: the partitions are no longer this
 * member's, and committing for them could move another member's offsets.
 */
import { errorNameOf } from '../../protocol/errors.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { addTo } from '../group-by.js';
import { keyOf } from './partition-state.js';
import { coordinatorMoved, type GroupCoordinator } from './group-coordinator.js';
import type { TopicPartition } from './topic-partitions.js';

export interface MemberIdentity {
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
}

export interface OffsetToCommit extends TopicPartition {
  offset: number;
  metadata?: string | null;
}

function check(code: number, context: string, message: string | null, coordinator: GroupCoordinator): void {
  const name = errorNameOf(code);
  if (name === 'NONE') return;
  if (coordinatorMoved(name)) coordinator.forget();
  throw RunnelError.fromCode(code, context, message);
}

export async function commitOffsets(cluster: Cluster, coordinator: GroupCoordinator, member: () => MemberIdentity, offsets: readonly OffsetToCommit[], signal?: AbortSignal): Promise<void> {
  if (offsets.length === 0) return;
  const byTopic = new Map<string, OffsetToCommit[]>();
  for (const o of offsets) addTo(byTopic, o.topic, o);
  await cluster.withRetries(`committing offsets of group "${coordinator.groupId}"`, async () => {
    const m = member();
    const res = await coordinator.request('OffsetCommit', {
      groupId: coordinator.groupId, memberId: m.memberId, memberEpoch: m.memberEpoch, groupInstanceId: m.instanceId,
      topics: [...byTopic].map(([name, list]) => ({
        name, partitions: list.map((o) => ({ partition: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: o.metadata ?? null })),
      })),
    });
    for (const t of res.topics) {
      for (const p of t.partitions) check(p.errorCode, `Committing offsets of ${t.name}-${p.partition} for group "${coordinator.groupId}"`, p.errorMessage, coordinator);
    }
  }, undefined, signal);
}

/** Committed offsets (key -> offset; -1 where the group has none). */
export async function fetchCommitted(cluster: Cluster, coordinator: GroupCoordinator, member: () => MemberIdentity, partitions: readonly TopicPartition[], signal?: AbortSignal): Promise<Map<string, number>> {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) addTo(byTopic, tp.topic, tp.partition);
  return cluster.withRetries(`fetching the committed offsets of group "${coordinator.groupId}"`, async () => {
    const m = member();
    const res = await coordinator.request('OffsetFetch', {
      groupId: coordinator.groupId, memberId: m.memberId, memberEpoch: m.memberEpoch,
      topics: [...byTopic].map(([name, list]) => ({ name, partitions: list })),
      // An offset still being replicated is not an answer: a failover could lose it.
      requireStable: true,
    });
    check(res.errorCode, `Fetching the committed offsets of group "${coordinator.groupId}"`, res.errorMessage, coordinator);
    const out = new Map<string, number>();
    for (const t of res.topics) {
      for (const p of t.partitions) {
        const name = errorNameOf(p.errorCode);
        // UNSTABLE_OFFSET_COMMIT is retriable: a commit is on its way to the replicas.
        if (name !== 'NONE') check(p.errorCode, `Fetching the committed offset of ${t.name}-${p.partition}`, null, coordinator);
        out.set(keyOf(t.name, p.partition), p.committedOffset);
      }
    }
    return out;
  }, undefined, signal);
}
