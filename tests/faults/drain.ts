/**
 * Reads every partition of a topic from its earliest offset to its end (the
 * latest offset when the drain starts, i.e. the high watermark) and returns
 * each record's partition, offset and value, for the ledger. Bounded: a drain
 * that cannot reach the end in `timeoutMs` fails, saying where it stopped.
 */
import { Runnel } from '../../client/index.js';
import type { DrainedRecord } from '../support/ledger.js';

export async function drainTopic(bootstrap: string[], topic: string, timeoutMs: number): Promise<DrainedRecord[]> {
  const client = new Runnel({ bootstrap, clientId: 'fault-drain' });
  const records: DrainedRecord[] = [];
  try {
    const ends = await client.admin().listOffsets(topic);
    const remaining = new Map(ends.filter((e) => e.latest > e.earliest).map((e) => [e.partition, e.latest]));
    if (remaining.size === 0) return records;
    const consumer = client.consumer({ maxWaitMs: 200 });
    consumer.assign(ends.map((e) => ({ topic, partition: e.partition, offset: 'earliest' as const })));
    const deadline = setTimeout(() => void consumer.close(), timeoutMs);
    try {
      for await (const batch of consumer.batches()) {
        const end = remaining.get(batch.partition);
        for (const m of batch.messages) {
          if (end === undefined || m.offset >= end) continue;
          records.push({ partition: m.partition, offset: m.offset, value: m.value?.toString('utf8') ?? '' });
        }
        if (end !== undefined && (consumer.position(topic, batch.partition) ?? 0) >= end) remaining.delete(batch.partition);
        if (remaining.size === 0) break;
      }
    } finally {
      clearTimeout(deadline);
      await consumer.close();
    }
    if (remaining.size > 0) {
      throw new Error(`drain of ${topic} did not reach the end within ${timeoutMs} ms: ${[...remaining].map(([p, end]) => `partition ${p} at ${String(consumer.position(topic, p))} of ${end}`).join(', ')}`);
    }
    return records;
  } finally {
    await client.close();
  }
}
