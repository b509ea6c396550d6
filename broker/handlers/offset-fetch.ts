/**
 * OffsetFetch: a group's committed positions, as replicated (a commit still
 * being replicated is not shown; with `requireStable` its partition answers
 * UNSTABLE_OFFSET_COMMIT instead).
 */
import type { GroupContext } from './broker-context.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';

export function offsetFetchHandler(broker: GroupContext): ApiHandler<'OffsetFetch'> {
  const { coordinator } = broker;
  return {
    api: 'OffsetFetch',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      try {
        return coordinator.read(request.groupId, (shard) => shard.fetchOffsets(request));
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'OffsetFetch', group: request.groupId });
        return { throttleTimeMs: 0, errorCode: wire.code, errorMessage: wire.message, topics: [] };
      }
    },
  };
}
