/**
 * OffsetCommit: store a group's positions, with the member-epoch checks of
 * coordinator/group-shard.ts; answered once the commit is replicated.
 */
import type { GroupContext } from './broker-context.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';

export function offsetCommitHandler(broker: GroupContext): ApiHandler<'OffsetCommit'> {
  const { coordinator } = broker;
  return {
    api: 'OffsetCommit',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      try {
        return await coordinator.run(request.groupId, (shard, nowMs) => shard.commitOffsets(request, { nowMs, clientId: ctx.clientId ?? '', clientHost: ctx.clientHost ?? '', topics: coordinator.topicCounts() }));
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'OffsetCommit', group: request.groupId });
        return { throttleTimeMs: 0, topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: wire.code, errorMessage: wire.message })) })) };
      }
    },
  };
}
