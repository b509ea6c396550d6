/**
 * What every handler may use of the broker: settings, the topic admin (the
 * controller in this process, or forwarding to the cluster's controller),
 * the replica manager (the metadata this broker serves, and the one way to
 * reach a partition: `partitionOrError`), the clock, the logger, and the
 * address clients reach this broker at. Passed to each handler's factory
 * once, at start-up.
 *
 * Handlers that need less ask for less (`AdminContext`, `ServingContext`),
 * so the controller-only process, which hosts no partitions, runs them too.
 */
import type { TopicAdmin } from '../cluster/topic-admin.js';
import type { BrokerConfig } from '../config.js';
import type { ControllerApis } from '../controller/controller.js';
import type { Logger } from '../log.js';
import type { MetadataImage } from '../metadata/image.js';
import type { Partition } from '../partition.js';
import type { ProducerIdBlocks } from '../producers/producer-id-blocks.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { Clock } from '../world/clock.js';
import type { GroupCoordinator } from '../coordinator/runtime.js';
import type { ClientWorld } from '../../client/world.js';
import type { TopicMeter } from '../metrics/broker-metrics.js';
import type { UsageTap } from '../metering/usage-tap.js';
import type { LocalEndpoints } from '../security/endpoints.js';
import type { AccessControl } from '../acl/access.js';

/** What the admin handlers need: topic changes go through `controller`. */
export interface AdminContext {
  readonly config: BrokerConfig;
  readonly controller: TopicAdmin;
  readonly logger: Logger;
  /** Who may do what (acl/access.ts); absent: everything is allowed (authorization off, as in tests). */
  readonly access?: AccessControl;
}

/** The metadata a node serves, and the partitions it hosts (none on the controller-only process). */
export interface MetadataView {
  readonly image: MetadataImage;
  partition(topic: string, index: number): Partition | undefined;
}

/** What Metadata and DescribeConfigs need. */
export interface ServingContext extends AdminContext {
  readonly replicas: MetadataView;
  /** Advertised host and the port actually bound (filled in once the listener is up), with every listener's. */
  readonly endpoint: LocalEndpoints;
  /** The controller's node id, as Metadata names it; default: this node (the embedded controller). */
  readonly controllerId?: () => number;
  /** The controller running in this process, when one does: it answers the controller APIs. */
  readonly controllerApis?: ControllerApis;
  /** Where SASL server nonces come from (default: node:crypto); a cryptographic source in production. */
  readonly randomBytes?: (n: number) => Uint8Array;
}

export interface BrokerContext extends ServingContext {
  readonly replicas: ReplicaManager;
  readonly clock: Clock;
  /** Where InitProducerId takes producer ids (blocks from the controller); without it the broker does not offer the API. */
  readonly producerIds?: ProducerIdBlocks;
  /** The consumer-group coordinator (broker/coordinator/): absent in tests that build a broker without one. */
  readonly coordinator?: GroupCoordinator;
  /** The client side of the injected world, for requests to other brokers (the share-group coordinator's reads); absent on a single node. */
  readonly interBroker?: ClientWorld;
  /** Counts bytes and records in and out per topic (broker/metrics/); absent when metrics are off. */
  readonly meter?: TopicMeter;
  /** Counts what each principal moves in and out per topic, for billing (broker/metering/); absent when usage metering is off. */
  readonly usage?: UsageTap;
}

/** What the consumer-group handlers need. */
export interface GroupContext {
  readonly access: AccessControl;
  readonly coordinator: GroupCoordinator;
  readonly endpoint: LocalEndpoints;
  readonly config: { readonly nodeId: number };
  readonly logger: Logger;
}
