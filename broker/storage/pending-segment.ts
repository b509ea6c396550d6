/**
 * A segment that exists only in memory until the segment before it is
 * durable: the roll barrier of partition-log.ts.
 *
 * Why: after a power loss each file keeps whatever the kernel happened to
 * write back, in no particular order across files. If a new segment were
 * written while the one before it still had unsynced bytes, a crash could
 * keep the new segment's batches and tear the old one's tail, and recovery
 * could not tell that from a damaged batch with acknowledged data after it
 * (which it must never cut off). So a roll whose old segment is not yet
 * durable puts the batches that follow here, and the log writes them to a
 * new segment file only once a flush has made every byte of the old segment
 * (and its directory entry) durable. After any crash a torn tail can then
 * only be in the last segment.
 *
 * It holds whole batches, already stamped with their offsets (copied out of
 * the request), in offset order, and answers reads and timestamp lookups
 * from memory meanwhile. The roll rules (segment.bytes, segment.ms, index
 * room, u32 relative offsets) apply to it as to a segment on disk, so when
 * appends outrun fsyncs several pending segments queue, each written once the
 * one before it is durable. How many bytes may wait like this is bounded
 * (pending-budget.ts). Each append's copy is kept as it came and written
 * back as it came (`chunks`), never joined into one buffer. A truncation
 * cuts it in memory (`truncateTo`). Not thread-safe: one PartitionLog owns it.
 */
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LEADER_EPOCH,
  BATCH_OFFSET_LENGTH,
  BATCH_OFFSET_MAX_TIMESTAMP,
  readI64,
} from '../../protocol/batch/header.js';
import { assert } from '../world/assert.js';
import type { BatchLocation, ReadBufferSource } from './segment.js';
import { TIME_INDEX_ENTRY_BYTES } from './time-index.js';

/** One append's stamped batches, and the offset after its last record. */
export interface PendingChunk {
  bytes: Uint8Array;
  nextOffset: number;
}

export class PendingSegment {
  readonly baseOffset: number;
  /** Clock time of the roll that made it (segment.ms when batches carry no timestamps). */
  readonly createdAtMs: number;
  nextOffset: number;
  sizeBytes = 0;
  batchCount = 0;
  /** The first batch's maxTimestamp (-1 while empty), as for a segment on disk. */
  rollBaseTimestampMs = -1;
  /** Whole batches, each chunk one append's worth, with the offset after its last record. */
  #chunks: PendingChunk[] = [];

  constructor(baseOffset: number, createdAtMs: number) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.createdAtMs = createdAtMs;
  }

  /** Keeps a copy of `batches` (whole, stamped); `nextOffset` is the offset after their last record. */
  add(batches: Uint8Array, batchCount: number, nextOffset: number): void {
    assert(nextOffset > this.nextOffset && batches.byteLength >= BATCH_HEADER_BYTES, 'a pending segment grows by whole batches', { base: this.baseOffset, nextOffset, was: this.nextOffset });
    if (this.sizeBytes === 0) this.rollBaseTimestampMs = readI64(batches, BATCH_OFFSET_MAX_TIMESTAMP);
    // A copy, not a view (Buffer's slice is one): the caller's buffer may be a socket chunk, or reused.
    this.#chunks.push({ bytes: new Uint8Array(batches), nextOffset });
    this.sizeBytes += batches.byteLength;
    this.batchCount += batchCount;
    this.nextOffset = nextOffset;
  }

  /** What the log writes to the segment file, in order: one write per chunk. */
  chunks(): readonly PendingChunk[] {
    return this.#chunks;
  }

  /**
   * Drops every batch that holds an offset at or after `offset` (a batch
   * holding `offset` goes whole); returns the bytes dropped. The segment is
   * empty afterwards when `offset` is at or below its first batch.
   */
  truncateTo(offset: number): number {
    const kept: PendingChunk[] = [];
    let keptBytes = 0;
    let keptBatches = 0;
    let nextOffset = this.baseOffset;
    for (const chunk of this.#chunks) {
      let end = 0;
      let chunkNext = nextOffset;
      const view = new DataView(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
      for (let at = 0; at < chunk.bytes.byteLength;) {
        const lastOffset = readI64(chunk.bytes, at) + view.getInt32(at + BATCH_OFFSET_LAST_OFFSET_DELTA);
        if (lastOffset >= offset) break;
        at += BATCH_LOG_OVERHEAD + view.getInt32(at + BATCH_OFFSET_LENGTH);
        end = at;
        chunkNext = lastOffset + 1;
        keptBatches += 1;
      }
      if (end > 0) {
        kept.push(end === chunk.bytes.byteLength ? chunk : { bytes: chunk.bytes.slice(0, end), nextOffset: chunkNext });
        keptBytes += end;
        nextOffset = chunkNext;
      }
      if (end < chunk.bytes.byteLength) break;
    }
    const dropped = this.sizeBytes - keptBytes;
    this.#chunks = kept;
    this.sizeBytes = keptBytes;
    this.batchCount = keptBatches;
    this.nextOffset = nextOffset;
    if (keptBytes === 0) this.rollBaseTimestampMs = -1;
    assert(this.nextOffset <= Math.max(offset, this.baseOffset), 'a truncated pending segment ends at or below the cut', { offset, nextOffset: this.nextOffset });
    return dropped;
  }

  /**
   * Whether `batches` more could overflow the indexes the segment will get
   * (`segmentIndexBytes` each): a bound, one time-index entry per batch plus
   * the final one, since where the sparse entries fall is known only once
   * the bytes are written.
   */
  indexesWouldOverflow(batches: number, segmentIndexBytes: number): boolean {
    return this.batchCount + batches + 1 > Math.floor(segmentIndexBytes / TIME_INDEX_ENTRY_BYTES);
  }

  /** Each held batch with its location (position within this segment). */
  *#batches(): Generator<{ chunk: Uint8Array; at: number; location: BatchLocation }> {
    let position = 0;
    for (const { bytes: chunk } of this.#chunks) {
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = 0; at < chunk.byteLength;) {
        const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(at + BATCH_OFFSET_LENGTH);
        const baseOffset = readI64(chunk, at);
        yield {
          chunk,
          at,
          location: {
            position: position + at,
            sizeBytes,
            baseOffset,
            lastOffset: baseOffset + view.getInt32(at + BATCH_OFFSET_LAST_OFFSET_DELTA),
            maxTimestamp: readI64(chunk, at + BATCH_OFFSET_MAX_TIMESTAMP),
            leaderEpoch: view.getInt32(at + BATCH_OFFSET_LEADER_EPOCH),
          },
        };
        at += sizeBytes;
      }
      position += chunk.byteLength;
    }
  }

  /**
   * As `Segment.readBatches` from the batch holding `offset`: whole batches
   * up to `maxBytes` (always the first), none at or past
   * `maxOffsetExclusive`, copied into one buffer from `allocate`.
   */
  read(offset: number, maxBytes: number, maxOffsetExclusive: number, allocate: ReadBufferSource = Buffer.allocUnsafe): Uint8Array[] {
    const picked: { chunk: Uint8Array; at: number; sizeBytes: number }[] = [];
    let total = 0;
    for (const { chunk, at, location } of this.#batches()) {
      if (location.lastOffset < offset) continue;
      if (location.lastOffset >= maxOffsetExclusive || (picked.length > 0 && total + location.sizeBytes > maxBytes)) break;
      picked.push({ chunk, at, sizeBytes: location.sizeBytes });
      total += location.sizeBytes;
    }
    if (picked.length === 0) return [];
    const buffer = allocate(total);
    const out: Uint8Array[] = [];
    let at = 0;
    for (const batch of picked) {
      buffer.set(batch.chunk.subarray(batch.at, batch.at + batch.sizeBytes), at);
      out.push(buffer.subarray(at, at + batch.sizeBytes));
      at += batch.sizeBytes;
    }
    return out;
  }

  /** The first held batch whose maxTimestamp is >= `timestampMs`, with its bytes; null if none. */
  locateTimestamp(timestampMs: number): { location: BatchLocation; batch: Uint8Array } | null {
    for (const { chunk, at, location } of this.#batches()) {
      if (location.maxTimestamp >= timestampMs) return { location, batch: chunk.subarray(at, at + location.sizeBytes) };
    }
    return null;
  }
}
