/**
 * AlterPartitionReassignments (45), ListPartitionReassignments (46) and
 * ElectLeaders (43): answered by the controller (in this process, or
 * forwarded to it by a broker of a cluster, KIP-590), which decides each
 * partition on its own (controller/partition-requests.ts). A failure to
 * reach the controller is the whole request's error.
 */
import type { ApiName } from '../../protocol/api-keys.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import type { TopicAdmin } from '../cluster/topic-admin.js';
import type { AdminContext } from './broker-context.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

type MoveApi = 'AlterPartitionReassignments' | 'ListPartitionReassignments' | 'ElectLeaders';

function controllerAnswered<K extends MoveApi & ApiName>(
  api: K,
  broker: AdminContext,
  ask: (admin: TopicAdmin, request: RequestBodies[K]) => Promise<ResponseBodies[K]>,
  failed: (errorCode: number, errorMessage: string) => ResponseBodies[K],
): ApiHandler<K> {
  return {
    api,
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        try {
          return await ask(broker.controller, request);
        } catch (error) {
          const wire = toWireError(error, ctx.logger, { api });
          return failed(wire.code, wire.message);
        }
      }),
  };
}

export function alterPartitionReassignmentsHandler(broker: AdminContext): ApiHandler<'AlterPartitionReassignments'> {
  return controllerAnswered('AlterPartitionReassignments', broker, (admin, request) => admin.alterPartitionReassignments(request), (errorCode, errorMessage) => ({ errorCode, errorMessage, responses: [] }));
}

export function listPartitionReassignmentsHandler(broker: AdminContext): ApiHandler<'ListPartitionReassignments'> {
  return controllerAnswered('ListPartitionReassignments', broker, (admin, request) => admin.listPartitionReassignments(request), (errorCode, errorMessage) => ({ errorCode, errorMessage, throttleBytesPerSecond: 0, topics: [] }));
}

export function electLeadersHandler(broker: AdminContext): ApiHandler<'ElectLeaders'> {
  return controllerAnswered('ElectLeaders', broker, (admin, request) => admin.electLeaders(request), (errorCode, errorMessage) => ({ errorCode, errorMessage, replicaElectionResults: [] }));
}
