/**
 * BrokerHeartbeat (key 63): a registered broker tells the controller it is
 * alive, every broker.heartbeat.interval.ms. A broker silent for
 * broker.session.timeout.ms is fenced; a fenced broker is unfenced by a
 * heartbeat once it has applied the metadata log up to its registration.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const brokerHeartbeatV0 = {
  request: {
    type: 'record',
    name: 'BrokerHeartbeatRequest',
    doc: 'A sign of life, with how far the broker has followed the metadata log.',
    fields: [
      { name: 'brokerId', type: 'int', doc: 'The broker\'s node id.' },
      { name: 'brokerEpoch', type: 'long', doc: 'The epoch BrokerRegistration gave; another one is STALE_BROKER_EPOCH.' },
      { name: 'metadataVersion', type: 'long', doc: 'The newest metadata version the broker has applied.' },
    ],
  },
  response: {
    type: 'record',
    name: 'BrokerHeartbeatResponse',
    doc: 'The broker\'s standing.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'NONE, NOT_CONTROLLER, STALE_BROKER_EPOCH (register again), ...' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What went wrong, for a person; null with NONE.' },
      { name: 'fenced', type: 'boolean', doc: 'Whether the broker is fenced (clients are not sent to it; it leads nothing) after this heartbeat.' },
    ],
  },
} as const satisfies AvroApiVersion;
