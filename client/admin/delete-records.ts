/**
 * DeleteRecords (Kafka's Admin.deleteRecords): moves partitions' log start
 * forward, one request per leader. The broker answers a partition once its
 * in-sync replicas have moved their start too. Moving a start to an offset
 * is idempotent (a start already at or past it stays), so a call that lost
 * its answer, or timed out while followers caught up, is simply asked again
 * by the admin's retries.
 */
import { errorNameOf } from '../../protocol/errors.js';
import type { DeleteRecordsResponse } from '../../protocol/messages.js';
import { RunnelError } from '../errors.js';
import { addTo } from '../group-by.js';
import type { Cluster } from '../metadata.js';

/** How much longer than the broker's own timeoutMs the client waits for its answer. */
const ANSWER_GRACE_MS = 5_000;

/** Per partition: records below `offset` go (-1: every record up to the high watermark). */
export interface RecordsToDelete {
  partition: number;
  offset: number;
}

/** Per partition, in the order asked: its log start now. Throws the first partition's error (retriable ones are retried by the caller). */
export async function deleteRecords(cluster: Cluster, topic: string, wanted: readonly RecordsToDelete[], timeoutMs: number): Promise<{ partition: number; lowWatermark: number }[]> {
  const byLeader = new Map<number, RecordsToDelete[]>();
  for (const w of wanted) addTo(byLeader, (await cluster.leaderFor(topic, w.partition)).leader, { partition: w.partition, offset: w.offset });
  const out = new Map<number, number>();
  await Promise.all([...byLeader].map(async ([leader, partitions]) => {
    // The broker may hold the request for timeoutMs (waiting for followers): the client waits a little longer, to hear its answer.
    const res: DeleteRecordsResponse = await cluster.broker(leader).request('DeleteRecords', { timeoutMs, topics: [{ name: topic, partitions }] }, timeoutMs + ANSWER_GRACE_MS);
    for (const p of res.topics.flatMap((t) => t.partitions)) {
      if (errorNameOf(p.errorCode) !== 'NONE') {
        const err = RunnelError.fromCode(p.errorCode, `Deleting records of ${topic}-${p.partition}`, p.errorMessage, { topicPartition: { topic, partition: p.partition } });
        if (err.retriable) cluster.invalidate(topic);
        throw err;
      }
      out.set(p.partition, p.lowWatermark);
    }
  }));
  return wanted.map(({ partition }) => {
    const lowWatermark = out.get(partition);
    if (lowWatermark === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's DeleteRecords answer left out ${topic}-${partition}.`);
    return { partition, lowWatermark };
  });
}
