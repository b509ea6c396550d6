/**
 * Group state to and from the values of its records (records.ts): what is
 * written for a group and a member, and the member a loaded value gives
 * back, its timers restarted from the load and what it owns taken to be
 * what it was given (until it reports).
 */
import type { ConsumerGroup, Member } from './group.js';
import { fromTopicPartitions, toTopicPartitions } from './partition-set.js';
import type { GroupValue, MemberValue } from './records.js';

export function groupValue(group: ConsumerGroup): GroupValue {
  return {
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    assignorName: group.assignorName,
    subscribedTopics: [...group.subscribedTopics].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, partitions]) => ({ name, partitions })),
  };
}

export function memberValue(m: Member): MemberValue {
  return {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    subscribedTopicNames: [...m.subscribedTopicNames],
    subscribedTopicRegex: m.subscribedTopicRegex,
    serverAssignor: m.serverAssignor,
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    assigned: toTopicPartitions(m.assigned),
    revoking: toTopicPartitions(m.revoking),
    target: toTopicPartitions(m.target),
  };
}

export function memberFromValue(memberId: string, v: MemberValue, at: { nowMs: number; sessionTimeoutMs: number }): Member {
  const assigned = fromTopicPartitions(v.assigned);
  const revoking = fromTopicPartitions(v.revoking);
  return {
    memberId,
    instanceId: v.instanceId,
    rackId: v.rackId,
    clientId: v.clientId,
    clientHost: v.clientHost,
    rebalanceTimeoutMs: v.rebalanceTimeoutMs,
    subscribedTopicNames: v.subscribedTopicNames,
    subscribedTopicRegex: v.subscribedTopicRegex,
    serverAssignor: v.serverAssignor,
    memberEpoch: v.memberEpoch,
    previousMemberEpoch: v.previousMemberEpoch,
    assigned,
    revoking,
    target: fromTopicPartitions(v.target),
    owned: new Set([...assigned, ...revoking]),
    sessionDeadlineMs: at.nowMs + at.sessionTimeoutMs,
    revocationDeadlineMs: revoking.size > 0 ? at.nowMs + v.rebalanceTimeoutMs : null,
  };
}
