/**
 * CreateAcls (key 30): add ACL bindings, each checked and answered on its
 * own (codes as describe-acls/v0.ts). Adding a binding that exists already
 * succeeds and stores it once. Sent to any broker; the controller decides.
 *
 * Version history:
 * - v0: the first version (Kafka's v1 fields).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const createAclsV0 = {
  request: {
    type: 'record',
    name: 'CreateAclsRequest',
    doc: 'The bindings to add.',
    fields: [
      {
        name: 'creations',
        doc: 'One per binding.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AclCreation',
            doc: 'One binding: a resource pattern, a principal, a host, an operation and allow or deny.',
            fields: [
              { name: 'resourceType', type: 'int', doc: '2 TOPIC, 3 GROUP, 4 CLUSTER.' },
              { name: 'resourceName', type: 'string', doc: 'The name, the prefix, or * (the cluster: runnel-cluster).' },
              { name: 'resourcePatternType', type: 'int', doc: '3 LITERAL, 4 PREFIXED.' },
              { name: 'principal', type: 'string', doc: 'User:<name> or User:*.' },
              { name: 'host', type: 'string', doc: 'An address or *.' },
              { name: 'operation', type: 'int', doc: 'The operation code (not ANY).' },
              { name: 'permissionType', type: 'int', doc: '2 DENY, 3 ALLOW.' },
            ],
          },
        },
      },
    ],
  },
  response: {
    type: 'record',
    name: 'CreateAclsResponse',
    doc: 'One result per creation, in order.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'results',
        doc: 'In the order of the creations.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AclCreationResult',
            doc: 'One creation\'s outcome.',
            fields: [
              { name: 'errorCode', type: 'int', doc: 'NONE, INVALID_REQUEST (a bad binding) or CLUSTER_AUTHORIZATION_FAILED.' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
