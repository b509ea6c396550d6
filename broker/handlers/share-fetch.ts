/** ShareFetch: acknowledgements, then records acquired under a lock, long-polling up to maxWaitMs (share/service.ts). */
import type { ProtocolError } from '../../protocol/errors.js';
import type { AccessControl } from '../acl/access.js';
import type { ApiHandler, RequestContext } from './handler.js';
import type { ShareContext } from './share-group-heartbeat.js';

/** READ on the share group and on every topic the request names (ShareFetch, ShareAcknowledge): the first refusal, or null. */
export function shareRefusal(access: AccessControl, ctx: RequestContext, request: { groupId: string; topics: readonly { topic: string }[] }): ProtocolError | null {
  return access.refusal(ctx, 'read', 'group', request.groupId) ?? request.topics.reduce<ProtocolError | null>((found, t) => found ?? access.refusal(ctx, 'read', 'topic', t.topic), null);
}

export function shareFetchHandler(broker: ShareContext): ApiHandler<'ShareFetch'> {
  return {
    api: 'ShareFetch',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const refused = shareRefusal(broker.access, ctx, request);
      if (refused !== null) return { throttleTimeMs: 0, errorCode: refused.code, errorMessage: refused.detail, acquisitionLockTimeoutMs: 0, topics: [] };
      return broker.share.fetch(request, ctx.signal);
    },
  };
}
