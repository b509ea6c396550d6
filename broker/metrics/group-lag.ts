/**
 * Consumer-group lag, per group and partition, for the groups this broker
 * coordinates, computed on scrape by the SDK's rules (client/lag.ts, so the
 * metric and `runnel groups describe` never disagree):
 * - `runnel_consumer_group_lag`: records between the group's committed
 *   offset (never below the log start) and the partition's high watermark.
 *   Known where this broker hosts a replica of the partition: its high
 *   watermark is then in memory (a follower's trails the leader's by a fetch
 *   round trip). A partition hosted only on other brokers is left out:
 *   asking its leader on every scrape would make a scrape a cluster-wide
 *   fan-out. On a single broker, or with replication factor = broker count,
 *   that is every partition.
 * - `runnel_consumer_group_lag_seconds`: now minus the timestamp of the
 *   first unconsumed record, read from this broker's copy of the log: one
 *   read of the batch holding the committed offset (near the tail, usually
 *   in the page cache) and a decode of it. Under
 *   message.timestamp.type=LogAppendTime that timestamp is the append time;
 *   under CreateTime it is the producer's clock, the append time give or
 *   take the producer's linger and clock skew. 0 when caught up (no read).
 *   At most LAG_TIME_READS_MAX reads per scrape, the most lagging
 *   partitions first; the others get no seconds series on that scrape
 *   rather than a slow scrape.
 *
 * Committed offsets are the durable ones (what OffsetFetch answers).
 */
import { Gauge } from 'prom-client';
import { lagOf, unconsumedFrom } from '../../client/lag.js';
import { ATTR_CONTROL, decodeBatch, readBatchHeader } from '../../protocol/batch/index.js';
import type { Partition } from '../partition.js';
import type { BrokerMetrics } from './broker-metrics.js';

export const LAG_TIME_READS_MAX = 200;
/** Bytes read to find the first unconsumed record (a bigger first batch still comes whole). */
const FIRST_RECORD_READ_BYTES = 16 * 1024;

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
    const { lag } = lagOf({ position: committed.offset, logStartOffset: partition.logStartOffset, highWatermark: partition.highWatermark, oldestUnconsumedTimestampMs: null, nowMs: 0 });
    rows.push({ committed, partition, lag });
  }
  const toRead = rows.filter((row) => row.lag > 0).sort((a, b) => b.lag - a.lag).slice(0, readsMax);
  const seconds = new Map<object, number>();
  await Promise.all(toRead.map(async (row) => {
    const { partition, committed } = row;
    const timestampMs = await firstUnconsumedTimestamp(partition, unconsumedFrom(committed.offset, partition.logStartOffset));
    if (timestampMs === null) return;
    seconds.set(row, lagOf({ position: committed.offset, logStartOffset: partition.logStartOffset, highWatermark: partition.highWatermark, oldestUnconsumedTimestampMs: timestampMs, nowMs: sources.nowMs() }).lagSeconds);
  }));
  return rows.map((row) => ({
    group: row.committed.groupId,
    topic: row.committed.topic,
    partition: row.committed.partition,
    lag: row.lag,
    lagSeconds: row.lag === 0 ? 0 : seconds.get(row),
  }));
}

/** The timestamp of the first record at or after `from` in the first batches read there, or null if none is found now. */
async function firstUnconsumedTimestamp(partition: Partition, from: number): Promise<number | null> {
  try {
    const read = await partition.read(from, FIRST_RECORD_READ_BYTES);
    for (const slice of read.records) {
      for (let pos = 0; pos < slice.byteLength;) {
        const header = readBatchHeader(slice, pos);
        if ((header.attributes & ATTR_CONTROL) === 0 && header.baseOffset + header.lastOffsetDelta >= from) {
          for (const record of decodeBatch(slice, pos, { verifyCrc: false }).records) if (record.offset >= from) return record.timestamp;
        }
        pos += header.sizeBytes;
      }
    }
    return null;
  } catch {
    return null; // offline, truncated meanwhile, a batch cut short: no seconds on this scrape
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
  const gauge = (name: string, help: string, valueOf: (row: LagRow) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [metrics.registry],
      async collect() {
        const found = await rows();
        this.reset();
        for (const row of found) {
          const value = valueOf(row);
          if (value !== undefined) this.set(labelsOf(row), value);
        }
      },
    });
  };
  gauge('runnel_consumer_group_lag', 'Records between a consumer group\'s committed offset and the high watermark, for groups this broker coordinates on partitions it hosts.', (row) => row.lag);
  gauge('runnel_consumer_group_lag_seconds', 'Now minus the timestamp of the first record a consumer group has not consumed (its batch\'s append time under LogAppendTime, the producer\'s under CreateTime), for groups this broker coordinates on partitions it hosts; 0 when caught up.', (row) => row.lagSeconds);
}
