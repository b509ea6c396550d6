/**
 * CreatePartitions: each topic grows on its own (one bad entry does not fail
 * the others) to the total count asked for, never shrinks, and stays within
 * `max.partitions.per.topic`. `validateOnly` checks without adding. A topic
 * named twice in one request is refused for both, as Kafka does. The
 * controller commits the new count before the replica manager creates the
 * logs (controller/controller.ts says why that order survives a crash).
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { CreatePartitionsResponse } from '../../protocol/messages.js';
import type { AdminContext } from './broker-context.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf } from '../acl/access.js';
import { timesNamed } from './settings-record.js';

export function createPartitionsHandler(broker: AdminContext): ApiHandler<'CreatePartitions'> {
  const access = accessOf(broker);
  return {
    api: 'CreatePartitions',
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        const counts = timesNamed(request.topics.map((topic) => topic.name));
        const results: CreatePartitionsResponse['results'] = [];
        for (const topic of request.topics) {
          try {
            if (counts.get(topic.name)! > 1) throw new ProtocolError('INVALID_REQUEST', `topic ${topic.name} is named more than once in the request`);
            const refused = access.refusal(ctx, 'alter', 'topic', topic.name);
            if (refused !== null) throw refused;
            await broker.controller.createPartitions(topic.name, topic.count, { validateOnly: request.validateOnly });
            results.push({ name: topic.name, errorCode: NO_ERROR.code, errorMessage: null });
          } catch (error) {
            const wire = toWireError(error, ctx.logger, { api: 'CreatePartitions', topic: topic.name });
            results.push({ name: topic.name, errorCode: wire.code, errorMessage: wire.message });
          }
        }
        return { results };
      }),
  };
}
