/**
 * FindCoordinator: the broker that coordinates each group, the leader of the
 * group's `__consumer_offsets` partition. The first request creates that
 * topic (runtime.ts `ensureOffsetsTopic`); until its partition has a leader
 * the answer is COORDINATOR_NOT_AVAILABLE, which clients retry.
 */
import { COORDINATOR_KEY_GROUP, type FindCoordinatorResponse } from '../../protocol/messages.js';
import { Errors, type ErrorName } from '../../protocol/errors.js';
import { OFFSETS_TOPIC } from '../coordinator/offsets-topic.js';
import type { GroupContext } from './broker-context.js';
import { groupWireError } from './group-errors.js';
import type { ApiHandler } from './handler.js';
import { localEndpointFor, registeredEndpointFor } from '../security/endpoints.js';

type Coordinator = FindCoordinatorResponse['coordinators'][number];

export function findCoordinatorHandler(broker: GroupContext): ApiHandler<'FindCoordinator'> {
  const { coordinator } = broker;
  const refused = (key: string, name: ErrorName, message: string): Coordinator => ({ key, nodeId: -1, host: '', port: -1, errorCode: Errors[name].code, errorMessage: message });

  const find = (key: string, listener: string): Coordinator => {
    if (key === '') return refused(key, 'INVALID_GROUP_ID', 'the group id is empty');
    const index = coordinator.partitionOf(key);
    const topic = coordinator.image.topics.get(OFFSETS_TOPIC);
    const leader = index === null ? -1 : (topic?.partitionStates[index]?.leader ?? -1);
    if (index === null || leader === -1) return refused(key, 'COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC}-${index ?? '?'} has no leader yet; retry shortly`);
    // At its endpoint on the listener the client came in through (security/endpoints.ts).
    const registration = coordinator.image.brokers.get(leader);
    const at = leader === broker.config.nodeId ? localEndpointFor(broker.endpoint, listener) : registration === undefined ? null : registeredEndpointFor(registration, listener);
    if (at !== null) return { key, nodeId: leader, host: at.host, port: at.port, errorCode: Errors.NONE.code, errorMessage: null };
    if (registration !== undefined) return refused(key, 'COORDINATOR_NOT_AVAILABLE', `broker ${leader} coordinates ${OFFSETS_TOPIC}-${index} but has no listener ${listener}`);
    return refused(key, 'COORDINATOR_NOT_AVAILABLE', `broker ${leader} leads ${OFFSETS_TOPIC}-${index} but is not registered; retry shortly`);
  };

  return {
    api: 'FindCoordinator',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      if (request.keyType !== COORDINATOR_KEY_GROUP) {
        return { throttleTimeMs: 0, coordinators: request.keys.map((key) => refused(key, 'INVALID_REQUEST', `key type ${request.keyType} is not 0 (a consumer group), the only kind of coordinator`)) };
      }
      try {
        if (request.keys.some((key) => key !== '')) await coordinator.ensureOffsetsTopic();
      } catch (error) {
        const wire = groupWireError(error, ctx.logger, { api: 'FindCoordinator' });
        return { throttleTimeMs: 0, coordinators: request.keys.map((key) => refused(key, 'COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC} could not be created: ${wire.message}`)) };
      }
      return {
        throttleTimeMs: 0,
        coordinators: request.keys.map((key) => {
          const denied = broker.access.refusal(ctx, 'describe', 'group', key);
          return denied === null ? find(key, ctx.session.listener) : refused(key, 'GROUP_AUTHORIZATION_FAILED', denied.detail);
        }),
      };
    },
  };
}
