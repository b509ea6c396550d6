/**
 * ConsumerGroupHeartbeat: join, stay, leave and get the assignment
 * (coordinator/group-shard.ts has the rules); answered once the group's
 * change is replicated.
 */
import type { GroupContext } from './broker-context.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';

export function consumerGroupHeartbeatHandler(broker: GroupContext): ApiHandler<'ConsumerGroupHeartbeat'> {
  const { coordinator } = broker;
  return {
    api: 'ConsumerGroupHeartbeat',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      try {
        const refused = broker.access.refusal(ctx, 'read', 'group', request.groupId);
        if (refused !== null) throw refused;
        return await coordinator.run(request.groupId, (shard, nowMs) =>
          shard.heartbeat(request, { nowMs, clientId: ctx.clientId ?? '', clientHost: ctx.clientHost ?? '', topics: coordinator.topicCounts() }),
        );
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'ConsumerGroupHeartbeat', group: request.groupId });
        return { throttleTimeMs: 0, errorCode: wire.code, errorMessage: wire.message, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
      }
    },
  };
}
