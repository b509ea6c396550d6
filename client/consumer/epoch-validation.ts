/**
 * Checking a position after a leader change (Kafka's KIP-320). A consumer
 * that fetched from a leader whose log later lost its tail (an unclean
 * election, or acks=1 records the new leader never had) may hold a position
 * past the end of what the new leader has for that epoch. So when a
 * partition's leader epoch rises, the consumer asks the new leader, with
 * OffsetForLeaderEpoch, where the epoch of the last records it fetched ends
 * in its log. An end before the fetch position means the records from there
 * on diverged: they are not in the partition any more.
 *
 * Pure request/answer here; what to do with a divergence is the fetcher's.
 */
import { errorNameOf } from '../../protocol/errors.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import type { PartitionState } from './partition-state.js';

/** What the new leader says of one partition's position. */
export type Validation =
  /** The leader's log holds everything up to the position (or it cannot tell: then nothing is changed). */
  | { kind: 'valid' }
  /** The epoch of the last fetched records ends at `endOffset`, before the fetch position. */
  | { kind: 'diverged'; endOffset: number; leaderEpoch: number }
  | { kind: 'error'; error: RunnelError };

export interface ValidationAsk {
  state: PartitionState;
  /** The leader epoch the metadata names now (the request's currentLeaderEpoch). */
  currentLeaderEpoch: number;
  /** The epoch of the last records fetched (the batch headers' partitionLeaderEpoch). */
  lastFetchedEpoch: number;
  /** The fetch position being checked. */
  offset: number;
}

/**
 * One OffsetForLeaderEpoch request to `leader` for `asks` (all led by it).
 * A broker that does not speak the API (an older one) cannot tell: every
 * position counts as valid, as Kafka's consumer does against old brokers.
 */
export async function validatePositions(cluster: Cluster, leader: number, asks: ValidationAsk[]): Promise<Map<ValidationAsk, Validation>> {
  const out = new Map<ValidationAsk, Validation>();
  const conn = cluster.broker(leader);
  await conn.connect();
  if (conn.versionOf('OffsetForLeaderEpoch') === undefined) {
    for (const a of asks) out.set(a, { kind: 'valid' });
    return out;
  }
  const topics = new Map<string, { name: string; partitions: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[] }>();
  for (const a of asks) {
    let t = topics.get(a.state.topic);
    if (t === undefined) topics.set(a.state.topic, (t = { name: a.state.topic, partitions: [] }));
    t.partitions.push({ partition: a.state.partition, currentLeaderEpoch: a.currentLeaderEpoch, leaderEpoch: a.lastFetchedEpoch });
  }
  const res = await conn.request('OffsetForLeaderEpoch', { replicaId: -1, topics: [...topics.values()] });
  const answers = new Map<string, (typeof res.topics)[number]['partitions'][number]>();
  for (const t of res.topics) for (const p of t.partitions) answers.set(`${t.name}\0${p.partition}`, p);
  for (const a of asks) {
    const { topic, partition } = a.state;
    const p = answers.get(`${topic}\0${partition}`);
    if (p === undefined) {
      out.set(a, { kind: 'error', error: new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's OffsetForLeaderEpoch answer left out ${topic}-${partition}.`) });
    } else if (errorNameOf(p.errorCode) !== 'NONE') {
      out.set(a, { kind: 'error', error: RunnelError.fromCode(p.errorCode, `Checking the position of ${topic}-${partition} with its new leader`, p.errorMessage, { topicPartition: { topic, partition } }) });
    } else if (p.endOffset >= 0 && p.endOffset < a.offset) {
      out.set(a, { kind: 'diverged', endOffset: p.endOffset, leaderEpoch: p.leaderEpoch });
    } else {
      out.set(a, { kind: 'valid' });
    }
  }
  return out;
}
