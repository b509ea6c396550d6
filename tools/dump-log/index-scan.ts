/**
 * Reads the entries of a segment's sparse indexes and checks them the way
 * Kafka's DumpLogSegments sanity check does: keys strictly increase, and,
 * when the segment's `.log` sits next to the index, each entry points where
 * it claims to (an offset-index entry at the start of a batch holding that
 * offset; a time-index entry at an offset the segment holds). The active
 * segment's indexes are preallocated, so a run of all-zero slots at the end
 * is unused space, not entries (slot 0 is always read: (0, 0) is a valid first entry).
 */
import { readFileSync } from 'node:fs';
import type { ScannedBatch } from './batch-scan.js';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from './segment-files.js';

export interface OffsetIndexEntry {
  slot: number;
  relativeOffset: number;
  offset: number;
  position: number;
  problem?: string;
}

export interface TimeIndexEntry {
  slot: number;
  timestamp: number;
  relativeOffset: number;
  offset: number;
  problem?: string;
}

export interface IndexScan<E> {
  entries: E[];
  fileBytes: number;
  /** Preallocated all-zero slots after the last entry. */
  unusedSlots: number;
  /** Bytes at the end that do not make a whole entry. */
  trailingBytes: number;
}

/** What the `.log` holds, for cross-checking index entries. */
export interface LogFacts {
  batchesByPosition: Map<number, ScannedBatch>;
  firstOffset: number;
  lastOffset: number;
}

/** null when the log holds no batch. */
export function logFactsOf(batches: readonly ScannedBatch[]): LogFacts | null {
  const first = batches[0];
  const last = batches[batches.length - 1];
  if (first === undefined || last === undefined) return null;
  return { batchesByPosition: new Map(batches.map((b) => [b.position, b])), firstOffset: first.baseOffset, lastOffset: last.lastOffset };
}

/** `log`: the segment's batches; null when the log exists but is empty; undefined when there is no log to check against. */
export function scanOffsetIndex(path: string, baseOffset: number, log: LogFacts | null | undefined): IndexScan<OffsetIndexEntry> {
  return scanEntries(path, log === null, OFFSET_INDEX_ENTRY_BYTES, (bytes, at, slot, previous: OffsetIndexEntry | undefined) => {
    const relativeOffset = bytes.readUInt32BE(at);
    const position = bytes.readUInt32BE(at + 4);
    const entry: OffsetIndexEntry = { slot, relativeOffset, offset: baseOffset + relativeOffset, position };
    if (previous !== undefined && (relativeOffset <= previous.relativeOffset || position <= previous.position)) {
      entry.problem = `not after the previous entry (offset ${previous.offset} at position ${previous.position})`;
    } else if (log === null) {
      entry.problem = "the segment's log holds no batch";
    } else if (log) {
      const batch = log.batchesByPosition.get(position);
      if (batch === undefined) entry.problem = `position ${position} is not the start of a batch in the log`;
      else if (entry.offset < batch.baseOffset || entry.offset > batch.lastOffset) {
        entry.problem = `the batch at position ${position} holds offsets ${batch.baseOffset}..${batch.lastOffset}, not ${entry.offset}`;
      }
    }
    return entry;
  }, (bytes, at) => bytes.readUInt32BE(at) === 0 && bytes.readUInt32BE(at + 4) === 0);
}

export function scanTimeIndex(path: string, baseOffset: number, log: LogFacts | null | undefined): IndexScan<TimeIndexEntry> {
  return scanEntries(path, log === null, TIME_INDEX_ENTRY_BYTES, (bytes, at, slot, previous: TimeIndexEntry | undefined) => {
    const timestamp = Number(bytes.readBigInt64BE(at));
    const relativeOffset = bytes.readUInt32BE(at + 8);
    const entry: TimeIndexEntry = { slot, timestamp, relativeOffset, offset: baseOffset + relativeOffset };
    if (previous !== undefined && (timestamp < previous.timestamp || relativeOffset < previous.relativeOffset)) {
      entry.problem = `goes backwards from the previous entry (timestamp ${previous.timestamp}, offset ${previous.offset})`;
    } else if (log === null) {
      entry.problem = "the segment's log holds no batch";
    } else if (log && (entry.offset < log.firstOffset || entry.offset > log.lastOffset)) {
      entry.problem = `offset ${entry.offset} is outside the log's offsets ${log.firstOffset}..${log.lastOffset}`;
    }
    return entry;
  }, (bytes, at) => bytes.readBigInt64BE(at) === 0n && bytes.readUInt32BE(at + 8) === 0);
}

function scanEntries<E>(
  path: string,
  logIsEmpty: boolean,
  entryBytes: number,
  decode: (bytes: Buffer, at: number, slot: number, previous: E | undefined) => E,
  isZero: (bytes: Buffer, at: number) => boolean,
): IndexScan<E> {
  const bytes = readFileSync(path);
  const slots = Math.floor(bytes.length / entryBytes);
  let used = slots;
  while (used > 1 && isZero(bytes, (used - 1) * entryBytes)) used -= 1;
  // A lone zero slot 0 is an entry only if the log could hold it.
  if (used === 1 && logIsEmpty && isZero(bytes, 0)) used = 0;
  const entries: E[] = [];
  for (let slot = 0; slot < used; slot++) {
    entries.push(decode(bytes, slot * entryBytes, slot, entries[entries.length - 1]));
  }
  return { entries, fileBytes: bytes.length, unusedSlots: slots - used, trailingBytes: bytes.length - slots * entryBytes };
}
