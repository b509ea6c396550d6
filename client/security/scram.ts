/**
 * SCRAM (RFC 5802, with SHA-256 and SHA-512 as RFC 7677 and Kafka's
 * KIP-84 name them): the key derivation and message syntax both sides share.
 * The client's half of the exchange is scram-client.ts, the broker's is
 * broker/security/scram-server.ts; both build on these functions, so the
 * two can never disagree about a proof.
 *
 *   SaltedPassword = Hi(password, salt, i)         (PBKDF2 with HMAC-H)
 *   ClientKey = HMAC(SaltedPassword, "Client Key")  StoredKey = H(ClientKey)
 *   ServerKey = HMAC(SaltedPassword, "Server Key")
 *   ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * The broker keeps only salt, iterations, StoredKey and ServerKey: a leaked
 * credential lets nobody log in (the proof needs ClientKey), only mount an
 * offline guess of the password against the salted hash.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/** The mechanisms, as SASL names them on the wire. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** Kafka's (and RFC 7677's) floor: fewer PBKDF2 rounds make a stolen StoredKey cheap to guess from. */
export const MIN_SCRAM_ITERATIONS = 4096;
/** The default for new credentials: Kafka's, at a few ms per login on a laptop. */
export const DEFAULT_SCRAM_ITERATIONS = 8192;

/** The hash of a mechanism (node:crypto's name) and its output length; 'sha1' only for RFC 5802's own test vector. */
export type ScramHash = 'sha1' | 'sha256' | 'sha512';

export function hashOf(mechanism: ScramMechanism): ScramHash {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

const DIGEST_BYTES: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** What a broker stores for one user and mechanism (never the password). */
export interface ScramCredential {
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

/** Hi() of RFC 5802: PBKDF2 with HMAC-H, one block. */
export function saltedPassword(hash: ScramHash, password: string, salt: Uint8Array, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, DIGEST_BYTES[hash], hash);
}

export function hmac(hash: ScramHash, key: Uint8Array, data: Uint8Array | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Uint8Array): Buffer {
  return createHash(hash).update(data).digest();
}

export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Equal, in a time that does not depend on where they differ (a length mismatch is just false). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The stored credential for a salted password (what AlterUserScramCredentials turns an upsertion into). */
export function credentialFromSalted(hash: ScramHash, salted: Uint8Array, salt: Uint8Array, iterations: number): ScramCredential {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { salt, iterations, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

/** `n=` and `a=` values escape ',' and '=' (RFC 5802 section 5.1). */
export function encodeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The inverse of encodeSaslName; null when an '=' is not followed by 2C or 3D. */
export function decodeSaslName(value: string): string | null {
  if (/=(?!2C|3D)/.test(value)) return null;
  return value.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** `a=x,b=y` -> {a: x, b: y}; null if an attribute is malformed or repeated. Values may contain '='. */
export function parseAttributes(message: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    if (!/^[a-zA-Z]=/.test(part)) return null;
    const key = part[0] as string;
    if (out.has(key)) return null;
    out.set(key, part.slice(2));
  }
  return out;
}

/** A nonce as RFC 5802 allows it: printable ASCII without ','. base64 of random bytes qualifies. */
export function nonceFrom(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Kafka's numbering of the mechanisms in the SCRAM admin APIs (DescribeUserScramCredentials, AlterUserScramCredentials). */
export const SCRAM_MECHANISM_CODES: Readonly<Record<ScramMechanism, number>> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

export function mechanismOfCode(code: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => SCRAM_MECHANISM_CODES[m] === code);
}

/** Bytes of a mechanism's keys and salted password. */
export function keyBytesOf(mechanism: ScramMechanism): number {
  return DIGEST_BYTES[hashOf(mechanism)];
}
