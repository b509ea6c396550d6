/**
 * Every partition log under one data directory.
 *
 * On disk: `<dataDir>/<topic>-<partition>/` per partition (see
 * segment-names.ts for what is inside), split at the last '-', so topic names
 * may contain '-'. A directory renamed to `<topic>-<partition>.deleted` is a
 * partition removal that a crash interrupted: open finishes it. A set-aside
 * directory (`<topic>-<partition>.set-aside-<UTC>`, set-aside.ts: what
 * `runnel recover` cut off a log) is never opened, only logged, so an
 * operator knows it is there. A partition whose directory holds a
 * `runnel recover` cut that did not finish (cut-in-progress) stays offline
 * (CORRUPT_SEGMENT) until that command, run again, finishes it.
 *
 * Opening recovers unclean logs several at a time, their scans on a piscina
 * worker pool that exists only while opening. A log that cannot be opened
 * (CorruptLogError, a failing disk) stays offline: it is not served, it is
 * listed by `offline()`, and the other logs open normally. A corrupt one is
 * logged with the file, the byte position and the way out (`runnel recover`).
 *
 * Maintenance (`startMaintenance`): every `retentionCheckIntervalMs`
 * (Kafka's log.retention.check.interval.ms) each log applies retention up to
 * its retention bound (the high watermark, from the broker); every
 * `recoveryPointCheckpointIntervalMs` (log.flush.offset.checkpoint.interval.ms)
 * each log persists its recovery point; every `cleanerBackoffMs`
 * (log.cleaner.backoff.ms) the cleaner compacts the logs whose
 * cleanup.policy includes compact and whose dirty ratio reaches
 * `minCleanableDirtyRatio` (cleaner.ts), its chunk work on a piscina pool of
 * `cleanerThreads` (log.cleaner.threads), up to that many logs at once; a
 * log whose cleaning finds a bad batch is not cleaned again until reopened
 * (Kafka's "uncleanable partition"). flush.ms timers
 * belong to each log (armed by its first unflushed append), so durability
 * does not depend on maintenance running. All timers come from the Clock.
 *
 * Memory: every log shares one PendingBudget (pending-budget.ts), which
 * bounds the bytes of rolled segments held in memory while the disk makes
 * the segments before them durable, per partition and for the whole broker.
 *
 * Descriptors: with `openFilesMax` every log reaches the disk through one
 * HandleCache (handle-cache.ts), so segment files beyond that many are
 * closed while idle and reopened on use, and a broker holds more partitions
 * than its descriptor limit / 3. A partition whose creation fails (EMFILE,
 * a full disk) leaves no directory behind.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Clock, TimerHandle } from '../world/clock.js';
import { mkdirDurable, type FileSystem } from '../world/file-system.js';
import { CleanerAbortedError, type CompactResult } from './cleaner.js';
import { WorkerCleanerRunner, inlineCleanerRunner, type CleanerRunner } from './cleaner-runner.js';
import { CorruptLogError, corruptionIn, InterruptedCutError, LogOfflineError } from './errors.js';
import { HandleCache, type HandleCacheStats } from './handle-cache.js';
import type { LogConfig } from './log-config.js';
import { interruptedCutIn } from './log-surgery.js';
import { PartitionLog } from './partition-log.js';
import { PendingBudget } from './pending-budget.js';
import { DELETED_SUFFIX } from './segment-names.js';
import { isSetAsideDirName } from './set-aside.js';
import type { EncryptionOptions } from './encryption/log-cipher.js';
import { WorkerScanner, inlineScanner, type ScanReply, type ScanRequest, type SegmentScanner } from './segment-scanner.js';
import { silentLogger, type StorageLogger } from './storage-logger.js';

export interface LogManagerOptions {
  dataDir: string;
  fs: FileSystem;
  clock: Clock;
  configFor(topic: string, partition: number): LogConfig;
  logger?: StorageLogger;
  /** Kafka's log.retention.check.interval.ms (default 5 minutes). */
  retentionCheckIntervalMs?: number;
  /** Kafka's log.flush.offset.checkpoint.interval.ms (default 60 s). */
  recoveryPointCheckpointIntervalMs?: number;
  /** Retention never deletes at or above this offset (the high watermark); default the log end. */
  retentionBoundFor?(topic: string, partition: number): number;
  /** Worker threads for recovery scans (default min(4, cores)); 0 scans on the main thread. */
  recoveryThreads?: number;
  /** Kafka's log.cleaner.backoff.ms: pause between cleaner runs (default 15 s). */
  cleanerBackoffMs?: number;
  /** Kafka's log.cleaner.threads (default 1); 0 cleans on the main thread (tests). */
  cleanerThreads?: number;
  /** Kafka's log.cleaner.min.cleanable.ratio: dirty bytes / cleanable bytes that makes a log worth cleaning (default 0.5). */
  minCleanableDirtyRatio?: number;
  /** Kafka's log.cleaner.dedupe.buffer.size, per pass (default 64 MiB). */
  cleanerOffsetMapBytes?: number;
  /** Descriptors the segment files of every log may hold at once (a HandleCache); default: no limit, every file stays open. */
  openFilesMax?: number;
  /** Bytes of rolled segments one log may hold in memory until its disk catches up (pending-budget.ts; default 64 MiB). */
  pendingPartitionBytesMax?: number;
  /** The same, for every log together (default 512 MiB). */
  pendingTotalBytesMax?: number;
  /** Keys and nonce source for topics with encryption.enabled (encryption/log-cipher.ts); default none. */
  encryption?: EncryptionOptions;
}

export interface OfflineLog {
  topic: string;
  partition: number;
  error: Error;
}

const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 5 * 60 * 1000;
const DEFAULT_RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60 * 1000;
const DEFAULT_CLEANER_BACKOFF_MS = 15 * 1000;
const DEFAULT_MIN_CLEANABLE_DIRTY_RATIO = 0.5;
export const DEFAULT_CLEANER_THREADS = 1;

/** Recovery scan threads when none are asked for: min(4, cores). */
export function defaultRecoveryThreads(): number {
  return Math.min(4, availableParallelism());
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** `<topic>-<partition>` back into its parts, or null for anything else in the data directory. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const digits = name.slice(dash + 1);
  if (!/^\d{1,9}$/.test(digits)) return null;
  return { topic: name.slice(0, dash), partition: Number(digits) };
}

/** Creates the worker pool on the first scan only: a clean start never spawns threads. */
class LazyWorkerScanner implements SegmentScanner {
  #pool: WorkerScanner | null = null;
  constructor(readonly threads: number) {}
  scan(request: ScanRequest): Promise<ScanReply> {
    this.#pool ??= new WorkerScanner(this.threads);
    return this.#pool.scan(request);
  }
  async close(): Promise<void> {
    await this.#pool?.close();
    this.#pool = null;
  }
}

export class LogManager {
  readonly dataDir: string;
  #opts: LogManagerOptions;
  #logger: StorageLogger;
  #logs = new Map<string, { topic: string; partition: number; log: PartitionLog }>();
  #offline = new Map<string, OfflineLog>();
  #creating = new Map<string, Promise<PartitionLog>>();
  #timers: TimerHandle[] = [];
  #maintaining = false;
  /** Maintenance runs in flight: close waits for them. */
  #running = new Set<Promise<unknown>>();
  /** The cleaner run in flight: close stops it by closing the logs, then waits for it. */
  #cleanerRun: Promise<unknown> | null = null;
  #cleanerRunner: (CleanerRunner & { close?(): Promise<void> }) | null = null;
  /** Logs whose cleaning found damage: not cleaned again until reopened. */
  #uncleanable = new Set<PartitionLog>();
  #closed = false;
  readonly #handleCache: HandleCache | null;
  readonly #pendingBudget: PendingBudget;

  private constructor(opts: LogManagerOptions) {
    this.dataDir = opts.dataDir;
    this.#logger = opts.logger ?? silentLogger;
    this.#handleCache = opts.openFilesMax === undefined ? null : new HandleCache(opts.fs, { budget: opts.openFilesMax, logger: this.#logger });
    this.#opts = this.#handleCache === null ? opts : { ...opts, fs: this.#handleCache };
    this.#pendingBudget = new PendingBudget({ partitionBytesMax: opts.pendingPartitionBytesMax, totalBytesMax: opts.pendingTotalBytesMax });
  }

  /** Opens every `<topic>-<partition>` directory found, recovering unclean ones several at once. */
  static async open(opts: LogManagerOptions): Promise<LogManager> {
    const manager = new LogManager(opts);
    const { fs, dataDir } = manager.#opts;
    await mkdirDurable(fs, dataDir);
    const found: { topic: string; partition: number }[] = [];
    const setAside: string[] = [];
    for (const name of await fs.readdir(dataDir)) {
      if (name.endsWith(DELETED_SUFFIX)) {
        await fs.removeTree(path.join(dataDir, name));
        continue;
      }
      if (isSetAsideDirName(name)) {
        setAside.push(name);
        continue;
      }
      const parsed = parsePartitionDirName(name);
      if (parsed !== null && (await fs.stat(path.join(dataDir, name)))?.isDirectory === true) found.push(parsed);
    }
    if (setAside.length > 0) {
      manager.#logger.info({ dataDir, setAside }, `${setAside.length} set-aside director${setAside.length === 1 ? 'y' : 'ies'} (what \`runnel recover\` cut off a log): never opened or served; read them with \`runnel dump-log\`, delete them once their records do not matter`);
    }
    const threads = opts.recoveryThreads ?? defaultRecoveryThreads();
    const scanner = threads > 0 ? new LazyWorkerScanner(threads) : null;
    try {
      const queue = [...found];
      const opener = async (): Promise<void> => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          await manager.#openOne(next.topic, next.partition, scanner ?? inlineScanner);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, threads * 2) }, opener));
    } finally {
      await scanner?.close();
    }
    manager.#logger.info({ dataDir, logs: manager.#logs.size, offline: manager.#offline.size }, 'opened the logs');
    return manager;
  }

  /** The encryption option every log of this manager opens with (none: PartitionLog's default, no keys). */
  #encryption(): { encryption?: EncryptionOptions } {
    return this.#opts.encryption === undefined ? {} : { encryption: this.#opts.encryption };
  }

  async #openOne(topic: string, partition: number, scanner: SegmentScanner): Promise<void> {
    const started = this.#opts.clock.monotonicNs();
    const dir = path.join(this.dataDir, key(topic, partition));
    try {
      const interrupted = await interruptedCutIn(this.#opts.fs, dir);
      if (interrupted !== null) throw interrupted;
      const log = await PartitionLog.open({
        dir,
        config: this.#opts.configFor(topic, partition),
        fs: this.#opts.fs,
        clock: this.#opts.clock,
        scanner,
        logger: this.#logger,
        topic,
        partition,
        pendingBudget: this.#pendingBudget,
        ...this.#encryption(),
      });
      this.#logs.set(key(topic, partition), { topic, partition, log });
      const report = log.openReport;
      if (!report.cleanShutdown) {
        const durationMs = Number((this.#opts.clock.monotonicNs() - started) / 1_000_000n);
        this.#logger.info({ topic, partition, ...report, durationMs }, 'recovered a log after an unclean shutdown');
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.#offline.set(key(topic, partition), { topic, partition, error });
      let advice = 'log stays offline: it could not be opened';
      if (error instanceof InterruptedCutError) {
        advice = `log stays offline: a \`runnel recover\` cut of it was interrupted. Stop the broker and run \`${error.finishCommand}\` to finish it`;
      } else if (corruptionIn(error) !== null) {
        advice = `log stays offline, nothing in it was deleted: it is damaged, not torn (valid data follows the bad bytes). Stop the broker and run \`runnel recover ${dir}\` to see the last good offset and cut the log there`;
      }
      this.#logger.error({ topic, partition, dir, err: error.message }, advice);
    }
  }

  /** The descriptor cache's figures; null without `openFilesMax`. */
  descriptorStats(): HandleCacheStats | null {
    return this.#handleCache?.stats() ?? null;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(key(topic, partition))?.log;
  }

  /** Logs that failed to open, with why. */
  offline(): OfflineLog[] {
    return [...this.#offline.values()];
  }

  /** Opens (creating if needed) the log of a partition; an existing open log is returned as is. */
  async create(topic: string, partition: number, config: LogConfig): Promise<PartitionLog> {
    if (this.#closed) throw new LogOfflineError(this.dataDir, 'the log manager is closed');
    const name = key(topic, partition);
    const existing = this.#logs.get(name);
    if (existing !== undefined) return existing.log;
    const failed = this.#offline.get(name);
    if (failed !== undefined) throw new LogOfflineError(path.join(this.dataDir, name), `it could not be opened: ${failed.error.message}`, { cause: failed.error });
    const pending = this.#creating.get(name);
    if (pending !== undefined) return pending;
    const dir = path.join(this.dataDir, name);
    const fs = this.#opts.fs;
    const opening = (async () => {
      const existed = (await fs.stat(dir)) !== null;
      try {
        return await PartitionLog.open({ dir, config, fs, clock: this.#opts.clock, logger: this.#logger, topic, partition, pendingBudget: this.#pendingBudget, ...this.#encryption() });
      } catch (err) {
        // A directory this call made holds nothing anyone acknowledged: leave no half-made log behind.
        if (!existed) await fs.removeTree(dir).catch(() => undefined);
        throw err;
      }
    })()
      .then((log) => {
        this.#logs.set(name, { topic, partition, log });
        return log;
      })
      .finally(() => this.#creating.delete(name));
    this.#creating.set(name, opening);
    return opening;
  }

  /** Closes and deletes a partition's log (also an offline one's directory). */
  async remove(topic: string, partition: number): Promise<void> {
    const name = key(topic, partition);
    const entry = this.#logs.get(name);
    this.#logs.delete(name);
    if (entry !== undefined) {
      await entry.log.delete();
      return;
    }
    if (this.#offline.delete(name)) {
      const dir = path.join(this.dataDir, name);
      await this.#opts.fs.removeTree(dir + DELETED_SUFFIX);
      await this.#opts.fs.rename(dir, dir + DELETED_SUFFIX);
      await this.#opts.fs.fsyncDir(this.dataDir);
      await this.#opts.fs.removeTree(dir + DELETED_SUFFIX);
    }
  }

  all(): Iterable<{ topic: string; partition: number; log: PartitionLog }> {
    return this.#logs.values();
  }

  /** Starts the periodic retention check and recovery-point checkpoint (idempotent). */
  startMaintenance(): void {
    if (this.#maintaining || this.#closed) return;
    this.#maintaining = true;
    this.#every(this.#opts.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_INTERVAL_MS, () => this.runRetention());
    this.#every(this.#opts.recoveryPointCheckpointIntervalMs ?? DEFAULT_RECOVERY_POINT_CHECKPOINT_INTERVAL_MS, () => this.checkpointRecoveryPoints());
    const cleanerBackoffMs = this.#opts.cleanerBackoffMs ?? DEFAULT_CLEANER_BACKOFF_MS;
    const slot = this.#timers.length;
    const tick = (): void => {
      this.#cleanerRun = this.runCleaner().finally(() => {
        this.#cleanerRun = null;
        if (!this.#closed) this.#timers[slot] = this.#opts.clock.schedule(cleanerBackoffMs, tick);
      });
    };
    this.#timers.push(this.#opts.clock.schedule(cleanerBackoffMs, tick));
  }

  /** Resolves once the scheduled cleaner run in flight, if any, has finished. */
  async cleanerIdle(): Promise<void> {
    await this.#cleanerRun?.catch(() => undefined);
  }

  /**
   * One cleaner run: every online log with cleanup.policy compact gets a
   * compaction pass, which does nothing unless that log's dirty ratio
   * reaches minCleanableDirtyRatio or a tombstone it kept has expired. Up to
   * `cleanerThreads` logs are cleaned at once. Returns each pass's result.
   */
  async runCleaner(): Promise<{ topic: string; partition: number; result: CompactResult }[]> {
    const threads = this.#opts.cleanerThreads ?? DEFAULT_CLEANER_THREADS;
    if (this.#cleanerRunner === null) this.#cleanerRunner = threads > 0 ? new WorkerCleanerRunner(threads) : inlineCleanerRunner;
    const runner = this.#cleanerRunner;
    const queue = [...this.#logs.values()].filter(({ log }) => log.config.cleanupPolicy.compact && !log.isOffline && !this.#uncleanable.has(log));
    const results: { topic: string; partition: number; result: CompactResult }[] = [];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined && !this.#closed; next = queue.shift()) {
        const { topic, partition, log } = next;
        try {
          const result = await log.compact({
            runner,
            maxOffsetExclusive: this.#opts.retentionBoundFor?.(topic, partition) ?? log.logEndOffset,
            minCleanableRatio: this.#opts.minCleanableDirtyRatio ?? DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
            offsetMapBytes: this.#opts.cleanerOffsetMapBytes,
          });
          results.push({ topic, partition, result });
        } catch (err) {
          if (err instanceof CleanerAbortedError || this.#closed) continue;
          if (err instanceof CorruptLogError) this.#uncleanable.add(log);
          this.#logger.error({ topic, partition, err: String(err) }, err instanceof CorruptLogError ? 'compaction found damage: the log is left uncompacted until it is reopened' : 'compaction failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, threads) }, worker));
    return results;
  }

  /** Runs `task` every `intervalMs` (measured from the end of the previous run) until close. */
  #every(intervalMs: number, task: () => Promise<unknown>): void {
    const slot = this.#timers.length;
    const tick = (): void => {
      const run = task().finally(() => {
        this.#running.delete(run);
        if (!this.#closed) this.#timers[slot] = this.#opts.clock.schedule(intervalMs, tick);
      });
      this.#running.add(run);
    };
    this.#timers.push(this.#opts.clock.schedule(intervalMs, tick));
  }

  /** Persists every online log's recovery point (the durable end). */
  async checkpointRecoveryPoints(): Promise<void> {
    for (const { topic, partition, log } of [...this.#logs.values()]) {
      if (log.isOffline) continue;
      await log.checkpointRecoveryPoint().catch((err: unknown) => this.#logger.error({ topic, partition, err: String(err) }, 'recovery point checkpoint failed'));
    }
  }

  /** One retention pass over every online log; returns what it deleted. */
  async runRetention(): Promise<{ deletedSegments: number; deletedBytes: number }> {
    const total = { deletedSegments: 0, deletedBytes: 0 };
    for (const { topic, partition, log } of [...this.#logs.values()]) {
      if (log.isOffline) continue;
      try {
        const bound = this.#opts.retentionBoundFor?.(topic, partition) ?? log.logEndOffset;
        const result = await log.applyRetention(bound);
        total.deletedSegments += result.deletedSegments;
        total.deletedBytes += result.deletedBytes;
      } catch (err) {
        this.#logger.error({ topic, partition, err: String(err) }, 'retention failed');
      }
    }
    return total;
  }

  /** Clean shutdown of every log (each writes its clean-shutdown marker). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers = [];
    await Promise.allSettled([...this.#creating.values(), ...this.#running]);
    const results = await Promise.allSettled([...this.#logs.values()].map(({ log }) => log.close()));
    for (const result of results) {
      if (result.status === 'rejected') this.#logger.error({ err: String(result.reason) }, 'a log did not close cleanly');
    }
    await this.#cleanerRun?.catch(() => undefined);
    await this.#cleanerRunner?.close?.();
    this.#cleanerRunner = null;
  }
}
