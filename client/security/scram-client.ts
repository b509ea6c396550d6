/**
 * The client's half of a SCRAM exchange (RFC 5802 section 3): client-first,
 * then client-final with the proof once the server's salt, iterations and
 * nonce are known, then a check of the server's signature, so a client never
 * carries on with a broker that does not hold its credential (a man in the
 * middle, or a misconfigured listener). No channel binding (`n,,`): TLS
 * below, when used, is checked on its own.
 */
import { MIN_SCRAM_ITERATIONS, constantTimeEqual, digest, encodeSaslName, hashOf, hmac, parseAttributes, saltedPassword, xor, type ScramHash, type ScramMechanism } from './scram.js';

/** The exchange failed on the client's side (the server misbehaved, or refused): the message says which. */
export class ScramClientError extends Error {
  override name = 'ScramClientError';
}

const GS2_HEADER = 'n,,';

export class ScramClient {
  readonly #hash: ScramHash;
  readonly #username: string;
  readonly #password: string;
  readonly #nonce: string;
  #clientFirstBare = '';
  #serverSignature: Buffer | null = null;

  /** `nonce`: printable, without ',' (scram.ts nonceFrom), from a cryptographic source. */
  constructor(mechanism: ScramMechanism | { hash: ScramHash }, username: string, password: string, nonce: string) {
    this.#hash = typeof mechanism === 'string' ? hashOf(mechanism) : mechanism.hash;
    this.#username = username;
    this.#password = password;
    this.#nonce = nonce;
  }

  firstMessage(): string {
    this.#clientFirstBare = `n=${encodeSaslName(this.#username)},r=${this.#nonce}`;
    return GS2_HEADER + this.#clientFirstBare;
  }

  /** The client-final message for the server-first one. */
  finalMessage(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs?.get('r');
    const saltB64 = attrs?.get('s');
    const iterations = Number(attrs?.get('i'));
    if (attrs === null || nonce === undefined || saltB64 === undefined || !Number.isInteger(iterations)) throw new ScramClientError(`the broker's server-first message is malformed: ${serverFirst}`);
    if (!nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) throw new ScramClientError('the broker did not extend the client nonce (a replayed or forged exchange)');
    if (iterations < MIN_SCRAM_ITERATIONS) throw new ScramClientError(`the broker asks for ${iterations} iterations, fewer than the ${MIN_SCRAM_ITERATIONS} that keep a stolen credential expensive to guess from`);
    const salted = saltedPassword(this.#hash, this.#password, Buffer.from(saltB64, 'base64'), iterations);
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const clientKey = hmac(this.#hash, salted, 'Client Key');
    const storedKey = digest(this.#hash, clientKey);
    const proof = xor(clientKey, hmac(this.#hash, storedKey, authMessage));
    this.#serverSignature = hmac(this.#hash, hmac(this.#hash, salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server-final message: `v=` must be the signature only the credential's holder can make. */
  verifyServerFinal(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    const error = attrs?.get('e');
    if (error !== undefined) throw new ScramClientError(`the broker refused the proof: ${error}`);
    const verifier = attrs?.get('v');
    if (verifier === undefined || this.#serverSignature === null) throw new ScramClientError(`the broker's server-final message is malformed: ${serverFinal}`);
    if (!constantTimeEqual(Buffer.from(verifier, 'base64'), this.#serverSignature)) throw new ScramClientError('the broker\'s signature is wrong: it does not hold this user\'s credential (a misconfigured or impostor broker)');
  }
}
