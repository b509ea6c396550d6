/**
 * Sets of partitions as the group APIs carry them (`{ topic, partitions[] }`
 * per topic) and as the consumer keys them (`topic\0partition`), and the
 * difference between two of them, which is all reconciliation needs.
 */
import type { TopicPartitions } from '../../protocol/messages.js';
import { keyOf } from './partition-state.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** `topic\0partition` -> the partition, in a stable order (by topic, then partition). */
export type PartitionSet = Map<string, TopicPartition>;

export function fromWire(list: readonly TopicPartitions[]): PartitionSet {
  const out: PartitionSet = new Map();
  for (const t of [...list].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))) {
    for (const partition of [...t.partitions].sort((a, b) => a - b)) out.set(keyOf(t.topic, partition), { topic: t.topic, partition });
  }
  return out;
}

export function toWire(set: Iterable<TopicPartition>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of set) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/** What is in `a` and not in `b`. */
export function minus(a: PartitionSet, b: ReadonlyMap<string, unknown>): TopicPartition[] {
  return [...a].filter(([key]) => !b.has(key)).map(([, tp]) => tp);
}

export function names(list: readonly TopicPartition[]): string {
  return list.map((tp) => `${tp.topic}-${tp.partition}`).join(', ');
}
