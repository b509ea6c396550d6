/**
 * Encryption at rest for one broker's logs: turns the batches of an append
 * into their envelope form (batch-envelope.ts) before they reach a segment
 * or a pending segment, and batches read from disk back into plaintext.
 *
 * Every log has one (PartitionLog's `encryption` option); whether an
 * append is sealed is the topic's `encryption.enabled`, while reads always
 * open whatever envelopes they meet, so a topic whose setting changed, in
 * either direction, keeps reading its older segments. A broker without keys
 * still checks: an envelope read there fails with a clear EncryptionKeyError
 * instead of serving ciphertext as records.
 *
 * Nonces come from the injected Rng's `fill` (crypto-grade in production,
 * world/rng.ts): 96 random bits per batch, never derived from offsets, so a
 * follower that truncates and re-writes the same offsets, or a cleaner that
 * rewrites a batch, never reuses one under a key (at 2^32 batches per key
 * the chance of any collision is still below 2^-32: NIST SP 800-38D's bound
 * for random nonces; rotate keys well before that).
 *
 * Errors: a batch that does not authenticate is CorruptLogError (the log's
 * read path takes the log offline, as for any damaged segment: it is never
 * served and never skipped); a key the provider lacks is EncryptionKeyError,
 * a configuration problem that fails the request and leaves the log online.
 */
import { BATCH_HEADER_BYTES, batchSizeAt } from '../../../protocol/batch/header.js';
import type { Rng } from '../../world/rng.js';
import { CorruptLogError } from '../errors.js';
import { aesGcm, type GcmKey } from './aes-gcm.js';
import { EnvelopeError, NONCE_BYTES, envelopeLayout, envelopeOverhead, isEncryptedBatch, keyIdOf, openBatch, sealBatch, type EnvelopeLayout } from './batch-envelope.js';
import type { BatchOpener } from './batch-opener.js';
import type { ParallelSealer } from './parallel-sealer.js';
import type { PlaintextCache } from './plaintext-cache.js';
import { EncryptionKeyError, isValidKeyId, type KeyProvider } from './key-provider.js';

export interface EncryptionOptions {
  /** The broker's keys; null when none are configured (encrypted topics then refuse appends). */
  keys: KeyProvider | null;
  /** Where nonces come from. */
  rng: Rng;
  /** Worker threads that open the batches of large reads into shared buffers (batch-opener.ts); without one every read opens inline. */
  opener?: BatchOpener;
  /** The plaintext of recent appends, shared by the broker's logs, so that tail reads skip opening (plaintext-cache.ts); none: every read opens. */
  cache?: PlaintextCache;
  /** A worker thread that seals half of each large append beside the event loop (parallel-sealer.ts); none: every append seals inline. */
  sealer?: ParallelSealer;
}

/**
 * Reads with fewer encrypted bytes than this open inline: handing a read to
 * a worker costs the event loop some 25-40 µs, about what opening 32-64 KiB
 * inline costs (PACKAGES.md §3 for the dispatch; bench/encryption.ts).
 */
export const OFF_THREAD_MIN_BYTES = 64 * 1024;

/** Nonces drawn from the Rng at a time: one call per batch cost ~3 µs of the event loop (randomFillSync), as much as sealing 8 KiB. */
const NONCES_PER_DRAW = 64;

/**
 * The bytes of the last seal, shared by every log of this thread (one per
 * broker: appends run one at a time on the event loop, and each writes its
 * sealed bytes, to a file or into a pending segment's own copy, before the
 * next seal; the cleaner writes its own at once too). A fresh buffer per append
 * cost about as much as the cipher: a MiB allocated, faulted in page by
 * page, then collected. Appends larger than this get a buffer of their own.
 */
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;
let scratch = new Uint8Array(0);

function sealTarget(bytes: number): Uint8Array {
  if (bytes > SCRATCH_MAX_BYTES) return Buffer.allocUnsafeSlow(bytes);
  if (scratch.byteLength < bytes) scratch = new Uint8Array(Math.min(SCRATCH_MAX_BYTES, Math.max(bytes, 2 * scratch.byteLength, 64 * 1024)));
  return scratch.subarray(0, bytes);
}

/**
 * Ready keys by provider and key id, shared by every log of the broker: a
 * native key holds OpenSSL contexts (its schedule, GHASH tables), about a
 * KiB each, which once per partition would add up on a broker with many.
 */
const readyKeys = new WeakMap<KeyProvider, Map<string, GcmKey>>();

export class LogCipher {
  readonly #gcm = aesGcm();
  readonly #nonces = new Uint8Array(NONCES_PER_DRAW * NONCE_BYTES);
  #noncesUsed = NONCES_PER_DRAW;
  /**
   * The key the last opened batch named, and its id's bytes: consecutive
   * batches are nearly always under one key, and comparing a few bytes
   * spares each batch a string and a map lookup (small batches' fixed
   * costs are most of what opening them costs).
   */
  #lastKeyId = new Uint8Array(0);
  #lastKey: GcmKey | null = null;

  constructor(readonly opts: EncryptionOptions) {}

  /** The key ids configured, for messages; empty without keys. */
  #provider(): KeyProvider {
    if (this.opts.keys === null) throw new EncryptionKeyError('this broker has no encryption keys (set encryption.key.file or encryption.keys)');
    return this.opts.keys;
  }

  #key(id: string): GcmKey {
    const provider = this.#provider();
    let ready = readyKeys.get(provider);
    if (ready === undefined) readyKeys.set(provider, (ready = new Map()));
    let key = ready.get(id);
    if (key === undefined) {
      key = this.#gcm.key(provider.key(id));
      ready.set(id, key);
    }
    return key;
  }

  /** A fresh nonce: the next unused 96 bits of the last draw from the Rng (each is handed out once). */
  #nonce(): Uint8Array {
    if (this.#noncesUsed === NONCES_PER_DRAW) {
      this.opts.rng.fill(this.#nonces);
      this.#noncesUsed = 0;
    }
    const at = NONCE_BYTES * this.#noncesUsed++;
    return this.#nonces.subarray(at, at + NONCE_BYTES);
  }

  /**
   * The envelope form of every (validated, stamped) batch of `records`,
   * under the current key; `records` is not changed. The result may be
   * shared scratch memory, good until the next seal on this thread: write
   * it or copy it before anything else seals.
   */
  seal(records: Uint8Array): Uint8Array {
    const keyId = this.#provider().currentKeyId();
    // A provider of an embedding program is not held to the keyring's rules otherwise: the envelope stores the id in at most 255 bytes.
    if (!isValidKeyId(keyId)) throw new EncryptionKeyError(`the current key id '${keyId.slice(0, 80)}' is not 1-64 of A-Z a-z 0-9 . _ -`);
    const key = this.#key(keyId);
    const keyIdBytes = Buffer.from(keyId, 'latin1');
    const overhead = envelopeOverhead(keyIdBytes.byteLength);
    const sizes: number[] = [];
    let total = 0;
    for (let pos = 0; pos < records.byteLength;) {
      const size = batchSizeAt(records, pos);
      sizes.push(size);
      total += size + overhead;
      pos += size;
    }
    const sealer = this.opts.sealer;
    if (sealer !== undefined && sealer.takes(records.byteLength, sizes.length, total)) {
      return sealer.seal({ records, sizes, totalBytes: total, overhead, keyIdBytes, keyBytes: this.#provider().key(keyId), key, nonce: () => this.#nonce() });
    }
    // Every byte is written below.
    const out = sealTarget(total);
    let outPos = 0;
    let pos = 0;
    for (const size of sizes) {
      outPos += sealBatch(records, pos, size, keyIdBytes, key, this.#nonce(), out, outPos);
      pos += size;
    }
    return out;
  }

  /**
   * Plaintext of whole disk batches (views of one read, `firstPosition` the
   * first one's place in `file`, for errors). Batches not in envelope form
   * come back as they are. `inPlace`: the views' bytes belong to this read
   * and may be overwritten (the plaintext is shorter); otherwise opened
   * batches get fresh buffers.
   */
  open(batches: Uint8Array[], file: string, firstPosition: number, inPlace: boolean): Uint8Array[] {
    if (!batches.some((batch) => isEncryptedBatch(batch, 0))) return batches;
    let position = firstPosition;
    return batches.map((batch) => {
      const at = position;
      position += batch.byteLength;
      if (!isEncryptedBatch(batch, 0)) return batch;
      const out = inPlace ? batch : new Uint8Array(batch.byteLength);
      return out.subarray(0, this.#openOne(batch, 0, batch.byteLength, out, 0, file, at));
    });
  }

  /**
   * `open` in place, on the opener's worker threads when the batches are
   * consecutive views of a shared buffer (a fetch's read) with at least
   * OFF_THREAD_MIN_BYTES to open; inline otherwise. Same results and
   * errors as `open`: each opened batch is a view at its envelope's start.
   */
  async openOffThread(batches: Uint8Array[], file: string, firstPosition: number): Promise<Uint8Array[]> {
    const opener = this.opts.opener;
    const first = batches[0];
    if (opener === undefined || first === undefined || !(first.buffer instanceof SharedArrayBuffer)) return this.open(batches, file, firstPosition, true);
    const sizes: number[] = [];
    const keys: Record<string, Uint8Array> = {};
    let encryptedBytes = 0;
    let position = firstPosition;
    let end = first.byteOffset;
    for (const batch of batches) {
      if (batch.buffer !== first.buffer || batch.byteOffset !== end) return this.open(batches, file, firstPosition, true);
      if (isEncryptedBatch(batch, 0)) {
        encryptedBytes += batch.byteLength;
        const keyId = keyIdOf(batch, this.#layoutOf(batch, 0, batch.byteLength, file, position));
        keys[keyId] ??= this.#keyBytes(keyId, file, position);
      }
      sizes.push(batch.byteLength);
      position += batch.byteLength;
      end += batch.byteLength;
    }
    if (encryptedBytes < OFF_THREAD_MIN_BYTES) return this.open(batches, file, firstPosition, true);
    const reply = await opener.run({ shared: first.buffer, offset: first.byteOffset, sizes, keys });
    if (reply.kind === 'corrupt') {
      let at = firstPosition;
      for (let i = 0; i < reply.index; i++) at += sizes[i] as number;
      throw new CorruptLogError(file, at, reply.message);
    }
    return batches.map((batch, i) => batch.subarray(0, reply.sizes[i]));
  }

  /**
   * Opens the whole batches of `bytes[0, length)` where they are, moving
   * each plaintext batch down to follow the one before; returns the
   * plaintext length (the cleaner's chunks: `position` is the chunk's place
   * in `file`).
   */
  openInPlace(bytes: Uint8Array, length: number, file: string, position: number): number {
    let out = 0;
    for (let pos = 0; pos < length;) {
      const size = length - pos >= BATCH_HEADER_BYTES ? batchSizeAt(bytes, pos) : 0;
      if (size < BATCH_HEADER_BYTES || pos + size > length) {
        // Not a whole batch: left as it is, after the opened ones, for the caller's checks to report.
        bytes.copyWithin(out, pos, length);
        return out + length - pos;
      }
      if (isEncryptedBatch(bytes, pos)) {
        out += this.#openOne(bytes, pos, size, bytes, out, file, position + pos);
      } else {
        if (out !== pos) bytes.copyWithin(out, pos, pos + size);
        out += size;
      }
      pos += size;
    }
    return out;
  }

  #openOne(disk: Uint8Array, pos: number, size: number, out: Uint8Array, outPos: number, file: string, filePosition: number): number {
    const layout = this.#layoutOf(disk, pos, size, file, filePosition);
    const key = this.#openingKey(disk, layout, file, filePosition);
    try {
      return openBatch(disk, pos, size, key, out, outPos, layout);
    } catch (err) {
      if (err instanceof EnvelopeError) throw new CorruptLogError(file, filePosition, err.message);
      throw err;
    }
  }

  /** The key the envelope names: the last one's again when the id's bytes are the same. */
  #openingKey(disk: Uint8Array, layout: EnvelopeLayout, file: string, filePosition: number): GcmKey {
    const last = this.#lastKeyId;
    let same = this.#lastKey !== null && last.byteLength === layout.keyIdBytes;
    for (let i = 0; same && i < last.byteLength; i++) same = last[i] === disk[layout.keyIdAt + i];
    if (same) return this.#lastKey as GcmKey;
    const keyId = keyIdOf(disk, layout);
    const key = this.#withKeyContext(() => this.#key(keyId), keyId, file, filePosition);
    this.#lastKeyId = disk.slice(layout.keyIdAt, layout.keyIdAt + layout.keyIdBytes);
    this.#lastKey = key;
    return key;
  }

  /** Where the parts of the envelope at `pos` are (a malformed envelope is CorruptLogError). */
  #layoutOf(disk: Uint8Array, pos: number, size: number, file: string, filePosition: number): EnvelopeLayout {
    try {
      return envelopeLayout(disk, pos, size);
    } catch (err) {
      if (err instanceof EnvelopeError) throw new CorruptLogError(file, filePosition, err.message);
      throw err;
    }
  }

  #keyBytes(keyId: string, file: string, filePosition: number): Uint8Array {
    return this.#withKeyContext(() => this.#provider().key(keyId), keyId, file, filePosition);
  }

  /** A key lookup whose EncryptionKeyError says which batch needed it. */
  #withKeyContext<T>(lookup: () => T, keyId: string, file: string, filePosition: number): T {
    try {
      return lookup();
    } catch (err) {
      if (!(err instanceof EncryptionKeyError)) throw err;
      throw new EncryptionKeyError(`${file}: the batch at byte ${filePosition} is encrypted under key '${keyId}', and ${err.message}`);
    }
  }
}
