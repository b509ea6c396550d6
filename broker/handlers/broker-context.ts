/**
 * What every handler may use of the broker: settings, the controller (topic
 * changes), the replica manager (the metadata this broker serves, and the
 * one way to reach a partition: `partitionOrError`), the clock, the logger,
 * and the address clients reach this broker at. Passed to each handler's
 * factory once, at start-up.
 */
import type { BrokerConfig } from '../config.js';
import type { Controller } from '../controller/controller.js';
import type { Logger } from '../log.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { Clock } from '../world/clock.js';

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly controller: Controller;
  readonly replicas: ReplicaManager;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Advertised host and the port actually bound (filled in once the listener is up). */
  readonly endpoint: { host: string; port: number };
}
