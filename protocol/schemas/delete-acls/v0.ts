/**
 * DeleteAcls (key 31): remove every ACL binding each filter matches, and
 * say which (codes as describe-acls/v0.ts). Sent to any broker; the
 * controller decides.
 *
 * Version history:
 * - v0: the first version (Kafka's v1 fields).
 */
import type { AvroApiVersion } from '../../avro/schema.js';
import { aclFilterFields } from '../describe-acls/v0.js';

export const deleteAclsV0 = {
  request: {
    type: 'record',
    name: 'DeleteAclsRequest',
    doc: 'The filters whose matching bindings go.',
    fields: [
      {
        name: 'filters',
        doc: 'One per filter.',
        type: { type: 'array', items: { type: 'record', name: 'DeleteAclsFilter', doc: 'A filter over the bindings (as DescribeAcls).', fields: aclFilterFields } },
      },
    ],
  },
  response: {
    type: 'record',
    name: 'DeleteAclsResponse',
    doc: 'One result per filter, in order.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'filterResults',
        doc: 'In the order of the filters.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DeleteAclsFilterResult',
            doc: 'What one filter removed.',
            fields: [
              { name: 'errorCode', type: 'int', doc: 'NONE, INVALID_REQUEST (a bad filter) or CLUSTER_AUTHORIZATION_FAILED.' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
              {
                name: 'matchingAcls',
                doc: 'The bindings removed.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DeleteAclsMatchingAcl',
                    doc: 'One removed binding.',
                    fields: [
                      { name: 'errorCode', type: 'int', doc: 'NONE.' },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'null.' },
                      { name: 'resourceType', type: 'int', doc: '2 TOPIC, 3 GROUP, 4 CLUSTER.' },
                      { name: 'resourceName', type: 'string', doc: 'The name, the prefix, or *.' },
                      { name: 'patternType', type: 'int', doc: '3 LITERAL, 4 PREFIXED.' },
                      { name: 'principal', type: 'string', doc: 'User:<name> or User:*.' },
                      { name: 'host', type: 'string', doc: 'An address or *.' },
                      { name: 'operation', type: 'int', doc: 'The operation code.' },
                      { name: 'permissionType', type: 'int', doc: '2 DENY, 3 ALLOW.' },
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
