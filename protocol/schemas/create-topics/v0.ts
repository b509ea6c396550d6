/**
 * CreateTopics (key 19): create topics with a partition count, replication
 * factor and per-topic settings.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const createTopicsV0 = {
  request: {
    type: 'record',
    name: 'CreateTopicsRequest',
    doc: 'The topics to create.',
    fields: [
      {
        name: 'topics',
        doc: 'One entry per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'CreatableTopic',
            doc: 'One topic to create.',
            fields: [
              { name: 'name', type: 'string', doc: '1 to 249 characters of [a-zA-Z0-9._-], not "." or "..".' },
              { name: 'partitions', type: 'int', doc: 'Number of partitions, at least 1.' },
              { name: 'replicationFactor', type: 'int', doc: 'Replicas per partition, at least 1.' },
              {
                name: 'configs',
                doc: 'Topic settings that differ from the broker defaults.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'CreatableTopicConfig',
                    doc: 'One setting.',
                    fields: [
                      { name: 'name', type: 'string', doc: 'Setting name, e.g. "retention.ms".' },
                      { name: 'value', type: 'string', doc: 'Its value, as text.' },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the topics to be created.' },
      { name: 'validateOnly', type: 'boolean', doc: 'Check the request without creating anything.' },
    ],
  },
  response: {
    type: 'record',
    name: 'CreateTopicsResponse',
    doc: 'One result per requested topic.',
    fields: [
      {
        name: 'topics',
        doc: 'The results, in request order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'CreatableTopicResult',
            doc: 'The outcome for one topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              { name: 'errorCode', type: 'int', doc: 'NONE, TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, ...' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
              { name: 'partitions', type: 'int', doc: 'Partitions created (or that would be, with validateOnly).' },
              { name: 'replicationFactor', type: 'int', doc: 'Replication factor used.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
