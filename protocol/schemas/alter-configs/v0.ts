/**
 * AlterConfigs (key 33): change settings of topics or brokers,
 * incrementally: each entry sets one setting or resets it to its default.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const resourceType = (name: string) =>
  ({ type: 'enum', name, doc: 'What kind of resource.', symbols: ['topic', 'broker'] }) as const;

export const alterConfigsV0 = {
  request: {
    type: 'record',
    name: 'AlterConfigsRequest',
    doc: 'The changes to make.',
    fields: [
      {
        name: 'resources',
        doc: 'One entry per resource.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AlterConfigsResource',
            doc: 'The changes to one topic or broker.',
            fields: [
              { name: 'type', type: resourceType('AlterConfigsResourceType'), doc: '"topic" or "broker".' },
              { name: 'name', type: 'string', doc: 'Topic name, or broker id as text.' },
              {
                name: 'configs',
                doc: 'The settings to change.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'AlterableConfig',
                    doc: 'One change.',
                    fields: [
                      { name: 'name', type: 'string', doc: 'Setting name.' },
                      { name: 'value', type: ['null', 'string'], doc: 'New value; null resets the setting to its default.' },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
      { name: 'validateOnly', type: 'boolean', doc: 'Check the changes without applying them.' },
    ],
  },
  response: {
    type: 'record',
    name: 'AlterConfigsResponse',
    doc: 'One result per requested resource.',
    fields: [
      {
        name: 'results',
        doc: 'The results, in request order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AlterConfigsResult',
            doc: 'The outcome for one resource.',
            fields: [
              { name: 'type', type: resourceType('AlterConfigsResultType'), doc: '"topic" or "broker".' },
              { name: 'name', type: 'string', doc: 'The resource name.' },
              { name: 'errorCode', type: 'int', doc: 'NONE, INVALID_CONFIG, UNKNOWN_TOPIC_OR_PARTITION, ...' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'Which setting was refused and why; null on success.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
