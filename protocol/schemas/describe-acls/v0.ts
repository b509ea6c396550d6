/**
 * DescribeAcls (key 29): the ACL bindings a filter matches, grouped by
 * resource pattern. Kafka's shape (its v1, with pattern types) and codes:
 * resource type 1 ANY, 2 TOPIC, 3 GROUP, 4 CLUSTER; pattern type 1 ANY,
 * 2 MATCH, 3 LITERAL, 4 PREFIXED; operation 1 ANY, 2 ALL, 3 READ, 4 WRITE,
 * 5 CREATE, 6 DELETE, 7 ALTER, 8 DESCRIBE, 9 CLUSTER_ACTION,
 * 10 DESCRIBE_CONFIGS, 11 ALTER_CONFIGS, 12 IDEMPOTENT_WRITE; permission
 * 1 ANY, 2 DENY, 3 ALLOW (protocol/acl-codes.ts).
 *
 * Version history:
 * - v0: the first version (Kafka's v1 fields).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

/** The filter fields DescribeAcls and DeleteAcls share. */
export const aclFilterFields = [
  { name: 'resourceTypeFilter', type: 'int', doc: '1 ANY, 2 TOPIC, 3 GROUP, 4 CLUSTER.' },
  { name: 'resourceNameFilter', type: ['null', 'string'], doc: 'null: any name.' },
  { name: 'patternTypeFilter', type: 'int', doc: '1 ANY, 2 MATCH (every pattern that names this resource), 3 LITERAL, 4 PREFIXED.' },
  { name: 'principalFilter', type: ['null', 'string'], doc: 'User:<name>; null: any principal.' },
  { name: 'hostFilter', type: ['null', 'string'], doc: 'null: any host.' },
  { name: 'operation', type: 'int', doc: '1 ANY, or one operation code.' },
  { name: 'permissionType', type: 'int', doc: '1 ANY, 2 DENY, 3 ALLOW.' },
] as const;

export const describeAclsV0 = {
  request: {
    type: 'record',
    name: 'DescribeAclsRequest',
    doc: 'A filter over the ACL bindings.',
    fields: aclFilterFields,
  },
  response: {
    type: 'record',
    name: 'DescribeAclsResponse',
    doc: 'The bindings the filter matches, per resource pattern.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, INVALID_REQUEST (a bad filter) or CLUSTER_AUTHORIZATION_FAILED.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
      {
        name: 'resources',
        doc: 'One per resource pattern that has matching bindings.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DescribeAclsResource',
            doc: 'A resource pattern and its matching bindings.',
            fields: [
              { name: 'resourceType', type: 'int', doc: '2 TOPIC, 3 GROUP, 4 CLUSTER.' },
              { name: 'resourceName', type: 'string', doc: 'The name, the prefix, or *.' },
              { name: 'patternType', type: 'int', doc: '3 LITERAL, 4 PREFIXED.' },
              {
                name: 'acls',
                doc: 'The bindings on this pattern.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'AclDescription',
                    doc: 'Who may (or may not) do what from where.',
                    fields: [
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
