/**
 * AlterUserScramCredentials (key 51): creates, replaces or deletes SCRAM
 * credentials (Kafka's KIP-554 shape). The client salts and hashes the
 * password itself (PBKDF2), so the password never crosses the wire and the
 * broker only ever sees the salted password, from which the controller
 * derives StoredKey and ServerKey. Forwarded to the controller, as topic
 * admin requests are; applied through the metadata log.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const alterUserScramCredentialsV0 = {
  request: {
    type: 'record',
    name: 'AlterUserScramCredentialsRequest',
    doc: 'Deletions and upsertions; a user and mechanism may appear once in all.',
    fields: [
      {
        name: 'deletions',
        doc: 'Credentials to remove.',
        type: { type: 'array', items: { type: 'record', name: 'ScramCredentialDeletion', doc: 'One user and mechanism.', fields: [{ name: 'name', type: 'string', doc: 'The user name.' }, { name: 'mechanism', type: 'int', doc: '1: SCRAM-SHA-256, 2: SCRAM-SHA-512.' }] } },
      },
      {
        name: 'upsertions',
        doc: 'Credentials to create or replace.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ScramCredentialUpsertion',
            doc: 'One user and mechanism, salted by the client.',
            fields: [
              { name: 'name', type: 'string', doc: 'The user name.' },
              { name: 'mechanism', type: 'int', doc: '1: SCRAM-SHA-256, 2: SCRAM-SHA-512.' },
              { name: 'iterations', type: 'int', doc: 'PBKDF2 iterations used; at least 4096.' },
              { name: 'salt', type: 'bytes', doc: 'A random salt (at least 16 bytes).' },
              { name: 'saltedPassword', type: 'bytes', doc: 'Hi(password, salt, iterations) of RFC 5802.' },
            ],
          },
        },
      },
    ],
  },
  response: {
    type: 'record',
    name: 'AlterUserScramCredentialsResponse',
    doc: 'One result per user named.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'results',
        doc: 'One per distinct user, in the order first named.',
        type: { type: 'array', items: { type: 'record', name: 'AlterUserScramCredentialsResult', doc: 'One user.', fields: [{ name: 'user', type: 'string', doc: 'The user name.' }, { name: 'errorCode', type: 'int', doc: 'NONE, UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM, RESOURCE_NOT_FOUND (deleting what is not there), DUPLICATE_RESOURCE, NOT_CONTROLLER.' }, { name: 'errorMessage', type: ['null', 'string'], doc: 'For a person; null on success.' }] } },
      },
    ],
  },
} as const satisfies AvroApiVersion;
