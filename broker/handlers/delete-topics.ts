/**
 * DeleteTopics: each topic is deleted on its own. The deletion is committed
 * to the metadata log first and the topic's logs are removed after, so a
 * crash in between finishes the removal at the next start
 * (replication/replica-manager.ts). Internal topics are refused.
 */
import type { DeleteTopicsResponse } from '../../protocol/messages.js';
import type { AdminContext } from './broker-context.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf } from '../acl/access.js';

export function deleteTopicsHandler(broker: AdminContext): ApiHandler<'DeleteTopics'> {
  const access = accessOf(broker);
  return {
    api: 'DeleteTopics',
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        const results: DeleteTopicsResponse['topics'] = [];
        for (const name of new Set(request.topics)) {
          try {
            const refused = access.refusal(ctx, 'delete', 'topic', name);
            if (refused !== null) throw refused;
            await broker.controller.deleteTopic(name);
            results.push({ name, errorCode: NO_ERROR.code, errorMessage: null });
          } catch (error) {
            const wire = toWireError(error, ctx.logger, { api: 'DeleteTopics', topic: name });
            results.push({ name, errorCode: wire.code, errorMessage: wire.message });
          }
        }
        return { topics: results };
      }),
  };
}
