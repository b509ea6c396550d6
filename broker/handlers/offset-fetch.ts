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
        const refused = broker.access.refusal(ctx, 'describe', 'group', request.groupId);
        if (refused !== null) throw refused;
        const fetched = coordinator.read(request.groupId, (shard) => shard.fetchOffsets(request));
        // Topics the requester may not describe: left out of an every-topic answer, refused per partition when named.
        const topics = fetched.topics.flatMap((t) => {
          const denied = broker.access.refusal(ctx, 'describe', 'topic', t.name);
          if (denied === null) return [t];
          if (request.topics === null) return [];
          return [{ name: t.name, partitions: t.partitions.map((p) => ({ ...p, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, commitTimestampMs: -1, errorCode: denied.code })) }];
        });
        return { ...fetched, topics };
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'OffsetFetch', group: request.groupId });
        return { throttleTimeMs: 0, errorCode: wire.code, errorMessage: wire.message, topics: [] };
      }
    },
  };
}
