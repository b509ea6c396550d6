/**
 * The "uniform" assignor (the default): spreads partitions evenly over the
 * members, and is sticky: a member keeps the partitions it had wherever
 * balance allows, so a membership change moves only the partitions that
 * must move (a newcomer takes a share from the others, a leaver's share is
 * spread over the rest).
 *
 * Steps, each deterministic (members and partitions in sorted order):
 * 1. keep each member's previous partitions that still exist and that it
 *    still subscribes to;
 * 2. give every partition nobody kept to the least loaded subscriber;
 * 3. while a member has at least two more partitions than a member that
 *    subscribes to one of them, move one over (bounded: each move lowers
 *    the sum of squared loads).
 * With identical subscriptions the result differs by at most one partition
 * between members; with different ones it is as even as step 3 can make it.
 */
import type { Assignor, AssignorMember } from './assignor.js';
import { splitTp, tp } from './partition-set.js';

const byId = (a: AssignorMember, b: AssignorMember): number => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

export const uniformAssignor: Assignor = {
  name: 'uniform',
  assign(members, topics) {
    const sorted = [...members].sort(byId);
    const result = new Map(sorted.map((m) => [m.memberId, new Set<string>()]));
    const taken = new Set<string>();
    for (const member of sorted) {
      for (const key of [...member.previous].sort()) {
        const { topic, partition } = splitTp(key);
        const count = topics.get(topic);
        if (count === undefined || partition >= count || !member.topics.has(topic) || taken.has(key)) continue;
        taken.add(key);
        result.get(member.memberId)!.add(key);
      }
    }
    const subscribers = new Map<string, AssignorMember[]>();
    for (const topic of [...topics.keys()].sort()) subscribers.set(topic, sorted.filter((m) => m.topics.has(topic)));
    const leastLoaded = (candidates: readonly AssignorMember[]): AssignorMember => {
      let best = candidates[0]!;
      for (const c of candidates) if (result.get(c.memberId)!.size < result.get(best.memberId)!.size) best = c;
      return best;
    };
    for (const [topic, subs] of subscribers) {
      if (subs.length === 0) continue;
      const count = topics.get(topic)!;
      for (let p = 0; p < count; p++) {
        const key = tp(topic, p);
        if (!taken.has(key)) result.get(leastLoaded(subs).memberId)!.add(key);
      }
    }
    // Step 3: move from the most loaded to a subscriber with two fewer, until none can.
    const maxMoves = [...topics.values()].reduce((a, b) => a + b, 0) * Math.max(1, sorted.length);
    for (let moves = 0; moves < maxMoves; moves++) {
      if (!moveOne(sorted, result, subscribers)) break;
    }
    return result;
  },
};

function moveOne(sorted: readonly AssignorMember[], result: Map<string, Set<string>>, subscribers: ReadonlyMap<string, AssignorMember[]>): boolean {
  const byLoad = [...sorted].sort((a, b) => result.get(b.memberId)!.size - result.get(a.memberId)!.size || byId(a, b));
  for (const from of byLoad) {
    const owned = result.get(from.memberId)!;
    // In reverse key order: deterministic, and the lowest partitions (usually the longest held) stay put.
    for (const key of [...owned].sort().reverse()) {
      const { topic } = splitTp(key);
      let to: AssignorMember | undefined;
      for (const candidate of subscribers.get(topic) ?? []) {
        const load = result.get(candidate.memberId)!.size;
        if (load <= owned.size - 2 && (to === undefined || load < result.get(to.memberId)!.size)) to = candidate;
      }
      if (to !== undefined) {
        owned.delete(key);
        result.get(to.memberId)!.add(key);
        return true;
      }
    }
  }
  return false;
}
