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
import { DELIVER_AT_HEADER } from '../../protocol/headers.js';
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

/** The records from `fromOffset` (-1: the log start: a new group reads a queue from its oldest record) on, at most `max` of them. */
export async function readCandidates(data: PartitionData, fromOffset: number, max: number): Promise<Candidates> {
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
  const due = record.headers.find((h) => h.key === DELIVER_AT_HEADER);
  const dueMs = due?.value == null ? 0 : Number(Buffer.from(due.value).toString('utf8'));
  return { offset: record.offset, keyHash: record.key === null ? null : xxhash32(record.key) | 0, dueMs: Number.isFinite(dueMs) && dueMs > 0 ? dueMs : 0, timestampMs: record.timestamp };
}

/** The whole batches holding any of `offsets` (ascending), concatenated: what a ShareFetch answer carries. */
export async function readBatchesHolding(data: PartitionData, offsets: readonly number[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  if (offsets.length === 0) return Buffer.alloc(0);
  const last = offsets[offsets.length - 1]!;
  let i = 0;
  let next = offsets[0]!;
  while (next <= last) {
    const read = await data.read(next, READ_BYTES);
    if (read.records.length === 0) break;
    for (const chunk of read.records) {
      for (const { position, header } of batchesIn(chunk)) {
        const batchEnd = header.baseOffset + header.lastOffsetDelta;
        while (i < offsets.length && offsets[i]! < header.baseOffset) i++;
        if (i < offsets.length && offsets[i]! <= batchEnd) parts.push(chunk.subarray(position, position + header.sizeBytes));
        next = batchEnd + 1;
      }
    }
  }
  return Buffer.concat(parts);
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
