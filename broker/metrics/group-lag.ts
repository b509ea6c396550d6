/**
 * Consumer-group lag, per group and partition, for the groups this broker
 * coordinates, computed on scrape:
 * - `runnel_consumer_group_lag`: records between the group's committed
 *   offset and the partition's high watermark (what a consumer could read
 *   now). Known where this broker hosts a replica of the partition (its high
 *   watermark is then in memory; a follower's trails the leader's by a fetch
 *   round trip). A partition hosted only elsewhere is left out: asking its
 *   leader on every scrape would make a scrape a cluster-wide fan-out. On a
 *   single broker, and with replication factor = broker count, that is
 *   every partition.
 * - `runnel_consumer_group_lag_seconds`: now minus the timestamp of the
 *   first unconsumed record's batch, read from the batch header at the
 *   committed offset (one read of one batch, near the log's tail and so
 *   usually in the page cache). For a topic with
 *   message.timestamp.type=LogAppendTime that is the broker's append time;
 *   with CreateTime it is the producer's clock at the batch's first record,
 *   which is the append time give or take the producer's linger and clock
 *   skew. 0 when the group is caught up (no read). At most
 *   LAG_TIME_READS_MAX reads per scrape, the most lagging partitions first;
 *   the rest get no seconds series on that scrape rather than a slow scrape.
 *
 * Committed offsets are the durable ones (what OffsetFetch answers).
 */
import { Gauge } from 'prom-client';
import { ATTR_TIMESTAMP_LOG_APPEND, readBatchHeader } from '../../protocol/batch/header.js';
import type { Partition } from '../partition.js';
import type { BrokerMetrics } from './broker-metrics.js';

export const LAG_TIME_READS_MAX = 200;

export interface CommittedOffset {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface LagSources {
  /** The durable committed offsets of every group this broker coordinates now. */
  committedOffsets(): Iterable<CommittedOffset>;
  partition(topic: string, index: number): Partition | undefined;
  nowMs(): number;
}

export interface LagRow {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
  /** Undefined when not read on this scrape (over the read budget, or the read failed). */
  readonly lagSeconds: number | undefined;
}

export async function groupLag(sources: LagSources, readsMax = LAG_TIME_READS_MAX): Promise<LagRow[]> {
  const rows: { committed: CommittedOffset; partition: Partition; lag: number }[] = [];
  for (const committed of sources.committedOffsets()) {
    const partition = sources.partition(committed.topic, committed.partition);
    if (partition === undefined || !partition.serving) continue;
    rows.push({ committed, partition, lag: Math.max(0, partition.highWatermark - committed.offset) });
  }
  const toRead = rows.filter((row) => row.lag > 0).sort((a, b) => b.lag - a.lag).slice(0, readsMax);
  const seconds = new Map<object, number>();
  await Promise.all(toRead.map(async (row) => {
    const timestampMs = await firstUnconsumedTimestamp(row.partition, row.committed.offset);
    if (timestampMs !== null) seconds.set(row, Math.max(0, (sources.nowMs() - timestampMs) / 1000));
  }));
  return rows.map((row) => ({
    group: row.committed.groupId,
    topic: row.committed.topic,
    partition: row.committed.partition,
    lag: row.lag,
    lagSeconds: row.lag === 0 ? 0 : seconds.get(row),
  }));
}

/** The timestamp of the batch holding `offset` (its append time under LogAppendTime), or null if it cannot be read now. */
async function firstUnconsumedTimestamp(partition: Partition, offset: number): Promise<number | null> {
  try {
    // A committed offset below the log start (retention deleted it) lags from the first record still there.
    const read = await partition.read(Math.max(offset, partition.logStartOffset), 1);
    const first = read.records[0];
    if (first === undefined) return null;
    const header = readBatchHeader(first);
    return (header.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0 ? header.maxTimestamp : header.firstTimestamp;
  } catch {
    return null; // offline, truncated meanwhile: no seconds this scrape
  }
}

export function registerGroupLag(metrics: BrokerMetrics, sources: LagSources): void {
  const labelNames = ['group', 'topic', 'partition'] as const;
  // Both gauges come from one pass: the first collected starts it, the other (and a concurrent scrape) shares it.
  let pending: Promise<LagRow[]> | null = null;
  const rows = (): Promise<LagRow[]> =>
    (pending ??= groupLag(sources).finally(() => {
      pending = null;
    }));
  const labelsOf = (row: LagRow) => ({ group: row.group, topic: row.topic, partition: String(row.partition) });
  new Gauge({
    name: 'runnel_consumer_group_lag',
    help: 'Records between a consumer group\'s committed offset and the high watermark, for groups this broker coordinates on partitions it hosts.',
    labelNames,
    registers: [metrics.registry],
    async collect() {
      const found = await rows();
      this.reset();
      for (const row of found) this.set(labelsOf(row), row.lag);
    },
  });
  new Gauge({
    name: 'runnel_consumer_group_lag_seconds',
    help: 'Now minus the timestamp of the first record a consumer group has not consumed (its batch\'s append time under LogAppendTime, the producer\'s under CreateTime), for groups this broker coordinates on partitions it hosts; 0 when caught up.',
    labelNames,
    registers: [metrics.registry],
    async collect() {
      const found = await rows();
      this.reset();
      for (const row of found) if (row.lagSeconds !== undefined) this.set(labelsOf(row), row.lagSeconds);
    },
  });
}
