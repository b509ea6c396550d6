/**
 * How broker changes turn into registrations (image.ts's `applyChange`).
 *
 * The broker epoch is the version of the registration entry (as KRaft), so a
 * restarted broker registers again and gets a larger epoch, and requests
 * stamped with the old one can be told apart. A registration of an id that
 * is already registered replaces it whole. A broker registers fenced: it may
 * lead or join an ISR only after the controller unfences it (once it has
 * caught up with the metadata log). Fencing and unfencing name the epoch
 * they were decided for, so a decision about an earlier incarnation can
 * never touch the current one.
 */
import { assert } from '../world/assert.js';
import type { BrokerRegistered, MetadataChange } from './changes.js';
import type { BrokerRegistration } from './image.js';

const MAX_PORT = 65_535;

export function brokerRegistered(brokers: ReadonlyMap<number, BrokerRegistration>, change: BrokerRegistered, version: number): Map<number, BrokerRegistration> {
  assert(Number.isInteger(change.brokerId) && change.brokerId >= 0, 'a broker id is a non-negative integer', { brokerId: change.brokerId, version });
  assert(change.host !== '', 'a registered broker has a host', { brokerId: change.brokerId, version });
  assert(Number.isInteger(change.port) && change.port > 0 && change.port <= MAX_PORT, 'a registered broker has a port', { brokerId: change.brokerId, port: change.port, version });
  const registration: BrokerRegistration = {
    id: change.brokerId,
    incarnationId: change.incarnationId,
    host: change.host,
    port: change.port,
    rack: change.rack,
    epoch: version,
    fenced: true,
    ...(change.listeners === undefined || change.listeners.length === 0 ? {} : { listeners: change.listeners }),
  };
  return new Map(brokers).set(change.brokerId, registration);
}

export function brokerChanged(brokers: ReadonlyMap<number, BrokerRegistration>, change: Extract<MetadataChange, { kind: 'brokerFenced' | 'brokerUnfenced' }>, version: number): Map<number, BrokerRegistration> {
  const broker = brokers.get(change.brokerId);
  assert(broker !== undefined, 'a fenced or unfenced broker is registered', { change: change.kind, brokerId: change.brokerId, version });
  assert(broker.epoch === change.brokerEpoch, 'a fenced or unfenced broker is in the epoch named', { change: change.kind, brokerId: change.brokerId, epoch: broker.epoch, named: change.brokerEpoch, version });
  const fenced = change.kind === 'brokerFenced';
  assert(broker.fenced !== fenced, 'fencing and unfencing change the state', { change: change.kind, brokerId: change.brokerId, version });
  return new Map(brokers).set(change.brokerId, { ...broker, fenced });
}
