/**
 * What every handler may use of the broker: settings, the controller (topics
 * and their partitions), the clock, the logger, and the address clients reach
 * this broker at. Passed to each handler's factory once, at start-up.
 */
import type { BrokerConfig } from '../config.js';
import type { Controller } from '../controller.js';
import type { Logger } from '../log.js';
import type { Clock } from '../world/clock.js';

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly controller: Controller;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Advertised host and the port actually bound (filled in once the listener is up). */
  readonly endpoint: { host: string; port: number };
}
