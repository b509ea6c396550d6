/**
 * The broker's KeyProvider from its settings: `encryption.key.file` (a
 * keyring file, read once at start) or `encryption.keys` (the keyring text,
 * meant for RUNNEL_ENCRYPTION_KEYS), never both; null when neither is set.
 * Reading the file is start-up configuration, like the TLS files: it goes
 * through node:fs here, not the broker's FileSystem (which is for the data
 * directory).
 */
import { readFileSync } from 'node:fs';
import { EncryptionKeyError, parseKeyring, type StaticKeyProvider } from './key-provider.js';

export function keyProviderFromConfig(settings: { keyFile: string; keys: string }, readFile: (path: string) => string = (file) => readFileSync(file, 'utf8')): StaticKeyProvider | null {
  if (settings.keyFile !== '' && settings.keys !== '') throw new EncryptionKeyError('set encryption.key.file or encryption.keys, not both');
  if (settings.keys !== '') return parseKeyring(settings.keys, 'encryption.keys');
  if (settings.keyFile === '') return null;
  let text: string;
  try {
    text = readFile(settings.keyFile);
  } catch (err) {
    throw new EncryptionKeyError(`encryption.key.file ${settings.keyFile} cannot be read: ${(err as Error).message}`);
  }
  return parseKeyring(text, `encryption.key.file ${settings.keyFile}`);
}
