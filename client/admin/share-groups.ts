/**
 * The admin's view of share groups (queues): ShareGroupDescribe asked of
 * the group's coordinator (found again on every attempt, retried while the
 * answer is retriable, as admin/groups.ts does for consumer groups). What
 * `runnel queue describe` prints.
 */
import { errorNameOf } from '../../protocol/errors.js';
import type { DescribedShareGroup, DescribedSharePartition } from '../../protocol/messages.js';
import { RunnelError, invalidArgument } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { byTopicPartition } from '../lag.js';
import type { QueueConfig } from '../queue/queue-types.js';
import { toCoordinator } from './groups.js';

export interface ShareGroupMemberDescription {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  /** The address its heartbeats come from. */
  host: string;
  topics: string[];
  /** Records it holds locked now. */
  acquired: number;
}

/**
 * Where one partition's records stand for the group, as ShareGroupDescribe's
 * schema says (offsets below `startOffset` settled, the in-flight window to
 * `endOffset`, counts of its records), except that the oldest unsettled
 * record's timestamp is null, not -1, when every record is settled.
 */
export interface SharePartitionDescription extends Omit<DescribedSharePartition, 'oldestUnsettledTimestampMs'> {
  oldestUnsettledTimestampMs: number | null;
}

export interface ShareGroupDescription {
  group: string;
  /** "Empty" or "Stable". */
  state: string;
  groupEpoch: number;
  /** The id of the broker that coordinates it. */
  coordinator: number;
  config: QueueConfig;
  members: ShareGroupMemberDescription[];
  partitions: SharePartitionDescription[];
}

export async function describeShareGroup(cluster: Cluster, groupId: string): Promise<ShareGroupDescription> {
  if (typeof groupId !== 'string' || groupId === '') throw invalidArgument(`a group id must be a non-empty string, got ${JSON.stringify(groupId)}`);
  return cluster.withRetries(`describing share group "${groupId}"`, async () => {
    const { res, coordinator } = await toCoordinator(cluster, groupId, 'ShareGroupDescribe', { groupIds: [groupId] });
    const g = res.groups.find((x) => x.groupId === groupId);
    if (g === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The coordinator's ShareGroupDescribe answer left out group "${groupId}".`);
    if (errorNameOf(g.errorCode) !== 'NONE') throw RunnelError.fromCode(g.errorCode, `Describing share group "${groupId}"`, g.errorMessage);
    return described(g, coordinator);
  });
}

function described(g: DescribedShareGroup, coordinator: number): ShareGroupDescription {
  return {
    group: g.groupId,
    state: g.groupState,
    groupEpoch: g.groupEpoch,
    coordinator,
    config: { ...g.config, ordering: g.config.ordering === 'key' ? 'key' : 'none' },
    members: g.members
      .map((m) => ({ memberId: m.memberId, memberEpoch: m.memberEpoch, clientId: m.clientId, host: m.clientHost, topics: [...m.subscribedTopicNames].sort(), acquired: m.acquiredRecords }))
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)),
    partitions: g.partitions
      .map((p) => ({ ...p, oldestUnsettledTimestampMs: p.oldestUnsettledTimestampMs < 0 ? null : p.oldestUnsettledTimestampMs }))
      .sort(byTopicPartition),
  };
}
