/**
 * DeleteTopics (key 20): delete topics and their data.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const deleteTopicsV0 = {
  request: {
    type: 'record',
    name: 'DeleteTopicsRequest',
    doc: 'The topics to delete.',
    fields: [
      { name: 'topics', type: { type: 'array', items: 'string' }, doc: 'Topic names.' },
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the deletion.' },
    ],
  },
  response: {
    type: 'record',
    name: 'DeleteTopicsResponse',
    doc: 'One result per requested topic.',
    fields: [
      {
        name: 'topics',
        doc: 'The results, in request order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DeletableTopicResult',
            doc: 'The outcome for one topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              { name: 'errorCode', type: 'int', doc: 'NONE or UNKNOWN_TOPIC_OR_PARTITION, ...' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
