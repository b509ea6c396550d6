/**
 * What the share-group coordinator reads of the partitions it shares out:
 * record metadata after a window's end (offset, key hash, due time,
 * timestamp), the batches that hold acquired records, cut down to them
 * (the answer of a ShareFetch carries the partition's own record bytes)
 * and single records (for dead-letter copies). Reads go to the partition's leader: its replica on
 * this broker, or another broker over an inter-broker Fetch (sources.ts);
 * this file only walks what a read returns.
 */
import { ATTR_CONTROL, batchesIn, decodeBatch, type DecodedRecord } from '../../protocol/batch/index.js';
import type { BatchHeader } from '../../protocol/batch/header.js';
import { recordMetas, sliceBatch } from './batch-records.js';
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
 * Reads for candidates are sized to what is wanted, so a fetch of 500 does
 * not copy a megabyte out of the log to use 60 KiB of it. A read returns
 * only whole batches within its size (at least one), and the first batch
 * is mostly taken already (the last fetch stopped inside it): the first
 * read asks for GUESS_RECORD_BYTES per record wanted (twice what a 100-byte
 * record takes on disk) plus BATCH_SLACK_BYTES (a producer's usual batch),
 * so one read usually does; a further read of the same call asks for the
 * bytes per record seen so far, at least BATCH_SLACK_BYTES.
 */
const BATCH_SLACK_BYTES = 64 * 1024;
const GUESS_RECORD_BYTES = 256;

/**
 * The records from `fromOffset` (-1: the log start: a new group reads a
 * queue from its oldest record) on, at most `max` of them. The whole batches
 * it looked into are pushed to `batches` when given, so the answer can carry
 * them without reading them again (readBatchesHolding).
 */
export async function readCandidates(data: PartitionData, fromOffset: number, max: number, batches?: Uint8Array[]): Promise<Candidates> {
  const from = Math.max(fromOffset, data.logStartOffset, 0);
  const records: RecordMeta[] = [];
  let next = from;
  let readBytes = Math.min(READ_BYTES, BATCH_SLACK_BYTES + max * GUESS_RECORD_BYTES);
  let bytesSeen = 0;
  for (let reads = 0; records.length < max && reads < 64; reads++) {
    const read = await data.read(next, readBytes);
    if (read.records.length === 0) break;
    let full = false;
    for (const chunk of read.records) {
      for (const { position, header } of batchesIn(chunk)) {
        if (full) break;
        if ((header.attributes & ATTR_CONTROL) === 0) {
          const had = records.length;
          const after = recordMetas(chunk, position, header, next, max, records);
          // Only batches recordMetas found sound (its CRC checked): the answer cuts them without checking again.
          batches?.push(chunk.subarray(position, position + header.sizeBytes));
          bytesSeen += (header.sizeBytes * (records.length - had)) / Math.max(1, header.recordCount);
          if (records.length >= max) full = true;
          next = Math.max(next, after);
        } else next = header.baseOffset + header.lastOffsetDelta + 1;
      }
    }
    readBytes = Math.min(READ_BYTES, Math.max(BATCH_SLACK_BYTES, Math.ceil((bytesSeen / Math.max(1, records.length)) * (max - records.length))));
  }
  return { fromOffset: from, toOffset: next, records };
}

/** What readBatchesHolding carries, and the offsets it could not. */
export interface HeldBatches {
  /** The batches, cut down to the offsets asked for, in offset order. */
  readonly bytes: Buffer;
  /** Offsets not read because `until` settled first (ascending). */
  readonly late: number[];
  /** Offsets no read gave: a read failed, found nothing there, or a batch it brought did not check out (ascending; `failure` says why when something failed). */
  readonly failed: number[];
  readonly failure: Error | null;
}

/**
 * What a ShareFetch answer carries: the batches holding any of `offsets`
 * (ascending), concatenated in offset order, each cut down to the records
 * at `offsets` (sliceBatch: a member that acquired 500 records of a
 * 2,000-record batch is sent 500). Batches in `known` (what readCandidates
 * just looked into, CRC checked) are not read again; the partition is read
 * only for offsets none of them holds (records redelivered from inside the
 * window), and no longer once `until` settles: a leader that does not
 * answer (cut off, paused) leaves those offsets `late` instead of holding
 * the answer. Offsets a read passed over (compacted away) are neither
 * carried nor late nor failed: there is nothing to carry for them.
 */
export async function readBatchesHolding(data: PartitionData, offsets: readonly number[], known: readonly Uint8Array[] = [], until?: Promise<unknown>): Promise<HeldBatches> {
  if (offsets.length === 0) return { bytes: Buffer.alloc(0), late: [], failed: [], failure: null };
  const parts = new Map<number, Uint8Array>();
  let missing = [...offsets];
  /** The pieces of `batches` holding missing offsets, and the offsets still missing after them; nothing changes until all are cut (a batch that fails its check throws). */
  const pick = (batches: Iterable<{ chunk: Uint8Array; position: number; header: BatchHeader }>, crcChecked: boolean): void => {
    const left: number[] = [];
    const found: [number, Uint8Array][] = [];
    let i = 0;
    for (const { chunk, position, header } of batches) {
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      while (i < missing.length && missing[i]! < header.baseOffset) left.push(missing[i++]!);
      const first = i;
      while (i < missing.length && missing[i]! <= lastOffset) i++;
      if (i > first) found.push([header.baseOffset, sliceBatch(chunk, position, header, missing.slice(first, i), crcChecked)]);
    }
    for (const [base, piece] of found) parts.set(base, piece);
    missing = [...left, ...missing.slice(i)];
  };
  const failed = (failure: Error | null): HeldBatches => ({ bytes: concatenated(parts), late: [], failed: missing, failure });
  pick(batchesOf(known), true);
  const stopped = until?.then(() => null);
  while (missing.length > 0) {
    const reading = data.read(missing[0]!, READ_BYTES);
    let read: { records: readonly Uint8Array[] } | null;
    try {
      read = await (stopped === undefined ? reading : Promise.race([reading, stopped]));
    } catch (error) {
      return failed(asError(error));
    }
    if (read === null) {
      // A late answer of the abandoned read is dropped, not left to reject unhandled.
      reading.catch(() => {});
      return { bytes: concatenated(parts), late: missing, failed: [], failure: null };
    }
    // Nothing at an offset the window holds (a new leader whose high watermark is still behind it).
    if (read.records.length === 0) return failed(null);
    const before = missing.length;
    let readTo: number;
    try {
      const batches = [...batchesOf(read.records)];
      pick(batches, false);
      readTo = batches.reduce((end, b) => Math.max(end, b.header.baseOffset + b.header.lastOffsetDelta), -1);
    } catch (error) {
      return failed(asError(error));
    }
    // Offsets the read passed over (compacted away, or gone): nothing to carry for them.
    missing = missing.filter((o) => o > readTo);
    if (missing.length === before) return failed(null);
  }
  return { bytes: concatenated(parts), late: [], failed: [], failure: null };
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

function concatenated(parts: Map<number, Uint8Array>): Buffer {
  return Buffer.concat([...parts].sort(([a], [b]) => a - b).map(([, batch]) => batch));
}

function* batchesOf(chunks: readonly Uint8Array[]): Generator<{ chunk: Uint8Array; position: number; header: BatchHeader }> {
  for (const chunk of chunks) for (const { position, header } of batchesIn(chunk)) yield { chunk, position, header };
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
