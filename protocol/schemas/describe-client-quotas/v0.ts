/**
 * DescribeClientQuotas (key 48): the client quotas set on the entities that
 * match a filter (Kafka's KIP-546 shape). Entities are made of a `user`
 * and/or a `client-id` component, each a name or the default; each filter
 * component matches one type exactly, its default, or any value.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const entityComponent = {
  type: 'record',
  name: 'ClientQuotaEntityComponent',
  doc: 'One part of an entity.',
  fields: [
    { name: 'entityType', type: 'string', doc: 'user or client-id.' },
    { name: 'entityName', type: ['null', 'string'], doc: 'The name; null: the default (every user or client id without an entry of its own).' },
  ],
} as const;

const clientQuotaEntity = { type: 'array', items: entityComponent } as const;

export const describeClientQuotasV0 = {
  request: {
    type: 'record',
    name: 'DescribeClientQuotasRequest',
    doc: 'Which entities to describe.',
    fields: [
      {
        name: 'components',
        doc: 'Every component must match (none: every entity).',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ClientQuotaFilterComponent',
            doc: 'A condition on one entity type.',
            fields: [
              { name: 'entityType', type: 'string', doc: 'user or client-id.' },
              { name: 'matchType', type: 'int', doc: '0: the name in `match`; 1: the default; 2: any value (the entity must have this type).' },
              { name: 'match', type: ['null', 'string'], doc: 'The name to match when matchType is 0; null otherwise.' },
            ],
          },
        },
      },
      { name: 'strict', type: 'boolean', doc: 'Only entities with no component types beyond those filtered on.' },
    ],
  },
  response: {
    type: 'record',
    name: 'DescribeClientQuotasResponse',
    doc: 'The matching entities and their quotas.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, or INVALID_REQUEST (a bad filter).' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
      {
        name: 'entries',
        doc: 'One per matching entity; null on error.',
        type: [
          'null',
          {
            type: 'array',
            items: {
              type: 'record',
              name: 'DescribeClientQuotasEntry',
              doc: 'One entity.',
              fields: [
                { name: 'entity', type: clientQuotaEntity, doc: 'Its components, user first.' },
                {
                  name: 'values',
                  doc: 'Its quotas.',
                  type: { type: 'array', items: { type: 'record', name: 'ClientQuotaValue', doc: 'One quota.', fields: [{ name: 'key', type: 'string', doc: 'producer_byte_rate, consumer_byte_rate or request_rate.' }, { name: 'value', type: 'long', doc: 'The rate per second (bytes, or requests); a whole number.' }] } },
                },
              ],
            },
          },
        ],
      },
    ],
  },
} as const satisfies AvroApiVersion;
