/**
 * ShareGroupDescribe: each share group's configuration, members and, per
 * partition, where its records stand (the state from the coordinator's
 * machine; the oldest unsettled record's timestamp read from the partition
 * when it lies after the window).
 */
import { Errors } from '../../protocol/errors.js';
import type { DescribedShareGroup } from '../../protocol/messages.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';
import type { ShareContext } from './share-group-heartbeat.js';

const NO_CONFIG = { visibilityTimeoutMs: -1, maxDeliveryAttempts: -1, deadLetterTopic: '', ordering: '' };

export function shareGroupDescribeHandler(broker: ShareContext): ApiHandler<'ShareGroupDescribe'> {
  const { share } = broker;
  return {
    api: 'ShareGroupDescribe',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const dead = (groupId: string, errorCode: number, errorMessage: string): DescribedShareGroup => ({ errorCode, errorMessage, groupId, groupState: 'Dead', groupEpoch: -1, config: NO_CONFIG, members: [], partitions: [] });
      const groups = request.groupIds.map((groupId): DescribedShareGroup => {
        if (groupId === '') return dead(groupId, Errors.INVALID_GROUP_ID.code, 'the group id is empty');
        const refused = broker.access.refusal(ctx, 'describe', 'group', groupId);
        if (refused !== null) return dead(groupId, refused.code, refused.detail);
        try {
          return share.coordinator.read(groupId, (shard) => {
            if (shard.shares.has(groupId)) return shard.shares.describe(groupId, share.nowMs(), (topic, partition) => share.highWatermark(topic, partition));
            if (shard.group(groupId) !== undefined) return dead(groupId, Errors.INCONSISTENT_GROUP_PROTOCOL.code, `group ${groupId} is a consumer group (ConsumerGroupDescribe)`);
            return dead(groupId, Errors.GROUP_ID_NOT_FOUND.code, `no share group ${groupId}`);
          });
        } catch (error) {
          const wire = groupWireError(error, ctx.logger, { api: 'ShareGroupDescribe', group: groupId });
          return dead(groupId, wire.code, wire.message);
        }
      });
      return { throttleTimeMs: 0, groups: await Promise.all(groups.map((g) => (g.errorCode === 0 ? share.completeOldest(g) : g))) };
    },
  };
}
