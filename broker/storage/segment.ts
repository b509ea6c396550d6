/**
 * One segment of a partition log: a `.log` file of record batches plus its
 * sparse `.index` and `.timeindex` (see offset-index.ts, time-index.ts), all
 * named by the segment's 20-digit base offset (segment-names.ts).
 *
 * `.log` format: Kafka RecordBatch v2 batches (protocol/batch/header.ts),
 * back to back, nothing else: no file header, no padding. Every batch's
 * baseOffset is >= the segment's base offset and > the previous batch's last
 * offset; last offset - base offset fits in a u32.
 *
 * The active (last) segment is written by appends and keeps both indexes in
 * memory, their files preallocated. An inactive segment is immutable except
 * by truncation, retention and (later) the cleaner; its indexes are trimmed
 * files, loaded into memory on first use and released under memory pressure
 * by the owning log. If a trusted index file is missing, malformed or does
 * not match the log (its last offset entry must name the batch at its
 * position, its time entries must reach the first batch's timestamp), it is
 * rebuilt from the log, sealed with its final time entry.
 *
 * Durability bookkeeping lives here (`logUnsynced`, `indexesUnsynced`,
 * `sync()`), the policy of when to sync lives in the flusher.
 *
 * File handles may come from a descriptor cache (handle-cache.ts), which
 * closes idle descriptors and reopens files by path: a segment whose files
 * are renamed while it still serves reads pins them first (`pinIndexes`).
 *
 * For the cleaner: `Segment.create` makes a fresh active segment; batches
 * that already carry their offsets go in with `indexAppendedBatch` (per
 * batch) then `writeBatches` (once), exactly as appends do; `seal()` makes
 * it immutable (final time entry, trimmed indexes); `sync()` makes it
 * durable; `renameFilesToDeleted` removes the old files. A cleaner that
 * builds under temporary names adds its own suffix handling (the names are
 * all made by `Segment.filePath`). Not thread-safe: one PartitionLog owns it.
 */
import path from 'node:path';
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, BATCH_OFFSET_LAST_OFFSET_DELTA, BATCH_OFFSET_LENGTH, readI64 } from '../../protocol/batch/header.js';
import { assert } from '../world/assert.js';
import type { FileHandle, FileSystem } from '../world/file-system.js';
import { isErrno } from '../world/file-system.js';
import { BatchCursor } from './batch-cursor.js';
import { CorruptLogError } from './errors.js';
import { appendTimeEntry, freshIndexingState, indexBatch, type IndexSink, type IndexingState } from './indexing.js';
import { OFFSET_INDEX_ENTRY_BYTES, OffsetIndex } from './offset-index.js';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, SEGMENT_SUFFIXES, TIME_INDEX_SUFFIX, segmentFileName } from './segment-names.js';
import { TIME_INDEX_ENTRY_BYTES, TimeIndex } from './time-index.js';

export interface SegmentSettings {
  segmentIndexBytes: number;
  indexIntervalBytes: number;
}

/**
 * Where a read puts its bytes: a buffer of at least `bytes` (Fetch recycles
 * them, see handlers/read-buffers.ts). `shared`: the read is of an encrypted
 * topic, and a buffer in shared memory lets worker threads open it
 * (storage/encryption/batch-opener.ts); a source may ignore it.
 */
export type ReadBufferSource = (bytes: number, shared?: boolean) => Buffer;

/** A batch located in a segment. */
export interface BatchLocation {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  leaderEpoch: number;
}

export class Segment {
  /** Bytes in the .log. */
  sizeBytes: number;
  /** Offset after the last batch; exact for the active segment, -1 for an inactive one not scanned. */
  nextOffset: number;
  /** Largest timestamp and where it is: drives time retention and the final time-index entry. */
  readonly indexing: IndexingState;
  /** Kafka's rolling-based timestamp: the first batch's maxTimestamp (-1 when empty or unknown). */
  rollBaseTimestampMs = -1;
  /** Clock time the segment was created or opened: segment.ms when batches carry no timestamps. */
  createdAtMs: number;
  /** Data written since the last sync. */
  logUnsynced = false;
  /** Index files changed (trimmed or rebuilt) since the last sync; synced with the log when inactive. */
  indexesUnsynced = false;

  #offsetIndex: OffsetIndex | null = null;
  #sink: IndexSink | null = null;
  #timeIndex: TimeIndex | null = null;
  #active = false;
  #syncing: Promise<void> | null = null;
  #closed = false;
  /** Indexes held in memory until close: the files are about to be renamed away (a compaction swap). */
  #pinned = false;

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    readonly log: FileHandle,
    private settings: SegmentSettings,
    nowMs: number,
  ) {
    this.sizeBytes = log.sizeBytes();
    this.nextOffset = this.sizeBytes === 0 ? baseOffset : -1;
    this.indexing = freshIndexingState();
    this.createdAtMs = nowMs;
  }

  static filePath(dir: string, baseOffset: number, suffix: string): string {
    return path.join(dir, segmentFileName(baseOffset, suffix));
  }

  /** A new, empty active segment (files created or emptied; the caller fsyncs the directory). */
  static create(fs: FileSystem, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number): Segment {
    const log = fs.open(Segment.filePath(dir, baseOffset, LOG_SUFFIX), 'w+');
    const segment = new Segment(fs, dir, baseOffset, log, settings, nowMs);
    segment.#offsetIndex = new OffsetIndex(fs.open(segment.path(INDEX_SUFFIX), 'w+'), settings.segmentIndexBytes);
    segment.#timeIndex = new TimeIndex(fs.open(segment.path(TIME_INDEX_SUFFIX), 'w+'), settings.segmentIndexBytes);
    segment.makeActive();
    return segment;
  }

  /** An existing segment whose .log is trusted (below the recovery point, or after a clean close). */
  static openExisting(fs: FileSystem, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number): Segment {
    const log = fs.open(Segment.filePath(dir, baseOffset, LOG_SUFFIX), 'r+');
    return new Segment(fs, dir, baseOffset, log, settings, nowMs);
  }

  path(suffix: string): string {
    return Segment.filePath(this.dir, this.baseOffset, suffix);
  }

  get isActive(): boolean {
    return this.#active;
  }

  get indexesLoaded(): boolean {
    return this.#offsetIndex !== null;
  }

  updateSettings(settings: SegmentSettings): void {
    this.settings = settings;
  }

  /* ----------------------------------------------------------- indexes */

  /** The offset index, loading (or rebuilding) it first if needed. */
  offsetIndex(): OffsetIndex {
    this.#ensureIndexes();
    return this.#offsetIndex as OffsetIndex;
  }

  timeIndex(): TimeIndex {
    this.#ensureIndexes();
    return this.#timeIndex as TimeIndex;
  }

  #ensureIndexes(): void {
    if (this.#offsetIndex !== null) return;
    assert(!this.#closed, 'indexes are loaded only on an open segment', { file: this.log.path });
    const offsetFile = this.#openIndexFile(INDEX_SUFFIX);
    const timeFile = this.#openIndexFile(TIME_INDEX_SUFFIX);
    const offsetIndex = new OffsetIndex(offsetFile.handle, this.settings.segmentIndexBytes);
    const timeIndex = new TimeIndex(timeFile.handle, this.settings.segmentIndexBytes);
    this.#offsetIndex = offsetIndex;
    this.#timeIndex = timeIndex;
    // A missing file is not an empty index: Kafka rebuilds it, and so do we (an empty time index would
    // leave the segment without a largest timestamp, so time retention would never delete it).
    const trusted = !offsetFile.created && !timeFile.created
      && offsetIndex.load() && timeIndex.load() && offsetIndex.isSane(this.sizeBytes) && timeIndex.isSane()
      && this.#indexesMatchLog(
        offsetIndex.entries === 0 ? null : { relOffset: offsetIndex.relOffsetAt(offsetIndex.entries - 1), position: offsetIndex.positionAt(offsetIndex.entries - 1) },
        timeIndex.entries === 0 ? -1 : timeIndex.timestampAt(timeIndex.entries - 1),
      );
    if (!trusted) this.#rebuildIndexes();
  }

  /** Both indexes again from the log (throws CorruptLogError if the log itself does not walk). */
  #rebuildIndexes(): void {
    this.scanIndexesFromLog();
    if (this.#active) return;
    // As sealed: the last time entry is the largest timestamp (what loadSummary and retention read).
    appendTimeEntry(this.indexing, this.indexSink(), this.baseOffset);
    this.offsetIndex().trim();
    this.timeIndex().trim();
    this.indexesUnsynced = true;
  }

  /**
   * Kafka's index sanity check and a bit more, for an index that is
   * well-formed but may not be this log's (lost, emptied, left by a crash):
   * the last offset entry must name the batch that starts at its position,
   * and the time index must hold at least the first batch's timestamp (the
   * final entry of a sealed segment is its largest). Two header reads.
   */
  #indexesMatchLog(lastOffsetEntry: { relOffset: number; position: number } | null, lastTimestampMs: number): boolean {
    if (this.sizeBytes === 0) return lastOffsetEntry === null && lastTimestampMs < 0;
    if (lastOffsetEntry !== null) {
      const batch = this.#batchAt(lastOffsetEntry.position);
      if (lastOffsetEntry.position === 0 || batch === null || batch.baseOffset !== this.baseOffset + lastOffsetEntry.relOffset) return false;
    }
    const first = this.#batchAt(0);
    return first !== null && lastTimestampMs >= first.maxTimestamp;
  }

  /** The header of the batch at `position`, or null if no whole batch header is there. */
  #batchAt(position: number): BatchCursor | null {
    const cursor = new BatchCursor(this.log, position, this.sizeBytes);
    try {
      return cursor.next() ? cursor : null;
    } catch (err) {
      if (err instanceof CorruptLogError) return null;
      throw err;
    }
  }

  #openIndexFile(suffix: string): { handle: FileHandle; created: boolean } {
    try {
      return { handle: this.fs.open(this.path(suffix), 'r+'), created: false };
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      return { handle: this.fs.open(this.path(suffix), 'w+'), created: true };
    }
  }

  /** Drops an inactive segment's in-memory indexes (they load again on demand); kept while a sync needs their files. */
  releaseIndexes(): void {
    if (this.#pinned || this.#active || this.#offsetIndex === null || this.indexesUnsynced || this.#syncing !== null) return;
    this.#offsetIndex.file.close();
    (this.#timeIndex as TimeIndex).file.close();
    this.#offsetIndex = null;
    this.#timeIndex = null;
    this.#sink = null;
  }

  /**
   * Loads the indexes and keeps them in memory until close: the cleaner
   * renames this segment's files away before the log stops reading it, and a
   * reload by path would then find nothing (or the replacement's index).
   */
  pinIndexes(): void {
    this.#ensureIndexes();
    this.#pinned = true;
    // The descriptors too: a descriptor cache would otherwise reopen by a name that is gone by then.
    this.log.keepOpen();
    (this.#offsetIndex as OffsetIndex).file.keepOpen();
    (this.#timeIndex as TimeIndex).file.keepOpen();
  }

  /**
   * Reads the largest timestamp from the last time-index entry without
   * loading the indexes (startup of a trusted inactive segment), after
   * checking both files' last entries against the log (`#indexesMatchLog`).
   * Falls back to a full index load, and a rebuild from the log, when a file
   * is missing or looks wrong.
   */
  loadSummary(): void {
    if (this.#summaryFromLastEntries()) return;
    this.releaseIndexes();
    this.#ensureIndexes();
    const timeIndex = this.#timeIndex as TimeIndex;
    if (timeIndex.entries > 0) {
      this.indexing.maxTimestampMs = timeIndex.timestampAt(timeIndex.entries - 1);
      this.indexing.offsetOfMaxTimestamp = this.baseOffset + timeIndex.relOffsetAt(timeIndex.entries - 1);
      this.indexing.lastTimeIndexTimestampMs = this.indexing.maxTimestampMs;
    }
  }

  /** loadSummary's fast path; false when either file is missing, damaged or does not match the log. */
  #summaryFromLastEntries(): boolean {
    let offsetEntry: Uint8Array | null | undefined;
    let timeEntry: Uint8Array | null | undefined;
    try {
      offsetEntry = this.#readLastEntry(INDEX_SUFFIX, OFFSET_INDEX_ENTRY_BYTES);
      timeEntry = this.#readLastEntry(TIME_INDEX_SUFFIX, TIME_INDEX_ENTRY_BYTES);
    } catch {
      return false; // the full load meets the same failure and reports it
    }
    if (offsetEntry === undefined || timeEntry === undefined) return false;
    const offsetView = offsetEntry === null ? null : new DataView(offsetEntry.buffer);
    const lastOffsetEntry = offsetView === null ? null : { relOffset: offsetView.getUint32(0), position: offsetView.getUint32(4) };
    const lastTimestampMs = timeEntry === null ? -1 : readI64(timeEntry, 0);
    if (!this.#indexesMatchLog(lastOffsetEntry, lastTimestampMs)) return false;
    if (timeEntry !== null) {
      this.indexing.maxTimestampMs = lastTimestampMs;
      this.indexing.offsetOfMaxTimestamp = this.baseOffset + new DataView(timeEntry.buffer).getUint32(8);
      this.indexing.lastTimeIndexTimestampMs = lastTimestampMs;
    }
    return true;
  }

  /** An index file's last entry (null when it has none); undefined when the file is missing or not whole entries. */
  #readLastEntry(suffix: string, entryBytes: number): Uint8Array | null | undefined {
    let handle: FileHandle;
    try {
      handle = this.fs.open(this.path(suffix), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    try {
      const sizeBytes = handle.sizeBytes();
      if (sizeBytes % entryBytes !== 0) return undefined;
      if (sizeBytes === 0) return null;
      const entry = new Uint8Array(entryBytes);
      return handle.read(entry, 0, entryBytes, sizeBytes - entryBytes) === entryBytes ? entry : undefined;
    } finally {
      handle.close();
    }
  }

  /** Rebuilds both indexes (and the largest timestamp) by walking every batch header. */
  scanIndexesFromLog(): void {
    const offsetIndex = this.#offsetIndex as OffsetIndex;
    const timeIndex = this.#timeIndex as TimeIndex;
    offsetIndex.reset();
    timeIndex.reset();
    Object.assign(this.indexing, freshIndexingState());
    const sink = this.indexSink();
    const cursor = new BatchCursor(this.log, 0, this.sizeBytes);
    let nextOffset = this.baseOffset;
    while (cursor.next()) {
      if (cursor.position === 0) this.rollBaseTimestampMs = cursor.maxTimestamp;
      indexBatch(this.indexing, sink, this.baseOffset, this.settings.indexIntervalBytes, cursor.baseOffset, cursor.lastOffset, cursor.maxTimestamp, cursor.position, cursor.sizeBytes);
      nextOffset = cursor.lastOffset + 1;
    }
    this.nextOffset = nextOffset;
  }

  /**
   * Where `indexBatch` puts entries for this segment's live indexes. An
   * entry that does not fit is dropped (only possible when one append
   * carries more batches than an empty segment's index holds): the index is
   * then sparser, never wrong.
   */
  indexSink(): IndexSink {
    this.#ensureIndexes();
    if (this.#sink !== null) return this.#sink;
    const offsetIndex = this.#offsetIndex as OffsetIndex;
    const timeIndex = this.#timeIndex as TimeIndex;
    this.#sink = {
      offsetEntry: (relOffset, position) => {
        if (!offsetIndex.wouldOverflow(1)) offsetIndex.append(relOffset, position);
      },
      timeEntry: (timestampMs, relOffset) => {
        if (!timeIndex.wouldOverflow(1)) timeIndex.maybeAppend(timestampMs, relOffset);
      },
    };
    return this.#sink;
  }

  /** Empty indexes over emptied index files, to be refilled by a recovery scan (`addRecoveredEntries`). */
  prepareForRecovery(): void {
    this.releaseIndexes();
    const offsetFile = this.#openIndexFile(INDEX_SUFFIX).handle;
    const timeFile = this.#openIndexFile(TIME_INDEX_SUFFIX).handle;
    offsetFile.truncate(0);
    timeFile.truncate(0);
    this.#offsetIndex = new OffsetIndex(offsetFile, this.settings.segmentIndexBytes);
    this.#timeIndex = new TimeIndex(timeFile, this.settings.segmentIndexBytes);
    this.#sink = null;
    Object.assign(this.indexing, freshIndexingState());
  }

  /** Index entries found by a recovery scan chunk, in file order. */
  addRecoveredEntries(offsetEntries: Uint32Array, timeEntries: Float64Array): void {
    const offsetIndex = this.offsetIndex();
    const timeIndex = this.timeIndex();
    for (let i = 0; i < offsetEntries.length; i += 2) offsetIndex.append(offsetEntries[i] as number, offsetEntries[i + 1] as number);
    for (let i = 0; i < timeEntries.length; i += 2) timeIndex.maybeAppend(timeEntries[i] as number, timeEntries[i + 1] as number);
  }

  /** The scan is over: the valid bytes end at `validBytes` (a torn tail beyond it is cut off). */
  finishRecovery(scan: IndexingState & { nextOffset: number; firstBatchMaxTimestampMs: number }, validBytes: number): void {
    if (validBytes < this.log.sizeBytes()) this.log.truncate(validBytes);
    this.sizeBytes = validBytes;
    this.nextOffset = scan.nextOffset;
    this.indexing.bytesSinceLastIndexEntry = scan.bytesSinceLastIndexEntry;
    this.indexing.maxTimestampMs = scan.maxTimestampMs;
    this.indexing.offsetOfMaxTimestamp = scan.offsetOfMaxTimestamp;
    this.indexing.lastTimeIndexTimestampMs = scan.lastTimeIndexTimestampMs;
    this.rollBaseTimestampMs = validBytes > 0 ? scan.firstBatchMaxTimestampMs : -1;
    this.logUnsynced = true;
  }

  /**
   * While the segment is active its index files are derived data: written
   * through at every flush, never fdatasynced, rebuilt by recovery after a
   * crash (nothing trusts them until a seal or a clean close syncs them). A
   * descriptor cache may close them without a sync (FileHandle.setDerived).
   * Off again before the writes that are synced on purpose: a seal, a trim
   * for a clean close.
   */
  #setIndexesDerived(derived: boolean): void {
    this.#offsetIndex?.file.setDerived?.(derived);
    this.#timeIndex?.file.setDerived?.(derived);
  }

  /** Makes this the active segment: indexes in memory, files preallocated, log end known. */
  makeActive(): void {
    this.#ensureIndexes();
    this.#setIndexesDerived(true);
    if (this.nextOffset < 0) this.#recomputeTail();
    (this.#offsetIndex as OffsetIndex).preallocate();
    (this.#timeIndex as TimeIndex).preallocate();
    this.#active = true;
  }

  /**
   * Derives the log end, the largest timestamp and the indexing position from
   * the indexes plus a walk of the batches after the last offset-index entry:
   * the last time entry covers every batch up to that entry (both are added
   * together), so only the tail needs reading.
   */
  #recomputeTail(): void {
    const offsetIndex = this.offsetIndex();
    const timeIndex = this.timeIndex();
    Object.assign(this.indexing, freshIndexingState());
    const lastTime = timeIndex.entries - 1;
    if (lastTime >= 0) {
      this.indexing.maxTimestampMs = timeIndex.timestampAt(lastTime);
      this.indexing.offsetOfMaxTimestamp = this.baseOffset + timeIndex.relOffsetAt(lastTime);
      this.indexing.lastTimeIndexTimestampMs = this.indexing.maxTimestampMs;
    }
    const lastEntry = offsetIndex.entries - 1;
    const from = lastEntry < 0 ? 0 : offsetIndex.positionAt(lastEntry);
    const cursor = new BatchCursor(this.log, from, this.sizeBytes);
    this.nextOffset = this.baseOffset;
    while (cursor.next()) {
      if (cursor.maxTimestamp > this.indexing.maxTimestampMs) {
        this.indexing.maxTimestampMs = cursor.maxTimestamp;
        this.indexing.offsetOfMaxTimestamp = cursor.lastOffset;
      }
      this.nextOffset = cursor.lastOffset + 1;
    }
    this.indexing.bytesSinceLastIndexEntry = this.sizeBytes - from;
  }

  /** For a segment opened as the active one after a clean close: log end, largest timestamp, roll clock. */
  loadActiveTail(): void {
    this.#recomputeTail();
    const first = new BatchCursor(this.log, 0, this.sizeBytes);
    this.rollBaseTimestampMs = first.next() ? first.maxTimestamp : -1;
  }

  /* ------------------------------------------------------------ append */

  /** True when `batches` more index entries (plus the final time entry) would not fit. */
  indexesWouldOverflow(batches: number): boolean {
    return this.offsetIndex().wouldOverflow(batches) || this.timeIndex().wouldOverflow(batches + 1);
  }

  /**
   * Records one batch of an append in the indexes. `position` is where it
   * will land in the .log; call for each batch, then `writeBatches` once.
   */
  indexAppendedBatch(sink: IndexSink, baseOffset: number, lastOffset: number, maxTimestampMs: number, position: number, sizeBytes: number): void {
    if (position === 0) this.rollBaseTimestampMs = maxTimestampMs;
    indexBatch(this.indexing, sink, this.baseOffset, this.settings.indexIntervalBytes, baseOffset, lastOffset, maxTimestampMs, position, sizeBytes);
  }

  /** Appends already validated, stamped and indexed batch bytes with one positional write. */
  writeBatches(bytes: Uint8Array, nextOffset: number): void {
    assert(this.#active, 'appends go to the active segment', { file: this.log.path });
    assert(nextOffset > this.nextOffset && nextOffset - 1 - this.baseOffset <= 0xffffffff, 'appended offsets grow and fit u32', { nextOffset, segmentNext: this.nextOffset, base: this.baseOffset });
    try {
      this.log.write(bytes, this.sizeBytes);
    } catch (err) {
      // A write that failed part way (ENOSPC, EIO) may have left whole batches of an append that was
      // never acknowledged, and a torn one: cut them off so a restart does not bring them back.
      try {
        this.log.truncate(this.sizeBytes);
      } catch {
        // the disk refuses even that: recovery cuts the torn batch, the caller takes the log offline
      }
      throw err;
    }
    this.sizeBytes += bytes.byteLength;
    this.nextOffset = nextOffset;
    this.logUnsynced = true;
  }

  /** Final time-index entry, indexes written and trimmed: the segment is now immutable. */
  seal(): void {
    const offsetIndex = this.offsetIndex();
    const timeIndex = this.timeIndex();
    this.#setIndexesDerived(false);
    appendTimeEntry(this.indexing, this.indexSink(), this.baseOffset);
    offsetIndex.trim();
    timeIndex.trim();
    this.#active = false;
    this.indexesUnsynced = true;
  }

  /* ------------------------------------------------------------- reads */

  /** The first batch whose last offset is >= `offset`, or null if the segment has none. */
  locate(offset: number): BatchLocation | null {
    return this.#indexGuided(() => {
      const offsetIndex = this.offsetIndex();
      const entry = offset < this.baseOffset ? -1 : offsetIndex.floorEntry(Math.min(offset - this.baseOffset, 0xffffffff));
      return this.#scanFrom(entry < 0 ? 0 : offsetIndex.positionAt(entry), (c) => c.lastOffset >= offset);
    });
  }

  /**
   * Runs a lookup that starts where the indexes say. If it meets bytes that
   * are not a batch header, the index may be what is wrong (it has no
   * checksum, and opening checks only its last entries): rebuild it from
   * the log and look again. A log that is itself damaged fails the rebuild
   * with CorruptLogError, as before.
   */
  #indexGuided(lookup: () => BatchLocation | null): BatchLocation | null {
    try {
      return lookup();
    } catch (err) {
      if (!(err instanceof CorruptLogError)) throw err;
      this.#rebuildIndexes();
      return lookup();
    }
  }

  /** The first batch whose maxTimestamp is >= `timestampMs`, or null. */
  locateTimestamp(timestampMs: number): BatchLocation | null {
    if (this.indexing.maxTimestampMs < timestampMs && this.indexing.maxTimestampMs >= 0) return null;
    return this.#indexGuided(() => {
      const timeIndex = this.timeIndex();
      const before = timeIndex.lastEntryBefore(timestampMs);
      let start = 0;
      if (before >= 0) {
        const offsetIndex = this.offsetIndex();
        const entry = offsetIndex.floorEntry(timeIndex.relOffsetAt(before));
        start = entry < 0 ? 0 : offsetIndex.positionAt(entry);
      }
      return this.#scanFrom(start, (c) => c.maxTimestamp >= timestampMs);
    });
  }

  #scanFrom(position: number, found: (cursor: BatchCursor) => boolean): BatchLocation | null {
    const cursor = new BatchCursor(this.log, position, this.sizeBytes);
    while (cursor.next()) {
      if (found(cursor)) {
        return { position: cursor.position, sizeBytes: cursor.sizeBytes, baseOffset: cursor.baseOffset, lastOffset: cursor.lastOffset, maxTimestamp: cursor.maxTimestamp, leaderEpoch: cursor.leaderEpoch };
      }
    }
    return null;
  }

  /**
   * Whole batches from `first` on: up to `maxBytes` (but always `first`
   * itself), only batches whose last offset is < `maxOffsetExclusive`. One
   * read; the batches are views into one buffer, from `allocate` (at least
   * the bytes asked for; fresh by default).
   */
  readBatches(first: BatchLocation, maxBytes: number, maxOffsetExclusive: number, allocate: ReadBufferSource = Buffer.allocUnsafe): Uint8Array[] {
    if (first.lastOffset >= maxOffsetExclusive) return [];
    const available = this.sizeBytes - first.position;
    const want = Math.min(available, Math.max(first.sizeBytes, maxBytes));
    const buffer = allocate(want);
    assert(buffer.length >= want, 'a read buffer holds the bytes asked for', { want, length: buffer.length });
    const got = this.log.read(buffer, 0, want, first.position);
    if (got < first.sizeBytes) throw new CorruptLogError(this.log.path, first.position, `file ends inside a batch (${got} of ${first.sizeBytes} bytes)`);
    const view = new DataView(buffer.buffer, buffer.byteOffset, got);
    const batches: Uint8Array[] = [];
    let pos = 0;
    while (got - pos >= BATCH_HEADER_BYTES) {
      const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      if (sizeBytes < BATCH_HEADER_BYTES) throw new CorruptLogError(this.log.path, first.position + pos, `bad batch length ${sizeBytes}`);
      if (pos + sizeBytes > got) break;
      const lastOffset = readI64(buffer, pos) + view.getInt32(pos + BATCH_OFFSET_LAST_OFFSET_DELTA);
      if (lastOffset >= maxOffsetExclusive) break;
      batches.push(buffer.subarray(pos, pos + sizeBytes));
      pos += sizeBytes;
    }
    return batches;
  }

  /* -------------------------------------------------------- truncation */

  /**
   * Removes every batch whose last offset is >= `offset` (a batch holding
   * `offset` goes whole). Returns the segment's new next offset.
   */
  truncateTo(offset: number): number {
    const cut = this.locate(offset);
    if (cut === null) {
      if (this.nextOffset < 0) this.#recomputeTail();
      return this.nextOffset;
    }
    this.log.truncate(cut.position);
    this.sizeBytes = cut.position;
    this.nextOffset = Math.min(cut.baseOffset, offset);
    this.logUnsynced = true;
    const offsetIndex = this.offsetIndex();
    const timeIndex = this.timeIndex();
    offsetIndex.truncateFromPosition(cut.position);
    timeIndex.truncateFromRelOffset(cut.baseOffset - this.baseOffset);
    this.#recomputeTail();
    // The log end is where the cut batch began, or `offset` itself when compaction left a gap
    // and the cut batch starts past it: a truncation never leaves the log end above `offset`.
    this.nextOffset = Math.min(cut.baseOffset, offset);
    if (this.sizeBytes === 0) this.rollBaseTimestampMs = -1;
    if (!this.#active) {
      offsetIndex.trim();
      timeIndex.trim();
      this.indexesUnsynced = true;
    } else {
      offsetIndex.writeThrough();
      timeIndex.writeThrough();
    }
    return this.nextOffset;
  }

  /** Empties the segment (its base offset stays): for a log truncated to its very start. */
  truncateAll(): void {
    this.log.truncate(0);
    this.sizeBytes = 0;
    this.nextOffset = this.baseOffset;
    this.logUnsynced = true;
    this.offsetIndex().reset();
    this.timeIndex().reset();
    Object.assign(this.indexing, freshIndexingState());
    this.rollBaseTimestampMs = -1;
  }

  /* -------------------------------------------------------- durability */

  /**
   * fdatasync of the .log (and of the index files of an inactive segment
   * whose indexes changed). Flags are cleared before waiting, so writes made
   * meanwhile are caught by the next sync.
   */
  sync(): Promise<void> {
    const syncs: Promise<void>[] = [];
    if (this.#active) {
      this.#offsetIndex?.writeThrough();
      this.#timeIndex?.writeThrough();
    }
    if (this.logUnsynced) {
      this.logUnsynced = false;
      syncs.push(this.log.datasync());
    }
    if (this.indexesUnsynced && !this.#active) {
      this.indexesUnsynced = false;
      syncs.push(this.offsetIndex().file.datasync(), this.timeIndex().file.datasync());
    }
    const done = Promise.all(syncs).then(() => undefined);
    const tracked = done.catch(() => undefined).finally(() => {
      if (this.#syncing === tracked) this.#syncing = null;
    });
    this.#syncing = tracked;
    return done;
  }

  /** Closes every file once any sync in flight on them has finished. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#syncing?.catch(() => undefined);
    if (this.#closed) return;
    this.#closed = true;
    this.#offsetIndex?.file.close();
    this.#timeIndex?.file.close();
    this.#offsetIndex = null;
    this.#timeIndex = null;
    this.#sink = null;
    this.log.close();
  }

  /** Trims an active segment's indexes for a clean close (they are loaded again as active on open). */
  trimForClose(): void {
    if (!this.#active) return;
    this.#setIndexesDerived(false);
    appendTimeEntry(this.indexing, this.indexSink(), this.baseOffset);
    this.offsetIndex().trim();
    this.timeIndex().trim();
  }

  /** Index-file fsync for a clean close (the .log is covered by the final flush). */
  async syncIndexes(): Promise<void> {
    if (this.#offsetIndex === null) return;
    await Promise.all([this.#offsetIndex.file.datasync(), (this.#timeIndex as TimeIndex).file.datasync()]);
    this.indexesUnsynced = false;
  }

  /**
   * Renames every file of the segment with base `baseOffset` to
   * `<name>.deleted` (missing files are skipped); returns the new paths.
   */
  static async renameFilesToDeleted(fs: FileSystem, dir: string, baseOffset: number): Promise<string[]> {
    const renamed: string[] = [];
    for (const suffix of SEGMENT_SUFFIXES) {
      const from = Segment.filePath(dir, baseOffset, suffix);
      try {
        await fs.rename(from, from + DELETED_SUFFIX);
        renamed.push(from + DELETED_SUFFIX);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return renamed;
  }

  /**
   * Step one of deleting: close, then rename every file of the segment to
   * `<name>.deleted`. Returns the renamed paths; the caller fsyncs the
   * directory and unlinks them (a crash in between is finished by the next open).
   */
  async renameToDeleted(): Promise<string[]> {
    await this.close();
    return Segment.renameFilesToDeleted(this.fs, this.dir, this.baseOffset);
  }
}
