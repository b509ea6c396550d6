/**
 * One partition's log on disk: an ordered list of segments (segment.ts), the
 * last one active, plus the leader-epoch cache (epoch-cache.ts) and the
 * recovery point (partition-meta.ts). Directory layout: segment-names.ts.
 *
 * - Appends are synchronous, in three steps: validate every batch without
 *   changing a byte (batch-validation.ts), assign (a leader stamps offsets
 *   and its epoch in place: leader-stamp.ts; a follower keeps the leader's,
 *   after checking they continue the log: follower-continuity.ts), write
 *   (roll if needed, one positional write into the page cache or a pending
 *   segment, indexes, epoch cache). All or nothing per call.
 * - Leader epochs (epoch-cache.ts): answered by `endOffsetForEpoch`
 *   (OffsetForLeaderEpoch), begun by `beginLeaderEpoch`, cut by truncation.
 * - The roll barrier: a new segment's file is written only once the segment
 *   before it is durable; until then its batches wait in a PendingSegment
 *   (pending-segment.ts), readable, and are written by the flush round that
 *   made the old segment durable (one round writes and syncs several in
 *   turn). So after any crash a torn tail can only be in the last segment,
 *   which is what lets recovery call anything else corruption
 *   (docs/STORAGE.md has the argument). The bytes held like this are bounded
 *   (pending-budget.ts): past the bound `appendable` is false and callers
 *   wait (`waitAppendable`) before appending; `append` refuses meanwhile.
 * - Durability is the flusher's business (flusher.ts): group fsync by
 *   flush.messages / flush.ms, or before acknowledging with fsync=always.
 *   `durableEndOffset` only moves after a real fsync; a failed fsync or
 *   write takes the log offline for good (LogOfflineError).
 * - Reads return whole batches as views of one buffer read with one
 *   positional read.
 * - Opening recovers after a crash (recovery.ts); closing writes the
 *   clean-shutdown marker that lets the next open skip the scan.
 *
 * The recovery point is persisted when a flush carries the durable end past
 * a segment boundary (that is what shortens the next recovery: it scans
 * whole segments), by `checkpointRecoveryPoint()` (the LogManager calls it
 * periodically: it lets recovery tell fsynced data that went bad from a
 * torn tail), on truncation, after recovery, and at close.
 *
 * Threading: not thread-safe; everything runs on the event loop. Appends
 * must not be made while `truncateTo` is pending, from the call until it
 * settles (`appendable` is false meanwhile; replication truncates before it
 * fetches, so it never does).
 */
import path from 'node:path';
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LAST_OFFSET_DELTA, BATCH_OFFSET_LENGTH, BATCH_OFFSET_MAX_TIMESTAMP, readI64 } from '../../protocol/batch/header.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES, decodeBatch } from '../../protocol/batch/reader.js';
import { assert } from '../world/assert.js';
import { systemRng } from '../world/rng.js';
import type { Clock } from '../world/clock.js';
import { mkdirDurable, type FileSystem } from '../world/file-system.js';
import { FOLLOWER_RULES, checkOffsetSpan, leaderRules, validateBatches, type BatchRules } from './batch-validation.js';
import { CleanerState, cleanLog, type CleanerHost, type CompactOptions, type CompactResult } from './cleaner.js';
import { LogCipher, type EncryptionOptions } from './encryption/log-cipher.js';
import { EncryptionKeyError } from './encryption/key-provider.js';
import type { LogTailCache } from './encryption/plaintext-cache.js';
import type { EpochCache } from './epoch-cache.js';
import { AppendBackpressureError, CorruptLogError, LogOfflineError, OffsetOutOfRangeError } from './errors.js';
import { GroupFlusher } from './flusher.js';
import { placeFollowerBatches } from './follower-continuity.js';
import { stampBatches } from './leader-stamp.js';
import type { LogConfig } from './log-config.js';
import { encodeCleanShutdown, encodeCleanerCheckpoint, encodeLogStart, encodePartitionMeta } from './partition-meta.js';
import { PendingBudget } from './pending-budget.js';
import { PendingSegment } from './pending-segment.js';
import { loadLog, segmentSettings, type RecoveryReport } from './recovery.js';
import { selectRetention } from './retention.js';
import { Segment, type BatchLocation, type ReadBufferSource } from './segment.js';
import { inlineScanner, type SegmentScanner } from './segment-scanner.js';
import { CLEANER_CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, DELETED_SUFFIX, EPOCH_CHECKPOINT_FILE, LOG_START_FILE, PARTITION_META_FILE } from './segment-names.js';
import { StateWriter } from './state-writer.js';
import { silentLogger, type StorageLogger } from './storage-logger.js';

export interface AppendInfo {
  baseOffset: number;
  lastOffset: number;
  /** The broker's clock stamped into the batches (LogAppendTime topics), else -1. */
  logAppendTimeMs: number;
  maxTimestamp: number;
  batchCount: number;
  sizeBytes: number;
}

export interface ReadResult {
  /** Whole batches, in offset order; views of one buffer. */
  records: Uint8Array[];
  sizeBytes: number;
}

export interface PartitionLogOptions {
  dir: string;
  config: LogConfig;
  fs: FileSystem;
  clock: Clock;
  /** Where recovery scans run (LogManager passes its worker pool); inline by default. */
  scanner?: SegmentScanner;
  logger?: StorageLogger;
  /** Recovery scan chunk size (default 4 MiB); tests make it small to cross chunk boundaries. */
  scanChunkBytes?: number;
  /** Written into partition.meta for operators. */
  topic?: string;
  partition?: number;
  /** Bounds the bytes rolled segments may hold in memory (shared by a LogManager's logs); a private default budget otherwise. */
  pendingBudget?: PendingBudget;
  /** Keys and nonce source for encryption at rest (topics with encryption.enabled); default: no keys, the system Rng. */
  encryption?: EncryptionOptions;
  /** Told how long each flush round (fsyncs included) took, on the monotonic clock (the log flush metric). */
  onFlushed?: (seconds: number) => void;
}

/** Inactive segments whose indexes stay in memory after a read used them. */
const LOADED_INACTIVE_INDEXES_MAX = 8;
const U32_MAX = 0xffffffff;

export class PartitionLog {
  readonly dir: string;
  /** What the open found and did (clean or recovered, bytes scanned and cut). */
  readonly openReport: RecoveryReport;
  #fs: FileSystem;
  #clock: Clock;
  #config: LogConfig;
  /** The batch rules of a leader's append under #config (rebuilt by updateConfig). */
  #leaderRules: BatchRules;
  #logger: StorageLogger;
  #topic: string | null;
  #partition: number | null;
  #segments: Segment[];
  /** Segments rolled while the one before them was not yet durable: written out in order, each once its predecessor is (pending-segment.ts). */
  #pending: PendingSegment[] = [];
  /** Bytes held by #pending, counted in #budget. */
  #pendingBytes = 0;
  #budget: PendingBudget;
  /** Callers of waitAppendable, woken when pending bytes drain or a truncation ends. */
  #appendWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #stopWatchingBudget: (() => void) | null = null;
  #epochs: EpochCache;
  #flusher: GroupFlusher;
  #state: StateWriter;
  #dirty = new Set<Segment>();
  #dirNeedsSync = false;
  /** The latest #syncAll (a truncation's or a flush round's); the next one waits for it. */
  #lastSyncAll: Promise<void> = Promise.resolve();
  #recoveryPoint: number;
  #loadedInactive: Segment[] = [];
  #offline: LogOfflineError | null = null;
  #closed = false;
  /** truncateTo calls not yet settled: no append may be made meanwhile. */
  #truncations = 0;
  /** Truncations ever started: a read that waited for a worker checks that none began meanwhile. */
  #truncationsBegun = 0;
  /** File work started by a synchronous append (deleting a replaced empty segment): close waits for it. */
  #background = new Set<Promise<void>>();
  /** Held by a truncation, a retention pass or a compaction swap (see #exclusive). */
  #structureBusy: Promise<void> | null = null;
  #cleanerState: CleanerState;
  /** Seals appends of an encrypted topic, opens envelopes on every read (encryption/log-cipher.ts). */
  readonly #cipher: LogCipher;
  /** The plaintext of this log's newest leader appends while its topic is encrypted (encryption/plaintext-cache.ts); null without a cache. */
  readonly #tail: LogTailCache | null;
  /**
   * The log start DeleteRecords set (`advanceLogStart`), which may fall
   * inside the first segment; never above the log end. The log starts at
   * the higher of it and the first segment's base.
   */
  #startFloor: number;
  /** The compaction pass in flight (passes run one at a time); close waits for it. */
  #cleaning: Promise<unknown> = Promise.resolve();
  #closing = false;

  private constructor(opts: PartitionLogOptions, loaded: Awaited<ReturnType<typeof loadLog>>) {
    this.dir = opts.dir;
    this.#fs = opts.fs;
    this.#clock = opts.clock;
    this.#config = opts.config;
    this.#leaderRules = leaderRules(opts.config);
    this.#cipher = new LogCipher(opts.encryption ?? { keys: null, rng: systemRng });
    const cache = opts.encryption?.cache;
    this.#tail = cache === undefined || cache.maxBytes === 0 ? null : cache.forLog();
    this.#logger = opts.logger ?? silentLogger;
    this.#topic = opts.topic ?? loaded.meta?.topic ?? null;
    this.#partition = opts.partition ?? loaded.meta?.partition ?? null;
    this.#segments = loaded.segments;
    this.#budget = opts.pendingBudget ?? new PendingBudget();
    this.#epochs = loaded.epochs;
    this.openReport = loaded.report;
    this.#recoveryPoint = loaded.stateChanged ? -1 : (loaded.meta?.recoveryPoint ?? -1);
    this.#state = new StateWriter(this.#fs, (err) => this.#goOffline('writing a state file failed', err));
    // Clamped: a log that lost its tail (or was truncated before the lowered checkpoint landed) is dirty from its end.
    const cleaned = loaded.cleanerCheckpoint;
    this.#cleanerState = new CleanerState(Math.min(cleaned?.firstDirtyOffset ?? 0, this.logEndOffset), cleaned?.tombstoneExpiryMs);
    // Clamped like the cleaner's: a log that lost its tail since cannot start past its end.
    this.#startFloor = Math.min(loaded.logStartFloor, this.logEndOffset);
    this.#flusher = new GroupFlusher(
      {
        logEndOffset: () => this.logEndOffset,
        flushRound: opts.onFlushed === undefined ? (progress) => this.#flushRound(progress) : (progress) => this.#timedFlushRound(progress, opts.onFlushed!),
        onDurable: (offset) => this.#onDurable(offset),
        onFailure: (err) => this.#goOffline('fsync failed', err),
      },
      this.#clock,
      this.#config,
      this.logEndOffset,
    );
  }

  /** Opens (creating if needed) the log in `dir`, recovering it if it was not closed cleanly. */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    await mkdirDurable(opts.fs, opts.dir);
    const loaded = await loadLog({
      dir: opts.dir,
      fs: opts.fs,
      clock: opts.clock,
      config: opts.config,
      scanner: opts.scanner ?? inlineScanner,
      logger: opts.logger ?? silentLogger,
      scanChunkBytes: opts.scanChunkBytes,
    });
    const log = new PartitionLog(opts, loaded);
    const segments = loaded.segments;
    for (let i = 1; i < segments.length; i++) {
      assert((segments[i] as Segment).baseOffset > (segments[i - 1] as Segment).baseOffset, 'segments are ordered by base offset', { dir: opts.dir, bases: segments.map((s) => s.baseOffset) });
    }
    assert(log.logEndOffset >= log.logStartOffset && (segments.at(-1) as Segment).isActive, 'an opened log has an active last segment and a sane range', { dir: opts.dir, start: log.logStartOffset, end: log.logEndOffset });
    try {
      if (loaded.stateChanged || loaded.meta === null) {
        await log.#persistEpochs();
        await log.#persistRecoveryPoint(log.logEndOffset);
      }
      // Before any append: records written after this open must never count as clean after a crash.
      if ((loaded.cleanerCheckpoint?.firstDirtyOffset ?? 0) > log.#cleanerState.firstDirtyOffset) await log.#persistCleanerState();
    } catch (err) {
      // Nobody gets this log: give its descriptors back.
      for (const segment of segments) await segment.close().catch(() => undefined);
      throw err;
    }
    return log;
  }

  get logStartOffset(): number {
    return Math.max((this.#segments[0] as Segment).baseOffset, this.#startFloor);
  }

  /**
   * DeleteRecords: the log starts at `offset` from now on (no-op when it
   * already starts there or later). Durable before it resolves (the
   * `log-start-offset` file), so a restart never brings deleted records
   * back; then the segments wholly below it are deleted the way retention
   * deletes (rename, unlink). Reads below it are OFFSET_OUT_OF_RANGE at
   * once; a read from it may still return the batch that holds it, whole,
   * as any read from inside a batch does. `offset` must not pass the log end
   * (the partition checks the high watermark first).
   */
  advanceLogStart(offset: number): Promise<{ deletedSegments: number; deletedBytes: number }> {
    return this.#exclusive(async () => {
      this.#checkUsable();
      assert(Number.isSafeInteger(offset) && offset <= this.logEndOffset, 'the log start never passes the log end', { dir: this.dir, offset, logEndOffset: this.logEndOffset });
      if (offset <= this.logStartOffset) return { deletedSegments: 0, deletedBytes: 0 };
      this.#startFloor = offset;
      try {
        await this.#persistLogStart();
      } catch (err) {
        throw err instanceof LogOfflineError ? err : this.#goOffline('writing the log start failed', err);
      }
      this.#logger.info({ dir: this.dir, logStartOffset: offset }, 'log start moved (DeleteRecords)');
      // Only what the new start breaches: time and size retention keep to their own pass, bounded by the high watermark.
      return this.#applyRetention(this.logEndOffset, true);
    });
  }

  /** The next offset to be assigned. */
  get logEndOffset(): number {
    return (this.#pending.at(-1) ?? this.#active).nextOffset;
  }

  /** Every offset below it is fsynced. */
  get durableEndOffset(): number {
    return this.#flusher.durableEndOffset;
  }

  /**
   * Every offset below it is in a segment file (the page cache: a process
   * crash keeps it). Below the log end only while rolled segments are
   * pending, waiting for the one before them to be durable (`waitWritten`).
   */
  get writtenEndOffset(): number {
    return this.#active.nextOffset;
  }

  /** -1 before any epoch was recorded. */
  get latestEpoch(): number {
    return this.#epochs.latestEpoch;
  }

  get isOffline(): boolean {
    return this.#offline !== null;
  }

  /** Bytes of rolled segments held in memory until the segment before each is durable. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * False while an append must wait (`waitAppendable`): a truncation is
   * pending, or the pending segments hold this log's share of memory
   * (pending-budget.ts) until the disk catches up. True does not promise
   * success: an offline or closing log refuses the append with its reason.
   */
  get appendable(): boolean {
    return this.#truncations === 0 && this.#budget.hasRoom(this.#pendingBytes);
  }

  /**
   * Resolves once `appendable` is true (check again before appending: other
   * callers may have used the room first); rejects if the log goes offline
   * or closes meanwhile.
   */
  waitAppendable(): Promise<void> {
    if (this.#offline !== null) return Promise.reject(this.#offline);
    if (this.#closing || this.#closed) return Promise.reject(new LogOfflineError(this.dir, 'the log is closing'));
    if (this.appendable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#appendWaiters.push({ resolve, reject });
      this.#stopWatchingBudget ??= this.#budget.onRelease(() => this.#wakeAppenders());
    });
  }

  #wakeAppenders(): void {
    if (!this.appendable || this.#appendWaiters.length === 0) return;
    this.#stopWatchingBudget?.();
    this.#stopWatchingBudget = null;
    for (const waiter of this.#appendWaiters.splice(0)) waiter.resolve();
  }

  #failAppenders(err: Error): void {
    this.#stopWatchingBudget?.();
    this.#stopWatchingBudget = null;
    for (const waiter of this.#appendWaiters.splice(0)) waiter.reject(err);
  }

  /** Gives `bytes` of pending segments back to the budget (they were written to a file or dropped). */
  #releasePending(bytes: number): void {
    this.#pendingBytes -= bytes;
    assert(this.#pendingBytes >= 0, 'pending bytes never go negative', { dir: this.dir, bytes, left: this.#pendingBytes });
    this.#budget.give(bytes);
  }

  /** Why the log went offline (its cause says more: a CorruptLogError for damage), or null. */
  get offlineError(): LogOfflineError | null {
    return this.#offline;
  }

  get config(): LogConfig {
    return this.#config;
  }

  /** Total bytes of every segment's .log (pending segments' bytes included). */
  /** The file system the log lives on (for the partition's own small files, such as producer snapshots). */
  get fileSystem(): FileSystem {
    return this.#fs;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.#segments) total += segment.sizeBytes;
    for (const pending of this.#pending) total += pending.sizeBytes;
    return total;
  }

  /** Segments, pending ones included (they exist for reads and offsets; only their file waits). */
  get segmentCount(): number {
    return this.#segments.length + this.#pending.length;
  }

  /** Base offsets of the segments (pending ones included), oldest first (for tools and tests). */
  segmentBaseOffsets(): number[] {
    return [...this.#segments, ...this.#pending].map((segment) => segment.baseOffset);
  }

  /** The base offset of the segment appends go to now (a pending one included): it moves when the log rolls. */
  get newestSegmentBaseOffset(): number {
    return (this.#pending.at(-1) ?? this.#active).baseOffset;
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1] as Segment;
  }

  #checkUsable(): void {
    if (this.#offline !== null) throw this.#offline;
    if (this.#closed) throw new LogOfflineError(this.dir, 'the log is closed');
  }

  /* ------------------------------------------------------------ append */

  /**
   * A leader's append: validate every batch (batch-validation.ts: bounds,
   * magic, CRC, max.message.bytes, recordCount = lastOffsetDelta + 1, keys on
   * compacted topics), assign (leader-stamp.ts: offsets from the log end,
   * `leaderEpoch`, the broker's time for LogAppendTime topics, stamped in
   * place), then write (#write: roll if due, page cache or pending segment,
   * indexes, epoch cache, flusher). All or nothing: a bad batch anywhere
   * throws before anything is stamped or written.
   */
  append(records: Uint8Array, opts: { leaderEpoch: number }): AppendInfo {
    this.#admitAppend();
    assert(opts.leaderEpoch >= this.#epochs.latestEpoch, 'appends never go back to an older leader epoch', { leaderEpoch: opts.leaderEpoch, latest: this.#epochs.latestEpoch });
    const summary = validateBatches(records, this.#leaderRules);
    const nowMs = this.#clock.nowMs();
    const logAppendTimeMs = this.#config.messageTimestampType === 'LogAppendTime' ? nowMs : -1;
    const maxTimestamp = logAppendTimeMs >= 0 ? logAppendTimeMs : summary.maxTimestamp;
    const baseOffset = this.logEndOffset;
    const lastOffset = baseOffset + summary.recordCount - 1;
    checkOffsetSpan(baseOffset, lastOffset);
    stampBatches(records, baseOffset, opts.leaderEpoch, logAppendTimeMs);
    this.#write(this.#toDisk(records), summary.batchCount, baseOffset, lastOffset, maxTimestamp, nowMs);
    if (this.#config.encryptionEnabled) this.#tail?.add(records);
    this.#noteWritten(this.#epochs.assign(opts.leaderEpoch, baseOffset), lastOffset + 1 - baseOffset);
    return { baseOffset, lastOffset, logAppendTimeMs, maxTimestamp, batchCount: summary.batchCount, sizeBytes: records.byteLength };
  }

  /**
   * A follower's append of batches fetched from its leader: validate the
   * bytes as `append` does (not the leader's limits: batch-validation.ts),
   * check that they continue this log exactly (follower-continuity.ts; else
   * DiscontinuousAppendError, nothing appended), keep every byte (offsets,
   * each batch's leader epoch, timestamps, CRC) and write through the same
   * path as a leader's append: the same rolls, pending segments, indexes and
   * durability waits. Each epoch the batches start enters the epoch cache at
   * its first batch's base offset. `logAppendTimeMs` is -1: the leader
   * stamped the time, if any. After `truncateTo` resolves, this may be
   * called at once.
   */
  appendAsFollower(records: Uint8Array): AppendInfo {
    this.#admitAppend();
    const summary = validateBatches(records, FOLLOWER_RULES);
    const placed = placeFollowerBatches(records, {
      dir: this.dir,
      logEndOffset: this.logEndOffset,
      latestEpoch: this.#epochs.latestEpoch,
    });
    const { baseOffset, lastOffset } = placed;
    this.#write(this.#toDisk(records), summary.batchCount, baseOffset, lastOffset, summary.maxTimestamp, this.#clock.nowMs());
    let epochsChanged = false;
    for (const start of placed.epochStarts) epochsChanged = this.#epochs.assign(start.epoch, start.startOffset) || epochsChanged;
    this.#noteWritten(epochsChanged, lastOffset + 1 - baseOffset);
    return { baseOffset, lastOffset, logAppendTimeMs: -1, maxTimestamp: summary.maxTimestamp, batchCount: summary.batchCount, sizeBytes: records.byteLength };
  }

  /**
   * The bytes an append writes: its batches as they are, or sealed under
   * the current key for an encrypted topic (a missing key throws here,
   * before anything is written, and the log stays online).
   */
  #toDisk(records: Uint8Array): Uint8Array {
    return this.#config.encryptionEnabled ? this.#cipher.seal(records) : records;
  }

  /** The state checks every append passes first (throws with the reason it may not append now). */
  #admitAppend(): void {
    this.#checkUsable();
    // close() flushes once, then writes a marker and recovery point at the log end: nothing may land after that flush
    if (this.#closing) throw new LogOfflineError(this.dir, 'the log is closing');
    assert(this.#truncations === 0, 'no append while truncateTo is pending', { dir: this.dir });
    // A hard bound on memory: callers wait for waitAppendable() first, so this is only ever met by one that did not.
    if (!this.#budget.hasRoom(this.#pendingBytes)) throw new AppendBackpressureError(this.dir, this.#pendingBytes, this.#budget.totalBytes);
  }

  /**
   * The write step shared by leader and follower appends: batches whose
   * offsets are final go to the active segment (page cache, indexes) or,
   * after a roll that must wait for the disk, to a pending segment. A
   * failed write takes the log offline.
   */
  #write(records: Uint8Array, batchCount: number, baseOffset: number, lastOffset: number, maxTimestamp: number, nowMs: number): void {
    const totalBytes = records.byteLength;
    try {
      const target = this.#maybeRoll(totalBytes, batchCount, baseOffset, lastOffset, maxTimestamp, nowMs);
      if (target instanceof PendingSegment) {
        target.add(records, batchCount, lastOffset + 1);
        this.#pendingBytes += totalBytes;
        this.#budget.take(totalBytes);
      } else {
        this.#writeToSegment(target, records, lastOffset + 1);
      }
    } catch (err) {
      if (err instanceof LogOfflineError) throw err;
      throw this.#goOffline('a write to the page cache failed', err);
    }
    assert(this.logEndOffset === lastOffset + 1, 'an append ends at the new log end', { lastOffset, logEndOffset: this.logEndOffset });
  }

  /**
   * After a write: persist a changed epoch cache, then tell the flusher.
   * In that order: the epoch checkpoint write is queued before any flush
   * round can queue a recovery point past these offsets (state-writer.ts).
   */
  #noteWritten(epochsChanged: boolean, offsets: number): void {
    if (epochsChanged) this.#inBackground(this.#persistEpochs());
    this.#flusher.noteAppend(offsets);
  }

  /**
   * KIP-279: a replica becoming leader records its new epoch as starting at
   * its log end before it appends anything, so an OffsetForLeaderEpoch for
   * an older epoch (one a follower may have written in while this replica
   * wrote nothing) ends where this leadership began. No-op for the latest
   * epoch; durable (the epoch checkpoint written) when it resolves. Waits
   * for a running truncation, retention pass or compaction swap first.
   */
  beginLeaderEpoch(epoch: number): Promise<void> {
    return this.#exclusive(async () => {
      this.#checkUsable();
      if (this.#closing) throw new LogOfflineError(this.dir, 'the log is closing');
      assert(epoch >= this.#epochs.latestEpoch, 'a leader epoch never goes back', { dir: this.dir, epoch, latest: this.#epochs.latestEpoch });
      if (this.#epochs.assign(epoch, this.logEndOffset)) await this.#persistEpochs();
    });
  }

  /** Where this append goes (the active segment or the last pending one), rolling first when Kafka's rules say so. */
  #maybeRoll(sizeBytes: number, batchCount: number, baseOffset: number, lastOffset: number, maxTimestamp: number, nowMs: number): Segment | PendingSegment {
    const pending = this.#pending.at(-1);
    const target = pending ?? this.#active;
    const config = this.#config;
    if (target.sizeBytes === 0) {
      if (lastOffset - target.baseOffset <= U32_MAX) return target;
      return this.#roll(baseOffset, nowMs);
    }
    const waitedMs = target.rollBaseTimestampMs >= 0 && maxTimestamp >= 0 ? maxTimestamp - target.rollBaseTimestampMs : nowMs - target.createdAtMs;
    const indexesFull = pending === undefined ? this.#active.indexesWouldOverflow(batchCount) : pending.indexesWouldOverflow(batchCount, config.segmentIndexBytes);
    const roll = target.sizeBytes + sizeBytes > config.segmentBytes
      || waitedMs > config.segmentMs
      || indexesFull
      || lastOffset - target.baseOffset > U32_MAX;
    return roll ? this.#roll(baseOffset, nowMs) : target;
  }

  /**
   * Starts a new segment at `baseOffset`. Its file is created and written
   * at once only if every byte of the active segment is already durable (or
   * it is empty, and is replaced); otherwise the new segment stays pending,
   * in memory, until a flush has made the active one durable (the roll
   * barrier, pending-segment.ts), so a crash can never keep the new
   * segment's bytes and tear the old one's.
   */
  #roll(baseOffset: number, nowMs: number): Segment | PendingSegment {
    const old = this.#active;
    const last = this.#pending.at(-1) ?? old;
    assert(baseOffset >= last.nextOffset, 'a new segment starts at the log end', { baseOffset, logEnd: last.nextOffset });
    if (this.#pending.length > 0 || (old.sizeBytes > 0 && this.durableEndOffset < old.nextOffset)) {
      const pending = new PendingSegment(baseOffset, nowMs);
      this.#pending.push(pending);
      this.#logger.info({ dir: this.dir, baseOffset, previous: last.baseOffset }, 'rolled a new segment (written once the previous one is durable)');
      this.#flusher.request();
      return pending;
    }
    const segment = Segment.create(this.#fs, this.dir, baseOffset, segmentSettings(this.#config), nowMs);
    if (old.sizeBytes === 0) {
      this.#segments.pop();
      this.#dirty.delete(old);
      this.#inBackground(this.#deleteSegments([old]));
    } else {
      old.seal();
      this.#dirty.add(old);
      this.#rememberLoaded(old);
    }
    this.#segments.push(segment);
    this.#dirNeedsSync = true;
    this.#logger.info({ dir: this.dir, baseOffset, previous: old.baseOffset }, 'rolled a new segment');
    // As Kafka does: get the sealed segment onto disk soon, so the recovery point can pass it.
    this.#flusher.request();
    return segment;
  }

  /** Indexes stamped batches and writes them to the end of `segment` (one positional write). */
  #writeToSegment(segment: Segment, batches: Uint8Array, nextOffset: number): void {
    const sink = segment.indexSink();
    const view = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
    for (let pos = 0; pos < batches.byteLength;) {
      const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      const offset = readI64(batches, pos);
      const batchLastOffset = offset + view.getInt32(pos + BATCH_OFFSET_LAST_OFFSET_DELTA);
      segment.indexAppendedBatch(sink, offset, batchLastOffset, readI64(batches, pos + BATCH_OFFSET_MAX_TIMESTAMP), segment.sizeBytes + pos, sizeBytes);
      pos += sizeBytes;
    }
    segment.writeBatches(batches, nextOffset);
    this.#dirty.add(segment);
  }

  /**
   * The active segment is durable: seal it and write the first pending
   * segment to its own file, one write per append it held (never joined
   * into one buffer). The caller (#flushRound) syncs it, and its directory
   * entry, before the next one may follow.
   */
  #writeNextPending(): void {
    const pending = this.#pending.shift() as PendingSegment;
    const old = this.#active;
    assert(pending.baseOffset === old.nextOffset && this.durableEndOffset >= old.nextOffset, 'a pending segment is written only after the one before it is durable', { dir: this.dir, base: pending.baseOffset, activeEnd: old.nextOffset, durable: this.durableEndOffset });
    try {
      const segment = Segment.create(this.#fs, this.dir, pending.baseOffset, segmentSettings(this.#config), pending.createdAtMs);
      old.seal();
      this.#dirty.add(old);
      this.#segments.push(segment);
      this.#rememberLoaded(old);
      this.#dirNeedsSync = true;
      for (const chunk of pending.chunks()) this.#writeToSegment(segment, chunk.bytes, chunk.nextOffset);
    } catch (err) {
      this.#releasePending(pending.sizeBytes);
      this.#goOffline('writing a rolled segment failed', err);
      return;
    }
    this.#releasePending(pending.sizeBytes);
  }

  /* -------------------------------------------------------- durability */

  /** Resolves once every offset below `offsetExclusive` is fsynced (triggering a group fsync). */
  waitDurable(offsetExclusive: number): Promise<void> {
    if (this.#offline !== null) return Promise.reject(this.#offline);
    if (this.#closed && offsetExclusive > this.durableEndOffset) return Promise.reject(new LogOfflineError(this.dir, 'the log is closed'));
    return this.#flusher.waitDurable(offsetExclusive);
  }

  /** fsyncs everything appended so far. */
  flush(): Promise<void> {
    return this.waitDurable(this.logEndOffset);
  }

  /**
   * Syncs every file written since the last call. Each call also waits for
   * (and fails with) the call before it: that one took the dirty files it
   * syncs off the list, so a flush round that found them clean must not
   * declare their bytes durable before, or despite, that fdatasync.
   */
  #syncAll(): Promise<void> {
    const previous = this.#lastSyncAll;
    // async: a write-through that throws becomes this call's rejection (the flusher's failure path), never an uncaught throw
    const done = (async () => {
      const segments = [...this.#dirty];
      this.#dirty.clear();
      const dirSync = this.#dirNeedsSync;
      this.#dirNeedsSync = false;
      await Promise.all([previous, ...segments.map((segment) => segment.sync()), dirSync ? this.#fs.fsyncDir(this.dir) : undefined]);
    })();
    this.#lastSyncAll = done;
    return done;
  }

  /**
   * One flush round (flusher.ts): sync what is written; then, while rolled
   * segments are pending and everything before the first one is durable,
   * report that and write it (#writeNextPending); while more are pending,
   * sync it with its directory entry before the next, so a stalled backlog
   * drains in one round, each segment only after the one before it is on
   * stable storage. The last one written is the active segment: its sync is
   * an ordinary flush's business (at once with fsync=always, whose waiters
   * start the next round; by flush.ms otherwise).
   */
  async #timedFlushRound(progress: (durableEndOffset: number) => void, onFlushed: (seconds: number) => void): Promise<number> {
    const startNs = this.#clock.monotonicNs();
    const reached = await this.#flushRound(progress);
    onFlushed(Number(this.#clock.monotonicNs() - startNs) / 1e9);
    return reached;
  }

  async #flushRound(progress: (durableEndOffset: number) => void): Promise<number> {
    let reached = this.writtenEndOffset;
    await this.#syncAll();
    while (this.#pending.length > 0 && this.#offline === null) {
      progress(reached);
      // Not the active segment's end when appends came before the roll, or a truncation rewrote it, after this sync began.
      if (this.#offline !== null || this.#pending.length === 0 || this.durableEndOffset < this.#active.nextOffset) break;
      this.#writeNextPending();
      // The durable end now starts the segment just written: the recovery point may move up to it.
      this.#onDurable(this.durableEndOffset);
      if (this.#pending.length === 0) break;
      reached = this.writtenEndOffset;
      await this.#syncAll();
    }
    return reached;
  }

  /** The durable end moved: once it enters a segment the recovery point has not reached, persist it (recovery scans whole segments). */
  #onDurable(durableEndOffset: number): void {
    if (this.#offline !== null) return;
    if ((this.#segments[this.#floorIndex(durableEndOffset)] as Segment).baseOffset > this.#recoveryPoint) {
      this.#inBackground(this.#persistRecoveryPoint(durableEndOffset));
    }
  }

  /** Persists the durable end as the recovery point, if it moved since the last time. */
  async checkpointRecoveryPoint(): Promise<void> {
    this.#checkUsable();
    const durable = this.durableEndOffset;
    if (durable > this.#recoveryPoint) await this.#persistRecoveryPoint(durable);
    // A flush may have queued this very point already: resolve only once it is on disk.
    else await this.#state.idle();
  }

  #persistRecoveryPoint(recoveryPoint: number): Promise<void> {
    this.#recoveryPoint = recoveryPoint;
    return this.#state.write(path.join(this.dir, PARTITION_META_FILE), () =>
      encodePartitionMeta({ topic: this.#topic, partition: this.#partition, recoveryPoint: this.#recoveryPoint }));
  }

  #persistLogStart(): Promise<void> {
    return this.#state.write(path.join(this.dir, LOG_START_FILE), () => encodeLogStart(this.#startFloor));
  }

  #persistCleanerState(): Promise<void> {
    return this.#state.write(path.join(this.dir, CLEANER_CHECKPOINT_FILE), () => encodeCleanerCheckpoint(this.#cleanerState));
  }

  #persistEpochs(): Promise<void> {
    return this.#state.write(path.join(this.dir, EPOCH_CHECKPOINT_FILE), () => this.#epochs.serialize());
  }

  /**
   * Resolves once every offset below `offsetExclusive` is in a segment file
   * (the page cache), not only in a pending segment: each of those is written
   * in the flush round that makes the segment before it durable.
   */
  async waitWritten(offsetExclusive: number): Promise<void> {
    let last: PendingSegment | undefined;
    for (const pending of this.#pending) if (pending.baseOffset < offsetExclusive) last = pending;
    if (last !== undefined) await this.waitDurable(last.baseOffset);
  }

  /** Every segment pending now gets its file: truncation, retention and compaction work on files. */
  #writePendingSegments(): Promise<void> {
    return this.waitWritten(this.logEndOffset);
  }

  #dropPending(): void {
    this.#pending = [];
    this.#releasePending(this.#pendingBytes);
  }

  /** Tracks work an append cannot wait for; its failure takes the log offline. */
  #inBackground(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      this.#goOffline('background file work failed', err);
    }).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  /**
   * Takes the log offline for a reason found outside it (a broken invariant
   * in the partition that owns it, see broker/partition.ts): for good, as a
   * failed write does, until the broker reopens (and so recovers) it.
   */
  takeOffline(reason: string, cause: unknown): LogOfflineError {
    return this.#goOffline(reason, cause);
  }

  #goOffline(reason: string, cause: unknown): LogOfflineError {
    if (this.#offline === null) {
      this.#offline = new LogOfflineError(this.dir, `${reason}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      this.#flusher.fail(this.#offline);
      // Nothing pending can be written any more: give its memory back, and tell whoever waited to append.
      this.#failAppenders(this.#offline);
      this.#dropPending();
      this.#tail?.clear();
      this.#logger.error({ dir: this.dir, err: String(cause) }, `log offline: ${reason}`);
    }
    return this.#offline;
  }

  /* ------------------------------------------------------------- reads */

  /** Index of the segment holding `offset` (0 for offsets below the first). */
  #floorIndex(offset: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#segments[mid] as Segment).baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #rememberLoaded(segment: Segment): void {
    if (segment.isActive) return;
    // Rebuilt on first use (its file did not match the log): the next flush makes it durable; until then it stays loaded.
    if (segment.indexesUnsynced) this.#dirty.add(segment);
    const at = this.#loadedInactive.indexOf(segment);
    if (at >= 0) this.#loadedInactive.splice(at, 1);
    this.#loadedInactive.push(segment);
    while (this.#loadedInactive.length > LOADED_INACTIVE_INDEXES_MAX) this.#loadedInactive.shift()?.releaseIndexes();
  }

  /**
   * Whole batches from the one holding `fetchOffset`: up to `maxBytes` but
   * always at least one batch, only batches that end below
   * `maxOffsetExclusive` (default: the log end), from one segment per call,
   * read into a buffer from `allocate` (fresh by default).
   */
  async read(fetchOffset: number, maxBytes: number, maxOffsetExclusive?: number, allocate?: ReadBufferSource): Promise<ReadResult> {
    const limit = this.#readLimit(fetchOffset, maxOffsetExclusive);
    if (limit === null) return { records: [], sizeBytes: 0 };
    const cached = this.#tail?.read(fetchOffset, maxBytes, limit, allocate);
    if (cached !== undefined && cached !== null) return readResult(cached);
    const read = await this.#readSegments(fetchOffset, maxBytes, limit, allocate);
    if (this.#config.encryptionEnabled) this.#tail?.noteMiss(read.sizeBytes, fetchOffset);
    return read;
  }

  /** The bound of a read from `fetchOffset` (OffsetOutOfRangeError outside the log); null: nothing to read below it. */
  #readLimit(fetchOffset: number, maxOffsetExclusive: number | undefined): number | null {
    this.#checkUsable();
    const logEnd = this.logEndOffset;
    if (fetchOffset < this.logStartOffset || fetchOffset > logEnd) throw new OffsetOutOfRangeError(fetchOffset, this.logStartOffset, logEnd);
    const limit = Math.min(maxOffsetExclusive ?? logEnd, logEnd);
    return fetchOffset >= limit ? null : limit;
  }

  /** A read from the segment files (or pending segments), opening what is encrypted. */
  async #readSegments(fetchOffset: number, maxBytes: number, limit: number, allocate: ReadBufferSource | undefined): Promise<ReadResult> {
    // Only an encrypted log with worker threads to open it leaves the event loop; every other read is answered as it is made.
    if (!this.#config.encryptionEnabled || this.#cipher.opts.opener === undefined) return this.#readInline(fetchOffset, maxBytes, limit, allocate);
    const truncationsBegun = this.#truncationsBegun;
    // Shared memory: the batch opener's threads can then open the batches in place.
    const shared: ReadBufferSource | undefined = allocate === undefined ? undefined : (bytes) => allocate(bytes, true);
    const plan = this.#readPlan(fetchOffset, maxBytes, limit, shared);
    if (plan === null) return { records: [], sizeBytes: 0 };
    const batches = this.#guard(plan.batches);
    const records = await this.#guardAsync(() => this.#cipher.openOffThread(batches, plan.file, plan.position));
    // Opening off the event loop lets a truncation start meanwhile: what was read may be gone, so read again (bounds checked anew), opening inline.
    if (this.#truncationsBegun !== truncationsBegun) {
      const now = this.#readLimit(fetchOffset, limit);
      return now === null ? { records: [], sizeBytes: 0 } : this.#readInline(fetchOffset, maxBytes, now, allocate);
    }
    plan.check(records);
    return readResult(records);
  }

  #readInline(fetchOffset: number, maxBytes: number, limit: number, allocate: ReadBufferSource | undefined): ReadResult {
    const plan = this.#readPlan(fetchOffset, maxBytes, limit, allocate);
    if (plan === null) return { records: [], sizeBytes: 0 };
    const records = this.#guard(() => this.#cipher.open(plan.batches(), plan.file, plan.position, true));
    plan.check(records);
    return readResult(records);
  }

  /**
   * Where a read's batches are (the segment, or the pending segment, holding
   * `fetchOffset`, within bounds #readLimit checked), as a step that reads
   * them still sealed, the file and position errors name, and the check of
   * what was read; null: nothing to read below `limit`.
   */
  #readPlan(fetchOffset: number, maxBytes: number, limit: number, allocate: ReadBufferSource | undefined): { batches: () => Uint8Array[]; file: string; position: number; check: (records: Uint8Array[]) => void } | null {
    const first = this.#floorIndex(fetchOffset);
    for (let i = first; i < this.#segments.length; i++) {
      const segment = this.#segments[i] as Segment;
      if (segment.baseOffset >= limit) break;
      const location = this.#guard(() => segment.locate(fetchOffset));
      this.#rememberLoaded(segment);
      if (location === null) continue;
      return {
        batches: () => segment.readBatches(location, maxBytes, limit, allocate),
        file: segment.log.path,
        position: location.position,
        check: (records) => assert(records.length > 0 || location.lastOffset >= limit, 'a read below the bound returns at least one batch', { fetchOffset, limit, location }),
      };
    }
    for (const pending of this.#pending) {
      if (pending.baseOffset >= limit) break;
      // A pending segment that holds offsets at or after fetchOffset has a batch to return, unless the bound stops it.
      if (pending.nextOffset > fetchOffset) return { batches: () => pending.read(fetchOffset, maxBytes, limit, allocate), file: this.#pendingFile(pending), position: 0, check: () => undefined };
    }
    return null;
  }

  /** Plaintext of batches read from a pending segment (in memory, not yet in a file: errors name the file it will be). */
  #openPending(pending: PendingSegment, batches: Uint8Array[], inPlace: boolean): Uint8Array[] {
    return this.#cipher.open(batches, this.#pendingFile(pending), 0, inPlace);
  }

  /** The file a pending segment will be, as errors name it. */
  #pendingFile(pending: PendingSegment): string {
    return Segment.filePath(this.dir, pending.baseOffset, '.log (pending)');
  }

  /** Runs a read-side step; a corrupt file or a failed read takes the log offline (a missing encryption key does not: the operator adds it). */
  #guard<T>(step: () => T): T {
    try {
      return step();
    } catch (err) {
      throw this.#readFailure(err);
    }
  }

  /** `#guard` for a step that finishes later (opening batches on a worker thread). */
  async #guardAsync<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw this.#readFailure(err);
    }
  }

  #readFailure(err: unknown): unknown {
    if (err instanceof EncryptionKeyError) return err;
    if (err instanceof CorruptLogError) {
      this.#goOffline('a segment does not read back', err);
      return err;
    }
    return this.#goOffline('a read failed', err);
  }

  /**
   * Kafka's ListOffsets by time: the first record whose timestamp is >=
   * `timestampMs` (its offset, timestamp and the leader epoch of its batch),
   * or null when every record is older. The indexes find the batch; the
   * batch is then decoded (decompressed if needed) to find the record.
   */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number; leaderEpoch: number } | null> {
    this.#checkUsable();
    for (const segment of this.#segments) {
      if (segment.indexing.maxTimestampMs < timestampMs) continue;
      const location = this.#guard(() => segment.locateTimestamp(timestampMs));
      this.#rememberLoaded(segment);
      if (location === null) continue;
      const [batch] = this.#guard(() => this.#cipher.open(segment.readBatches(location, location.sizeBytes, Number.MAX_SAFE_INTEGER), segment.log.path, location.position, true));
      return this.#firstRecordAtOrAfter(batch as Uint8Array, location, timestampMs);
    }
    for (const pending of this.#pending) {
      const found = pending.locateTimestamp(timestampMs);
      if (found !== null) return this.#firstRecordAtOrAfter(this.#guard(() => this.#openPending(pending, [found.batch], false))[0] as Uint8Array, found.location, timestampMs);
    }
    return null;
  }

  /** The first record of `batch` (found by the time index) at or after `timestampMs`. */
  #firstRecordAtOrAfter(batch: Uint8Array, location: BatchLocation, timestampMs: number): { offset: number; timestamp: number; leaderEpoch: number } {
    const { records } = decodeBatch(batch, 0, { verifyCrc: false, maxUncompressedBytes: Math.max(DEFAULT_MAX_UNCOMPRESSED_BYTES, this.#config.maxMessageBytes) });
    const record = records.find((r) => r.timestamp >= timestampMs && r.offset >= this.logStartOffset);
    // maxTimestamp >= timestampMs guarantees a record unless the batch lies about it (then: the batch itself)
    return record === undefined
      ? { offset: Math.max(location.baseOffset, this.logStartOffset), timestamp: location.maxTimestamp, leaderEpoch: location.leaderEpoch }
      : { offset: record.offset, timestamp: record.timestamp, leaderEpoch: location.leaderEpoch };
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer (epoch-cache.ts): the largest epoch
   * <= `epoch` this log knows, with the start offset of the epoch after it
   * (the log end for the latest). (-1, -1) for a negative epoch, one newer
   * than the latest, or a log that knows none. For an epoch older than every
   * epoch the log still knows (retention removed them): `epoch` itself with
   * the start of the earliest known, as Kafka answers, so a follower
   * truncates to at most this log's start and fetches from there.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.#epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  /** (epoch, start offset) pairs, oldest first. */
  epochEntries(): readonly { epoch: number; startOffset: number }[] {
    return this.#epochs.entries();
  }

  /* -------------------------------------------------------- truncation */

  /**
   * Removes every batch at or after `offset` (a batch holding `offset` goes
   * whole, so the new log end can be below `offset`), and every epoch-cache
   * entry that starts at or after `offset`, even when no batch goes (an
   * epoch begun at the log end that wrote nothing, by `beginLeaderEpoch`:
   * a follower must not keep it, or its leader's older-epoch batches would
   * not continue the log; Kafka truncates the cache the same way).
   * Truncating to or below the log start empties the log and restarts it at
   * `offset`. The log end, written end, durable end and recovery point all
   * end up at or below the new log end. Durable (fsynced, directory and
   * epoch checkpoint included) when it resolves. From the call until it
   * settles no append may be made (`appendable` is false): the cut applies
   * to the log as it is when the truncation runs, and nothing appended
   * meanwhile could survive it or land past it. Appends may follow as soon
   * as it resolves.
   */
  truncateTo(offset: number): Promise<void> {
    return this.#truncation(() => this.#truncateTo(offset, false));
  }

  /**
   * Empties the log and restarts it at `offset`, which may lie anywhere, also
   * past the log end: what a follower does when its leader's log starts
   * after its own end (retention ran there), or holds none of its offsets.
   * The epoch cache is emptied (the next batches bring their epochs).
   * Durable when it resolves; no append meanwhile, as for `truncateTo`.
   */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.#truncation(() => this.#truncateTo(offset, true));
  }

  /** Runs a truncation with appends refused until it settles. */
  #truncation(work: () => Promise<void>): Promise<void> {
    this.#truncations += 1;
    this.#truncationsBegun += 1;
    const done = this.#exclusive(work);
    const settled = (): void => {
      this.#truncations -= 1;
      this.#wakeAppenders();
    };
    done.then(settled, settled);
    return done;
  }

  async #truncateTo(offset: number, restart: boolean): Promise<void> {
    this.#checkUsable();
    assert(Number.isSafeInteger(offset) && offset >= 0, 'a truncation offset is a non-negative safe integer', { dir: this.dir, offset });
    try {
      if (!restart && offset >= this.logEndOffset) {
        if (this.#epochs.truncateFromEnd(offset)) await this.#persistEpochs();
        return;
      }
      // What the cut removes may come back with other bytes: no read may get the old ones from the cache.
      if (restart) this.#tail?.clear();
      else this.#tail?.truncate(offset);
      // Pending segments exist only in memory: cut there, and only there when the cut falls among them.
      if (restart) this.#dropPending();
      else this.#truncatePending(Math.max(offset, this.#active.nextOffset));
      if (!restart && offset >= this.#active.nextOffset) {
        await this.#persistTruncation(this.#noteTruncation(false));
        return;
      }
      const doomed: Segment[] = [];
      if (restart || offset <= this.logStartOffset) {
        // A segment that starts at `offset` already has the right file names: keep its files, emptied.
        const kept = this.#segments.find((segment) => segment.baseOffset === offset);
        doomed.push(...this.#segments.filter((segment) => segment !== kept));
        if (kept === undefined) {
          this.#segments = [Segment.create(this.#fs, this.dir, offset, segmentSettings(this.#config), this.#clock.nowMs())];
        } else {
          this.#segments = [kept];
          kept.truncateAll();
          if (!kept.isActive) kept.makeActive();
        }
        this.#dirty.add(this.#active);
      } else {
        while (this.#active.baseOffset >= offset) doomed.push(this.#segments.pop() as Segment);
        const last = this.#active;
        last.truncateTo(offset);
        if (!last.isActive) last.makeActive();
        this.#dirty.add(last);
      }
      for (const segment of doomed) {
        this.#dirty.delete(segment);
        const at = this.#loadedInactive.indexOf(segment);
        if (at >= 0) this.#loadedInactive.splice(at, 1);
      }
      const changes = this.#noteTruncation(restart);
      this.#dirNeedsSync = true;
      // In this order, each step durable before the next: a crash part way leaves segments that recovery
      // scans from the recovery point, with an epoch checkpoint that never names epochs of bytes it keeps
      // without scanning (recovery re-learns the epochs of every batch it scans).
      await this.#deleteSegments(doomed);
      // A cut below the DeleteRecords start (a replica starting over lower) starts the log at its new end.
      if (this.#startFloor > this.logEndOffset) {
        this.#startFloor = this.logEndOffset;
        await this.#persistLogStart();
      }
      await this.#persistTruncation(changes);
      if (restart || this.#recoveryPoint > this.logEndOffset) await this.#persistRecoveryPoint(this.logEndOffset);
      await this.#syncAll();
      // No append since the truncation began, nothing pending: every offset left is in a file that sync covered.
      this.#flusher.noteSynced(this.logEndOffset);
    } catch (err) {
      throw err instanceof LogOfflineError ? err : this.#goOffline('truncation failed', err);
    }
  }

  /** Drops pending segments (or the part of one) at or after `offset`: they were never in a file. */
  #truncatePending(offset: number): void {
    let dropped = 0;
    while (this.#pending.length > 0 && (this.#pending.at(-1) as PendingSegment).baseOffset >= offset) dropped += (this.#pending.pop() as PendingSegment).sizeBytes;
    const last = this.#pending.at(-1);
    if (last !== undefined && last.nextOffset > offset) {
      dropped += last.truncateTo(offset);
      if (last.sizeBytes === 0) this.#pending.pop();
    }
    this.#releasePending(dropped);
  }

  /**
   * The flusher's waiters, the epoch cache and the cleaner's state brought
   * down to the new log end; what must be persisted. After a restart no
   * offset below the new start exists: waiters for what was not yet durable
   * fail, and every epoch is forgotten.
   */
  #noteTruncation(restart: boolean): { epochsChanged: boolean; cleanerStateLowered: boolean } {
    const logEnd = this.logEndOffset;
    const cleanerStateLowered = this.#cleanerState.noteTruncation(logEnd);
    const kept = restart ? Math.min(this.#flusher.durableEndOffset, logEnd) : logEnd;
    this.#flusher.noteTruncation(kept, (waited) => new OffsetOutOfRangeError(waited, this.logStartOffset, logEnd));
    return { epochsChanged: restart ? this.#epochs.clear() : this.#epochs.truncateFromEnd(logEnd), cleanerStateLowered };
  }

  async #persistTruncation(changes: { epochsChanged: boolean; cleanerStateLowered: boolean }): Promise<void> {
    if (changes.epochsChanged) await this.#persistEpochs();
    if (changes.cleanerStateLowered) await this.#persistCleanerState();
  }

  /** Rename to .deleted, fsync the directory, unlink, fsync again (recovery finishes a half-done delete). */
  async #deleteSegments(segments: Segment[]): Promise<void> {
    if (segments.length === 0) return;
    const renamed: string[] = [];
    for (const segment of segments) renamed.push(...(await segment.renameToDeleted()));
    await this.#fs.fsyncDir(this.dir);
    for (const file of renamed) await this.#fs.unlink(file);
    await this.#fs.fsyncDir(this.dir);
  }

  /* ---------------------------------------------------------- retention */

  updateConfig(config: LogConfig): void {
    this.#config = config;
    this.#leaderRules = leaderRules(config);
    const settings = segmentSettings(config);
    for (const segment of this.#segments) segment.updateSettings(settings);
    this.#flusher.updateConfig(config);
  }

  /**
   * Deletes whole old segments that retention.ms (by each segment's largest
   * timestamp) or retention.bytes allow, oldest first, never the active
   * segment and never a segment holding offsets at or above
   * `maxOffsetExclusive` (the high watermark; default the log end).
   */
  applyRetention(maxOffsetExclusive?: number): Promise<{ deletedSegments: number; deletedBytes: number }> {
    return this.#exclusive(() => this.#applyRetention(maxOffsetExclusive));
  }

  async #applyRetention(maxOffsetExclusive?: number, belowStartOnly = false): Promise<{ deletedSegments: number; deletedBytes: number }> {
    this.#checkUsable();
    await this.#writePendingSegments();
    const doomed = selectRetention(this.#segments, this.#config, this.#clock.nowMs(), Math.min(maxOffsetExclusive ?? this.logEndOffset, this.logEndOffset), this.#startFloor, belowStartOnly);
    if (doomed.length === 0) return { deletedSegments: 0, deletedBytes: 0 };
    this.#segments.splice(0, doomed.length);
    this.#tail?.dropBelow(this.logStartOffset);
    let deletedBytes = 0;
    for (const segment of doomed) {
      deletedBytes += segment.sizeBytes;
      this.#dirty.delete(segment);
      const at = this.#loadedInactive.indexOf(segment);
      if (at >= 0) this.#loadedInactive.splice(at, 1);
    }
    this.#logger.info({ dir: this.dir, deletedSegments: doomed.length, deletedBytes, logStartOffset: this.logStartOffset }, 'retention deleted old segments');
    try {
      if (this.#epochs.truncateFromStart(this.logStartOffset)) await this.#persistEpochs();
      await this.#deleteSegments(doomed);
    } catch (err) {
      throw err instanceof LogOfflineError ? err : this.#goOffline('deleting old segments failed', err);
    }
    return { deletedSegments: doomed.length, deletedBytes };
  }

  /**
   * Runs `work` once no truncation, retention pass or compaction swap is
   * running: at once (synchronously, as before) when none is, so a caller
   * sees a truncation's in-memory effects without waiting a tick.
   */
  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.#structureBusy !== null) await this.#structureBusy;
    let release!: () => void;
    this.#structureBusy = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      return await work();
    } finally {
      this.#structureBusy = null;
      release();
    }
  }

  /* --------------------------------------------------------- compaction */

  /**
   * One compaction pass (cleaner.ts) over the non-active segments, for
   * cleanup.policy=compact; passes run one at a time. The LogManager's
   * cleaner calls it periodically (on worker threads); tests call it directly.
   */
  compact(opts: CompactOptions = {}): Promise<CompactResult> {
    const run = this.#cleaning.then(async () => {
      this.#checkUsable();
      await this.#writePendingSegments();
      return cleanLog(this.#cleanerHost(), { ...opts, maxOffsetExclusive: Math.min(opts.maxOffsetExclusive ?? this.logEndOffset, this.logEndOffset) });
    });
    this.#cleaning = run.catch(() => undefined);
    return run;
  }

  #cleanerHost(): CleanerHost {
    const log = this;
    return {
      dir: this.dir,
      fs: this.#fs,
      clock: this.#clock,
      logger: this.#logger,
      config: this.#config,
      cleanerState: this.#cleanerState,
      checkpointCleanerState: () => this.#persistCleanerState(),
      cipher: this.#cipher,
      segments: () => this.#segments,
      lockStructure: () => new Promise((locked) => {
        void this.#exclusive(() => new Promise<void>((release) => locked(release)));
      }),
      replaceSegments: (old, replacement) => {
        const at = this.#segments.indexOf(old[0] as Segment);
        assert(at >= 0 && at + old.length < this.#segments.length && old.every((segment, i) => this.#segments[at + i] === segment),
          'compaction replaces consecutive inactive segments', { dir: this.dir, baseOffset: replacement.baseOffset });
        // The cleaner rewrote those batches: the cache must not answer with the ones it replaced.
        this.#tail?.dropBelow((this.#segments[at + old.length] as Segment).baseOffset);
        this.#segments.splice(at, old.length, replacement);
        for (const segment of old) {
          this.#dirty.delete(segment);
          const loaded = this.#loadedInactive.indexOf(segment);
          if (loaded >= 0) this.#loadedInactive.splice(loaded, 1);
        }
      },
      goOffline: (reason, cause) => this.#goOffline(reason, cause),
      get stopping() {
        return log.#closing || log.#closed || log.#offline !== null;
      },
    };
  }

  /* ---------------------------------------------------------- lifecycle */

  /** Flush, trim the active indexes, persist the recovery point, write the clean-shutdown marker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    this.#tail?.clear();
    this.#failAppenders(new LogOfflineError(this.dir, 'the log is closing'));
    await this.#cleaning;
    this.#flusher.close();
    await Promise.all([...this.#background]);
    let failure: unknown = null;
    if (this.#offline === null) {
      try {
        await this.flush();
        assert(this.#pending.length === 0, 'a flushed log has no pending segment', { dir: this.dir });
        this.#closed = true;
        const active = this.#active;
        active.trimForClose();
        await active.syncIndexes();
        await this.#persistRecoveryPoint(this.logEndOffset);
        await this.#state.idle();
        await this.#fs.writeFileAtomic(path.join(this.dir, CLEAN_SHUTDOWN_FILE), encodeCleanShutdown(this.logEndOffset));
      } catch (err) {
        failure = err instanceof LogOfflineError ? err : this.#goOffline('clean close failed', err);
      }
    }
    this.#closed = true;
    for (const segment of this.#segments) await segment.close().catch(() => undefined);
    if (failure !== null) throw failure;
  }

  /** Closes without a clean-shutdown marker and removes the partition directory (rename first, so a crash finishes it). */
  async delete(): Promise<void> {
    this.#closing = true;
    await this.#cleaning;
    this.#flusher.close();
    this.#closed = true;
    this.#dropPending();
    this.#tail?.clear();
    this.#failAppenders(new LogOfflineError(this.dir, 'the log was deleted'));
    this.#flusher.fail(new LogOfflineError(this.dir, 'the log was deleted'));
    await Promise.all([...this.#background]);
    await this.#state.idle().catch(() => undefined);
    for (const segment of this.#segments) await segment.close().catch(() => undefined);
    const doomed = this.dir + DELETED_SUFFIX;
    await this.#fs.removeTree(doomed);
    await this.#fs.rename(this.dir, doomed);
    await this.#fs.fsyncDir(path.dirname(this.dir));
    await this.#fs.removeTree(doomed);
  }
}

function readResult(records: Uint8Array[]): ReadResult {
  let sizeBytes = 0;
  for (const batch of records) sizeBytes += batch.byteLength;
  return { records, sizeBytes };
}
