/**
 * BrokerRegistration (key 62): a broker introduces itself to the controller
 * at every start, and again after STALE_BROKER_EPOCH. The answer is the
 * broker epoch it must send with every later controller request; a broker
 * is fenced (not in Metadata's broker list, leads nothing) until its first
 * heartbeat after catching up with the metadata log.
 *
 * Version history:
 * - v0: the first version.
 * - v1: the request adds `listeners`: every listener's name, security
 *   protocol and advertised endpoint, so a client is told each broker's
 *   endpoint on the listener it came in through (Kafka's
 *   BrokerRegistrationRequest listeners). Empty (v0): host/port is the one
 *   listener.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const brokerRegistrationV1 = {
  request: {
    type: 'record',
    name: 'BrokerRegistrationRequest',
    doc: 'Who the broker is and where clients reach it.',
    fields: [
      { name: 'brokerId', type: 'int', doc: 'The broker\'s node id (node.id).' },
      { name: 'clusterId', type: 'string', doc: 'The cluster id in the broker\'s data directory; must be the controller\'s.' },
      {
        name: 'incarnationId',
        type: 'string',
        doc: 'New at every start of the broker process: a restart is told apart from a second broker with the same id.',
      },
      { name: 'host', type: 'string', doc: 'Host name or address clients connect to.' },
      { name: 'port', type: 'int', doc: 'TCP port.' },
      { name: 'rack', type: ['null', 'string'], doc: 'Rack id, or null; placement spreads replicas across racks.' },
      {
        name: 'listeners',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'BrokerRegistrationListener',
            doc: 'One listener and where clients reach it.',
            fields: [
              { name: 'name', type: 'string', doc: 'The listener name (PLAINTEXT, SASL_SSL, INTERNAL, ...).' },
              { name: 'securityProtocol', type: 'string', doc: 'PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.' },
              { name: 'host', type: 'string', doc: 'Advertised host.' },
              { name: 'port', type: 'int', doc: 'TCP port.' },
            ],
          },
        },
        default: [],
        doc: 'v1: every listener; empty: host/port is the one listener.',
      },
    ],
  },
  response: {
    type: 'record',
    name: 'BrokerRegistrationResponse',
    doc: 'The registration\'s outcome.',
    fields: [
      {
        name: 'errorCode',
        type: 'int',
        doc: 'NONE, NOT_CONTROLLER, INCONSISTENT_CLUSTER_ID, DUPLICATE_BROKER_REGISTRATION, ...',
      },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What went wrong, for a person; null with NONE.' },
      { name: 'brokerEpoch', type: 'long', doc: 'The metadata version of this registration, larger at every registration; -1 with an error.' },
    ],
  },
} as const satisfies AvroApiVersion;
