/**
 * Consumer lag, the one figure every part of Runnel reports (the admin, the
 * `runnel groups` commands, a consumer's own `lag()`), so two places never
 * disagree about how far behind a group is.
 *
 * Per partition, from a position (a group's committed offset, or null when
 * it has none):
 * - records: the high watermark (the end a consumer can read to) minus the
 *   position, where no position means the log start (a consumer without a
 *   commit has the whole retained log ahead of it, or none of it with
 *   auto-offset-reset latest; the log start is the figure that never hides
 *   records). A position below the log start counts from the log start: the
 *   records before it were deleted by retention and nobody will consume
 *   them. A position past the high watermark (after an unclean election cut
 *   the log) is 0 behind, never negative.
 * - seconds: now minus the timestamp of the oldest unconsumed record (the
 *   first record at or after that position); 0 when caught up. It says how
 *   stale the data the group is processing is, whatever the record rate.
 */
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../protocol/messages.js';
import { RunnelError } from './errors.js';
import { addTo } from './group-by.js';
import type { Cluster } from './metadata.js';
import { firstRecordFrom, listOffsets } from './offsets.js';
import type { PartitionLag } from './types.js';

/**
 * Bytes asked for to find a partition's first unconsumed record: it is in
 * the first batch returned, so a describe of a group far behind on many
 * partitions reads a little of each, not a megabyte of each. A bigger
 * first batch still comes whole (a broker always sends at least one whole
 * batch; a broker that cut it short would be asked again for its full size,
 * see offsets.ts).
 */
const FIRST_RECORD_SCAN_BYTES = 16 * 1024;

/** What the lag of one partition is computed from. */
export interface LagInputs {
  /** The committed offset (the next record to consume), or null when there is none. */
  position: number | null;
  logStartOffset: number;
  highWatermark: number;
  /** The timestamp of the first record at or after the position (ms since the epoch); null when none was found. */
  oldestUnconsumedTimestampMs: number | null;
  nowMs: number;
}

/** Where the unconsumed records of a partition begin: the position, but never before the log start. */
export function unconsumedFrom(position: number | null, logStartOffset: number): number {
  return Math.max(position ?? logStartOffset, logStartOffset);
}

/** The lag of one partition in records and seconds (the rules are in this file's header). */
export function lagOf(p: LagInputs): { lag: number; lagSeconds: number } {
  const lag = Math.max(0, p.highWatermark - unconsumedFrom(p.position, p.logStartOffset));
  // A record stamped in the future (a producer's clock ahead of ours) is not negative lag.
  const lagSeconds = lag === 0 || p.oldestUnconsumedTimestampMs === null ? 0 : Math.max(0, p.nowMs - p.oldestUnconsumedTimestampMs) / 1000;
  return { lag, lagSeconds };
}

/**
 * The lag of each partition named, fetched from the cluster: the log start
 * and high watermark from each leader (ListOffsets), then, for each
 * partition with unconsumed records, the first of them (a small Fetch) for
 * its timestamp. A topic that does not exist (any more) has null figures:
 * a group may keep offsets of a deleted topic.
 */
export async function partitionLags(cluster: Cluster, positions: readonly { topic: string; partition: number; position: number | null }[]): Promise<PartitionLag[]> {
  const byTopic = new Map<string, { partition: number; position: number | null }[]>();
  for (const p of positions) addTo(byTopic, p.topic, { partition: p.partition, position: p.position });
  const perTopic = await Promise.all([...byTopic].map(([topic, list]) => topicLags(cluster, topic, list)));
  return perTopic.flat().sort(byTopicPartition);
}

/** Sort order of per-partition answers: by topic, then partition. */
export function byTopicPartition(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;
}

async function topicLags(cluster: Cluster, topic: string, list: { partition: number; position: number | null }[]): Promise<PartitionLag[]> {
  let ends: { starts: Map<number, number>; hws: Map<number, number> };
  try {
    ends = await cluster.withRetries(`reading the offsets of "${topic}"`, async () => {
      const info = await cluster.topic(topic, 0);
      const known = list.filter((p) => p.partition < info.partitions.length).map((p) => p.partition);
      const [starts, hws] = await Promise.all([
        listOffsets(cluster, topic, known.map((partition) => ({ partition, timestamp: EARLIEST_TIMESTAMP }))),
        listOffsets(cluster, topic, known.map((partition) => ({ partition, timestamp: LATEST_TIMESTAMP }))),
      ]);
      return { starts, hws };
    });
  } catch (err) {
    if (!(err instanceof RunnelError) || err.errorName !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    ends = { starts: new Map(), hws: new Map() };
  }
  const nowMs = cluster.clock.nowMs();
  return Promise.all(list.map(async ({ partition, position }): Promise<PartitionLag> => {
    const logStartOffset = ends.starts.get(partition);
    const highWatermark = ends.hws.get(partition);
    if (logStartOffset === undefined || highWatermark === undefined) {
      return { topic, partition, committedOffset: position, logStartOffset: null, logEndOffset: null, lag: null, lagSeconds: null };
    }
    const from = unconsumedFrom(position, logStartOffset);
    const oldest = from < highWatermark
      ? (await cluster.withRetries(`reading ${topic}-${partition} at offset ${from}`, () => firstRecordFrom(cluster, topic, partition, from, Number.NEGATIVE_INFINITY, FIRST_RECORD_SCAN_BYTES))).timestamp
      : null;
    return { topic, partition, committedOffset: position, logStartOffset, logEndOffset: highWatermark, ...lagOf({ position, logStartOffset, highWatermark, oldestUnconsumedTimestampMs: oldest, nowMs }) };
  }));
}
