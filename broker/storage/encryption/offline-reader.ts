/**
 * Encryption at rest for offline tools (`runnel dump-log`): the one module
 * of broker/ they import (tests/layering.test.ts). Reads a keyring and
 * opens single envelopes, with the same code the broker uses.
 */
import { systemRng } from '../../world/rng.js';
import { EnvelopeError, envelopeInfo, isEncryptedBatch } from './batch-envelope.js';
import { parseKeyring, type KeyProvider } from './key-provider.js';
import { LogCipher } from './log-cipher.js';

export interface EnvelopeReader {
  /** True for a batch in envelope form. */
  isEncrypted(batch: Uint8Array): boolean;
  /** The key id an envelope names, or null when the envelope does not parse. */
  keyIdOf(batch: Uint8Array): string | null;
  /** The plaintext batch; throws (a missing key, or a batch that does not authenticate) with the reason. Null without a keyring. */
  open: ((batch: Uint8Array, file: string, position: number) => Uint8Array) | null;
}

/** `keyring`: keyring text (encryption.key.file's format) and where it came from; null when none was given. */
export function envelopeReader(keyring: { text: string; source: string } | null): EnvelopeReader {
  const keys: KeyProvider | null = keyring === null ? null : parseKeyring(keyring.text, keyring.source);
  const cipher = new LogCipher({ keys, rng: systemRng });
  return {
    isEncrypted: (batch) => isEncryptedBatch(batch, 0),
    keyIdOf: (batch) => {
      try {
        return envelopeInfo(batch, 0, batch.byteLength).keyId;
      } catch (err) {
        if (err instanceof EnvelopeError) return null;
        throw err;
      }
    },
    open: keys === null ? null : (batch, file, position) => cipher.open([batch], file, position, false)[0] as Uint8Array,
  };
}
