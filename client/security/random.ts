/**
 * Unpredictable bytes for SCRAM nonces (client and broker) and the broker's
 * decoy salts. Not the injected randomness of a ClientWorld or the broker's
 * Rng: those may be seeded (simulations) and need not be cryptographic,
 * which a nonce must be (a guessable nonce lets a recorded exchange be
 * replayed). Simulations run no SASL; a test wanting fixed nonces passes
 * its own function where one is taken.
 */
import { randomBytes } from 'node:crypto';

export function secureRandomBytes(n: number): Uint8Array {
  return randomBytes(n);
}
