/**
 * DeleteGroups: a group with no members goes, with its committed offsets
 * (tombstones in `__consumer_offsets`); answered once replicated.
 */
import { Errors } from '../../protocol/errors.js';
import type { GroupContext } from './broker-context.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';

export function deleteGroupsHandler(broker: GroupContext): ApiHandler<'DeleteGroups'> {
  const { coordinator } = broker;
  return {
    api: 'DeleteGroups',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const results = await Promise.all(
        request.groupsNames.map(async (groupId) => {
          if (groupId === '') return { groupId, errorCode: Errors.INVALID_GROUP_ID.code, errorMessage: 'the group id is empty' };
          try {
            const refused = broker.access.refusal(ctx, 'delete', 'group', groupId);
            if (refused !== null) throw refused;
            const { errorName, message } = await coordinator.run(groupId, (shard) => shard.deleteGroup(groupId));
            return { groupId, errorCode: Errors[errorName].code, errorMessage: message };
          } catch (error) {
            const wire = groupWireError(error, ctx.logger, { api: 'DeleteGroups', group: groupId });
            return { groupId, errorCode: wire.code, errorMessage: wire.message };
          }
        }),
      );
      return { throttleTimeMs: 0, results };
    },
  };
}
