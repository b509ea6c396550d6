/**
 * The SDK's `tls` and `sasl` options turned into the transport every
 * connection of a client runs on: TLS below (tls: true for the system's
 * CAs, or { ca, cert, key, rejectUnauthorized }), SCRAM above it
 * (sasl-transport.ts). Checked once, when the client is made, so a typo in
 * the mechanism is an error at `new Runnel()`, not a failed connect later.
 */
import { RunnelError } from '../errors.js';
import type { ClientTransport } from '../transport.js';
import { tlsClientTransport, type ClientTlsOptions } from '../transport-node.js';
import { secureRandomBytes } from './random.js';
import { saslTransport } from './sasl-transport.js';
import { isScramMechanism } from './scram.js';

export type TlsOption = true | ClientTlsOptions;

export interface SaslOption {
  /** SCRAM-SHA-256 or SCRAM-SHA-512 (either case). */
  mechanism: 'scram-sha-256' | 'scram-sha-512' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

export function securedTransport(transport: ClientTransport, tls: TlsOption | undefined, sasl: SaslOption | undefined): ClientTransport {
  let secured = transport;
  if (tls !== undefined && tls !== null) {
    if (tls !== true && typeof tls !== 'object') throw new RunnelError('INVALID_ARGUMENT', 'tls must be true or { ca?, cert?, key?, rejectUnauthorized? }');
    if (tls !== true && (tls.cert === undefined) !== (tls.key === undefined)) throw new RunnelError('INVALID_ARGUMENT', 'tls.cert and tls.key go together (a client certificate needs its key)');
    secured = tlsClientTransport(tls === true ? {} : tls);
  }
  if (sasl !== undefined && sasl !== null) {
    const mechanism = typeof sasl.mechanism === 'string' ? sasl.mechanism.toUpperCase() : '';
    if (!isScramMechanism(mechanism)) throw new RunnelError('INVALID_ARGUMENT', `sasl.mechanism must be scram-sha-256 or scram-sha-512, got ${JSON.stringify(sasl.mechanism)}`);
    if (typeof sasl.username !== 'string' || sasl.username === '') throw new RunnelError('INVALID_ARGUMENT', 'sasl.username must be a non-empty string');
    if (typeof sasl.password !== 'string') throw new RunnelError('INVALID_ARGUMENT', 'sasl.password must be a string');
    secured = saslTransport(secured, { mechanism, username: sasl.username, password: sasl.password }, secureRandomBytes);
  }
  return secured;
}
