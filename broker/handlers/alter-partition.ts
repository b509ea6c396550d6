/**
 * AlterPartition (controller side): ISR changes proposed by partition
 * leaders (controller/alter-partition.ts decides each partition); a stale
 * broker epoch refuses the whole request.
 */
import type { ControllerApis } from '../controller/controller.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

export function alterPartitionHandler(controller: ControllerApis): ApiHandler<'AlterPartition'> {
  return {
    api: 'AlterPartition',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      try {
        return await controller.alterPartition(request);
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'AlterPartition', brokerId: request.brokerId });
        return { errorCode: wire.code, errorMessage: wire.message, topics: [] };
      }
    },
  };
}
