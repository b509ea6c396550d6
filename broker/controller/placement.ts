/**
 * Where the replicas of new partitions go: across the unfenced brokers, and
 * across their racks when racks are given, balancing how many replicas and
 * how many leaderships each broker carries (counted over every partition the
 * image already places, so topics created one after another spread too).
 *
 * Greedy and deterministic (Kafka's rack-aware assignment has the same
 * goals): each partition's leader is the broker with the fewest leaderships
 * (then fewest replicas, then lowest id); each further replica is the broker
 * not yet chosen whose rack the partition uses least, then with the fewest
 * replicas, then the lowest id. So with racks, a partition's replicas cover
 * as many racks as there are, before any rack holds two.
 *
 * A replication factor above the number of live brokers is refused naming
 * both numbers: a replica never shares a broker with another of its
 * partition.
 */
import { InvalidReplicationFactorError } from '../errors.js';
import type { MetadataImage } from '../metadata/image.js';

export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
}

/** Replicas (preferred leader first) for `count` new partitions of replication factor `replicationFactor`. */
export function placeReplicas(opts: {
  brokers: readonly PlacementBroker[];
  count: number;
  replicationFactor: number;
  /** What the cluster already places: its replica and leader counts are balanced against. */
  image: MetadataImage;
}): number[][] {
  const { brokers, count, replicationFactor } = opts;
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new InvalidReplicationFactorError(`replication factor ${replicationFactor} requested; it must be at least 1`);
  }
  if (replicationFactor > brokers.length) {
    throw new InvalidReplicationFactorError(`replication factor ${replicationFactor} requested, but only ${brokers.length} broker(s) are available (registered and not fenced); use at most ${brokers.length}`);
  }
  const replicaCount = new Map<number, number>(brokers.map((b) => [b.id, 0]));
  const leaderCount = new Map<number, number>(brokers.map((b) => [b.id, 0]));
  for (const topic of opts.image.topics.values()) {
    for (const state of topic.partitionStates) {
      for (const id of state.replicas) if (replicaCount.has(id)) replicaCount.set(id, replicaCount.get(id)! + 1);
      const preferred = state.replicas[0];
      if (preferred !== undefined && leaderCount.has(preferred)) leaderCount.set(preferred, leaderCount.get(preferred)! + 1);
    }
  }
  const byId = [...brokers].sort((a, b) => a.id - b.id);
  const assignments: number[][] = [];
  for (let p = 0; p < count; p++) {
    const leader = minBy(byId, (b) => [leaderCount.get(b.id)!, replicaCount.get(b.id)!, b.id]);
    const chosen = [leader];
    while (chosen.length < replicationFactor) {
      const racksUsed = new Map<string | null, number>();
      for (const b of chosen) racksUsed.set(b.rack, (racksUsed.get(b.rack) ?? 0) + 1);
      const candidates = byId.filter((b) => !chosen.includes(b));
      chosen.push(minBy(candidates, (b) => [b.rack === null ? 0 : (racksUsed.get(b.rack) ?? 0), replicaCount.get(b.id)!, b.id]));
    }
    leaderCount.set(leader.id, leaderCount.get(leader.id)! + 1);
    for (const b of chosen) replicaCount.set(b.id, replicaCount.get(b.id)! + 1);
    assignments.push(chosen.map((b) => b.id));
  }
  return assignments;
}

/** The element whose key is smallest, comparing keys element by element. */
function minBy<T>(items: readonly T[], key: (item: T) => number[]): T {
  let best: T = items[0] as T;
  let bestKey = key(best);
  for (const item of items.slice(1)) {
    const k = key(item);
    const i = k.findIndex((v, j) => v !== bestKey[j]);
    if (i !== -1 && k[i]! < bestKey[i]!) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}
