/**
 * Which topics are dead-letter topics, as the cluster knows it: every share
 * group (ListGroups on every broker, type "share") is described by its
 * coordinator (ShareGroupDescribe), and its configured deadLetterTopic,
 * when it has one, is listed with how many records the group has
 * dead-lettered there. A cluster without share groups (or brokers that do
 * not list any) gives an empty list.
 */
import type { Cluster } from '../metadata.js';
import { listGroups } from './groups.js';
import { describeShareGroup } from './share-groups.js';

export interface DeadLetterTopicUse {
  /** The share group that dead-letters into `topic`. */
  group: string;
  topic: string;
  /** Records the group has dead-lettered (its coordinator's total across its partitions). */
  deadLettered: number;
}

export async function deadLetterTopics(cluster: Cluster): Promise<DeadLetterTopicUse[]> {
  const shareGroups = (await listGroups(cluster, [])).filter((g) => g.type === 'share');
  const described = await Promise.all(
    shareGroups.map(({ group }) =>
      // Deleted between the list and the describe: nothing to report.
      describeShareGroup(cluster, group).catch((err: unknown) => ((err as { errorName?: string }).errorName === 'GROUP_ID_NOT_FOUND' ? null : Promise.reject(err))),
    ),
  );
  const out: DeadLetterTopicUse[] = [];
  for (const g of described) {
    if (g === null || g.config.deadLetterTopic === '') continue;
    out.push({ group: g.group, topic: g.config.deadLetterTopic, deadLettered: g.partitions.reduce((sum, p) => sum + p.deadLettered, 0) });
  }
  return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
