/**
 * The balance plan of `runnel partitions balance`: which replicas to move so
 * that the live brokers carry about as many replicas, and are the preferred
 * leader (first replica) of about as many partitions, as each other — what a
 * broker added to a cluster needs, since new brokers get partitions only by
 * reassignment. Computed by the CLI from the metadata (as Kafka's
 * kafka-reassign-partitions --generate), applied as reassignments.
 *
 * Greedy, deterministic, few moves:
 * 1. Replicas on brokers that are not live (gone, or fenced) go to the live
 *    broker with the fewest replicas that the partition does not use.
 * 2. Replica counts: while the most loaded broker has two or more replicas
 *    more than the least loaded, one replica moves from the first to the
 *    second, taking a partition the second does not hold, at the same
 *    position in the list, and never putting two replicas of a partition in
 *    one rack when a rack without one of its replicas is free (the rule of
 *    placement.ts: racks first). Every step copies one replica's data.
 * 3. Leader counts: while a broker is the preferred leader of two or more
 *    partitions more than another replica of one of them, the two swap
 *    places in that partition's list: no data moves (the reassignment
 *    completes at once) and a preferred election then moves the leadership.
 * Only partitions whose list changed are in the plan.
 */

export interface PlanBroker {
  readonly id: number;
  readonly rack: string | null;
}

export interface PlanPartition {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
}

export interface BalancePlan {
  /** Only the partitions whose replicas change: `replicas` is the target, preferred leader first. */
  moves: { topic: string; partition: number; from: number[]; replicas: number[] }[];
  /** Per live broker: replicas and preferred leaderships, before and after. */
  brokers: { id: number; rack: string | null; replicasBefore: number; replicasAfter: number; leadersBefore: number; leadersAfter: number }[];
}

const MAX_STEPS = 100_000;

export function balancePlan(brokers: readonly PlanBroker[], partitions: readonly PlanPartition[]): BalancePlan {
  const live = [...brokers].sort((a, b) => a.id - b.id);
  const rackOf = new Map(live.map((b) => [b.id, b.rack]));
  const lists = partitions.map((p) => [...p.replicas]);
  const replicaCount = (id: number): number => lists.reduce((n, list) => n + (list.includes(id) ? 1 : 0), 0);
  const leaderCount = (id: number): number => lists.reduce((n, list) => n + (list[0] === id ? 1 : 0), 0);
  const before = new Map(live.map((b) => [b.id, { replicas: replicaCount(b.id), leaders: leaderCount(b.id) }]));
  const racksOf = (list: readonly number[], without: number): (string | null)[] => list.filter((id) => id !== without).map((id) => rackOf.get(id) ?? null);
  /** Whether `to` may take `from`'s place in `list` without crowding a rack while another rack is free for it. */
  const rackOk = (list: readonly number[], from: number, to: number): boolean => {
    const rack = rackOf.get(to) ?? null;
    if (rack === null) return true;
    const used = racksOf(list, from);
    if (!used.includes(rack)) return true;
    // Only if every rack is already used by the partition (then crowding cannot be avoided).
    return live.every((b) => b.rack === null || used.includes(b.rack));
  };

  // 1. Off brokers that are not live.
  lists.forEach((list) => {
    list.forEach((id, i) => {
      if (rackOf.has(id)) return;
      const candidates = live.filter((b) => !list.includes(b.id) && rackOk(list, id, b.id));
      const to = minBy(candidates.length > 0 ? candidates : live.filter((b) => !list.includes(b.id)), (b) => [replicaCount(b.id), b.id]);
      if (to !== undefined) list[i] = to.id;
    });
  });

  // 2. Replica counts.
  for (let step = 0; step < MAX_STEPS && live.length > 1; step++) {
    const byLoad = [...live].sort((a, b) => replicaCount(b.id) - replicaCount(a.id) || a.id - b.id);
    let moved = false;
    for (const heavy of byLoad) {
      for (const light of [...byLoad].reverse()) {
        if (replicaCount(heavy.id) - replicaCount(light.id) < 2) continue;
        const index = lists.findIndex((list) => list.includes(heavy.id) && !list.includes(light.id) && rackOk(list, heavy.id, light.id));
        if (index === -1) continue;
        const list = lists[index]!;
        list[list.indexOf(heavy.id)] = light.id;
        moved = true;
        break;
      }
      if (moved) break;
    }
    if (!moved) break;
  }

  // 3. Preferred leader counts, by swapping positions within a partition.
  for (let step = 0; step < MAX_STEPS; step++) {
    let swapped = false;
    const byLeaders = [...live].sort((a, b) => leaderCount(b.id) - leaderCount(a.id) || a.id - b.id);
    for (const heavy of byLeaders) {
      for (const list of lists) {
        if (list[0] !== heavy.id) continue;
        const other = minBy(list.slice(1).filter((id) => rackOf.has(id) && leaderCount(heavy.id) - leaderCount(id) >= 2).map((id) => ({ id })), (c) => [leaderCount(c.id), c.id]);
        if (other === undefined) continue;
        const j = list.indexOf(other.id);
        [list[0], list[j]] = [list[j]!, list[0]!];
        swapped = true;
        break;
      }
      if (swapped) break;
    }
    if (!swapped) break;
  }

  const moves = partitions.flatMap((p, i) => (sameList(p.replicas, lists[i]!) ? [] : [{ topic: p.topic, partition: p.partition, from: [...p.replicas], replicas: lists[i]! }]));
  return {
    moves,
    brokers: live.map((b) => ({ id: b.id, rack: b.rack, replicasBefore: before.get(b.id)!.replicas, replicasAfter: replicaCount(b.id), leadersBefore: before.get(b.id)!.leaders, leadersAfter: leaderCount(b.id) })),
  };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** The item whose key is smallest, comparing keys element by element; undefined for none. */
function minBy<T>(items: readonly T[], key: (item: T) => number[]): T | undefined {
  let best: T | undefined;
  let bestKey: number[] = [];
  for (const item of items) {
    const k = key(item);
    const i = k.findIndex((v, j) => v !== bestKey[j]);
    if (best === undefined || (i !== -1 && k[i]! < bestKey[i]!)) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}
