/** ShareFetch: acknowledgements, then records acquired under a lock, long-polling up to maxWaitMs (share/service.ts). */
import type { ApiHandler } from './handler.js';
import type { ShareContext } from './share-group-heartbeat.js';

export function shareFetchHandler(broker: ShareContext): ApiHandler<'ShareFetch'> {
  return {
    api: 'ShareFetch',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      return broker.share.fetch(request, ctx.signal);
    },
  };
}
