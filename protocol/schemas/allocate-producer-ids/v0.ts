/**
 * AllocateProducerIds (key 67, Kafka's): a broker asks the controller for a
 * block of idempotent-producer ids, from which it answers InitProducerId on
 * its own until the block runs out. The controller commits each block to the
 * metadata log before answering, so no id is handed out twice, across
 * brokers, restarts and controller failovers.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const allocateProducerIdsV0 = {
  request: {
    type: 'record',
    name: 'AllocateProducerIdsRequest',
    doc: 'A broker\'s request for its next block of producer ids.',
    fields: [
      { name: 'brokerId', type: 'int', doc: 'The asking broker\'s node id.' },
      { name: 'brokerEpoch', type: 'long', doc: 'Its broker epoch; another one is STALE_BROKER_EPOCH.' },
    ],
  },
  response: {
    type: 'record',
    name: 'AllocateProducerIdsResponse',
    doc: 'The block handed out.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, NOT_CONTROLLER, STALE_BROKER_EPOCH, REQUEST_TIMED_OUT (the metadata store did not commit it: retry).' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      { name: 'producerIdStart', type: 'long', doc: 'The first id of the block; -1 with an error.' },
      { name: 'producerIdLen', type: 'int', doc: 'How many ids the block holds; 0 with an error.' },
    ],
  },
} as const satisfies AvroApiVersion;
