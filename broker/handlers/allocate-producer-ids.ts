/**
 * AllocateProducerIds (controller side, Kafka's key 67): the next block of
 * producer ids for a registered broker, committed to the metadata log before
 * the answer (Controller.allocateProducerIds); a stale broker epoch is
 * refused.
 */
import type { ControllerApis } from '../controller/controller.js';
import { MAX_PRODUCER_ID_BLOCK } from '../controller/controller.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

export function allocateProducerIdsHandler(controller: ControllerApis): ApiHandler<'AllocateProducerIds'> {
  return {
    api: 'AllocateProducerIds',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      try {
        const block = await controller.allocateProducerIds({ brokerId: request.brokerId, brokerEpoch: request.brokerEpoch, count: MAX_PRODUCER_ID_BLOCK });
        return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, producerIdStart: block.firstProducerId, producerIdLen: block.count };
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'AllocateProducerIds', brokerId: request.brokerId });
        return { throttleTimeMs: 0, errorCode: wire.code, errorMessage: wire.message, producerIdStart: -1, producerIdLen: 0 };
      }
    },
  };
}
