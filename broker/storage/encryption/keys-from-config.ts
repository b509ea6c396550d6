/**
 * The broker's KeyProvider from its settings: `encryption.key.file` (a
 * keyring file, read once at start, through the broker's FileSystem like
 * everything else it reads) or `encryption.keys` (the keyring text, meant
 * for RUNNEL_ENCRYPTION_KEYS), never both; null when neither is set.
 */
import { EncryptionKeyError, parseKeyring, type StaticKeyProvider } from './key-provider.js';

export async function keyProviderFromConfig(settings: { keyFile: string; keys: string }, readFile: (path: string) => Promise<Uint8Array>): Promise<StaticKeyProvider | null> {
  if (settings.keyFile !== '' && settings.keys !== '') throw new EncryptionKeyError('set encryption.key.file or encryption.keys, not both');
  if (settings.keys !== '') return parseKeyring(settings.keys, 'encryption.keys');
  if (settings.keyFile === '') return null;
  let text: string;
  try {
    text = Buffer.from(await readFile(settings.keyFile)).toString('utf8');
  } catch (err) {
    throw new EncryptionKeyError(`encryption.key.file ${settings.keyFile} cannot be read: ${(err as Error).message}`);
  }
  return parseKeyring(text, `encryption.key.file ${settings.keyFile}`);
}
