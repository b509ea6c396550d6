/**
 * Who leads a partition, and what a broker's fencing or return changes:
 * pure functions of the image, so the controller's decisions can be tested
 * without a store, a clock or a network.
 *
 * Election (Kafka's): the first replica of the assignment that is in the ISR
 * and not fenced. Unclean election, only when the topic sets
 * `unclean.leader.election.enable=true`, falls back to the first unfenced
 * replica outside the ISR; that replica may lack records the old leader
 * acknowledged, which are then lost, so the ISR becomes just the new leader.
 *
 * Every change bumps the partition epoch, and a change of leader also the
 * leader epoch: a deposed leader's requests are then fenced by it.
 */
import type { PartitionChanged } from '../metadata/changes.js';
import type { MetadataImage, PartitionState, TopicImage } from '../metadata/image.js';

/** Whether broker `id` may lead or sit in an ISR now. */
export type Live = (id: number) => boolean;

/** The new leader and ISR, or leader -1 when no replica may lead. */
export function electLeader(state: Pick<PartitionState, 'replicas' | 'isr'>, live: Live, unclean: boolean): { leader: number; isr: readonly number[] } {
  const clean = state.replicas.find((id) => state.isr.includes(id) && live(id));
  if (clean !== undefined) return { leader: clean, isr: state.isr };
  if (unclean) {
    const any = state.replicas.find((id) => live(id));
    if (any !== undefined) return { leader: any, isr: [any] };
  }
  return { leader: -1, isr: state.isr };
}

/** Whether `topic` allows an unclean election: its own `unclean.leader.election.enable`, else the broker-wide default the controller knows. */
export type UncleanAllowed = (topic: TopicImage) => boolean;

/** The topic's own setting only (what the controller's default is when it has no broker-wide one). */
export const uncleanElectionEnabled: UncleanAllowed = (topic) => topic.configs['unclean.leader.election.enable']?.trim().toLowerCase() === 'true';

/**
 * The partition changes that fencing broker `fenced` calls for: it leaves
 * every ISR it is in where that leaves the ISR non-empty (as Kafka: the last
 * member stays, so a clean election can bring it back), and every partition
 * it led gets a new leader (or -1).
 */
export function changesForFencing(image: MetadataImage, fenced: number, live: Live, unclean: UncleanAllowed = uncleanElectionEnabled): PartitionChanged[] {
  const stillLive: Live = (id) => id !== fenced && live(id);
  return partitionChanges(image, (topic, state) => {
    if (state.leader !== fenced && !state.isr.includes(fenced)) return null;
    const shrunk = state.isr.filter((id) => id !== fenced);
    const isr = shrunk.length > 0 ? shrunk : state.isr;
    if (state.leader !== fenced) return { leader: state.leader, isr };
    return electLeader({ replicas: state.replicas, isr }, stillLive, unclean(topic));
  });
}

/** The partition changes once more brokers are live: partitions without a leader elect one if they can. */
export function changesForLeaderless(image: MetadataImage, live: Live, unclean: UncleanAllowed = uncleanElectionEnabled): PartitionChanged[] {
  return partitionChanges(image, (topic, state) => (state.leader === -1 ? electLeader(state, live, unclean(topic)) : null));
}

/** The changes among `changes` that made a leader from outside the ISR it had in `image`: records may be lost there. */
export function uncleanElections(image: MetadataImage, changes: readonly PartitionChanged[]): PartitionChanged[] {
  return changes.filter((change) => {
    const before = image.topics.get(change.name)?.partitionStates[change.partition];
    return before !== undefined && change.leader !== -1 && !before.isr.includes(change.leader);
  });
}

/** The full state after `decide`'s leader and ISR, with epochs bumped; null or no difference: no change. */
export function nextPartitionState(state: PartitionState, decided: { leader: number; isr: readonly number[] }): PartitionState | null {
  const sameIsr = decided.isr.length === state.isr.length && decided.isr.every((id, i) => id === state.isr[i]);
  if (decided.leader === state.leader && sameIsr) return null;
  // A reassignment in progress stays as it is (reassignment.ts ends it).
  return {
    ...state,
    leader: decided.leader,
    leaderEpoch: decided.leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1,
    partitionEpoch: state.partitionEpoch + 1,
    isr: [...decided.isr],
  };
}

export function partitionChangedFor(topic: TopicImage, partition: number, next: PartitionState): PartitionChanged {
  const change: PartitionChanged = { kind: 'partitionChanged', name: topic.name, topicId: topic.topicId, partition, replicas: [...next.replicas], leader: next.leader, leaderEpoch: next.leaderEpoch, partitionEpoch: next.partitionEpoch, isr: [...next.isr] };
  if ((next.addingReplicas?.length ?? 0) > 0 || (next.removingReplicas?.length ?? 0) > 0) {
    change.addingReplicas = [...(next.addingReplicas ?? [])];
    change.removingReplicas = [...(next.removingReplicas ?? [])];
  }
  return change;
}

function partitionChanges(image: MetadataImage, decide: (topic: TopicImage, state: PartitionState) => { leader: number; isr: readonly number[] } | null): PartitionChanged[] {
  const changes: PartitionChanged[] = [];
  for (const topic of image.topics.values()) {
    topic.partitionStates.forEach((state, partition) => {
      const decided = decide(topic, state);
      const next = decided === null ? null : nextPartitionState(state, decided);
      if (next !== null) changes.push(partitionChangedFor(topic, partition, next));
    });
  }
  return changes;
}
