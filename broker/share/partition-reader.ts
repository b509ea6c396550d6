/**
 * What the share-group coordinator reads of the partitions it shares out:
 * record metadata after a window's end (offset, key hash, due time,
 * timestamp), the whole batches that hold acquired records (the answer of a
 * ShareFetch carries the partition's own bytes) and single records (for
 * dead-letter copies). Reads go to the partition's leader: its replica on
 * this broker, or another broker over an inter-broker Fetch (sources.ts);
 * this file only walks what a read returns.
 */
import { ATTR_CONTROL, batchesIn, decodeBatch, type DecodedRecord } from '../../protocol/batch/index.js';
import { xxhash32 } from '../../protocol/batch/xxhash32.js';
import { deliverAtOf } from '../../protocol/headers.js';
import type { Candidates, RecordMeta } from './window.js';

/** One partition's committed records, wherever its leader is. */
export interface PartitionData {
  /** Whole batches from the one holding `offset` on (at least one batch), up to the high watermark; empty at or past it. */
  read(offset: number, maxBytes: number): Promise<{ records: readonly Uint8Array[] }>;
  /** As of the last read (remote) or now (local); -1 unknown. */
  readonly logStartOffset: number;
  readonly highWatermark: number;
}

export const READ_BYTES = 1024 * 1024;

/**
 * The records from `fromOffset` (-1: the log start: a new group reads a
 * queue from its oldest record) on, at most `max` of them. The whole batches
 * it decoded are pushed to `batches` when given, so the answer can carry
 * them without reading them again (readBatchesHolding).
 */
export async function readCandidates(data: PartitionData, fromOffset: number, max: number, batches?: Uint8Array[]): Promise<Candidates> {
  const from = Math.max(fromOffset, data.logStartOffset, 0);
  const records: RecordMeta[] = [];
  let next = from;
  for (let reads = 0; records.length < max && reads < 64; reads++) {
    const read = await data.read(next, READ_BYTES);
    if (read.records.length === 0) break;
    let full = false;
    for (const chunk of read.records) {
      for (const { position, header } of batchesIn(chunk)) {
        if (full) break;
        if ((header.attributes & ATTR_CONTROL) === 0) {
          batches?.push(chunk.subarray(position, position + header.sizeBytes));
          for (const record of decodeBatch(chunk, position).records) {
            if (record.offset < next) continue;
            if (records.length >= max) {
              full = true;
              break;
            }
            records.push(metaOf(record));
          }
        }
        if (!full) next = header.baseOffset + header.lastOffsetDelta + 1;
      }
    }
    if (full) next = records[records.length - 1]!.offset + 1;
  }
  return { fromOffset: from, toOffset: next, records };
}

function metaOf(record: DecodedRecord): RecordMeta {
  return { offset: record.offset, keyHash: record.key === null ? null : xxhash32(record.key) | 0, dueMs: deliverAtOf(record.headers) ?? 0, timestampMs: record.timestamp };
}

/**
 * The whole batches holding any of `offsets` (ascending), concatenated in
 * offset order: what a ShareFetch answer carries. Batches in `known` (what
 * readCandidates just decoded) are taken as they are; the partition is read
 * only for offsets none of them holds (records redelivered from inside the
 * window).
 */
export async function readBatchesHolding(data: PartitionData, offsets: readonly number[], known: readonly Uint8Array[] = []): Promise<Buffer> {
  if (offsets.length === 0) return Buffer.alloc(0);
  const parts = new Map<number, Uint8Array>();
  let missing = offsets;
  const pick = (batches: Iterable<{ chunk: Uint8Array; position: number; baseOffset: number; lastOffset: number; sizeBytes: number }>): void => {
    const left: number[] = [];
    let i = 0;
    for (const b of batches) {
      while (i < missing.length && missing[i]! < b.baseOffset) left.push(missing[i++]!);
      if (i < missing.length && missing[i]! <= b.lastOffset) parts.set(b.baseOffset, b.chunk.subarray(b.position, b.position + b.sizeBytes));
      while (i < missing.length && missing[i]! <= b.lastOffset) i++;
    }
    missing = [...left, ...missing.slice(i)];
  };
  pick(batchesOf(known));
  while (missing.length > 0) {
    const read = await data.read(missing[0]!, READ_BYTES);
    if (read.records.length === 0) break;
    const before = missing.length;
    pick(batchesOf(read.records));
    // Offsets the read passed over (compacted away, or gone): nothing to carry for them.
    const readTo = [...batchesOf(read.records)].reduce((end, b) => Math.max(end, b.lastOffset), -1);
    missing = missing.filter((o) => o > readTo);
    if (missing.length === before) break;
  }
  return Buffer.concat([...parts].sort(([a], [b]) => a - b).map(([, batch]) => batch));
}

function* batchesOf(chunks: readonly Uint8Array[]): Generator<{ chunk: Uint8Array; position: number; baseOffset: number; lastOffset: number; sizeBytes: number }> {
  for (const chunk of chunks) {
    for (const { position, header } of batchesIn(chunk)) yield { chunk, position, baseOffset: header.baseOffset, lastOffset: header.baseOffset + header.lastOffsetDelta, sizeBytes: header.sizeBytes };
  }
}

/** The records at `offsets` that are still in the log (retention may have removed some), by offset. */
export async function readRecords(data: PartitionData, offsets: readonly number[]): Promise<Map<number, DecodedRecord>> {
  const wanted = new Set(offsets);
  const found = new Map<number, DecodedRecord>();
  for (const offset of [...wanted].sort((a, b) => a - b)) {
    if (found.has(offset) || offset < data.logStartOffset) continue;
    const read = await data.read(offset, READ_BYTES);
    for (const chunk of read.records) {
      for (const { position, header } of batchesIn(chunk)) {
        if ((header.attributes & ATTR_CONTROL) !== 0) continue;
        for (const record of decodeBatch(chunk, position).records) if (wanted.has(record.offset)) found.set(record.offset, record);
      }
    }
  }
  return found;
}
