/**
 * The reassignment plan file of `runnel partitions reassign --plan FILE`,
 * in Kafka's format (kafka-reassign-partitions.sh), which is also what
 * `runnel partitions balance --json` prints:
 *   {"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[2,3,4]}]}
 * `replicas` null cancels that partition's move. Checked whole before
 * anything is sent, with the entry that is wrong named.
 */
import type { PartitionMove } from '../../client/index.js';
import { CliError } from '../cli-error.js';

export interface PlanFile {
  version: 1;
  partitions: PartitionMove[];
}

export function planFile(moves: readonly PartitionMove[]): PlanFile {
  return { version: 1, partitions: moves.map((m) => ({ topic: m.topic, partition: m.partition, replicas: m.replicas === null ? null : [...m.replicas] })) };
}

export function parsePlan(text: string, source: string): PartitionMove[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${source} is not JSON (${(err as Error).message}); give {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`);
  }
  const partitions = (value as { partitions?: unknown } | null)?.partitions;
  if (typeof value !== 'object' || value === null || !Array.isArray(partitions)) {
    throw new CliError(`${source} has no "partitions" list; give {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`);
  }
  return partitions.map((entry: unknown, i) => {
    const e = entry as { topic?: unknown; partition?: unknown; replicas?: unknown } | null;
    const ok = e !== null && typeof e === 'object' && typeof e.topic === 'string' && Number.isInteger(e.partition) && (e.replicas === null || (Array.isArray(e.replicas) && e.replicas.every((id) => Number.isInteger(id))));
    if (!ok) throw new CliError(`${source}: partitions[${i}] is ${JSON.stringify(entry)}; each entry is {"topic": name, "partition": index, "replicas": [broker ids] or null}`);
    return { topic: e.topic as string, partition: e.partition as number, replicas: e.replicas === null ? null : [...(e.replicas as number[])] };
  });
}
