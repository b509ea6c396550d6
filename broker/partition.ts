/**
 * One partition as the request handlers see it: the storage log plus the
 * high watermark, the boundary between what a consumer may read and what it
 * may not yet.
 *
 * On one node the high watermark is the written end offset (what is in the
 * segment files, so a process crash keeps it: the log end, except for a
 * moment after a roll, while the new segment waits in memory for the old one
 * to be durable, see storage/pending-segment.ts), and on a topic with
 * `fsync=always` the durable end offset: a consumer never reads a record
 * that a crash could still take back, and a producer's ack (acks 1 or all)
 * waits for the same point. It only moves forward, even when a topic
 * switches from `fsync=interval` to `always`.
 *
 * Whoever waits for new data (a long-polling fetch) subscribes with
 * `onAdvance`; the partition calls every subscriber synchronously when the
 * high watermark moves, so nothing polls. `visibleBytesTotal` counts the
 * bytes that have become readable since the partition was opened, which lets
 * a waiting fetch tell whether `minBytes` can be met without reading.
 *
 * A partition whose log could not be opened (a corrupt segment, a failing
 * disk) is still listed, so clients get CORRUPT_SEGMENT (corruption: an
 * operator must run `runnel recover`) or KAFKA_STORAGE_ERROR (a failing
 * disk) for it on every request, instead of UNKNOWN_TOPIC_OR_PARTITION, and
 * the rest of the broker serves on.
 *
 * A broken invariant during an operation on the partition (here or in its
 * log) takes the log offline the same way (`#offlineOnInvariant`): its
 * state is no longer known to be right, so nothing more is appended to or
 * served from it until a restart recovers it, and the rest of the broker
 * serves on (docs/ARCHITECTURE.md, "When an invariant breaks").
 *
 * Not thread-safe (nothing in the broker is): every call runs on the event
 * loop, and appends are applied in call order.
 */
import { ProtocolError } from '../protocol/errors.js';
import type { LogConfig } from './storage/log-config.js';
import { LogOfflineError } from './storage/errors.js';
import type { AppendInfo, PartitionLog, ReadResult } from './storage/partition-log.js';
import type { ReadBufferSource } from './storage/segment.js';
import { assert, InvariantError } from './world/assert.js';

/** Leadership never changes on a single node; replication will bump it per election. */
export const SINGLE_NODE_LEADER_EPOCH = 0;

export interface PartitionAppend {
  info: AppendInfo;
  /** Resolves once the high watermark covers the append (at once, unless fsync=always or a roll is pending); rejects if the log fails first. */
  committed: Promise<void>;
}

export class Partition {
  readonly topic: string;
  readonly index: number;
  readonly #log: PartitionLog | null;
  readonly #offline: Error | null;
  #config: LogConfig;
  #highWatermark: number;
  #visibleBytesTotal = 0;
  /** Appends waiting for durability (fsync=always), oldest first: their bytes become visible with them. */
  #invisible: { endOffset: number; sizeBytes: number }[] = [];
  #listeners = new Set<() => void>();
  #deleted = false;

  /** `log` null: the log could not be opened, for the reason `offline`. */
  constructor(topic: string, index: number, log: PartitionLog | null, config: LogConfig, offline: Error | null = null) {
    assert((log === null) !== (offline === null), 'a partition has a log or a reason it has none', { topic, index });
    this.topic = topic;
    this.index = index;
    this.#log = log;
    this.#offline = offline;
    this.#config = config;
    this.#highWatermark = log === null ? -1 : this.#committedEnd(log);
    if (log !== null && this.#highWatermark < log.logEndOffset) void this.#whenCommitted(log.logEndOffset).catch(() => undefined);
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  get logStartOffset(): number {
    return this.#log?.logStartOffset ?? -1;
  }

  get logEndOffset(): number {
    return this.#log?.logEndOffset ?? -1;
  }

  /** False when deleted or offline (its log failed to open, or failed since). */
  get serving(): boolean {
    return !this.#deleted && this.#log !== null && !this.#log.isOffline;
  }

  /** Why the log cannot serve (it failed to open, or went offline since), or null while it can. */
  get offlineReason(): Error | null {
    return this.#offline ?? this.#log?.offlineError ?? null;
  }

  /** Throws why the partition cannot serve (deleted, or its log is offline); returns when it can. */
  checkServing(): void {
    this.#usableLog();
  }

  get config(): LogConfig {
    return this.#config;
  }

  get visibleBytesTotal(): number {
    return this.#visibleBytesTotal;
  }

  get deleted(): boolean {
    return this.#deleted;
  }

  /**
   * False while an append must wait for `waitAppendable` (the log's rolled
   * segments hold its share of memory until the disk catches up, or it is
   * truncating). True for a partition that cannot serve: its append throws why.
   */
  get appendable(): boolean {
    return this.#log === null || this.#deleted || this.#log.appendable;
  }

  /** Resolves once an append may go ahead (check `appendable` again); rejects if the partition stops serving. */
  async waitAppendable(): Promise<void> {
    await this.#usableLog().waitAppendable();
  }

  /** Appends whole batches (validated, offsets assigned by storage). Throws storage's typed errors. */
  append(records: Uint8Array): PartitionAppend {
    const log = this.#usableLog();
    try {
      return this.#append(log, records);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
  }

  #append(log: PartitionLog, records: Uint8Array): PartitionAppend {
    const info = log.append(records, { leaderEpoch: SINGLE_NODE_LEADER_EPOCH });
    const endOffset = info.lastOffset + 1;
    assert(endOffset === log.logEndOffset, 'an append ends at the log end offset', { endOffset, logEndOffset: log.logEndOffset });
    if (this.#config.fsync !== 'always' && endOffset <= log.writtenEndOffset) {
      this.#visibleBytesTotal += info.sizeBytes;
      this.#advanceTo(endOffset);
      return { info, committed: Promise.resolve() };
    }
    this.#invisible.push({ endOffset, sizeBytes: info.sizeBytes });
    return { info, committed: this.#whenCommitted(endOffset) };
  }

  /**
   * Whole batches from the one holding `fetchOffset`, below the high
   * watermark, up to `maxBytes` (at least one batch), read into a buffer from
   * `allocate` (fresh by default). An offset between the high watermark and
   * the log end reads as empty; outside the log it is OFFSET_OUT_OF_RANGE.
   */
  async read(fetchOffset: number, maxBytes: number, allocate?: ReadBufferSource): Promise<ReadResult> {
    const log = this.#usableLog();
    const { logStartOffset, logEndOffset } = log;
    if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) {
      throw new ProtocolError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is outside ${this.topic}-${this.index}, which holds [${logStartOffset}, ${logEndOffset}); seek to earliest or latest`);
    }
    const highWatermark = this.#highWatermark;
    if (fetchOffset >= highWatermark) return { records: [], sizeBytes: 0 };
    try {
      return await log.read(fetchOffset, maxBytes, highWatermark, allocate);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
  }

  /** The first committed batch with a timestamp at or after `timestampMs`, or null (see PartitionLog.offsetForTimestamp). */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number; leaderEpoch: number } | null> {
    const log = this.#usableLog();
    // Read the watermark before searching, so a record committed meanwhile is not half-visible.
    const highWatermark = this.#highWatermark;
    let hit: Awaited<ReturnType<PartitionLog['offsetForTimestamp']>>;
    try {
      hit = await log.offsetForTimestamp(timestampMs);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
    return hit === null || hit.offset >= highWatermark ? null : hit;
  }

  /** Calls `listener` (synchronously) every time the high watermark advances, or the partition is deleted. */
  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  updateConfig(config: LogConfig): void {
    const wasAlways = this.#config.fsync === 'always';
    this.#config = config;
    if (this.#log === null) return;
    this.#log.updateConfig(config);
    // Leaving fsync=always: what was waiting for a sync is committed now (once written).
    if (wasAlways && config.fsync !== 'always') {
      this.#advanceTo(this.#committedEnd(this.#log));
      void this.#whenCommitted(this.#log.logEndOffset).catch(() => undefined);
    }
  }

  /** The topic is going away: waiters wake (and find it gone), appends and reads are refused. */
  markDeleted(): void {
    this.#deleted = true;
    this.#notify();
    this.#listeners.clear();
  }

  /** A broken invariant takes the log offline, and the caller gets why (a LogOfflineError); any other error passes through. */
  #offlineOnInvariant(log: PartitionLog, error: unknown): unknown {
    return error instanceof InvariantError ? log.takeOffline(`${this.topic}-${this.index} broke an invariant`, error) : error;
  }

  #usableLog(): PartitionLog {
    if (this.#deleted) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `${this.topic}-${this.index} was deleted`);
    if (this.#log === null) {
      throw this.#offline instanceof LogOfflineError ? this.#offline : new LogOfflineError(`${this.topic}-${this.index}`, this.#offline!.message, { cause: this.#offline });
    }
    return this.#log;
  }

  /** Waits until `endOffset` is committed (durable with fsync=always, else written), and moves the high watermark. */
  async #whenCommitted(endOffset: number): Promise<void> {
    const log = this.#usableLog();
    await (this.#config.fsync === 'always' ? log.waitDurable(endOffset) : log.waitWritten(endOffset));
    this.#advanceTo(this.#committedEnd(log));
  }

  /** Where the high watermark may be now: the durable end with fsync=always, else the written end. */
  #committedEnd(log: PartitionLog): number {
    return this.#config.fsync === 'always' ? Math.min(log.durableEndOffset, log.logEndOffset) : log.writtenEndOffset;
  }

  #advanceTo(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    while (this.#invisible.length > 0 && this.#invisible[0]!.endOffset <= offset) {
      this.#visibleBytesTotal += this.#invisible.shift()!.sizeBytes;
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
