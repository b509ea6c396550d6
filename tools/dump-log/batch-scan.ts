/**
 * Walks the record batches of a `.log` segment file from the start, the way
 * recovery does, but only to report: each batch's header facts and whether its
 * CRC holds (and, on request, its records), then where and why the walk
 * stopped if the file does not end on a batch boundary (a torn tail after a
 * crash, or garbage). Reads through a
 * window of the file, so a 1 GiB segment never sits in memory at once.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  ATTR_CODEC_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_LOG_APPEND,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_MAGIC,
  BATCH_OFFSET_ATTRIBUTES,
  BATCH_OFFSET_BASE_OFFSET,
  BATCH_OFFSET_BASE_SEQUENCE,
  BATCH_OFFSET_CRC,
  BATCH_OFFSET_FIRST_TIMESTAMP,
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LEADER_EPOCH,
  BATCH_OFFSET_LENGTH,
  BATCH_OFFSET_MAGIC,
  BATCH_OFFSET_MAX_TIMESTAMP,
  BATCH_OFFSET_PRODUCER_EPOCH,
  BATCH_OFFSET_PRODUCER_ID,
  BATCH_OFFSET_RECORD_COUNT,
  BatchFormatError,
  Codec,
  readBatchHeader,
  verifyBatchCrc,
  type BatchHeader,
} from '../../protocol/batch/header.js';
import { decodeBatch } from '../../protocol/batch/reader.js';

export interface ScannedBatch {
  /** File position of the batch's first byte. */
  position: number;
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  sizeBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  crcValid: boolean;
  codec: string;
  timestampType: 'CreateTime' | 'LogAppendTime';
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
  control: boolean;
  /** Anything out of order relative to the segment or the batch before. */
  warnings: string[];
  /** With `decodeRecords` and a valid CRC: the records, keys and values as UTF-8 text. */
  records?: DumpedRecord[];
  /** Encrypted at rest (the broker's envelope): the key id it names (null if the envelope does not parse); absent for a plain batch. */
  encryptedUnderKey?: string | null;
  /** Why the records of an encrypted batch are not shown (no keyring given). */
  recordsHidden?: string;
}

/** How the scan treats batches encrypted at rest (tools/commands/dump-log.ts builds it from the broker's envelope code). */
export interface EnvelopeHandling {
  isEncrypted(batch: Uint8Array): boolean;
  keyIdOf(batch: Uint8Array): string | null;
  /** Opens an envelope (throws with the reason); null without a keyring. */
  open: ((batch: Uint8Array, file: string, position: number) => Uint8Array) | null;
}

export interface DumpedRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

export interface ScanEnd {
  fileBytes: number;
  /** Bytes from the start that form whole batches. */
  scannedBytes: number;
  /** Why the walk stopped before the end of the file, if it did. */
  problem?: { position: number; message: string };
}

const WINDOW_BYTES = 8 * 1024 * 1024;

const codecNames = new Map<number, string>(Object.entries(Codec).map(([name, id]) => [id, name]));

/** Yields every whole batch in file order; returns how the walk ended. */
export function* scanBatches(path: string, segmentBaseOffset: number, opts: { decodeRecords?: boolean; envelopes?: EnvelopeHandling } = {}): Generator<ScannedBatch, ScanEnd> {
  const fd = openSync(path, 'r');
  try {
    const fileBytes = fstatSync(fd).size;
    const window = new FileWindow(fd, fileBytes);
    let position = 0;
    let previousLastOffset: number | undefined;
    while (position < fileBytes) {
      const remaining = fileBytes - position;
      if (remaining < BATCH_HEADER_BYTES) {
        return stoppedAt(fileBytes, position, `the last ${remaining} bytes are too short for a batch header (${BATCH_HEADER_BYTES} bytes): a torn tail`);
      }
      const head = window.bytes(position, BATCH_HEADER_BYTES);
      const sizeBytes = BATCH_LOG_OVERHEAD + head.readInt32BE(BATCH_OFFSET_LENGTH);
      if (sizeBytes < BATCH_HEADER_BYTES) {
        return stoppedAt(fileBytes, position, `batchLength ${sizeBytes - BATCH_LOG_OVERHEAD} is too small for a batch: not a batch boundary (zeros or garbage)`);
      }
      if (sizeBytes > remaining) {
        return stoppedAt(fileBytes, position, `a batch of ${sizeBytes} bytes starts here but only ${remaining} bytes remain: a torn tail`);
      }
      const bytes = window.bytes(position, sizeBytes);
      const magic = bytes.readInt8(BATCH_OFFSET_MAGIC);
      if (magic !== BATCH_MAGIC) {
        return stoppedAt(fileBytes, position, `magic byte is ${magic}, not ${BATCH_MAGIC}: not a batch boundary (zeros or garbage)`);
      }
      const batch = describeBatch(bytes, position);
      const plain = opts.envelopes?.isEncrypted(bytes) === true ? openEnvelope(batch, bytes, path, opts.envelopes) : bytes;
      if (opts.decodeRecords === true && batch.crcValid && plain !== null) decodeRecords(batch, plain);
      if (batch.baseOffset < segmentBaseOffset) {
        batch.warnings.push(`base offset is below the segment's base offset ${segmentBaseOffset}`);
      }
      if (previousLastOffset !== undefined && batch.baseOffset <= previousLastOffset) {
        batch.warnings.push(`offsets do not increase: the previous batch ended at offset ${previousLastOffset}`);
      }
      previousLastOffset = batch.lastOffset;
      yield batch;
      position += sizeBytes;
    }
    return { fileBytes, scannedBytes: position };
  } finally {
    closeSync(fd);
  }
}

/**
 * An encrypted batch: its key id, and (with a keyring) its plaintext, which
 * also proves it authenticates; a batch that does not is a warning. Null
 * when the records cannot be shown.
 */
function openEnvelope(batch: ScannedBatch, bytes: Buffer, path: string, envelopes: EnvelopeHandling): Buffer | null {
  const keyId = envelopes.keyIdOf(bytes);
  batch.encryptedUnderKey = keyId;
  if (keyId === null) {
    batch.warnings.push('encrypted, but the envelope does not parse');
    return null;
  }
  if (envelopes.open === null) {
    batch.recordsHidden = `encrypted under key '${keyId}': give the keyring (--key-file, or RUNNEL_ENCRYPTION_KEYS) to read the records`;
    return null;
  }
  if (!batch.crcValid) return null;
  try {
    const plain = envelopes.open(bytes, path, batch.position);
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch (err) {
    batch.warnings.push((err as Error).message);
    return null;
  }
}

function stoppedAt(fileBytes: number, position: number, message: string): ScanEnd {
  return { fileBytes, scannedBytes: position, problem: { position, message } };
}

/**
 * The frame (length, magic) is sound by now. A header field that does not
 * parse (say a flipped bit in producerId) lies inside the CRC's coverage, so it
 * is reported on this batch, which then fails its CRC, and the walk goes on.
 */
function describeBatch(bytes: Buffer, position: number): ScannedBatch {
  const warnings: string[] = [];
  let header: BatchHeader;
  try {
    header = readBatchHeader(bytes, 0);
  } catch (err) {
    if (!(err instanceof BatchFormatError)) throw err;
    warnings.push(`header does not parse: ${err.message.replace(/ \(at byte \d+\)$/, '')} (file byte ${position + err.position})`);
    header = rawHeader(bytes);
  }
  const codecId = header.attributes & ATTR_CODEC_MASK;
  return {
    position,
    baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + header.lastOffsetDelta,
    recordCount: header.recordCount,
    sizeBytes: header.sizeBytes,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    magic: header.magic,
    crc: header.crc,
    crcValid: verifyBatchCrc(bytes, 0, header.sizeBytes),
    codec: codecNames.get(codecId) ?? `unknown(${codecId})`,
    timestampType: (header.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0 ? 'LogAppendTime' : 'CreateTime',
    firstTimestamp: header.firstTimestamp,
    maxTimestamp: header.maxTimestamp,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    transactional: (header.attributes & ATTR_TRANSACTIONAL) !== 0,
    control: (header.attributes & ATTR_CONTROL) !== 0,
    warnings,
  };
}

/** Fills `batch.records`; a batch whose records do not parse gets a warning instead. */
function decodeRecords(batch: ScannedBatch, bytes: Buffer): void {
  try {
    const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
    batch.records = decodeBatch(bytes, 0, { verifyCrc: false }).records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: text(r.key),
      value: text(r.value),
      headers: Object.fromEntries(r.headers.map((h) => [h.key, text(h.value)])),
    }));
  } catch (err) {
    if (!(err instanceof BatchFormatError)) throw err;
    batch.warnings.push(`records do not parse: ${err.message}`);
  }
}

/** The header fields as stored, with no checks (64-bit fields may round). */
function rawHeader(bytes: Buffer): BatchHeader {
  const i64 = (at: number) => Number(bytes.readBigInt64BE(at));
  return {
    baseOffset: i64(BATCH_OFFSET_BASE_OFFSET),
    sizeBytes: bytes.length,
    partitionLeaderEpoch: bytes.readInt32BE(BATCH_OFFSET_LEADER_EPOCH),
    magic: bytes.readInt8(BATCH_OFFSET_MAGIC),
    crc: bytes.readUInt32BE(BATCH_OFFSET_CRC),
    attributes: bytes.readInt16BE(BATCH_OFFSET_ATTRIBUTES),
    lastOffsetDelta: bytes.readInt32BE(BATCH_OFFSET_LAST_OFFSET_DELTA),
    firstTimestamp: i64(BATCH_OFFSET_FIRST_TIMESTAMP),
    maxTimestamp: i64(BATCH_OFFSET_MAX_TIMESTAMP),
    producerId: i64(BATCH_OFFSET_PRODUCER_ID),
    producerEpoch: bytes.readInt16BE(BATCH_OFFSET_PRODUCER_EPOCH),
    baseSequence: bytes.readInt32BE(BATCH_OFFSET_BASE_SEQUENCE),
    recordCount: bytes.readInt32BE(BATCH_OFFSET_RECORD_COUNT),
  };
}

/** A sliding read buffer over a file: `bytes(pos, n)` is valid until the next call. */
class FileWindow {
  #buffer = Buffer.alloc(0);
  #start = 0;
  #length = 0;

  constructor(
    private readonly fd: number,
    private readonly fileBytes: number,
  ) {}

  bytes(position: number, count: number): Buffer {
    if (position < this.#start || position + count > this.#start + this.#length) this.#fill(position, count);
    const at = position - this.#start;
    return this.#buffer.subarray(at, at + count);
  }

  #fill(position: number, count: number): void {
    const size = Math.max(count, Math.min(WINDOW_BYTES, this.fileBytes - position));
    if (this.#buffer.length < size) this.#buffer = Buffer.alloc(size);
    const want = Math.min(this.#buffer.length, this.fileBytes - position);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, this.#buffer, got, want - got, position + got);
      if (n === 0) break;
      got += n;
    }
    if (got < count) throw new Error(`file shrank while reading: wanted ${count} bytes at ${position}, got ${got}`);
    this.#start = position;
    this.#length = got;
  }
}
