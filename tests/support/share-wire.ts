/**
 * Share-group requests over the bare protocol client, for the broker's
 * share tests: join, fetch (with acknowledgements), acknowledge, and the
 * acquired records decoded (only the offsets the answer says were acquired).
 */
import { batchesIn, decodeBatch } from '../../protocol/batch/reader.js';
import { buildBatch, type RecordHeader } from '../../protocol/batch/builder.js';
import { AcknowledgeType, type ShareAcknowledgement, type ShareFetchResponse, type ShareGroupConfig } from '../../protocol/messages.js';
import type { RawClient } from './raw-client.js';

export interface Got {
  offset: number;
  value: string;
  deliveryCount: number;
  headers: Record<string, string>;
}

export function join(client: RawClient, groupId: string, memberId: string, topics: string[], config: Partial<ShareGroupConfig> | null = null) {
  const full = config === null ? null : { visibilityTimeoutMs: -1, maxDeliveryAttempts: -1, deadLetterTopic: null, ordering: null, ...config };
  return client.request('ShareGroupHeartbeat', { groupId, memberId, memberEpoch: 0, subscribedTopicNames: topics, config: full });
}

export function ack(firstOffset: number, lastOffset: number, type: keyof typeof AcknowledgeType, extra: Partial<ShareAcknowledgement> = {}): ShareAcknowledgement {
  return { firstOffset, lastOffset, type: AcknowledgeType[type], delayMs: 0, lockMs: -1, reason: null, ...extra };
}

export function shareFetch(client: RawClient, member: { groupId: string; memberId: string; memberEpoch: number }, topic: string, opts: { maxRecords?: number; maxWaitMs?: number; acks?: ShareAcknowledgement[] } = {}) {
  return client.request('ShareFetch', {
    ...member,
    maxWaitMs: opts.maxWaitMs ?? 0,
    maxRecords: opts.maxRecords ?? 100,
    maxBytes: 1024 * 1024,
    topics: [{ topic, partitions: [{ partition: 0, acknowledgements: opts.acks ?? [] }] }],
  });
}

export function acknowledge(client: RawClient, member: { groupId: string; memberId: string; memberEpoch: number }, topic: string, acks: ShareAcknowledgement[]) {
  return client.request('ShareAcknowledge', { ...member, topics: [{ topic, partitions: [{ partition: 0, acknowledgements: acks }] }] });
}

/** The acquired records of partition 0 of the answer's first topic. */
export function acquired(response: ShareFetchResponse): Got[] {
  const p = response.topics[0]?.partitions[0];
  if (p === undefined) return [];
  const counts = new Map<number, number>();
  for (const r of p.acquiredRecords) for (let o = r.firstOffset; o <= r.lastOffset; o++) counts.set(o, r.deliveryCount);
  const out: Got[] = [];
  for (const { position } of batchesIn(p.records)) {
    for (const record of decodeBatch(p.records, position).records) {
      const count = counts.get(record.offset);
      if (count === undefined) continue;
      out.push({ offset: record.offset, value: Buffer.from(record.value ?? []).toString(), deliveryCount: count, headers: Object.fromEntries(record.headers.map((h) => [h.key, Buffer.from(h.value ?? []).toString()])) });
    }
  }
  return out;
}

export async function produce(client: RawClient, topic: string, values: string[], headers: RecordHeader[] = []): Promise<number> {
  const records = buildBatch(values.map((value, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(value), headers })), { nowMs: Date.now() });
  const response = await client.request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: topic, partitions: [{ partition: 0, records }] }] });
  const p = response.topics[0]!.partitions[0]!;
  if (p.errorCode !== 0) throw new Error(`produce failed: ${p.errorCode} ${p.errorMessage}`);
  return p.baseOffset;
}

/** Retries `op` while the coordinator is loading or not there yet (bounded). */
export async function settled<T extends { errorCode: number }>(op: () => Promise<T>, retriable: readonly number[] = [15, 16, 202]): Promise<T> {
  let last = await op();
  for (let i = 0; i < 100 && retriable.includes(last.errorCode); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await op();
  }
  return last;
}
