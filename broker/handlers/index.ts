/**
 * The handler table: API key -> handler, built once at start-up. Adding an
 * API is a handler file and one line here; the connection looks handlers up
 * by key and checks the version against the handler's own range, and
 * ApiVersions reports the same table.
 *
 * Every handler's range must lie within the versions protocol/ can encode
 * and decode; `buildHandlerTable` refuses to start otherwise.
 */
import { ApiKey } from '../../protocol/api-keys.js';
import { SUPPORTED_VERSIONS } from '../../protocol/codec.js';
import { assert } from '../world/assert.js';
import type { ControllerApis } from '../controller/controller.js';
import { alterConfigsHandler } from './alter-configs.js';
import { allocateProducerIdsHandler } from './allocate-producer-ids.js';
import { alterPartitionHandler } from './alter-partition.js';
import { apiVersionsHandler } from './api-versions.js';
import type { BrokerContext, GroupContext, ServingContext } from './broker-context.js';
import { brokerHeartbeatHandler } from './broker-heartbeat.js';
import { brokerRegistrationHandler } from './broker-registration.js';
import { createPartitionsHandler } from './create-partitions.js';
import { consumerGroupDescribeHandler } from './consumer-group-describe.js';
import { consumerGroupHeartbeatHandler } from './consumer-group-heartbeat.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { deleteRecordsHandler } from './delete-records.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import { listGroupsHandler } from './list-groups.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeConfigsHandler } from './describe-configs.js';
import { fetchHandler } from './fetch.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { registered, type InvariantSink, type RegisteredHandler } from './handler.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { metadataChangesHandler } from './metadata-changes.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { alterPartitionReassignmentsHandler, electLeadersHandler, listPartitionReassignmentsHandler } from './partition-moves.js';
import { produceHandler } from './produce.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './sasl.js';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './scram-users.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { alterClientQuotasHandler, describeClientQuotasHandler } from './client-quotas.js';
import { secureRandomBytes } from '../../client/security/random.js';
import { ShareService } from '../share/service.js';
import { leaderSources, type ShareSource } from '../share/sources.js';
import { shareAcknowledgeHandler } from './share-acknowledge.js';
import { shareFetchHandler } from './share-fetch.js';
import { shareGroupDescribeHandler } from './share-group-describe.js';
import { shareGroupHeartbeatHandler, type ShareContext } from './share-group-heartbeat.js';
import { accessOf, type AccessControl } from '../acl/access.js';
import { API_RULES, guarded } from '../acl/api-authorization.js';

export type HandlerTable = ReadonlyMap<number, RegisteredHandler>;

/**
 * A broker's table; with `broker.controllerApis` (the embedded mode) also
 * the controller's APIs. `faults`: where a handler's broken invariant goes
 * (it stops the broker: docs/ARCHITECTURE.md).
 */
export function buildHandlerTable(given: BrokerContext, faults: InvariantSink): HandlerTable {
  const broker = { ...given, access: accessOf(given) };
  const { access } = broker;
  // Each handler's types are checked against its API here, in `registered`, and erased for the table.
  const handlers: RegisteredHandler[] = [
    registered(produceHandler(broker), faults),
    registered(fetchHandler(broker), faults),
    registered(listOffsetsHandler(broker), faults),
    registered(offsetForLeaderEpochHandler(broker), faults),
    registered(deleteRecordsHandler(broker), faults),
    ...servingHandlers(broker, faults),
  ];
  if (broker.producerIds !== undefined) handlers.push(registered(initProducerIdHandler(broker.producerIds, access), faults));
  const coordinator = broker.coordinator;
  if (coordinator !== undefined) {
    handlers.push(...groupHandlers({ access, coordinator, endpoint: broker.endpoint, config: broker.config, logger: broker.logger }, faults));
    const share = new ShareService({ coordinator, ...shareSources(broker), clock: broker.clock, logger: broker.logger.child({ component: 'share' }) });
    handlers.push(...shareHandlers({ access, share, controller: broker.controller, ...(broker.usage === undefined ? {} : { usage: broker.usage }) }, faults));
  }
  if (broker.controllerApis !== undefined) handlers.push(...controllerHandlers(broker.controllerApis, faults));
  return table(handlers, access, faults);
}

/** The controller-only process (`runnel controller`): metadata, admin and the controller's APIs; it hosts no partitions. */
export function buildControllerHandlerTable(given: ServingContext & { controllerApis: ControllerApis }, faults: InvariantSink): HandlerTable {
  const node = { ...given, access: accessOf(given) };
  return table([...servingHandlers(node, faults), ...controllerHandlers(node.controllerApis, faults)], node.access, faults);
}

function servingHandlers(node: ServingContext, faults: InvariantSink): RegisteredHandler[] {
  return [
    registered(metadataHandler(node), faults),
    registered(createTopicsHandler(node), faults),
    registered(deleteTopicsHandler(node), faults),
    registered(describeConfigsHandler(node), faults),
    registered(alterConfigsHandler(node), faults),
    registered(createPartitionsHandler(node), faults),
    registered(alterPartitionReassignmentsHandler(node), faults),
    registered(listPartitionReassignmentsHandler(node), faults),
    registered(electLeadersHandler(node), faults),
    registered(saslHandshakeHandler(node, node.randomBytes ?? secureRandomBytes), faults),
    registered(saslAuthenticateHandler(), faults),
    registered(describeUserScramCredentialsHandler(node), faults),
    registered(alterUserScramCredentialsHandler(node), faults),
    registered(describeAclsHandler(node), faults),
    registered(createAclsHandler(node), faults),
    registered(deleteAclsHandler(node), faults),
    registered(describeClientQuotasHandler(node), faults),
    registered(alterClientQuotasHandler(node), faults),
  ];
}

/** The consumer-group coordinator's APIs (broker/coordinator/). */
function groupHandlers(groups: GroupContext, faults: InvariantSink): RegisteredHandler[] {
  return [
    registered(findCoordinatorHandler(groups), faults),
    registered(consumerGroupHeartbeatHandler(groups), faults),
    registered(consumerGroupDescribeHandler(groups), faults),
    registered(offsetCommitHandler(groups), faults),
    registered(offsetFetchHandler(groups), faults),
    registered(listGroupsHandler(groups), faults),
    registered(deleteGroupsHandler(groups), faults),
  ];
}

/** Where the share-group coordinator reads a partition: its leader replica here, or the leader on another broker. */
function shareSources(broker: BrokerContext): { lookup: (topic: string, index: number) => ShareSource | Error; onClose: () => void } {
  return leaderSources({ replicas: broker.replicas, nodeId: broker.config.nodeId, world: broker.interBroker, logger: broker.logger });
}

/** The share-group (queue) coordinator's APIs (broker/share/), on the same coordinator. */
function shareHandlers(share: ShareContext, faults: InvariantSink): RegisteredHandler[] {
  return [
    registered(shareGroupHeartbeatHandler(share), faults),
    registered(shareFetchHandler(share), faults),
    registered(shareAcknowledgeHandler(share), faults),
    registered(shareGroupDescribeHandler(share), faults),
  ];
}

function controllerHandlers(controller: ControllerApis, faults: InvariantSink): RegisteredHandler[] {
  return [
    registered(brokerRegistrationHandler(controller), faults),
    registered(brokerHeartbeatHandler(controller), faults),
    registered(alterPartitionHandler(controller), faults),
    registered(allocateProducerIdsHandler(controller), faults),
    registered(metadataChangesHandler(controller), faults),
  ];
}

function table(handlers: RegisteredHandler[], access: AccessControl, faults: InvariantSink): HandlerTable {
  handlers.push(registered(apiVersionsHandler(() => handlers), faults));
  const table = new Map<number, RegisteredHandler>();
  for (const handler of handlers) {
    const codec = SUPPORTED_VERSIONS[handler.api];
    assert(handler.versions.min >= codec.min && handler.versions.max <= codec.max, 'a handler answers only versions protocol/ can decode', { api: handler.api, handler: handler.versions, codec });
    assert(!table.has(ApiKey[handler.api]), 'one handler per API key', { api: handler.api });
    assert(API_RULES[handler.api] !== undefined, 'every API has an authorization rule (acl/api-authorization.ts)', { api: handler.api });
    table.set(ApiKey[handler.api], guarded(handler, access));
  }
  return table;
}
