/**
 * The "range" assignor: per topic, its subscribers sorted by member id get
 * contiguous runs of partitions, the first (partitions % members) one more
 * than the rest. Members subscribed to the same topics get the same
 * partition numbers of each (useful to join co-partitioned topics); it is
 * not sticky: a membership change may move any partition.
 */
import type { Assignor } from './assignor.js';
import { tp } from './partition-set.js';

export const rangeAssignor: Assignor = {
  name: 'range',
  assign(members, topics) {
    const result = new Map(members.map((m) => [m.memberId, new Set<string>()]));
    const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    for (const [topic, count] of [...topics].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subscribers = sorted.filter((m) => m.topics.has(topic));
      if (subscribers.length === 0) continue;
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, i) => {
        const take = base + (i < extra ? 1 : 0);
        for (let p = next; p < next + take; p++) result.get(member.memberId)!.add(tp(topic, p));
        next += take;
      });
    }
    return result;
  },
};
