/**
 * BrokerRegistration (controller side): a broker introduces itself and gets
 * its epoch (Controller.registerBroker says what is refused and why).
 */
import type { ControllerApis } from '../controller/controller.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

export function brokerRegistrationHandler(controller: ControllerApis): ApiHandler<'BrokerRegistration'> {
  return {
    api: 'BrokerRegistration',
    versions: { min: 0, max: 1 },
    handle: async (ctx, request) => {
      try {
        const { brokerEpoch } = await controller.registerBroker(request);
        return { errorCode: NO_ERROR.code, errorMessage: null, brokerEpoch };
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'BrokerRegistration', brokerId: request.brokerId });
        return { errorCode: wire.code, errorMessage: wire.message, brokerEpoch: -1 };
      }
    },
  };
}
