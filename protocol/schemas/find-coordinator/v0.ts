/**
 * FindCoordinator (key 10): which broker coordinates a group. The
 * coordinator of group G is the leader of partition hash(G) of the internal
 * topic `__consumer_offsets`; the first request for any group creates that
 * topic. Sent to any broker.
 *
 * Version history:
 * - v0: the first version (Kafka's v4 shape: several keys per request).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const findCoordinatorV0 = {
  request: {
    type: 'record',
    name: 'FindCoordinatorRequest',
    doc: 'The keys to find coordinators for.',
    fields: [
      { name: 'keyType', type: 'int', doc: '0: a consumer group (the only kind so far).' },
      { name: 'keys', type: { type: 'array', items: 'string' }, doc: 'The group ids.' },
    ],
  },
  response: {
    type: 'record',
    name: 'FindCoordinatorResponse',
    doc: 'One coordinator per key.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'coordinators',
        doc: 'In the order of the request\'s keys.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'Coordinator',
            doc: 'The coordinator of one key.',
            fields: [
              { name: 'key', type: 'string', doc: 'The group id.' },
              { name: 'nodeId', type: 'int', doc: 'The coordinator\'s broker id; -1 with an error.' },
              { name: 'host', type: 'string', doc: 'Its host; empty with an error.' },
              { name: 'port', type: 'int', doc: 'Its port; -1 with an error.' },
              { name: 'errorCode', type: 'int', doc: 'NONE, COORDINATOR_NOT_AVAILABLE (no leader for the group\'s partition yet: retry), INVALID_GROUP_ID, INVALID_REQUEST (unknown keyType).' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
