/**
 * OffsetForLeaderEpoch (KIP-101/279/320): per partition, the largest leader
 * epoch in the leader's log at or below the one asked for, and where it
 * ends (the start offset of the next epoch, or the log end offset for the
 * latest). A follower truncates its divergent tail with it before
 * fetching; a consumer checks its position after a leader change.
 *
 * Reached through `ReplicaManager.partitionOrError` as the leader, checking
 * `currentLeaderEpoch` (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH).
 *
 * An asked epoch newer than this leader's current epoch is one it cannot
 * know yet (the asker saw a later leader change): UNKNOWN_LEADER_EPOCH,
 * retriable, rather than Kafka's (-1, -1), which a follower could take for
 * "nothing in common". An epoch at or below the current one but past the
 * latest in the log (the leader has not recorded its epoch at the log end
 * yet) is answered with the latest epoch in the log and the log end: that
 * epoch is the largest the log has at or below the one asked, and it runs
 * to the end. (-1, -1) is left for a log that knows no epoch at or below
 * the one asked (empty, or only newer epochs).
 *
 * `replicaId` -2 (Kafka's debugging replica id) asks this broker's own copy,
 * whatever its role: the answer is its latest epoch and its log end offset
 * (what `runnel partitions reassign --status` shows as a new replica's
 * progress). No epoch is checked: it describes, it fences nothing.
 */
import type { OffsetForLeaderEpochResponse } from '../../protocol/messages.js';
import { UnknownLeaderEpochError } from '../errors.js';
import type { BrokerContext } from './broker-context.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf } from '../acl/access.js';

type EpochEnd = OffsetForLeaderEpochResponse['topics'][number]['partitions'][number];

/** Kafka's DEBUGGING_REPLICA_ID: any replica answers about its own log. */
export const DEBUGGING_REPLICA_ID = -2;

export function offsetForLeaderEpochHandler(broker: BrokerContext): ApiHandler<'OffsetForLeaderEpoch'> {
  const access = accessOf(broker);
  const { replicas } = broker;
  const answer = (topic: string, entry: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }, replicaId: number): { leaderEpoch: number; endOffset: number } => {
    if (replicaId === DEBUGGING_REPLICA_ID) {
      const own = replicas.partitionOrError(topic, entry.partition, { role: 'any' });
      if (own instanceof Error) throw own;
      return { leaderEpoch: own.latestLogEpoch, endOffset: own.logEndOffset };
    }
    const partition = replicas.partitionOrError(topic, entry.partition, { role: 'leader', currentLeaderEpoch: entry.currentLeaderEpoch });
    if (partition instanceof Error) throw partition;
    const asked = entry.leaderEpoch;
    if (asked > partition.leaderEpoch) throw new UnknownLeaderEpochError(topic, entry.partition, asked, partition.leaderEpoch);
    const latest = partition.latestLogEpoch;
    const found = partition.endOffsetForEpoch(asked > latest && latest >= 0 ? latest : asked);
    return { leaderEpoch: found.epoch, endOffset: found.endOffset };
  };
  return {
    api: 'OffsetForLeaderEpoch',
    versions: { min: 0, max: 0 },
    // In the ordered step: an answer reflects every append made before it on this connection.
    handle: (ctx, request) =>
      ctx.ordered(() => ({
        topics: request.topics.map((topicRequest) => ({
          name: topicRequest.name,
          partitions: topicRequest.partitions.map((entry): EpochEnd => {
            try {
              // A follower truncating (replicaId >= 0) is the cluster's own replication; anyone else describes the topic.
              const refused = request.replicaId >= 0 ? access.refusal(ctx, 'cluster_action', 'cluster') : access.refusal(ctx, 'describe', 'topic', topicRequest.name);
              if (refused !== null) throw refused;
              return { partition: entry.partition, errorCode: 0, errorMessage: null, ...answer(topicRequest.name, entry, request.replicaId) };
            } catch (error) {
              const wire = toWireError(error, ctx.logger, { api: 'OffsetForLeaderEpoch', topic: topicRequest.name, partition: entry.partition });
              return { partition: entry.partition, errorCode: wire.code, errorMessage: wire.message, leaderEpoch: -1, endOffset: -1 };
            }
          }),
        })),
      })),
  };
}
