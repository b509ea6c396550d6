/**
 * Writes this broker's usage counts to the internal topic `__usage`: every
 * `usage.flush.interval.ms` (on the injected clock) the counts of each
 * minute counted in since the last flush, as they stand (UsageMeter.collect),
 * and on a clean shutdown what it holds, the open minute included.
 *
 * The path is the one the share-group coordinator writes dead letters by
 * (share/sources.ts): `__usage` is created on demand through the
 * controller's internal-topic creation (as `__consumer_offsets` is), and
 * each batch is appended at the leader of the partition this broker writes
 * to (brokerId mod partitions): the local replica when this broker leads
 * it, else an acks=all Produce to the leader. Either way the flush is done
 * once every in-sync replica has the batch.
 *
 * A minute is written again at every flush while it is open, under the
 * same key (usage-record.ts), so readers keep the last value of each key,
 * and so does compaction (`cleanup.policy` compact,delete: the older values
 * of a key go, and whole minutes go after `usage.retention.ms`).
 * A write that fails keeps its records (the newest value of each key) and is
 * tried again at the next flush; at most MAX_PENDING_RECORDS are kept, the
 * oldest minutes dropped first with a warning, so a `__usage` that cannot be
 * written for hours costs bounded memory. A crash loses what was counted
 * since the last flush that was written.
 */
import { buildBatch } from '../../protocol/batch/index.js';
import { isTopicExists } from '../errors.js';
import type { Logger } from '../log.js';
import type { ShareSource } from '../share/sources.js';
import type { Clock } from '../world/clock.js';
import type { UsageMeter } from './usage-meter.js';
import { encodeUsageCounts, encodeUsageKey, USAGE_TOPIC, type UsageRecord } from './usage-record.js';

export { USAGE_TOPIC };
export const MAX_PENDING_RECORDS = 100_000;
/** Compaction keeps the last value of each key, as readers do; whole minutes go after `usage.retention.ms`. */
export const USAGE_CLEANUP_POLICY = 'compact,delete';
/** The longest a clean shutdown waits for the last write. */
export const CLOSE_TIMEOUT_MS = 5000;
/** Records per appended batch: a few kilobytes each, well under any batch limit. */
const RECORDS_PER_BATCH = 1000;

export interface UsageWriterOptions {
  readonly meter: UsageMeter;
  readonly brokerId: number;
  readonly flushIntervalMs: number;
  readonly retentionMs: number;
  readonly replicationFactor: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `__usage`'s partition count, undefined while it does not exist (in this broker's metadata). */
  partitions(): number | undefined;
  /** Live brokers, to cap the replication factor when the topic is created. */
  liveBrokers(): number;
  createTopic(request: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string> }): Promise<void>;
  /** The partition at its leader (share/sources.ts). */
  lookup(topic: string, index: number): ShareSource | Error;
}

export class UsageWriter {
  readonly #opts: UsageWriterOptions;
  /** Collected and not yet written: the newest value of each key, oldest key first. */
  readonly #pending = new Map<string, UsageRecord>();
  #timer: { cancel(): void } | null = null;
  #flushing: Promise<void> | null = null;
  #closed = false;
  /** The last failure warned about, so a write that keeps failing the same way warns once. */
  #problem: string | null = null;

  constructor(opts: UsageWriterOptions) {
    this.#opts = opts;
  }

  start(): void {
    this.#schedule();
  }

  /** Records collected but not written yet (tests, diagnostics). */
  get pendingRecords(): number {
    return this.#pending.size;
  }

  /** Collects and writes now (what the timer does); resolves once written or failed. */
  flush(upToMs = this.#opts.clock.nowMs()): Promise<void> {
    const run = (this.#flushing ?? Promise.resolve()).then(() => this.#flushOnce(upToMs));
    const tail = run.finally(() => {
      if (this.#flushing === tail) this.#flushing = null;
    });
    this.#flushing = tail;
    return tail;
  }

  /**
   * A clean shutdown: no more timers; everything counted, the open minute
   * too, is written (once, not retried), waiting at most CLOSE_TIMEOUT_MS:
   * a leader that is gone (its whole cluster stopping) must not hold up the
   * shutdown.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    let timer: { cancel(): void } | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = this.#opts.clock.schedule(CLOSE_TIMEOUT_MS, () => resolve('late'));
    });
    const outcome = await Promise.race([this.flush(Infinity).then(() => 'done' as const), late]);
    timer?.cancel();
    if (outcome === 'late') this.#problem ??= `the write took longer than ${CLOSE_TIMEOUT_MS} ms`;
    if (this.#pending.size > 0) this.#opts.logger.warn({ event: 'usageLost', records: this.#pending.size }, `shutting down with ${this.#pending.size} ${USAGE_TOPIC} record(s) not written (${this.#problem ?? 'unknown reason'}): that usage is lost`);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#opts.clock.schedule(this.#opts.flushIntervalMs, () => {
      this.#timer = null;
      void this.flush().finally(() => this.#schedule());
    });
  }

  async #flushOnce(upToMs: number): Promise<void> {
    for (const record of this.#opts.meter.collect(upToMs)) {
      const id = keyId(record);
      // A newer value of a key goes to the end: the map stays in the order keys were last collected.
      this.#pending.delete(id);
      this.#pending.set(id, record);
    }
    this.#bound();
    if (this.#pending.size === 0) return;
    const written = [...this.#pending];
    try {
      await this.#write(written.map(([, record]) => record));
    } catch (error) {
      const problem = (error as Error)?.message ?? String(error);
      if (problem !== this.#problem) this.#opts.logger.warn({ event: 'usageWriteFailed', err: error, records: written.length }, `could not write ${written.length} usage record(s) to ${USAGE_TOPIC}: ${problem}; trying again at the next flush`);
      this.#problem = problem;
      return;
    }
    if (this.#problem !== null) this.#opts.logger.info({ event: 'usageWriteRecovered' }, `wrote ${written.length} usage record(s) to ${USAGE_TOPIC} again`);
    this.#problem = null;
    // A key collected again during the write holds a newer value: keep that one.
    for (const [id, record] of written) if (this.#pending.get(id) === record) this.#pending.delete(id);
  }

  #bound(): void {
    const over = this.#pending.size - MAX_PENDING_RECORDS;
    if (over <= 0) return;
    const dropped = [...this.#pending.keys()].slice(0, over);
    for (const id of dropped) this.#pending.delete(id);
    this.#opts.logger.warn({ event: 'usageDropped', records: over }, `${USAGE_TOPIC} has not been writable for a while: dropped the ${over} oldest usage record(s) to keep at most ${MAX_PENDING_RECORDS}`);
  }

  async #write(records: readonly UsageRecord[]): Promise<void> {
    const partitions = await this.#ensureTopic();
    const target = this.#opts.lookup(USAGE_TOPIC, this.#opts.brokerId % partitions);
    if (target instanceof Error) throw target;
    for (let i = 0; i < records.length; i += RECORDS_PER_BATCH) {
      const nowMs = this.#opts.clock.nowMs();
      const inputs = records.slice(i, i + RECORDS_PER_BATCH).map((r) => ({ key: encodeUsageKey(r.key), value: encodeUsageCounts(r.counts), timestamp: r.key.minuteMs }));
      await target.append(buildBatch(inputs, { nowMs }));
    }
  }

  async #ensureTopic(): Promise<number> {
    const known = this.#opts.partitions();
    if (known !== undefined) return known;
    const replicationFactor = Math.max(1, Math.min(this.#opts.replicationFactor, this.#opts.liveBrokers()));
    try {
      await this.#opts.createTopic({ name: USAGE_TOPIC, partitions: 1, replicationFactor, configs: { 'cleanup.policy': USAGE_CLEANUP_POLICY, 'retention.ms': String(this.#opts.retentionMs), 'min.insync.replicas': String(Math.min(2, replicationFactor)) } });
      this.#opts.logger.info({ event: 'usageTopicCreated', replicationFactor }, `created ${USAGE_TOPIC} with 1 partition, replication factor ${replicationFactor}, retention ${this.#opts.retentionMs} ms`);
    } catch (error) {
      if (!isTopicExists(error)) throw error;
    }
    const partitions = this.#opts.partitions();
    // Created by the controller, not yet in this broker's metadata: the next flush finds it.
    if (partitions === undefined) throw new Error(`${USAGE_TOPIC} was created but is not in this broker's metadata yet`);
    return partitions;
  }
}

function keyId(record: UsageRecord): string {
  const { brokerId, minuteMs, principal, topic, incarnation } = record.key;
  return `${brokerId}\u0000${minuteMs}\u0000${incarnation}\u0000${principal}\u0000${topic}`;
}
