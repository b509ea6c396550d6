/**
 * The group-wide part of a heartbeat: what the members subscribe to, the
 * group epoch bump when that (or membership) changed, and the new target
 * assignment computed for the new epoch by the group's assignor.
 */
import { isInternalTopic } from '../metadata/topic-name.js';
import { ASSIGNORS } from './assignor.js';
import type { ConsumerGroup, Member } from './group.js';

const regexCache = new Map<string, RegExp>();

/** The pattern as a whole-name match; throws SyntaxError for an invalid one. */
export function compileSubscriptionRegex(source: string): RegExp {
  let regex = regexCache.get(source);
  if (regex === undefined) {
    regex = new RegExp(`^(?:${source})$`);
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, regex);
  }
  return regex;
}

/** The existing topics a member subscribes to: its names, and the names its pattern matches (internal topics never). */
export function resolvedTopics(member: Member, topics: ReadonlyMap<string, number>): Set<string> {
  const resolved = new Set<string>();
  for (const name of member.subscribedTopicNames) if (topics.has(name)) resolved.add(name);
  if (member.subscribedTopicRegex !== null && member.subscribedTopicRegex !== '') for (const name of matching(member.subscribedTopicRegex, topics)) resolved.add(name);
  return resolved;
}

/**
 * Per topics map (the runtime makes one per metadata image), the names each
 * pattern matches: members sharing a pattern match the topics once. A map
 * that changed size since (a caller that grows one in place) starts over.
 */
const matches = new WeakMap<ReadonlyMap<string, number>, { size: number; bySource: Map<string, string[]> }>();

function matching(source: string, topics: ReadonlyMap<string, number>): string[] {
  let cached = matches.get(topics);
  if (cached === undefined || cached.size !== topics.size) matches.set(topics, (cached = { size: topics.size, bySource: new Map() }));
  const bySource = cached.bySource;
  let names = bySource.get(source);
  if (names === undefined) {
    const regex = compileSubscriptionRegex(source);
    names = [...topics.keys()].filter((name) => !isInternalTopic(name) && regex.test(name));
    bySource.set(source, names);
  }
  return names;
}

/** Every subscribed topic of the group with its partition count now. */
export function subscribedTopicsOf(group: ConsumerGroup, topics: ReadonlyMap<string, number>): Map<string, number> {
  const result = new Map<string, number>();
  for (const member of group.members.values()) for (const name of resolvedTopics(member, topics)) result.set(name, topics.get(name)!);
  return result;
}

export function sameTopics(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, count] of a) if (b.get(name) !== count) return false;
  return true;
}

/** The assignor most members ask for (ties: the broker's order); the default when none asks. */
export function chooseAssignor(group: ConsumerGroup, allowed: readonly string[]): string {
  const votes = new Map<string, number>();
  for (const member of group.members.values()) {
    if (member.serverAssignor !== null) votes.set(member.serverAssignor, (votes.get(member.serverAssignor) ?? 0) + 1);
  }
  let best = allowed[0]!;
  let bestVotes = 0;
  for (const name of allowed) {
    const count = votes.get(name) ?? 0;
    if (count > bestVotes) {
      best = name;
      bestVotes = count;
    }
  }
  return best;
}

/**
 * Computes the target assignment for the group's current epoch and stores
 * each member's share in `target`; returns the members whose target changed.
 */
export function computeTargetAssignment(group: ConsumerGroup, allowedAssignors: readonly string[]): Member[] {
  group.assignorName = chooseAssignor(group, allowedAssignors);
  const assignor = ASSIGNORS.get(group.assignorName) ?? ASSIGNORS.get('uniform')!;
  const members = [...group.members.values()];
  const result = assignor.assign(
    members.map((m) => ({ memberId: m.memberId, topics: resolvedTopics(m, group.subscribedTopics), previous: m.target })),
    group.subscribedTopics,
  );
  group.assignmentEpoch = group.groupEpoch;
  const changed: Member[] = [];
  for (const member of members) {
    const target = result.get(member.memberId) ?? new Set<string>();
    if (target.size !== member.target.size || [...target].some((key) => !member.target.has(key))) {
      member.target = target;
      changed.push(member);
    }
  }
  return changed;
}
