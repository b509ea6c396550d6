/**
 * One record batch as encryption at rest keeps it on disk: still a
 * RecordBatch v2 frame, so everything that reads only headers (recovery's
 * torn-tail scan, index rebuilds, retention, truncation, DeleteRecords,
 * `runnel recover`) works on it unchanged; only the records section is
 * replaced by an envelope.
 *
 * ```
 * offset   size  field
 *      0     61  the batch header, clear, except:
 *                  batchLength   of the envelope form (plaintext + 34 + n)
 *                  crc           CRC-32C of these disk bytes [21, end): torn writes are found as before
 *                  attributes    | ATTR_ENCRYPTED (bit 14: Kafka uses 0-6)
 *     61      1  envelope version (2; version 1, still read, lacks the plaintext CRC)
 *     62      1  n: key id length
 *     63      n  key id (ASCII): the key this batch is under
 *   63+n      4  the plaintext batch's own CRC-32C (v2): put back on opening instead of computed again
 *   67+n     12  nonce (96 random bits, a fresh one per batch)
 *   79+n      L  AES-256-GCM ciphertext of the records section (L = its plaintext length)
 * 79+n+L     16  GCM tag
 * ```
 *
 * The key id goes with every batch, not with the segment: rotation needs no
 * segment roll, the cleaner and a follower that truncates and re-appends
 * never have to keep a segment's batches under one key, and a lone `.log`
 * file is enough for `runnel dump-log` to say which key it needs. It costs
 * 34 + n bytes per batch (30 + n in version 1).
 *
 * The envelope's CRC is computed by the seal itself where the native
 * cipher has a CRC-32C instruction to use (aes-gcm.ts `sealCrc`), instead
 * of a second pass over the whole envelope: on the addon's VAES code
 * between the AES rounds, where it costs almost nothing (about 10 µs of
 * CPU per MiB against 60 as a pass of its own, on the reference machine);
 * on OpenSSL's, a piece of ciphertext at a time while it is in the cache.
 *
 * The plaintext CRC (v2) spares every read a CRC-32C pass over the opened
 * batch (~100-130 µs of CPU per MB on the reference machine, a third of
 * what opening costs): it is authenticated, so once the tag holds it is the
 * CRC the batch had when it was sealed.
 *
 * The additional authenticated data is the base offset plus every header
 * byte from attributes to the key id (v2: to the plaintext CRC): a batch moved to other offsets, a
 * changed timestamp, record count or producer id, or a swapped key id fails
 * the tag like a changed ciphertext byte. Not covered: batchLength (a change
 * misframes the ciphertext and tag, which then fail), the CRC, and the
 * partition leader epoch (outside Kafka's CRC too).
 *
 * Opening gives back the exact plaintext batch that was sealed, CRC and all,
 * so consumers and followers receive what the producer sent.
 */
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_OFFSET_ATTRIBUTES,
  BATCH_OFFSET_CRC,
  BATCH_OFFSET_LENGTH,
  readI32,
  readI64,
  sealBatchCrc,
  writeI32,
} from '../../../protocol/batch/header.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, type GcmKey } from './aes-gcm.js';

/** Attribute bit of a batch in envelope form; a batch arriving over the wire with it set is refused (batch-validation.ts). */
export const ATTR_ENCRYPTED = 0x4000;
/** The version new envelopes are written in; version 1 is still read. */
export const ENVELOPE_VERSION = 2;
const PLAIN_CRC_BYTES = 4;
export const NONCE_BYTES = GCM_NONCE_BYTES;
export const TAG_BYTES = GCM_TAG_BYTES;

/** Bytes an envelope of `version` adds to a batch whose key id is `keyIdBytes` long. */
export function envelopeOverhead(keyIdBytes: number, version = ENVELOPE_VERSION): number {
  return 2 + keyIdBytes + (version >= 2 ? PLAIN_CRC_BYTES : 0) + NONCE_BYTES + TAG_BYTES;
}

/** ATTR_ENCRYPTED in the attributes' first (high) byte. */
const ENCRYPTED_HIGH_BYTE = ATTR_ENCRYPTED >> 8;

export function isEncryptedBatch(bytes: Uint8Array, pos: number): boolean {
  return ((bytes[pos + BATCH_OFFSET_ATTRIBUTES] as number) & ENCRYPTED_HIGH_BYTE) !== 0;
}

/**
 * Where additional data is put together: the cipher reads it during the
 * call it is passed to, so one buffer serves every batch of this thread. A
 * fresh small Uint8Array per batch lived on V8's heap, and handing it to the
 * addon moved it off (~0.5 µs a batch, as much as opening 2 KiB).
 */
const aadScratch = new Uint8Array(new ArrayBuffer(8 + (BATCH_HEADER_BYTES - BATCH_OFFSET_ATTRIBUTES) + 2 + 255 + PLAIN_CRC_BYTES));

/** Base offset + [attributes, start of the nonce): see the file comment. Good until the next call on this thread. */
function additionalData(disk: Uint8Array, pos: number, nonceAt: number): Uint8Array {
  const aad = aadScratch.subarray(0, 8 + nonceAt - (pos + BATCH_OFFSET_ATTRIBUTES));
  aad.set(disk.subarray(pos, pos + 8), 0);
  aad.set(disk.subarray(pos + BATCH_OFFSET_ATTRIBUTES, nonceAt), 8);
  return aad;
}

/**
 * Writes the envelope form of the plaintext batch at `plain[pos, pos+size)`
 * into `out` at `outPos`; returns its size. `nonce` must be fresh for `key`.
 */
export function sealBatch(plain: Uint8Array, pos: number, sizeBytes: number, keyId: Uint8Array, key: GcmKey, nonce: Uint8Array, out: Uint8Array, outPos: number, version = ENVELOPE_VERSION): number {
  const recordsBytes = sizeBytes - BATCH_HEADER_BYTES;
  const diskBytes = sizeBytes + envelopeOverhead(keyId.byteLength, version);
  // Byte by byte, no DataView: a batch's fixed costs are most of a small batch's (1-2 µs a batch once cost as much as opening 4 KiB).
  out.set(plain.subarray(pos, pos + BATCH_HEADER_BYTES), outPos);
  writeI32(out, outPos + BATCH_OFFSET_LENGTH, diskBytes - BATCH_LOG_OVERHEAD);
  out[outPos + BATCH_OFFSET_ATTRIBUTES] = (out[outPos + BATCH_OFFSET_ATTRIBUTES] as number) | ENCRYPTED_HIGH_BYTE;
  let at = outPos + BATCH_HEADER_BYTES;
  out[at++] = version;
  out[at++] = keyId.byteLength;
  out.set(keyId, at);
  at += keyId.byteLength;
  if (version >= 2) {
    out.set(plain.subarray(pos + BATCH_OFFSET_CRC, pos + BATCH_OFFSET_CRC + PLAIN_CRC_BYTES), at);
    at += PLAIN_CRC_BYTES;
  }
  const nonceAt = at;
  out.set(nonce, at);
  at += NONCE_BYTES;
  const body = out.subarray(at, at + recordsBytes);
  const records = plain.subarray(pos + BATCH_HEADER_BYTES, pos + sizeBytes);
  const tag = out.subarray(at + recordsBytes, at + recordsBytes + TAG_BYTES);
  const aad = additionalData(out, outPos, nonceAt);
  if (key.sealCrc === undefined) {
    key.seal(nonce, aad, records, body, tag);
    sealBatchCrc(out, outPos, diskBytes);
  } else {
    // The CRC covers [attributes, end): the header above, written, then the ciphertext and tag as they are sealed.
    writeI32(out, outPos + BATCH_OFFSET_CRC, key.sealCrc(nonce, aad, records, body, tag, out.subarray(outPos + BATCH_OFFSET_ATTRIBUTES, outPos + diskBytes)));
  }
  return diskBytes;
}

/** Where an envelope's parts are, before any key is used. */
export interface EnvelopeLayout {
  baseOffset: number;
  version: number;
  /** Where the key id starts, and its length. */
  keyIdAt: number;
  keyIdBytes: number;
  /** Where the nonce starts (the ciphertext follows it). */
  nonceAt: number;
}

/** What an envelope says about itself before any key is used. */
export interface EnvelopeInfo extends EnvelopeLayout {
  keyId: string;
}

/** Thrown for an envelope that does not parse or authenticate; the caller turns it into CorruptLogError with the file and position. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/** The key id and base offset of the envelope at `pos` (throws EnvelopeError when it is not well formed). */
export function envelopeInfo(disk: Uint8Array, pos: number, sizeBytes: number): EnvelopeInfo {
  const layout = envelopeLayout(disk, pos, sizeBytes);
  // Field by field: an object spread here cost ~1 µs a batch.
  return { baseOffset: layout.baseOffset, version: layout.version, keyIdAt: layout.keyIdAt, keyIdBytes: layout.keyIdBytes, nonceAt: layout.nonceAt, keyId: keyIdOf(disk, layout) };
}

/** The key id an envelope names (ASCII: the keyring allows no other). */
export function keyIdOf(disk: Uint8Array, layout: EnvelopeLayout): string {
  return Buffer.from(disk.buffer, disk.byteOffset + layout.keyIdAt, layout.keyIdBytes).toString('latin1');
}

/** `envelopeInfo` without the key id's string (opening a batch needs none: a reader looks its key up by the id's bytes). */
export function envelopeLayout(disk: Uint8Array, pos: number, sizeBytes: number): EnvelopeLayout {
  const baseOffset = readI64(disk, pos);
  if (sizeBytes < BATCH_HEADER_BYTES + envelopeOverhead(0, 1)) throw new EnvelopeError(`the encrypted batch at offset ${baseOffset} is too short for its envelope (${sizeBytes} bytes)`);
  const version = disk[pos + BATCH_HEADER_BYTES] as number;
  if (version !== 1 && version !== 2) throw new EnvelopeError(`the encrypted batch at offset ${baseOffset} has envelope version ${version}, this broker reads 1 and 2`);
  const keyIdBytes = disk[pos + BATCH_HEADER_BYTES + 1] as number;
  if (sizeBytes < BATCH_HEADER_BYTES + envelopeOverhead(keyIdBytes, version)) throw new EnvelopeError(`the encrypted batch at offset ${baseOffset} is too short for its key id`);
  const keyIdAt = pos + BATCH_HEADER_BYTES + 2;
  const nonceAt = keyIdAt + keyIdBytes + (version >= 2 ? PLAIN_CRC_BYTES : 0);
  return { baseOffset, version, keyIdAt, keyIdBytes, nonceAt };
}

/**
 * The plaintext batch sealed into the envelope at `disk[pos, pos+size)`,
 * written to `out` at `outPos` (which may be `disk` itself at or before
 * `pos`: the plaintext is shorter). Returns its size; throws EnvelopeError
 * when the tag does not authenticate (tampered bytes, or a different key
 * under that id), after which the envelope's bytes are not to be used.
 * `layout`: the envelope's, where the caller has read it already.
 */
export function openBatch(disk: Uint8Array, pos: number, sizeBytes: number, key: GcmKey, out: Uint8Array, outPos: number, layout = envelopeLayout(disk, pos, sizeBytes)): number {
  const { baseOffset, version, keyIdBytes, nonceAt } = layout;
  const plainBytes = sizeBytes - envelopeOverhead(keyIdBytes, version);
  const bodyAt = nonceAt + NONCE_BYTES;
  const tagAt = pos + sizeBytes - TAG_BYTES;
  const aad = additionalData(disk, pos, nonceAt);
  // Read before anything is written: the opened records may land over it.
  const plainCrc = version >= 2 ? readI32(disk, nonceAt - PLAIN_CRC_BYTES) : 0;
  // Header first: it ends before the nonce, the ciphertext and the tag wherever `out` is, while the opened
  // records may land over the envelope's own header (`out` is `disk`, before `pos`).
  if (out !== disk || outPos !== pos) out.set(disk.subarray(pos, pos + BATCH_HEADER_BYTES), outPos);
  const target = out.subarray(outPos + BATCH_HEADER_BYTES, outPos + plainBytes);
  if (!key.open(disk.subarray(nonceAt, bodyAt), aad, disk.subarray(bodyAt, tagAt), target, disk.subarray(tagAt, tagAt + TAG_BYTES))) {
    throw new EnvelopeError(`the encrypted batch at offset ${baseOffset} does not authenticate: its bytes were changed, or the key under its id is not the one it was written with`);
  }
  writeI32(out, outPos + BATCH_OFFSET_LENGTH, plainBytes - BATCH_LOG_OVERHEAD);
  out[outPos + BATCH_OFFSET_ATTRIBUTES] = (out[outPos + BATCH_OFFSET_ATTRIBUTES] as number) & ~ENCRYPTED_HIGH_BYTE;
  // v2 kept the batch's CRC, authenticated with it; a version 1 envelope did not, so it is computed.
  if (version >= 2) writeI32(out, outPos + BATCH_OFFSET_CRC, plainCrc);
  else sealBatchCrc(out, outPos, plainBytes);
  return plainBytes;
}
