/**
 * Sets of topic partitions as group state keeps them: a Set of
 * "topic:partition" strings. Topic names never contain ':' (only
 * [a-zA-Z0-9._-]), so the last ':' splits them back. The wire's per-topic
 * lists (TopicPartitions) convert to and from this form at the edges.
 */
import type { TopicPartitions } from '../../protocol/messages.js';

export type PartitionSet = ReadonlySet<string>;

export const EMPTY_SET: PartitionSet = new Set();

export function tp(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function splitTp(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

export function fromTopicPartitions(list: readonly TopicPartitions[] | null | undefined): Set<string> {
  const set = new Set<string>();
  for (const { topic, partitions } of list ?? []) for (const p of partitions) set.add(tp(topic, p));
  return set;
}

/** Per topic (sorted by name), partitions ascending: a stable wire form. */
export function toTopicPartitions(set: PartitionSet): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of set) {
    const { topic, partition } = splitTp(key);
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

export function minus(a: PartitionSet, b: PartitionSet): Set<string> {
  const out = new Set<string>();
  for (const key of a) if (!b.has(key)) out.add(key);
  return out;
}

export function intersects(a: PartitionSet, b: PartitionSet): boolean {
  for (const key of a) if (b.has(key)) return true;
  return false;
}

export function sameSet(a: PartitionSet, b: PartitionSet): boolean {
  if (a.size !== b.size) return false;
  for (const key of a) if (!b.has(key)) return false;
  return true;
}

export function isSubset(a: PartitionSet, b: PartitionSet): boolean {
  for (const key of a) if (!b.has(key)) return false;
  return true;
}
