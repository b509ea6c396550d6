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
        const refused = broker.access.refusal(ctx, 'read', 'group', request.groupId);
        if (refused !== null) throw refused;
        // Topics the member may not read are answered TOPIC_AUTHORIZATION_FAILED; the others are committed.
        const deniedTopics = new Map(request.topics.flatMap((t) => { const denied = broker.access.refusal(ctx, 'read', 'topic', t.name); return denied === null ? [] : [[t.name, denied] as const]; }));
        const allowed = deniedTopics.size === 0 ? request : { ...request, topics: request.topics.filter((t) => !deniedTopics.has(t.name)) };
        const committed = allowed.topics.length === 0 ? { throttleTimeMs: 0, topics: [] } : await coordinator.run(request.groupId, (shard, nowMs) => shard.commitOffsets(allowed, { nowMs, clientId: ctx.clientId ?? '', clientHost: ctx.clientHost ?? '', topics: coordinator.topicCounts() }));
        if (deniedTopics.size === 0) return committed;
        const refusedTopics = request.topics.filter((t) => deniedTopics.has(t.name)).map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: deniedTopics.get(t.name)!.code, errorMessage: deniedTopics.get(t.name)!.detail })) }));
        return { ...committed, topics: [...committed.topics, ...refusedTopics] };
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'OffsetCommit', group: request.groupId });
        return { throttleTimeMs: 0, topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: wire.code, errorMessage: wire.message })) })) };
      }
    },
  };
}
