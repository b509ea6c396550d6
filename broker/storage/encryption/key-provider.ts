/**
 * Where encryption at rest gets its keys: a KeyProvider names the current
 * key (new batches are encrypted under it) and hands out any key by id (old
 * batches name theirs, so rotation never rewrites a segment).
 *
 * The broker's own provider is a keyring read once at start from
 * `encryption.key.file` or `encryption.keys` (keys-from-config.ts); an
 * embedding program may pass its own (a KMS client that fetched its keys at
 * start, say) to `startBroker(config, { keys })`. Lookups are synchronous:
 * they run on the append and read paths, so a provider must hold its keys in
 * memory.
 *
 * Keyring text: entries `ID=BASE64` separated by newlines or commas, `#`
 * starts a comment line; BASE64 decodes to exactly 32 bytes (AES-256); ID is
 * 1-64 of `A-Z a-z 0-9 . _ -`. The LAST entry is the current key: rotation
 * appends a new entry and keeps the old ones as long as any segment may
 * still hold batches under them.
 */

export interface KeyProvider {
  /** The id new batches are encrypted under. */
  currentKeyId(): string;
  /** The 32-byte key with this id; throws EncryptionKeyError when it has none. */
  key(id: string): Uint8Array;
}

/** A key is missing or a keyring is malformed: a configuration problem, not corruption (nothing is taken offline for it). */
export class EncryptionKeyError extends Error {
  override name = 'EncryptionKeyError';
}

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

/** Keys held in memory, the last one given current. */
export class StaticKeyProvider implements KeyProvider {
  readonly #keys: ReadonlyMap<string, Uint8Array>;
  readonly #current: string;

  constructor(entries: readonly { id: string; key: Uint8Array }[], readonly source: string) {
    const keys = new Map<string, Uint8Array>();
    for (const { id, key } of entries) {
      if (!isValidKeyId(id)) throw new EncryptionKeyError(`${source}: key id '${id}' is not 1-64 of A-Z a-z 0-9 . _ -`);
      if (key.byteLength !== KEY_BYTES) throw new EncryptionKeyError(`${source}: key '${id}' is ${key.byteLength} bytes, AES-256 needs ${KEY_BYTES}`);
      if (keys.has(id)) throw new EncryptionKeyError(`${source}: key id '${id}' appears twice`);
      keys.set(id, key);
    }
    const last = entries.at(-1);
    if (last === undefined) throw new EncryptionKeyError(`${source}: holds no keys`);
    this.#keys = keys;
    this.#current = last.id;
  }

  currentKeyId(): string {
    return this.#current;
  }

  key(id: string): Uint8Array {
    const key = this.#keys.get(id);
    if (key === undefined) throw new EncryptionKeyError(`no encryption key '${id}' in ${this.source} (it holds ${[...this.#keys.keys()].join(', ')})`);
    return key;
  }

  /** Key ids, oldest first (for logs; never the keys). */
  ids(): string[] {
    return [...this.#keys.keys()];
  }
}

/** Parses keyring text (see the file comment); `source` names it in errors, never the text itself. */
export function parseKeyring(text: string, source: string): StaticKeyProvider {
  const entries: { id: string; key: Uint8Array }[] = [];
  for (const raw of text.split(/[\n,]/)) {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new EncryptionKeyError(`${source}: an entry is not ID=BASE64 (entry ${entries.length + 1})`);
    const id = entry.slice(0, eq).trim();
    const encoded = entry.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new EncryptionKeyError(`${source}: key '${id}' is not base64`);
    entries.push({ id, key: new Uint8Array(Buffer.from(encoded, 'base64')) });
  }
  return new StaticKeyProvider(entries, source);
}
