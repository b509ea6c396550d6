/**
 * ShareGroupHeartbeat: join, stay in and leave a share group
 * (share/share-groups.ts has the rules); answered once replicated. A
 * joining member naming a dead-letter topic that does not exist has it
 * created first (the broker's defaults), so the first rejected record has
 * somewhere to go. With authorization on, creating a group with a
 * dead-letter topic needs WRITE on that topic, and CREATE when it has to be
 * created (as an auto-create would).
 */
import { Errors } from '../../protocol/errors.js';
import type { ShareGroupHeartbeatRequest } from '../../protocol/messages.js';
import type { TopicAdmin } from '../cluster/topic-admin.js';
import { isTopicExists } from '../errors.js';
import type { ShareService } from '../share/service.js';
import type { UsageTap } from '../metering/usage-tap.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';
import { createRefusal, type AccessControl } from '../acl/access.js';

export interface ShareContext {
  readonly access: AccessControl;
  readonly share: ShareService;
  readonly controller: TopicAdmin;
  /** Usage metering (broker/metering/): ShareFetch reports what it delivers. */
  readonly usage?: UsageTap;
}

export function shareGroupHeartbeatHandler(broker: ShareContext): ApiHandler<'ShareGroupHeartbeat'> {
  const { share } = broker;
  const { coordinator } = share;
  const refuse = (request: ShareGroupHeartbeatRequest, code: number, message: string) => ({ throttleTimeMs: 0, errorCode: code, errorMessage: message, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, config: null });
  return {
    api: 'ShareGroupHeartbeat',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const refused = broker.access.refusal(ctx, 'read', 'group', request.groupId);
      if (refused !== null) return refuse(request, refused.code, refused.detail);
      try {
        const deadLetterTopic = request.memberEpoch === 0 ? request.config?.deadLetterTopic ?? '' : '';
        const existing = deadLetterTopic === '' ? undefined : coordinator.read(request.groupId, (shard) => shard.shares.group(request.groupId)?.config.deadLetterTopic);
        // The group copies rejected records into its dead-letter topic on its members' behalf: whoever creates the
        // group with one must be allowed to write there (else READ on a topic would be a way to write to any other).
        if (deadLetterTopic !== '' && existing === undefined) {
          const notWritable = broker.access.refusal(ctx, 'write', 'topic', deadLetterTopic);
          if (notWritable !== null) return refuse(request, notWritable.code, `naming ${deadLetterTopic} as the dead-letter topic needs WRITE on it: ${notWritable.detail}`);
        }
        if (deadLetterTopic !== '' && !coordinator.image.topics.has(deadLetterTopic)) {
          // A group that has another dead-letter topic refuses this join anyway: nothing is created for it.
          if (existing === undefined || existing === deadLetterTopic) {
            const notCreatable = createRefusal(broker.access, ctx, deadLetterTopic);
            if (notCreatable !== null) return refuse(request, notCreatable.code, `the dead-letter topic ${deadLetterTopic} does not exist, and creating it needs CREATE: ${notCreatable.detail}`);
            try {
              await broker.controller.createTopic({ name: deadLetterTopic, partitions: -1, replicationFactor: -1, configs: {} });
            } catch (error) {
              if (!isTopicExists(error)) {
                return refuse(request, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `the dead-letter topic ${deadLetterTopic} does not exist and could not be created: ${(error as Error).message}`);
              }
            }
          }
        }
        return await coordinator.run(request.groupId, (shard, nowMs) => {
          if (shard.group(request.groupId) !== undefined) {
            return { response: refuse(request, Errors.INCONSISTENT_GROUP_PROTOCOL.code, `group ${request.groupId} is a consumer group; a share group cannot have its id`), records: [], seq: 0 };
          }
          return shard.shares.heartbeat(request, { nowMs, clientId: ctx.clientId ?? '', clientHost: ctx.clientHost ?? '', topics: coordinator.topicCounts() });
        });
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'ShareGroupHeartbeat', group: request.groupId });
        return refuse(request, wire.code, wire.message);
      }
    },
  };
}
