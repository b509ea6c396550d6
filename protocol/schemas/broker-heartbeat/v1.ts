/**
 * BrokerHeartbeat (key 63): a registered broker tells the controller it is
 * alive, every broker.heartbeat.interval.ms. A broker silent for
 * broker.session.timeout.ms is fenced; a fenced broker is unfenced by a
 * heartbeat once it has applied the metadata log up to its registration.
 *
 * Version history:
 * - v0: the first version.
 * - v1: controlled shutdown (Kafka's KIP-631 shape). The request adds
 *   `wantShutDown`: the broker is stopping and asks the controller to move
 *   its leaderships and take it out of every ISR first. The response adds
 *   `shouldShutDown`: that is done and the broker has applied it, so it may
 *   stop without a partition waiting a session timeout for a new leader.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const brokerHeartbeatV1 = {
  request: {
    type: 'record',
    name: 'BrokerHeartbeatRequest',
    doc: 'A sign of life, with how far the broker has followed the metadata log.',
    fields: [
      { name: 'brokerId', type: 'int', doc: 'The broker\'s node id.' },
      { name: 'brokerEpoch', type: 'long', doc: 'The epoch BrokerRegistration gave; another one is STALE_BROKER_EPOCH.' },
      { name: 'metadataVersion', type: 'long', doc: 'The newest metadata version the broker has applied.' },
      { name: 'wantShutDown', type: 'boolean', default: false, doc: 'v1: the broker is shutting down; fence it and move its leaderships (it is never unfenced again in this epoch).' },
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
      { name: 'shouldShutDown', type: 'boolean', default: false, doc: 'v1: answering wantShutDown, the broker leads nothing and has applied the metadata that says so: it may stop now.' },
    ],
  },
} as const satisfies AvroApiVersion;
