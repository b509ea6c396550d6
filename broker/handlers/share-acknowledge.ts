/** ShareAcknowledge: settlements only, answered once durable (a ShareFetch that acquires nothing and does not wait). */
import type { ApiHandler } from './handler.js';
import type { ShareContext } from './share-group-heartbeat.js';
import { authorizedShareFetch } from './share-fetch.js';

export function shareAcknowledgeHandler(broker: ShareContext): ApiHandler<'ShareAcknowledge'> {
  return {
    api: 'ShareAcknowledge',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const { groupId, memberId, memberEpoch, topics } = request;
      const fetched = await authorizedShareFetch(broker, ctx, { groupId, memberId, memberEpoch, maxWaitMs: 0, maxRecords: 0, maxBytes: 0, topics });
      return {
        throttleTimeMs: 0,
        errorCode: fetched.errorCode,
        errorMessage: fetched.errorMessage,
        topics: fetched.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: p.errorCode, errorMessage: p.errorMessage, failedAcknowledgements: p.failedAcknowledgements })) })),
      };
    },
  };
}
