/**
 * InitProducerId (key 22): a producer id and epoch for an idempotent
 * producer. Batches carry them with a sequence number per partition, so a
 * partition leader recognises a retried batch and answers it with the
 * original offsets instead of appending it twice. Sent to any broker; ids
 * are unique across the cluster (brokers take blocks of them from the
 * controller).
 *
 * Version history:
 * - v0: the first version (no transactions: transactionalId must be null).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const initProducerIdV0 = {
  request: {
    type: 'record',
    name: 'InitProducerIdRequest',
    doc: 'Ask for a producer id, or a new epoch of one held already.',
    fields: [
      { name: 'transactionalId', type: ['null', 'string'], doc: 'Must be null (transactions are not supported).' },
      { name: 'transactionTimeoutMs', type: 'int', doc: 'Unused without transactions; send -1.' },
      { name: 'producerId', type: 'long', doc: '-1 for a new id; else the id held, to bump its epoch (after a sequence error), keeping the id.' },
      { name: 'producerEpoch', type: 'int', doc: '-1 for a new id; else the epoch held.' },
    ],
  },
  response: {
    type: 'record',
    name: 'InitProducerIdResponse',
    doc: 'The id and epoch to stamp batches with.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, COORDINATOR_NOT_AVAILABLE (no id block from the controller yet: retry), INVALID_REQUEST, INVALID_PRODUCER_EPOCH.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      { name: 'producerId', type: 'long', doc: 'The producer id; -1 with an error.' },
      { name: 'producerEpoch', type: 'int', doc: 'Its epoch; -1 with an error.' },
    ],
  },
} as const satisfies AvroApiVersion;
