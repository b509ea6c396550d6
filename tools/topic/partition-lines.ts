/**
 * Partitions as `runnel topic describe` and `topic list --under-replicated`
 * print them: the line of `kafka-topics.sh --describe` plus the leader epoch,
 * and which partitions are under-replicated (fewer in-sync replicas than
 * replicas, as kafka-topics' `--under-replicated-partitions`).
 */
import type { DescribedPartition, TopicDescription } from '../../client/index.js';

/** A partition with its topic: one element of `topic list --under-replicated --json`. */
export interface TopicPartitionState extends DescribedPartition {
  topic: string;
}

export function partitionLine(topic: string, p: DescribedPartition): string {
  return `\tTopic: ${topic}\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tLeaderEpoch: ${p.leaderEpoch}`;
}

/** Partitions whose ISR is smaller than their replica set, by topic name, then partition. */
export function underReplicated(descriptions: readonly TopicDescription[]): TopicPartitionState[] {
  const out: TopicPartitionState[] = [];
  for (const d of [...descriptions].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const p of [...d.partitions].sort((a, b) => a.partition - b.partition)) {
      if (p.isr.length < p.replicas.length) {
        out.push({ topic: d.name, ...p });
      }
    }
  }
  return out;
}
