/**
 * Finding a whole, valid batch in bytes where none is expected: how recovery
 * tells a torn tail (nothing valid follows the bad batch anywhere in the
 * partition) from damage in the middle (something does), and how
 * `runnel recover` (log-surgery.ts) counts what it sets aside.
 *
 * "Valid" is what a batch can prove on its own: magic 2, a sane header
 * (non-negative counts, a known codec, safe integers), a length that fits
 * in the file, and a CRC-32C that matches. That is not enough after damage:
 * a record value may carry a whole batch (a mirror's or an archiver's
 * payload), and inside the torn last append of a power loss such a batch
 * would pass for "data after the tear". So a batch found by searching must
 * also continue the log:
 * - its base offset is at least where the log before the damage ended (a
 *   client builds batches at base offset 0, and a later segment's batches
 *   start at or after its base);
 * - in the segment a tear can be in, it must start a chain
 *   (`findChainedBatch`): the batches after it are valid with rising
 *   offsets to the end of the file, or where they stop, another valid batch
 *   with higher offsets follows. Real data after damage does that; a batch
 *   inside a record value stops where the value goes on.
 * Only the bad batch itself is judged without its offsets (a batch whole
 * with a good CRC at the damage is no tear, whatever its base offset says:
 * that field lies outside the CRC, and one flipped bit there must not turn
 * acknowledged data into a "torn tail").
 *
 * The search moves one byte at a time, reading the file in blocks; a
 * candidate's CRC is computed in pieces, so a garbage length never makes it
 * allocate more than a block. It runs only on the failure path.
 */
import { crc32c } from '../../protocol/batch/crc32c.js';
import {
  ATTR_CODEC_MASK,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_MAGIC,
  BATCH_OFFSET_ATTRIBUTES,
  BATCH_OFFSET_CRC,
  BATCH_OFFSET_FIRST_TIMESTAMP,
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LENGTH,
  BATCH_OFFSET_MAGIC,
  BATCH_OFFSET_MAX_TIMESTAMP,
  BATCH_OFFSET_RECORD_COUNT,
  Codec,
  readI64,
} from '../../protocol/batch/header.js';
import type { FileHandle } from '../world/file-system.js';

const BLOCK_BYTES = 1024 * 1024;
const MAX_CODEC = Math.max(...Object.values(Codec));

/** A valid batch found by the search. */
export interface FoundBatch {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
}

/** Counts of batches, the records they hold, and their bytes. */
export interface BatchTally {
  batches: number;
  records: number;
  bytes: number;
}

/**
 * The first valid batch that starts at or after `fromPosition` in the first
 * `sizeBytes` of `file`, with a base offset of at least `minBaseOffset`
 * (0: any), or null when there is none.
 */
export function findValidBatch(file: FileHandle, fromPosition: number, sizeBytes: number, minBaseOffset = 0): FoundBatch | null {
  const block = new Uint8Array(BLOCK_BYTES + BATCH_HEADER_BYTES);
  const view = new DataView(block.buffer);
  for (let blockStart = Math.max(0, fromPosition); blockStart + BATCH_HEADER_BYTES <= sizeBytes; blockStart += BLOCK_BYTES) {
    const length = file.read(block, 0, Math.min(block.byteLength, sizeBytes - blockStart), blockStart);
    for (let at = 0; at + BATCH_HEADER_BYTES <= length && at < BLOCK_BYTES; at++) {
      if (block[at + BATCH_OFFSET_MAGIC] !== BATCH_MAGIC) continue;
      const candidate = plausibleHeader(block, view, at, sizeBytes - (blockStart + at));
      if (candidate === null || candidate.baseOffset < minBaseOffset) continue;
      const position = blockStart + at;
      if (crcMatches(file, position, candidate.sizeBytes, view.getUint32(at + BATCH_OFFSET_CRC))) return { position, ...candidate };
    }
  }
  return null;
}

/**
 * The first valid batch at or after `fromPosition` that continues the log
 * (base offset >= `minBaseOffset`) and starts a chain: the batches after it
 * are valid with rising offsets to the end of the file, or where they stop,
 * a valid batch with higher offsets follows (see the file comment). Null
 * when there is none.
 */
export function findChainedBatch(file: FileHandle, fromPosition: number, sizeBytes: number, minBaseOffset: number): FoundBatch | null {
  for (let from = fromPosition; ;) {
    const candidate = findValidBatch(file, from, sizeBytes, minBaseOffset);
    if (candidate === null) return null;
    const end = chainEnd(file, candidate, sizeBytes);
    if (end.position >= sizeBytes || findValidBatch(file, end.position, sizeBytes, end.lastOffset + 1) !== null) return candidate;
    // A chain that stops with nothing after it continuing it: not data after the damage. Batches inside it are
    // inside its batches; real data with lower offsets could still follow it.
    from = end.position;
  }
}

/** Where the run of valid batches with rising offsets that starts with `first` ends, and its last offset. */
function chainEnd(file: FileHandle, first: FoundBatch, sizeBytes: number): { position: number; lastOffset: number } {
  let position = first.position + first.sizeBytes;
  let lastOffset = first.lastOffset;
  for (;;) {
    const next = validBatchAt(file, position, sizeBytes);
    if (next === null || next.baseOffset <= lastOffset) return { position, lastOffset };
    position += next.sizeBytes;
    lastOffset = next.lastOffset;
  }
}

/**
 * Adds the valid batches and the unreadable bytes of `[from, sizeBytes)` of
 * `file` to `tally`: batches one after another from `from`, and past bytes
 * that are not a valid batch, the next valid batch that continues the log
 * (base offset >= `minBaseOffset`, then above every batch counted), so a
 * batch inside a damaged batch's record value is not counted as data.
 * Returns the offset the next segment's batches must reach.
 */
export function tallyValidBatches(file: FileHandle, from: number, sizeBytes: number, tally: BatchTally & { unreadableBytes: number }, minBaseOffset: number): number {
  let expected = minBaseOffset;
  for (let position = from; position < sizeBytes;) {
    const batch = validBatchAt(file, position, sizeBytes);
    if (batch !== null) {
      tally.batches += 1;
      tally.records += batch.recordCount;
      tally.bytes += batch.sizeBytes;
      expected = Math.max(expected, batch.lastOffset + 1);
      position += batch.sizeBytes;
      continue;
    }
    const next = findValidBatch(file, position + 1, sizeBytes, expected)?.position ?? sizeBytes;
    tally.unreadableBytes += next - position;
    position = next;
  }
  return expected;
}

/** The batch that starts exactly at `position`, if it is valid. */
export function validBatchAt(file: FileHandle, position: number, sizeBytes: number): FoundBatch | null {
  const header = headerAt(file, position, sizeBytes);
  if (header === null) return null;
  const candidate = plausibleHeader(header, new DataView(header.buffer), 0, sizeBytes - position);
  if (candidate === null || !crcMatches(file, position, candidate.sizeBytes, new DataView(header.buffer).getUint32(BATCH_OFFSET_CRC))) return null;
  return { position, ...candidate };
}

/**
 * What the header at `position` claims (offsets, record count), when it
 * reads as a batch header at all: for reporting a damaged batch, whose CRC
 * or length may be what failed.
 */
export function claimedBatchAt(file: FileHandle, position: number, sizeBytes: number): Omit<FoundBatch, 'position' | 'sizeBytes'> | null {
  const header = headerAt(file, position, sizeBytes);
  if (header === null || header[BATCH_OFFSET_MAGIC] !== BATCH_MAGIC) return null;
  const claimed = plausibleHeader(header, new DataView(header.buffer), 0, Number.MAX_SAFE_INTEGER);
  return claimed === null ? null : { baseOffset: claimed.baseOffset, lastOffset: claimed.lastOffset, recordCount: claimed.recordCount };
}

function headerAt(file: FileHandle, position: number, sizeBytes: number): Uint8Array | null {
  if (position < 0 || position + BATCH_HEADER_BYTES > sizeBytes) return null;
  const header = new Uint8Array(BATCH_HEADER_BYTES);
  return file.read(header, 0, BATCH_HEADER_BYTES, position) === BATCH_HEADER_BYTES ? header : null;
}

/** The header at `at` if it could belong to a valid batch of at most `remaining` bytes. */
function plausibleHeader(block: Uint8Array, view: DataView, at: number, remaining: number): Omit<FoundBatch, 'position'> | null {
  if (block[at + BATCH_OFFSET_MAGIC] !== BATCH_MAGIC) return null;
  const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(at + BATCH_OFFSET_LENGTH);
  if (sizeBytes < BATCH_HEADER_BYTES || sizeBytes > remaining) return null;
  const recordCount = view.getInt32(at + BATCH_OFFSET_RECORD_COUNT);
  const lastOffsetDelta = view.getInt32(at + BATCH_OFFSET_LAST_OFFSET_DELTA);
  if (recordCount < 0 || lastOffsetDelta < 0 || recordCount > lastOffsetDelta + 1) return null;
  if ((view.getInt16(at + BATCH_OFFSET_ATTRIBUTES) & ATTR_CODEC_MASK) > MAX_CODEC) return null;
  const baseOffset = readI64(block, at);
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) return null;
  if (!Number.isSafeInteger(readI64(block, at + BATCH_OFFSET_FIRST_TIMESTAMP)) || !Number.isSafeInteger(readI64(block, at + BATCH_OFFSET_MAX_TIMESTAMP))) return null;
  return { sizeBytes, baseOffset, lastOffset: baseOffset + lastOffsetDelta, recordCount };
}

/** CRC-32C of the batch's covered bytes, read in pieces, against `stored`. */
function crcMatches(file: FileHandle, position: number, sizeBytes: number, stored: number): boolean {
  const piece = new Uint8Array(Math.min(BLOCK_BYTES, sizeBytes));
  let crc = 0;
  for (let from = position + BATCH_OFFSET_ATTRIBUTES, end = position + sizeBytes; from < end;) {
    const n = file.read(piece, 0, Math.min(piece.byteLength, end - from), from);
    if (n === 0) return false;
    crc = crc32c(piece.subarray(0, n), crc);
    from += n;
  }
  return crc === stored;
}
