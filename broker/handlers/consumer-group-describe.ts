/** ConsumerGroupDescribe: each group's state, epochs, members and their current and target assignments. */
import { Errors } from '../../protocol/errors.js';
import type { DescribedGroup } from '../../protocol/messages.js';
import type { GroupContext } from './broker-context.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';

export function consumerGroupDescribeHandler(broker: GroupContext): ApiHandler<'ConsumerGroupDescribe'> {
  const { coordinator } = broker;
  return {
    api: 'ConsumerGroupDescribe',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const groups = request.groupIds.map((groupId): DescribedGroup => {
        if (groupId === '') return { errorCode: Errors.INVALID_GROUP_ID.code, errorMessage: 'the group id is empty', groupId, groupState: 'Dead', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [] };
        try {
          const refused = broker.access.refusal(ctx, 'describe', 'group', groupId);
          if (refused !== null) throw refused;
          return coordinator.read(groupId, (shard) => shard.describe(groupId));
        } catch (error) {
          const wire = groupWireError(error, ctx.logger, { api: 'ConsumerGroupDescribe', group: groupId });
          return { errorCode: wire.code, errorMessage: wire.message, groupId, groupState: 'Dead', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [] };
        }
      });
      return { throttleTimeMs: 0, groups };
    },
  };
}
