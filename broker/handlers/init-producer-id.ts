/**
 * InitProducerId (key 22, without transactions): a new producer id and
 * epoch 0 for an idempotent producer, from this broker's block of ids
 * (producers/producer-id-blocks.ts). With the id and epoch it holds, a
 * producer asks for the next epoch of the same id (KIP-360: after a
 * sequence error it restarts its sequences at 0 under a new epoch, and the
 * partitions accept that); at the largest epoch it gets a new id instead.
 *
 * No broker keeps per-producer state for this: without a transactional id
 * there is nothing to fence across producer instances (Kafka's rule too),
 * and the partition leaders check epochs and sequences themselves.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { InitProducerIdResponse } from '../../protocol/messages.js';
import type { ProducerIdBlocks } from '../producers/producer-id-blocks.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import type { AccessControl } from '../acl/access.js';

const MAX_EPOCH = 32767;

export function initProducerIdHandler(ids: ProducerIdBlocks, access: AccessControl): ApiHandler<'InitProducerId'> {
  const answer = (producerId: number, producerEpoch: number): InitProducerIdResponse => ({ throttleTimeMs: 0, errorCode: 0, errorMessage: null, producerId, producerEpoch });
  return {
    api: 'InitProducerId',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      // An idempotent producer: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (Kafka's KIP-679 rule).
      if (!access.allows(ctx, 'idempotent_write', 'cluster') && !access.allowsOnSomeTopic(ctx, 'write')) {
        const wire = toWireError(new ProtocolError('CLUSTER_AUTHORIZATION_FAILED', `${ctx.session.principal} may not get a producer id: it needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic`), ctx.logger);
        return { throttleTimeMs: 0, errorCode: wire.code, errorMessage: wire.message, producerId: -1, producerEpoch: -1 };
      }
      try {
        if (request.transactionalId !== null) throw new ProtocolError('INVALID_REQUEST', 'transactions are not supported: send transactionalId null (an idempotent producer)');
        const { producerId, producerEpoch } = request;
        if ((producerId === -1) !== (producerEpoch === -1)) throw new ProtocolError('INVALID_REQUEST', `producerId ${producerId} and producerEpoch ${producerEpoch}: send both -1 for a new id, or both as held to bump the epoch`);
        if (producerId < -1 || producerEpoch < -1 || producerEpoch > MAX_EPOCH) throw new ProtocolError('INVALID_REQUEST', `producerId ${producerId} / producerEpoch ${producerEpoch} out of range`);
        if (producerId >= 0 && producerEpoch < MAX_EPOCH) return answer(producerId, producerEpoch + 1);
        return answer(await ids.nextId(), 0);
      } catch (error) {
        // No block from the controller (unreachable, not elected): the producer retries.
        const wire = error instanceof ProtocolError && error.errorName === 'INVALID_REQUEST'
          ? toWireError(error, ctx.logger)
          : toWireError(new ProtocolError('COORDINATOR_NOT_AVAILABLE', `no producer id available from the controller: ${(error as Error).message}; retry`), ctx.logger);
        return { throttleTimeMs: 0, errorCode: wire.code, errorMessage: wire.message, producerId: -1, producerEpoch: -1 };
      }
    },
  };
}
