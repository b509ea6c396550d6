/**
 * A consumer group's state as the coordinator keeps it in memory (KIP-848):
 * the group epoch (bumped whenever membership, subscriptions or the
 * subscribed topics' partition counts change), the target assignment and
 * the epoch it was computed for, and the members, each with where it is on
 * its way to its share of the target.
 *
 * Everything here except the timers and what a member last reported owning
 * is in the records of `__consumer_offsets` (records.ts), so a coordinator
 * that loads the log rebuilds the same group. The timers restart from the
 * load; what a member owns is taken to be what it was given until it says.
 */
import type { PartitionSet } from './partition-set.js';

export interface MemberSubscription {
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
}

export interface Member extends MemberSubscription {
  readonly memberId: string;
  /** The epoch the member runs at; -2: a static member that left for a restart (its partitions wait for it). */
  memberEpoch: number;
  /** The epoch before the last bump: a heartbeat carrying it is still accepted if its answer was lost (see heartbeat.ts). */
  previousMemberEpoch: number;
  /** The partitions the member was given and may consume; never shared with another member's `assigned` or `revoking`. */
  assigned: Set<string>;
  /** Partitions taken from it that it has not yet said it stopped consuming; nobody else gets them until it does. */
  revoking: Set<string>;
  /** Its share of the target assignment (at the group's assignment epoch). */
  target: Set<string>;
  /** Not persisted: what it last reported owning (on load: what it was given). */
  owned: PartitionSet;
  /** Not persisted: when its session ends unless it heartbeats (restarted at load). */
  sessionDeadlineMs: number;
  /** Not persisted: when it is removed if `revoking` is still not empty (rebalance timeout); null when not revoking. */
  revocationDeadlineMs: number | null;
}

export interface ConsumerGroup {
  readonly groupId: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  /** The partition count of every topic the members subscribe to (that exists), as of the last group epoch bump. */
  subscribedTopics: Map<string, number>;
  members: Map<string, Member>;
  /** Not persisted: since when the group has had no members (offsets retention counts from there); -1 while it has some. */
  emptySinceMs: number;
}

export function newGroup(groupId: string, assignorName: string, nowMs: number): ConsumerGroup {
  return { groupId, groupEpoch: 0, assignmentEpoch: 0, assignorName, subscribedTopics: new Map(), members: new Map(), emptySinceMs: nowMs };
}

export type GroupStateName = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

/** The state ConsumerGroupDescribe and ListGroups report. */
export function groupState(group: ConsumerGroup): GroupStateName {
  if (group.members.size === 0) return 'Empty';
  if (group.groupEpoch > group.assignmentEpoch) return 'Assigning';
  for (const member of group.members.values()) {
    // A static member away for a restart holds its partitions as they are: nothing to converge.
    if (member.memberEpoch === -2) continue;
    if (!converged(group, member)) return 'Reconciling';
  }
  return 'Stable';
}

/** Whether the member has its whole share of the target and nothing left to give up. */
export function converged(group: ConsumerGroup, member: Member): boolean {
  return member.memberEpoch === group.assignmentEpoch && member.revoking.size === 0 && member.assigned.size === member.target.size;
}
