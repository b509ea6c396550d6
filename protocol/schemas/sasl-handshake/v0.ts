/**
 * SaslHandshake (key 17): the first step of SASL on a SASL listener (Kafka's
 * shape, its v1 semantics: the exchange then runs in SaslAuthenticate
 * requests, never as raw bytes). The broker says which mechanisms it
 * enables; an unknown one is UNSUPPORTED_SASL_MECHANISM.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const saslHandshakeV0 = {
  request: {
    type: 'record',
    name: 'SaslHandshakeRequest',
    doc: 'The mechanism the client will authenticate with.',
    fields: [{ name: 'mechanism', type: 'string', doc: 'SCRAM-SHA-256 or SCRAM-SHA-512.' }],
  },
  response: {
    type: 'record',
    name: 'SaslHandshakeResponse',
    doc: 'Whether the mechanism is enabled, and the ones that are.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'NONE, UNSUPPORTED_SASL_MECHANISM, or ILLEGAL_SASL_STATE (not a SASL listener, or a handshake already made).' },
      { name: 'mechanisms', type: { type: 'array', items: 'string' }, doc: 'The mechanisms this listener enables.' },
    ],
  },
} as const satisfies AvroApiVersion;
