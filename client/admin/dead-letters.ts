/**
 * Which topics are dead-letter topics, as the cluster knows it: every share
 * group (ListGroups on every broker, type "share") is described by its
 * coordinator (ShareGroupDescribe), and its configured deadLetterTopic,
 * when it has one, is listed with how many records the group has
 * dead-lettered there. A cluster without share groups (or brokers that do
 * not list any) gives an empty list.
 */
import { errorNameOf } from '../../protocol/errors.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { listGroups, toCoordinator } from './groups.js';

export interface DeadLetterTopicUse {
  /** The share group that dead-letters into `topic`. */
  group: string;
  topic: string;
  /** Records the group has dead-lettered (its coordinator's total across its partitions). */
  deadLettered: number;
}

export async function deadLetterTopics(cluster: Cluster): Promise<DeadLetterTopicUse[]> {
  const shareGroups = (await listGroups(cluster, [])).filter((g) => g.type === 'share');
  const out: DeadLetterTopicUse[] = [];
  for (const { group } of shareGroups) {
    const described = await cluster.withRetries(`describing share group "${group}"`, async () => {
      const { res } = await toCoordinator(cluster, group, 'ShareGroupDescribe', { groupIds: [group] });
      const g = res.groups.find((x) => x.groupId === group);
      if (g === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The coordinator's ShareGroupDescribe answer left out group "${group}".`);
      const error = errorNameOf(g.errorCode);
      // Deleted between the list and the describe: nothing to report.
      if (error === 'GROUP_ID_NOT_FOUND') return null;
      if (error !== 'NONE') throw RunnelError.fromCode(g.errorCode, `Describing share group "${group}"`, g.errorMessage);
      return g;
    });
    if (described === null || described.config.deadLetterTopic === '') continue;
    out.push({ group, topic: described.config.deadLetterTopic, deadLettered: described.partitions.reduce((sum, p) => sum + p.deadLettered, 0) });
  }
  return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
