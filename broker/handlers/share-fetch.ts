/** ShareFetch: acknowledgements, then records acquired under a lock, long-polling up to maxWaitMs (share/service.ts). */
import type { ProtocolError } from '../../protocol/errors.js';
import type { ShareFetchRequest, ShareFetchResponse } from '../../protocol/messages.js';
import type { UsageTap } from '../metering/usage-tap.js';
import type { ApiHandler, RequestContext } from './handler.js';
import type { ShareContext } from './share-group-heartbeat.js';

const NO_RECORDS = Buffer.alloc(0);

/**
 * The share service's answer to `request` (ShareFetch, and ShareAcknowledge
 * as a fetch of nothing), as the requester may have it: without READ on the
 * share group the whole request is refused; a topic it may not READ is
 * answered TOPIC_AUTHORIZATION_FAILED for each partition asked, its
 * acknowledgements failing with the same code, while the other topics are
 * served (as Kafka answers, per topic). When every topic named is refused
 * the answer comes at once, without waiting for records.
 */
export async function authorizedShareFetch(broker: ShareContext, ctx: RequestContext, request: ShareFetchRequest): Promise<ShareFetchResponse> {
  const groupRefused = broker.access.refusal(ctx, 'read', 'group', request.groupId);
  if (groupRefused !== null) return { throttleTimeMs: 0, errorCode: groupRefused.code, errorMessage: groupRefused.detail, acquisitionLockTimeoutMs: 0, topics: [] };
  const refused: { topic: ShareFetchRequest['topics'][number]; why: ProtocolError }[] = [];
  const allowed = request.topics.filter((topic) => {
    const why = broker.access.refusal(ctx, 'read', 'topic', topic.topic);
    if (why !== null) refused.push({ topic, why });
    return why === null;
  });
  if (refused.length === 0) return broker.share.fetch(request, ctx.signal);
  const response: ShareFetchResponse = allowed.length === 0
    ? { throttleTimeMs: 0, errorCode: 0, errorMessage: null, acquisitionLockTimeoutMs: 0, topics: [] }
    : await broker.share.fetch({ ...request, topics: allowed }, ctx.signal);
  // A request-wide error (a fenced member, a moved coordinator) speaks for every topic.
  if (response.errorCode !== 0) return response;
  for (const { topic, why } of refused) {
    response.topics.push({
      topic: topic.topic,
      partitions: topic.partitions.map((p) => ({
        partition: p.partition,
        errorCode: why.code,
        errorMessage: why.detail,
        failedAcknowledgements: p.acknowledgements.map((ack) => ({ firstOffset: ack.firstOffset, lastOffset: ack.lastOffset, errorCode: why.code })),
        records: NO_RECORDS,
        acquiredRecords: [],
      })),
    });
  }
  return response;
}

export function shareFetchHandler(broker: ShareContext): ApiHandler<'ShareFetch'> {
  const usage = broker.usage;
  return {
    api: 'ShareFetch',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const response = await authorizedShareFetch(broker, ctx, request);
      if (usage !== undefined) meterDelivered(usage, ctx.session.principal, response);
      return response;
    },
  };
}

/** The batches sent (whole, as on the wire) and the records acquired in them: what the member was delivered. */
function meterDelivered(usage: UsageTap, principal: string, response: ShareFetchResponse): void {
  for (const topic of response.topics) {
    let bytes = 0;
    let records = 0;
    for (const p of topic.partitions) {
      bytes += p.records.byteLength;
      for (const acquired of p.acquiredRecords) records += acquired.lastOffset - acquired.firstOffset + 1;
    }
    if (bytes > 0) usage.consumed(principal, topic.topic, records, bytes);
  }
}
