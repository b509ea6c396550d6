/**
 * Offsets by time: ListOffsets (earliest, latest, or by timestamp), one
 * request per leader, plus the refinement a timestamp needs. The broker's
 * time index is batch-grained, so for a timestamp it answers the base offset
 * of the first batch whose newest record is at or after it; the exact
 * answer, the first *record* at or after it (Kafka's semantics), is found by
 * reading that batch.
 */
import { errorNameOf } from '../protocol/errors.js';
import { RunnelError } from './errors.js';
import { addTo } from './group-by.js';
import type { Cluster } from './metadata.js';
import { walkBatches } from './consumer/records.js';
import { ATTR_CONTROL, decodeBatch } from '../protocol/batch/index.js';
import type { ListOffsetsResponse } from '../protocol/messages.js';

/** Bytes read to find a record inside the batch the time index points at (grown if the batch is bigger). */
const SCAN_BYTES = 1024 * 1024;

/**
 * ListOffsets for some partitions of one topic, one request per leader.
 * Resolves partition -> offset (-1: no record at or after the timestamp).
 * Used by the admin and by the consumer to resolve start positions.
 */
export async function listOffsets(cluster: Cluster, topic: string, wanted: { partition: number; timestamp: number }[]): Promise<Map<number, number>> {
  const byLeader = new Map<number, { partition: number; currentLeaderEpoch: number; timestamp: number }[]>();
  for (const w of wanted) {
    const { leader } = await cluster.leaderFor(topic, w.partition);
    // The epoch we believe current: a deposed leader refuses (FENCED_LEADER_EPOCH) rather than answer from a stale log.
    addTo(byLeader, leader, { partition: w.partition, currentLeaderEpoch: cluster.cachedLeaderEpoch(topic, w.partition), timestamp: w.timestamp });
  }
  const out = new Map<number, number>();
  await Promise.all([...byLeader].map(async ([leader, partitions]) => {
    const res: ListOffsetsResponse = await cluster.broker(leader).request('ListOffsets', { replicaId: -1, topics: [{ name: topic, partitions }] });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (errorNameOf(p.errorCode) !== 'NONE') {
          const err = RunnelError.fromCode(p.errorCode, `Listing offsets of ${topic}-${p.partition}`, null, { topicPartition: { topic, partition: p.partition } });
          if (err.retriable) cluster.invalidate(topic);
          throw err;
        }
        out.set(p.partition, p.offset);
      }
    }
  }));
  for (const w of wanted) {
    if (!out.has(w.partition)) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's ListOffsets answer left out ${topic}-${w.partition}.`);
  }
  return out;
}

/**
 * For each partition, the first offset whose record timestamp is at or after
 * the one given, or -1 when no record is that recent.
 */
export async function offsetsForTimestamps(cluster: Cluster, topic: string, wanted: { partition: number; timestamp: number }[]): Promise<Map<number, number>> {
  const coarse = await listOffsets(cluster, topic, wanted);
  const exact = new Map<number, number>();
  await Promise.all(wanted.map(async ({ partition, timestamp }) => {
    const base = coarse.get(partition)!;
    // Negative timestamps are earliest / latest: exact already.
    exact.set(partition, base < 0 || timestamp < 0 ? base : (await firstRecordFrom(cluster, topic, partition, base, timestamp)).offset);
  }));
  return exact;
}

/**
 * Reads from `fromOffset` to the first record at or after it with a
 * timestamp >= `timestamp` (any timestamp by default): its offset and
 * timestamp. When the log holds no such record, `timestamp` is null and
 * `offset` is where the read ended (the log end). Control records are
 * skipped: nobody consumes them.
 */
export async function firstRecordFrom(cluster: Cluster, topic: string, partition: number, fromOffset: number, timestamp = Number.NEGATIVE_INFINITY, firstScanBytes = SCAN_BYTES): Promise<{ offset: number; timestamp: number | null }> {
  let scanBytes = firstScanBytes;
  for (;;) {
    const { conn } = await cluster.leaderFor(topic, partition);
    const res = await conn.request('Fetch', {
      replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: scanBytes,
      topics: [{ name: topic, partitions: [{ partition, currentLeaderEpoch: cluster.cachedLeaderEpoch(topic, partition), fetchOffset: fromOffset, partitionMaxBytes: scanBytes }] }],
    });
    const p = res.topics[0]?.partitions[0];
    if (p === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's Fetch answer left out ${topic}-${partition}.`);
    if (errorNameOf(p.errorCode) !== 'NONE') throw RunnelError.fromCode(p.errorCode, `Reading ${topic}-${partition} at offset ${fromOffset}`, null, { topicPartition: { topic, partition } });
    const records = p.records[0];
    if (records === undefined) return { offset: fromOffset, timestamp: null };
    const walk = walkBatches(records);
    if (walk.batches.length === 0) {
      if (walk.truncatedFirstBatchBytes <= scanBytes) return { offset: fromOffset, timestamp: null };
      scanBytes = walk.truncatedFirstBatchBytes;
      continue;
    }
    for (const { position, header } of walk.batches) {
      if ((header.attributes & ATTR_CONTROL) !== 0 || header.maxTimestamp < timestamp) continue;
      for (const r of decodeBatch(records, position).records) if (r.offset >= fromOffset && r.timestamp >= timestamp) return { offset: r.offset, timestamp: r.timestamp };
    }
    // The records at or after it were past what was read: go on from there.
    fromOffset = walk.nextOffset;
  }
}
