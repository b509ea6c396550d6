/**
 * BrokerHeartbeat (controller side): keeps a broker's session and tells it
 * whether it is fenced; STALE_BROKER_EPOCH tells it to register again.
 */
import type { Controller } from '../controller/controller.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

export function brokerHeartbeatHandler(controller: Controller): ApiHandler<'BrokerHeartbeat'> {
  return {
    api: 'BrokerHeartbeat',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      try {
        const { fenced } = await controller.heartbeat(request);
        return { errorCode: NO_ERROR.code, errorMessage: null, fenced };
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'BrokerHeartbeat', brokerId: request.brokerId });
        return { errorCode: wire.code, errorMessage: wire.message, fenced: true };
      }
    },
  };
}
