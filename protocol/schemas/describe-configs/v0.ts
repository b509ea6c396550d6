/**
 * DescribeConfigs (key 32): the effective settings of topics or brokers, and
 * where each value comes from.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const resourceType = (name: string) =>
  ({ type: 'enum', name, doc: 'What kind of resource.', symbols: ['topic', 'broker'] }) as const;

export const describeConfigsV0 = {
  request: {
    type: 'record',
    name: 'DescribeConfigsRequest',
    doc: 'The resources to describe.',
    fields: [
      {
        name: 'resources',
        doc: 'One entry per resource.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DescribeConfigsResource',
            doc: 'One topic or broker.',
            fields: [
              { name: 'type', type: resourceType('DescribeConfigsResourceType'), doc: '"topic" or "broker".' },
              { name: 'name', type: 'string', doc: 'Topic name, or broker id as text.' },
              {
                name: 'configNames',
                type: ['null', { type: 'array', items: 'string' }],
                doc: 'The settings to describe; null for every setting.',
              },
            ],
          },
        },
      },
    ],
  },
  response: {
    type: 'record',
    name: 'DescribeConfigsResponse',
    doc: 'One result per requested resource.',
    fields: [
      {
        name: 'results',
        doc: 'The results, in request order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DescribeConfigsResult',
            doc: 'The settings of one resource.',
            fields: [
              { name: 'type', type: resourceType('DescribeConfigsResultType'), doc: '"topic" or "broker".' },
              { name: 'name', type: 'string', doc: 'The resource name.' },
              { name: 'errorCode', type: 'int', doc: 'NONE or UNKNOWN_TOPIC_OR_PARTITION, ...' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
              {
                name: 'configs',
                doc: 'The settings asked for.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DescribedConfig',
                    doc: 'One setting.',
                    fields: [
                      { name: 'name', type: 'string', doc: 'Setting name.' },
                      { name: 'value', type: ['null', 'string'], doc: 'Effective value; null when sensitive.' },
                      {
                        name: 'source',
                        type: { type: 'enum', name: 'ConfigSource', doc: 'Where the value comes from.', symbols: ['default', 'broker', 'topic'] },
                        doc: '"default" (built in), "broker" (broker config) or "topic" (set on the topic).',
                      },
                      { name: 'readOnly', type: 'boolean', doc: 'True when AlterConfigs cannot change it.' },
                      { name: 'sensitive', type: 'boolean', doc: 'True when the value is hidden.' },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
