/**
 * The controller's own answer to a forwarded admin request, without a
 * network: the same admin handlers a forwarded request reaches over the
 * wire, run on a request context of their own. The in-process channel uses
 * it, so a forwarded request means the same whichever way it travels.
 */
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { alterConfigsHandler } from '../handlers/alter-configs.js';
import type { AdminContext } from '../handlers/broker-context.js';
import { createPartitionsHandler } from '../handlers/create-partitions.js';
import { createTopicsHandler } from '../handlers/create-topics.js';
import { deleteTopicsHandler } from '../handlers/delete-topics.js';
import { NO_RESPONSE, type ApiHandler, type RequestContext } from '../handlers/handler.js';
import { alterPartitionReassignmentsHandler, electLeadersHandler, listPartitionReassignmentsHandler } from '../handlers/partition-moves.js';
import { internalSession } from '../security/session.js';
import { alterUserScramCredentialsHandler } from '../handlers/scram-users.js';
import { createAclsHandler, deleteAclsHandler } from '../handlers/acls.js';
import { alterClientQuotasHandler } from '../handlers/client-quotas.js';
import type { ForwardedApi } from './controller-channel.js';

export function adminAnswerer(admin: AdminContext): <K extends ForwardedApi>(api: K, request: RequestBodies[K]) => Promise<ResponseBodies[K]> {
  const handlers: { [K in ForwardedApi]: ApiHandler<K> } = {
    CreateTopics: createTopicsHandler(admin),
    DeleteTopics: deleteTopicsHandler(admin),
    AlterConfigs: alterConfigsHandler(admin),
    CreatePartitions: createPartitionsHandler(admin),
    AlterPartitionReassignments: alterPartitionReassignmentsHandler(admin),
    ListPartitionReassignments: listPartitionReassignmentsHandler(admin),
    ElectLeaders: electLeadersHandler(admin),
    AlterUserScramCredentials: alterUserScramCredentialsHandler(admin),
    CreateAcls: createAclsHandler(admin),
    DeleteAcls: deleteAclsHandler(admin),
    AlterClientQuotas: alterClientQuotasHandler(admin),
  };
  const ctx: RequestContext = {
    apiVersion: 0,
    clientId: 'forwarded',
    signal: new AbortController().signal,
    logger: admin.logger,
    session: internalSession(),
    ordered: async (step) => step(),
    whenWritable: async () => undefined,
    closeConnection: () => undefined,
    afterResponseWritten: (fn) => fn(),
  };
  return async (api, request) => {
    const handler = handlers[api] as ApiHandler<typeof api>;
    const response = await handler.handle(ctx, request);
    if (response === NO_RESPONSE) throw new Error(`${api} answered nothing`);
    return response;
  };
}
