/**
 * DescribeUserScramCredentials (key 50): which SCRAM mechanisms (and
 * iteration counts) each user has a credential for. Never the salt or keys.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const describeUserScramCredentialsV0 = {
  request: {
    type: 'record',
    name: 'DescribeUserScramCredentialsRequest',
    doc: 'The users to describe.',
    fields: [{ name: 'users', type: ['null', { type: 'array', items: 'string' }], doc: 'User names; null: every user that has a credential.' }],
  },
  response: {
    type: 'record',
    name: 'DescribeUserScramCredentialsResponse',
    doc: 'One result per user.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'A whole-request error, or NONE.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
      {
        name: 'results',
        doc: 'In the order asked (sorted by name when every user was asked for).',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DescribeUserScramCredentialsResult',
            doc: 'One user.',
            fields: [
              { name: 'user', type: 'string', doc: 'The user name.' },
              { name: 'errorCode', type: 'int', doc: 'NONE, or RESOURCE_NOT_FOUND (no credential), DUPLICATE_RESOURCE (named twice).' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' },
              {
                name: 'credentialInfos',
                doc: 'One per mechanism the user has a credential for.',
                type: { type: 'array', items: { type: 'record', name: 'CredentialInfo', doc: 'A mechanism and its iteration count.', fields: [{ name: 'mechanism', type: 'int', doc: '1: SCRAM-SHA-256, 2: SCRAM-SHA-512 (Kafka\'s numbering).' }, { name: 'iterations', type: 'int', doc: 'PBKDF2 iterations of the credential.' }] } },
              },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
