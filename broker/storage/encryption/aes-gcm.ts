/**
 * AES-256-GCM as encryption at rest uses it: seal and open into buffers the
 * caller gives, with a key whose schedule is made once.
 *
 * Two implementations, the same cipher, byte for byte interchangeable:
 *   - native (native/aes_gcm.c, built by `npm install`): writes where it is
 *     told, in place when asked, shared memory included. On a CPU with VAES
 *     and VPCLMULQDQ but no AVX-512 (AMD Zen 3, Intel client cores), where
 *     OpenSSL 3.0 runs one block per instruction, it runs its own
 *     AES-GCM (native/gcm_vaes.c: two blocks per instruction), 175-195 µs
 *     of CPU per MiB on the reference machine; elsewhere the OpenSSL Node is
 *     linked with, 280-400 µs (its `engine` says which). With the CPU's
 *     CRC-32C instruction (native/crc32c.c) its keys also have `sealCrc`,
 *     which returns a batch envelope's CRC computed during the seal.
 *   - node:crypto: what any Node has. Every update() allocates its output
 *     and a cipher is set up per batch through JavaScript objects: 620-1,600
 *     µs per MiB on the same machine (bench/encryption.ts prints both).
 * `aesGcm()` is the native one when its addon loads and node:crypto
 * otherwise; `aesGcmFallback()` says why it did not load, for the broker to
 * say at start (like a CRC without SSE4.2, a slower broker is a thing an
 * operator must be told, not find out).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { nativeAddon } from '../../../protocol/native-addon.js';

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** One key, ready to use. `out` is as long as `input`. */
export interface GcmKey {
  /** Encrypts `input` into `out` (the same bytes, or bytes apart) and writes the tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
  /**
   * `seal`, returning the CRC-32C of `over` as it is once sealed: `over`
   * holds `out`, then `tag` (a batch's envelope, its CRC computed while
   * each piece of ciphertext is still in the CPU's cache instead of in a
   * second pass). Only the native implementation on a CPU with a CRC-32C
   * instruction has it.
   */
  sealCrc?(nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, out: Uint8Array, tag: Uint8Array, over: Uint8Array): number;
  /**
   * Decrypts `input` into `out`, which may overlap it in any way (input's
   * bytes are then used up); false when the tag does not authenticate
   * (`out` then holds bytes not to be used).
   */
  open(nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, out: Uint8Array, tag: Uint8Array): boolean;
}

export interface AesGcm {
  readonly name: 'native' | 'node:crypto';
  /** The code that runs the cipher: the addon's own VAES code, OpenSSL's through the addon, or node:crypto's. */
  readonly engine: 'vaes' | 'openssl' | 'node:crypto';
  /** A key from its 32 bytes. */
  key(bytes: Uint8Array): GcmKey;
}

const CIPHER = 'aes-256-gcm';
const NOTHING = new Uint8Array(0);

function nodeKey(secret: KeyObject): GcmKey {
  return {
    seal(nonce, aad, input, out, tag) {
      const cipher = createCipheriv(CIPHER, secret, nonce, { authTagLength: GCM_TAG_BYTES });
      cipher.setAAD(aad);
      const body = cipher.update(input);
      const rest = cipher.final();
      out.set(body);
      out.set(rest, body.byteLength);
      tag.set(cipher.getAuthTag());
    },
    open(nonce, aad, input, out, tag) {
      const decipher = createDecipheriv(CIPHER, secret, nonce, { authTagLength: GCM_TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      // V8 copies into shared memory byte by byte unless the target is 8-byte aligned (~10x slower; the worker
      // path opens in a shared buffer, batch-opener.ts): the first bytes up to an aligned address are decrypted apart.
      const lead = out.buffer instanceof SharedArrayBuffer ? Math.min((8 - (out.byteOffset % 8)) % 8, input.byteLength) : 0;
      const head = lead > 0 ? decipher.update(input.subarray(0, lead)) : NOTHING;
      const body = decipher.update(input.subarray(lead));
      let rest: Buffer;
      try {
        rest = decipher.final();
      } catch {
        return false;
      }
      out.set(head);
      out.set(body, head.byteLength);
      out.set(rest, head.byteLength + body.byteLength);
      return true;
    },
  };
}

/** AES-256-GCM through node:crypto. */
export const nodeAesGcm: AesGcm = {
  name: 'node:crypto',
  engine: 'node:crypto',
  key: (bytes) => nodeKey(createSecretKey(bytes)),
};

/** native/aes_gcm.c's exports. */
interface NativeAddon {
  /** `portable`: a key that runs OpenSSL's code even where the addon's VAES code could. */
  key(bytes: Uint8Array, portable?: boolean): object;
  seal(key: object, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
  open(key: object, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, out: Uint8Array, tag: Uint8Array): boolean;
  /** Whether this CPU has a CRC-32C instruction: sealCrc and crc32c throw without one. */
  hardwareCrc: boolean;
  /** Whether this CPU runs the addon's own VAES code (gcm_vaes.c); OpenSSL's otherwise. */
  vaes: boolean;
  sealCrc(key: object, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, out: Uint8Array, tag: Uint8Array, over: Uint8Array): number;
}

function nativeFrom(addon: NativeAddon, portable: boolean): AesGcm {
  return {
    name: 'native',
    engine: addon.vaes && !portable ? 'vaes' : 'openssl',
    key(bytes) {
      const handle = addon.key(bytes, portable);
      const key: GcmKey = {
        seal: (nonce, aad, input, out, tag) => addon.seal(handle, nonce, aad, input, out, tag),
        open: (nonce, aad, input, out, tag) => addon.open(handle, nonce, aad, input, out, tag),
      };
      if (addon.hardwareCrc) key.sealCrc = (nonce, aad, input, out, tag, over) => addon.sealCrc(handle, nonce, aad, input, out, tag, over);
      return key;
    },
  };
}

let loaded: { gcm: AesGcm; portable: AesGcm | null; fallback: string | null } | undefined;

function load(): { gcm: AesGcm; portable: AesGcm | null; fallback: string | null } {
  if (loaded === undefined) {
    const addon = nativeAddon() as NativeAddon | string;
    loaded = typeof addon === 'string' ? { gcm: nodeAesGcm, portable: null, fallback: addon } : { gcm: nativeFrom(addon, false), portable: nativeFrom(addon, true), fallback: null };
  }
  return loaded;
}

/**
 * The native implementation, or null when its addon is missing or does not
 * load. `portable`: the addon on OpenSSL's code even where this CPU runs
 * its VAES code (tests and benches compare the two).
 */
export function nativeAesGcm(opts: { portable?: boolean } = {}): AesGcm | null {
  const { gcm, portable } = load();
  if (gcm.name !== 'native') return null;
  return opts.portable === true ? portable : gcm;
}

/** The implementation encryption at rest uses: native when it loads, node:crypto otherwise. */
export function aesGcm(): AesGcm {
  return load().gcm;
}

/** Why the native implementation is not in use; null when it is. */
export function aesGcmFallback(): string | null {
  return load().fallback;
}
