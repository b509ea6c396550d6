/**
 * A share group as its coordinator keeps it: configuration (fixed at
 * creation), epoch, members, and one in-flight window per partition it has
 * read. Members do not own partitions: each is told every partition of the
 * topics it subscribes to (KIP-932's "simple" assignment: many members per
 * partition is the point), and records are shared out under locks.
 *
 * Everything is in the records of `__consumer_offsets` (records.ts) except
 * the session deadlines (restarted at load) and what each member was last
 * told (it is told again after a load).
 */
import type { ShareGroupConfigResolved } from '../../protocol/messages.js';
import type { ShareWindow, WindowPolicy } from './window.js';
import type { ShareSettings } from './settings.js';

export interface ShareMember {
  readonly memberId: string;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  /** Not persisted: when it is removed (and its locks released) unless it heartbeats. */
  sessionDeadlineMs: number;
  /** Not persisted: the assignment it was last told, as a string; null: tell it. */
  told: string | null;
}

export interface ShareGroup {
  readonly groupId: string;
  groupEpoch: number;
  config: ShareGroupConfigResolved;
  readonly members: Map<string, ShareMember>;
  /** By "topic:partition". */
  readonly windows: Map<string, ShareWindow>;
}

export function windowPolicy(group: ShareGroup, settings: ShareSettings): WindowPolicy {
  return {
    lockMs: group.config.visibilityTimeoutMs,
    maxAttempts: group.config.maxDeliveryAttempts,
    deadLetter: group.config.deadLetterTopic !== '',
    ordering: group.config.ordering,
    maxInFlight: settings.maxInFlightRecords,
    maxDelayed: settings.maxDelayedRecords,
  };
}

/** Every partition of the member's subscribed topics that exist, per topic, sorted. */
export function assignmentOf(member: ShareMember, topics: ReadonlyMap<string, number>): { topic: string; partitions: number[] }[] {
  return [...member.subscribedTopicNames]
    .sort()
    .filter((name) => topics.has(name))
    .map((topic) => ({ topic, partitions: Array.from({ length: topics.get(topic)! }, (_, i) => i) }));
}
