/**
 * AlterClientQuotas (key 49): sets or removes client quotas on entities
 * (Kafka's KIP-546 shape). Forwarded to the controller, which checks every
 * entry and commits those that pass to the metadata log; each broker then
 * enforces them on its own traffic. `validateOnly` checks without changing.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const entity = {
  type: 'array',
  items: {
    type: 'record',
    name: 'AlterClientQuotasEntityComponent',
    doc: 'One part of an entity.',
    fields: [
      { name: 'entityType', type: 'string', doc: 'user or client-id.' },
      { name: 'entityName', type: ['null', 'string'], doc: 'The name; null: the default.' },
    ],
  },
} as const;

export const alterClientQuotasV0 = {
  request: {
    type: 'record',
    name: 'AlterClientQuotasRequest',
    doc: 'Changes per entity.',
    fields: [
      {
        name: 'entries',
        doc: 'An entity may appear once.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AlterClientQuotasEntry',
            doc: 'One entity and what changes on it.',
            fields: [
              { name: 'entity', type: entity, doc: 'A user and/or a client-id component.' },
              {
                name: 'ops',
                doc: 'A key may appear once.',
                type: { type: 'array', items: { type: 'record', name: 'ClientQuotaOp', doc: 'Set or remove one quota.', fields: [{ name: 'key', type: 'string', doc: 'producer_byte_rate, consumer_byte_rate or request_rate.' }, { name: 'value', type: 'long', doc: 'The rate per second, a whole number above 0; ignored when removing.' }, { name: 'remove', type: 'boolean', doc: 'Remove the quota instead of setting it.' }] } },
              },
            ],
          },
        },
      },
      { name: 'validateOnly', type: 'boolean', doc: 'Check every entry and answer as if applied, changing nothing.' },
    ],
  },
  response: {
    type: 'record',
    name: 'AlterClientQuotasResponse',
    doc: 'One result per entry.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'entries',
        doc: 'In the order asked.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AlterClientQuotasResult',
            doc: 'One entity.',
            fields: [
              { name: 'errorCode', type: 'int', doc: 'NONE, INVALID_REQUEST (bad entity or op), NOT_CONTROLLER.' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
              { name: 'entity', type: entity, doc: 'The entity, as asked.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
