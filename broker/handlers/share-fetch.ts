/** ShareFetch: acknowledgements, then records acquired under a lock, long-polling up to maxWaitMs (share/service.ts). */
import type { ProtocolError } from '../../protocol/errors.js';
import type { ShareFetchResponse } from '../../protocol/messages.js';
import type { AccessControl } from '../acl/access.js';
import type { UsageTap } from '../metering/usage-tap.js';
import type { ApiHandler, RequestContext } from './handler.js';
import type { ShareContext } from './share-group-heartbeat.js';

/** READ on the share group and on every topic the request names (ShareFetch, ShareAcknowledge): the first refusal, or null. */
export function shareRefusal(access: AccessControl, ctx: RequestContext, request: { groupId: string; topics: readonly { topic: string }[] }): ProtocolError | null {
  return access.refusal(ctx, 'read', 'group', request.groupId) ?? request.topics.reduce<ProtocolError | null>((found, t) => found ?? access.refusal(ctx, 'read', 'topic', t.topic), null);
}

export function shareFetchHandler(broker: ShareContext): ApiHandler<'ShareFetch'> {
  const usage = broker.usage;
  return {
    api: 'ShareFetch',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const refused = shareRefusal(broker.access, ctx, request);
      if (refused !== null) return { throttleTimeMs: 0, errorCode: refused.code, errorMessage: refused.detail, acquisitionLockTimeoutMs: 0, topics: [] };
      const response = await broker.share.fetch(request, ctx.signal);
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
