/**
 * ListGroups: the groups this broker coordinates (its loaded shards), by
 * state and type filters; COORDINATOR_LOAD_IN_PROGRESS (with what is
 * loaded) while some shard is still loading.
 */
import { Errors } from '../../protocol/errors.js';
import type { GroupContext } from './broker-context.js';
import type { ApiHandler } from './handler.js';

export function listGroupsHandler(broker: GroupContext): ApiHandler<'ListGroups'> {
  const { coordinator } = broker;
  return {
    api: 'ListGroups',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      // DESCRIBE on the cluster lists every group; otherwise only the groups the requester may describe.
      const everyGroup = broker.access.allows(ctx, 'describe', 'cluster');
      const { shards, loading } = coordinator.loadedShards();
      const states = new Set(request.statesFilter);
      const types = new Set(request.typesFilter);
      const groups = shards
        .flatMap((shard) => shard.list())
        .filter((g) => (types.size === 0 || types.has(g.groupType)) && (states.size === 0 || states.has(g.groupState)))
        .filter((g) => everyGroup || broker.access.allows(ctx, 'describe', 'group', g.groupId));
      groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
      return { throttleTimeMs: 0, errorCode: loading ? Errors.COORDINATOR_LOAD_IN_PROGRESS.code : Errors.NONE.code, groups };
    },
  };
}
