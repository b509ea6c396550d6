/**
 * SaslAuthenticate (key 36): one step of the SASL exchange chosen with
 * SaslHandshake; for SCRAM two requests (client-first, client-final). A
 * failed step answers SASL_AUTHENTICATION_FAILED and the broker closes the
 * connection.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const saslAuthenticateV0 = {
  request: {
    type: 'record',
    name: 'SaslAuthenticateRequest',
    doc: 'The client\'s next SASL message.',
    fields: [{ name: 'authBytes', type: 'bytes', doc: 'The mechanism\'s message (for SCRAM: client-first, then client-final, UTF-8).' }],
  },
  response: {
    type: 'record',
    name: 'SaslAuthenticateResponse',
    doc: 'The broker\'s next SASL message, or why the exchange failed.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'NONE, SASL_AUTHENTICATION_FAILED (the connection is then closed), or ILLEGAL_SASL_STATE (no handshake first).' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What failed, for a person; null on success. Never says whether the user exists.' },
      { name: 'authBytes', type: 'bytes', doc: 'The broker\'s message (SCRAM: server-first, then server-final); empty on failure.' },
      { name: 'sessionLifetimeMs', type: 'long', doc: 'How long the authenticated session lasts; 0: as long as the connection.' },
    ],
  },
} as const satisfies AvroApiVersion;
