/**
 * The broker's half of a SCRAM exchange (RFC 5802 section 3), one per
 * connection: client-first -> server-first (salt, iterations, the client's
 * nonce extended with ours), client-final -> the proof checked against the
 * stored key -> server-final (our signature), or a failure.
 *
 * An unknown user is not told apart from a wrong password: the exchange
 * runs on a made-up credential and fails at the proof with the same error,
 * so a client cannot list the users by trying names. The proof is compared
 * in constant time.
 */
import {
  DEFAULT_SCRAM_ITERATIONS,
  constantTimeEqual,
  decodeSaslName,
  digest,
  hashOf,
  hmac,
  nonceFrom,
  parseAttributes,
  xor,
  type ScramCredential,
  type ScramHash,
  type ScramMechanism,
} from '../../client/security/scram.js';

/** Why authentication failed, for the log; the client hears only that it failed (and a malformed message's reason). */
export class ScramAuthenticationError extends Error {
  override name = 'ScramAuthenticationError';
  /** `malformed`: the client broke the protocol (said to it); otherwise the credential was wrong (not said which way). */
  constructor(message: string, readonly malformed = false) {
    super(message);
  }
}

export type ScramStep =
  | { done: false; reply: string }
  /** Authenticated as `username`; `reply` is the server-final message. */
  | { done: true; reply: string; username: string };

export class ScramServerExchange {
  readonly #hash: ScramHash;
  readonly #lookup: (username: string) => ScramCredential | undefined;
  readonly #randomBytes: (n: number) => Uint8Array;
  #state: 'first' | 'final' | 'done' = 'first';
  #username = '';
  #credential: ScramCredential | null = null;
  #known = false;
  #nonce = '';
  #authPrefix = '';

  /** `randomBytes`: a cryptographic source (the server nonce must be unpredictable). */
  constructor(mechanism: ScramMechanism | { hash: ScramHash }, lookup: (username: string) => ScramCredential | undefined, randomBytes: (n: number) => Uint8Array) {
    this.#hash = typeof mechanism === 'string' ? hashOf(mechanism) : mechanism.hash;
    this.#lookup = lookup;
    this.#randomBytes = randomBytes;
  }

  /** Takes the client's next message; throws ScramAuthenticationError when the exchange fails. */
  step(message: string): ScramStep {
    if (this.#state === 'first') return this.#first(message);
    if (this.#state === 'final') return this.#final(message);
    throw new ScramAuthenticationError('the exchange is already complete', true);
  }

  #first(message: string): ScramStep {
    // gs2-header: no channel binding ('n' or 'y'), no authzid other than the user itself.
    const match = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(message);
    if (match === null) throw new ScramAuthenticationError('client-first message is malformed (channel binding is not supported)', true);
    const bare = match[3] as string;
    const attrs = parseAttributes(bare);
    const name = attrs?.get('n');
    const clientNonce = attrs?.get('r');
    const username = name === undefined ? null : decodeSaslName(name);
    if (attrs === null || username === null || username === '' || clientNonce === undefined || clientNonce === '' || attrs.has('m')) {
      throw new ScramAuthenticationError('client-first message is malformed (it needs n=<user>,r=<nonce>)', true);
    }
    const authzid = match[2] === undefined ? null : decodeSaslName(match[2].slice(2));
    if (authzid !== null && authzid !== '' && authzid !== username) throw new ScramAuthenticationError(`user ${username} may not act as ${authzid}`);
    this.#username = username;
    const stored = this.#lookup(username);
    this.#known = stored !== undefined;
    this.#credential = stored ?? this.#decoy();
    this.#nonce = clientNonce + nonceFrom(this.#randomBytes(18));
    const serverFirst = `r=${this.#nonce},s=${Buffer.from(this.#credential.salt).toString('base64')},i=${this.#credential.iterations}`;
    this.#authPrefix = `${bare},${serverFirst}`;
    this.#state = 'final';
    return { done: false, reply: serverFirst };
  }

  #final(message: string): ScramStep {
    this.#state = 'done';
    const proofAt = message.lastIndexOf(',p=');
    const attrs = proofAt < 0 ? null : parseAttributes(message.slice(0, proofAt));
    if (attrs === null || attrs.get('c') === undefined || attrs.get('r') === undefined) throw new ScramAuthenticationError('client-final message is malformed (it needs c=,r=,p=)', true);
    if (attrs.get('r') !== this.#nonce) throw new ScramAuthenticationError('client-final nonce is not the one this exchange agreed', true);
    const gs2 = Buffer.from(attrs.get('c') as string, 'base64').toString('utf8');
    if (!/^[ny],/.test(gs2)) throw new ScramAuthenticationError('client-final asks for channel binding, which is not supported', true);
    const credential = this.#credential!;
    const authMessage = `${this.#authPrefix},${message.slice(0, proofAt)}`;
    const signature = hmac(this.#hash, credential.storedKey, authMessage);
    const clientKey = xor(Buffer.from(message.slice(proofAt + 3), 'base64'), signature);
    // Both checks always run: the time taken says nothing about whether the user exists.
    const proofMatches = clientKey.length === signature.length && constantTimeEqual(digest(this.#hash, clientKey), credential.storedKey);
    if (!proofMatches || !this.#known) throw new ScramAuthenticationError(this.#known ? `wrong proof for user ${this.#username} (a wrong password)` : `unknown user ${this.#username}`);
    const serverSignature = hmac(this.#hash, credential.serverKey, authMessage);
    return { done: true, reply: `v=${serverSignature.toString('base64')}`, username: this.#username };
  }

  /** A credential no password matches, shaped like a real one, for a user that does not exist. */
  #decoy(): ScramCredential {
    const key = Buffer.from(this.#randomBytes(this.#hash === 'sha512' ? 64 : 32));
    return { salt: this.#randomBytes(16), iterations: DEFAULT_SCRAM_ITERATIONS, storedKey: key, serverKey: key };
  }
}
