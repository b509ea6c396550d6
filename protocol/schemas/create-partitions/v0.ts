/**
 * CreatePartitions (key 37): add partitions to existing topics. A topic's
 * partition count only grows; records already written stay where they are,
 * so keys map to other partitions from then on (as in Kafka).
 *
 * Version history:
 * - v0: the first version (no replica assignments: a single node places
 *   every new partition on itself).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const createPartitionsV0 = {
  request: {
    type: 'record',
    name: 'CreatePartitionsRequest',
    doc: 'The topics to grow.',
    fields: [
      {
        name: 'topics',
        doc: 'One entry per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'CreatePartitionsTopic',
            doc: 'One topic and the partition count it should have.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              { name: 'count', type: 'int', doc: 'The new total number of partitions: more than the topic has now.' },
            ],
          },
        },
      },
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the partitions to be created.' },
      { name: 'validateOnly', type: 'boolean', doc: 'Check the request without adding anything.' },
    ],
  },
  response: {
    type: 'record',
    name: 'CreatePartitionsResponse',
    doc: 'One result per requested topic.',
    fields: [
      {
        name: 'results',
        doc: 'The results, in request order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'CreatePartitionsTopicResult',
            doc: 'The outcome for one topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              { name: 'errorCode', type: 'int', doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS, KAFKA_STORAGE_ERROR, ...' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
