/**
 * The two passes of compaction over one chunk of a segment's .log (whole
 * batches only: the cleaner cuts chunks at batch boundaries). Pure and
 * synchronous, so they run the same inline or on a worker thread
 * (workers/clean-worker.ts); chunk bytes travel by transfer, the offset map
 * by sharing (compaction-offset-map.ts).
 *
 * - `mapChunk` records each keyed record's offset in the map (the larger
 *   offset wins), so afterwards the map says where each key's latest record
 *   in the dirty part of the log is.
 * - `filterChunk` keeps a record unless the map holds a later offset for its
 *   key, drops keyless records (only a topic switched to compact can still
 *   hold them) and tombstones whose batch's largest timestamp is older than
 *   the tombstone horizon (now - delete.retention.ms), and writes the kept
 *   records out as batches (compaction-records.ts). A batch that keeps every
 *   record is copied as is; one that keeps none is dropped, except the last
 *   batch of a cleaned group when `keepLastBatch` is set: it stays as an
 *   empty batch so the group still ends at the offset it ended at.
 *
 * Every batch is checked first (header bounds, magic, CRC-32C); a bad one
 * stops the chunk with `stop: 'bad'` at its position, and the cleaner reports
 * it with file and byte position instead of copying damage forward. Control
 * batches are copied unchanged. A batch whose records inflate past the bound
 * cannot be looked into and is kept whole (never dropped unseen).
 */
import {
  ATTR_CONTROL,
  BATCH_OFFSET_ATTRIBUTES,
  readBatchHeader,
  verifyBatchCrc,
  type BatchHeader,
} from '../../protocol/batch/header.js';
import { forEachRecord, rebuildBatch, recordsSection } from './compaction-records.js';
import { OffsetMap, type OffsetMapState } from './compaction-offset-map.js';

export interface ChunkParams {
  /** File position of the chunk's first byte (for error positions). */
  filePosition: number;
  /** Bound on one batch's inflated records. */
  maxUncompressedBytes: number;
}

export interface MapChunkRequest {
  kind: 'map';
  /** A standalone ArrayBuffer: it is transferred. */
  buffer: ArrayBuffer;
  length: number;
  params: ChunkParams;
  map: OffsetMapState;
}

export interface MapChunkReply {
  kind: 'map';
  buffer: ArrayBuffer;
  /** The map's state after the chunk (its buffers may have been replaced by growth). */
  map: OffsetMapState;
  stop: 'end' | 'full' | 'bad';
  /** Bytes of batches fully mapped. */
  consumedBytes: number;
  badReason: string;
  records: number;
}

export interface FilterChunkRequest {
  kind: 'filter';
  buffer: ArrayBuffer;
  length: number;
  params: ChunkParams;
  map: OffsetMapState;
  /** Tombstones in batches whose maxTimestamp is below this are dropped. */
  tombstoneHorizonMs: number;
  /** The chunk ends the cleaned group: its last batch is never dropped (kept empty if need be). */
  keepLastBatch: boolean;
}

export interface FilterStats {
  recordsRead: number;
  recordsKept: number;
  tombstonesDropped: number;
  keylessDropped: number;
  batchesDropped: number;
  batchesRewritten: number;
  /** Batches kept whole because their records could not be inflated within the bound. */
  unreadableBatches: number;
}

export interface FilterChunkReply {
  kind: 'filter';
  buffer: ArrayBuffer;
  stop: 'end' | 'bad';
  consumedBytes: number;
  badReason: string;
  /** The surviving batches, back to back, in `output[0, outputBytes)`. */
  output: ArrayBuffer;
  outputBytes: number;
  /** Per output batch: baseOffset, lastOffset, maxTimestamp, sizeBytes. */
  batches: Float64Array;
  stats: FilterStats;
  /** Smallest maxTimestamp of a batch that kept a tombstone (Infinity: none kept): when the next pass can drop it. */
  oldestTombstoneMs: number;
}

export type CleanRequest = MapChunkRequest | FilterChunkRequest;
export type CleanReply = MapChunkReply | FilterChunkReply;

export function emptyFilterStats(): FilterStats {
  return { recordsRead: 0, recordsKept: 0, tombstonesDropped: 0, keylessDropped: 0, batchesDropped: 0, batchesRewritten: 0, unreadableBatches: 0 };
}

export function addFilterStats(into: FilterStats, from: FilterStats): void {
  for (const key of Object.keys(into) as (keyof FilterStats)[]) into[key] += from[key];
}

/** The checked header of the batch at `pos`, or the reason it is bad. */
function checkedHeader(bytes: Uint8Array, pos: number): BatchHeader | string {
  let header: BatchHeader;
  try {
    header = readBatchHeader(bytes, pos);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (!verifyBatchCrc(bytes, pos, header.sizeBytes)) return 'CRC-32C mismatch';
  return header;
}

function isControl(bytes: Uint8Array, pos: number): boolean {
  return ((bytes[pos + BATCH_OFFSET_ATTRIBUTES + 1] as number) & ATTR_CONTROL) !== 0;
}

/** The records section, or null when it inflates past the bound (the batch is then kept whole, unseen). */
function sectionOrNull(bytes: Uint8Array, pos: number, header: BatchHeader, maxBytes: number): Uint8Array | null {
  try {
    return recordsSection(bytes, pos, header, maxBytes);
  } catch {
    return null;
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function mapChunk(request: MapChunkRequest): MapChunkReply {
  const bytes = new Uint8Array(request.buffer, 0, request.length);
  const map = OffsetMap.attach(request.map);
  let pos = 0;
  let records = 0;
  let stop: MapChunkReply['stop'] = 'end';
  let badReason = '';
  while (pos < bytes.byteLength) {
    const header = checkedHeader(bytes, pos);
    if (typeof header === 'string') {
      stop = 'bad';
      badReason = header;
      break;
    }
    if (!isControl(bytes, pos)) {
      const section = sectionOrNull(bytes, pos, header, request.params.maxUncompressedBytes);
      if (section !== null) {
        let full = false;
        try {
          forEachRecord(section, header, pos, (buf, keyStart, keyLength, offset) => {
            records += 1;
            if (keyLength >= 0 && !full && !map.put(buf, keyStart, keyLength, offset)) full = true;
          });
        } catch (err) {
          stop = 'bad';
          badReason = reasonOf(err);
          break;
        }
        if (full) {
          stop = 'full';
          break;
        }
      }
    }
    pos += header.sizeBytes;
  }
  return { kind: 'map', buffer: request.buffer, map: map.state, stop, consumedBytes: pos, badReason, records };
}

/** A growable output of whole batches. */
class BatchOutput {
  buffer: ArrayBuffer;
  bytes: Uint8Array;
  length = 0;
  batches: number[] = [];

  constructor(capacity: number) {
    this.buffer = new ArrayBuffer(Math.max(capacity, 64));
    this.bytes = new Uint8Array(this.buffer);
  }

  push(batch: Uint8Array, header: BatchHeader): void {
    if (this.length + batch.byteLength > this.bytes.byteLength) {
      const grown = new ArrayBuffer(Math.max(this.length + batch.byteLength, this.bytes.byteLength * 2));
      new Uint8Array(grown).set(this.bytes.subarray(0, this.length));
      this.buffer = grown;
      this.bytes = new Uint8Array(grown);
    }
    this.bytes.set(batch, this.length);
    this.length += batch.byteLength;
    this.batches.push(header.baseOffset, header.baseOffset + header.lastOffsetDelta, header.maxTimestamp, batch.byteLength);
  }
}

export function filterChunk(request: FilterChunkRequest): FilterChunkReply {
  const bytes = new Uint8Array(request.buffer, 0, request.length);
  const map = OffsetMap.attach(request.map);
  const out = new BatchOutput(request.length);
  const stats = emptyFilterStats();
  const kept: number[] = [];
  let pos = 0;
  let stop: FilterChunkReply['stop'] = 'end';
  let badReason = '';
  let oldestTombstoneMs = Number.POSITIVE_INFINITY;
  while (pos < bytes.byteLength) {
    const header = checkedHeader(bytes, pos);
    if (typeof header === 'string') {
      stop = 'bad';
      badReason = header;
      break;
    }
    const whole = bytes.subarray(pos, pos + header.sizeBytes);
    const section = isControl(bytes, pos) ? null : sectionOrNull(bytes, pos, header, request.params.maxUncompressedBytes);
    if (section === null) {
      if (!isControl(bytes, pos)) stats.unreadableBatches += 1;
      out.push(whole, header);
      pos += header.sizeBytes;
      continue;
    }
    kept.length = 0;
    let keptCount = 0;
    const tombstonesExpired = header.maxTimestamp < request.tombstoneHorizonMs;
    try {
      forEachRecord(section, header, pos, (buf, keyStart, keyLength, offset, tombstone, recordStart, recordEnd) => {
        stats.recordsRead += 1;
        if (keyLength < 0) {
          stats.keylessDropped += 1;
          return;
        }
        if (map.get(buf, keyStart, keyLength) > offset) return;
        if (tombstone && tombstonesExpired) {
          stats.tombstonesDropped += 1;
          return;
        }
        if (tombstone && header.maxTimestamp < oldestTombstoneMs) oldestTombstoneMs = header.maxTimestamp;
        kept.push(recordStart, recordEnd);
        keptCount += 1;
      });
    } catch (err) {
      stop = 'bad';
      badReason = reasonOf(err);
      break;
    }
    stats.recordsKept += keptCount;
    const last = pos + header.sizeBytes === bytes.byteLength;
    if (keptCount === 0 && !(last && request.keepLastBatch)) {
      stats.batchesDropped += 1;
    } else if (keptCount === header.recordCount) {
      out.push(whole, header);
    } else {
      stats.batchesRewritten += 1;
      out.push(rebuildBatch(bytes, pos, header.sizeBytes, section, kept, keptCount), header);
    }
    pos += header.sizeBytes;
  }
  return {
    kind: 'filter',
    buffer: request.buffer,
    stop,
    consumedBytes: pos,
    badReason,
    output: out.buffer,
    outputBytes: out.length,
    batches: Float64Array.from(out.batches),
    stats,
    oldestTombstoneMs,
  };
}

export function runCleanRequest(request: CleanRequest): CleanReply {
  return request.kind === 'map' ? mapChunk(request) : filterChunk(request);
}
