/**
 * Who is on the other end of a connection, as every handler sees it
 * (`ctx.session`): the listener it came in through, that listener's
 * security protocol, and the principal, in Kafka's `User:<name>` form, for
 * ACLs and quotas.
 *
 * - PLAINTEXT, and SSL without a verified client certificate: User:ANONYMOUS.
 * - SSL with a verified client certificate: User:<CN of its subject>.
 * - SASL_PLAINTEXT and SASL_SSL: unauthenticated until SaslAuthenticate
 *   succeeds, then User:<SCRAM user name>. Until then only ApiVersions,
 *   SaslHandshake and SaslAuthenticate are accepted (`refusal`); anything
 *   else closes the connection.
 */
import { ApiKey, apiNameOf } from '../../protocol/api-keys.js';
import type { ScramMechanism } from '../../client/security/scram.js';
import { usesSasl, type SecurityProtocol } from './listeners.js';
import type { ScramServerExchange } from './scram-server.js';

export const ANONYMOUS = 'User:ANONYMOUS';

/** The APIs a SASL connection may send before it has authenticated (Kafka's rule). */
const BEFORE_AUTHENTICATION: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

/** Where a SASL connection is in its exchange. */
export type SaslState =
  | { step: 'handshake' }
  | { step: 'authenticating'; mechanism: ScramMechanism; exchange: ScramServerExchange }
  | { step: 'done' };

export class ConnectionSession {
  readonly listener: string;
  readonly securityProtocol: SecurityProtocol;
  /** A request the broker runs for itself (a forwarded admin request the controller answers): its sender was authorized where it came in. */
  readonly internal: boolean;
  #principal: string;
  #authenticated: boolean;
  /** The SASL exchange (SASL listeners only; the SASL handlers move it along). */
  sasl: SaslState = { step: 'handshake' };
  readonly #onAuthenticated: (principal: string) => void;

  constructor(opts: { listener: string; securityProtocol: SecurityProtocol; peerCertificateCn?: string | null | undefined; onAuthenticated?: (principal: string) => void; internal?: boolean }) {
    this.listener = opts.listener;
    this.internal = opts.internal ?? false;
    this.securityProtocol = opts.securityProtocol;
    this.#authenticated = !usesSasl(opts.securityProtocol);
    const cn = opts.peerCertificateCn;
    this.#principal = opts.securityProtocol === 'SSL' && typeof cn === 'string' ? `User:${cn}` : ANONYMOUS;
    this.#onAuthenticated = opts.onAuthenticated ?? (() => undefined);
  }

  /** `User:<name>`; User:ANONYMOUS until a SASL connection authenticates. */
  get principal(): string {
    return this.#principal;
  }

  get authenticated(): boolean {
    return this.#authenticated;
  }

  get usesSasl(): boolean {
    return usesSasl(this.securityProtocol);
  }

  /** A SASL exchange succeeded for `username`. */
  authenticate(username: string): void {
    this.#authenticated = true;
    this.#principal = `User:${username}`;
    this.sasl = { step: 'done' };
    this.#onAuthenticated(this.#principal);
  }

  /** Why a request with `apiKey` may not be handled on this connection yet, or null when it may. */
  refusal(apiKey: number): string | null {
    if (this.#authenticated || BEFORE_AUTHENTICATION.has(apiKey)) return null;
    return `${apiNameOf(apiKey) ?? `API key ${apiKey}`} before SASL authentication on listener ${this.listener} (${this.securityProtocol}); only ApiVersions, SaslHandshake and SaslAuthenticate may come first`;
  }
}

/** The session of requests that come from no connection (forwarded admin requests run by the controller itself, tests): listener '', no listener's endpoints. */
export function internalSession(): ConnectionSession {
  return new ConnectionSession({ listener: '', securityProtocol: 'PLAINTEXT', internal: true });
}
