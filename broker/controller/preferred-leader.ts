/**
 * Preferred-leader election (Kafka's ElectLeaders, electionType preferred,
 * and auto.leader.rebalance.enable): the first replica of a partition's
 * assignment is its preferred leader; placement spreads those evenly, so
 * leaderships stay balanced as long as preferred replicas lead. After a
 * broker fails and returns, its partitions are led by others; moving them
 * back is a clean election (the preferred replica is live and in the ISR,
 * so it has every committed record) with a new leader epoch.
 *
 * The automatic check (Kafka's): a broker is imbalanced when more than
 * `leader.imbalance.per.broker.percentage` of the partitions it is the
 * preferred leader of are led by another; then each of those whose
 * preferred replica may lead is moved back. Partitions being reassigned are
 * left alone (their move decides their leader).
 *
 * Pure functions of the image.
 */
import type { ErrorName } from '../../protocol/errors.js';
import type { PartitionChanged } from '../metadata/changes.js';
import type { MetadataImage, PartitionState } from '../metadata/image.js';
import { electLeader, nextPartitionState, partitionChangedFor, type Live } from './election.js';
import { isReassigning } from './reassignment.js';

export type ElectionOutcome = { next: PartitionState } | { error: ErrorName; message: string };

/** The preferred election of one partition: its new state, or why there is none. */
export function preferredElection(state: PartitionState, live: Live): ElectionOutcome {
  const preferred = state.replicas[0]!;
  if (state.leader === preferred) return { error: 'ELECTION_NOT_NEEDED', message: `broker ${preferred}, the preferred replica, leads already` };
  if (!live(preferred) || !state.isr.includes(preferred)) {
    return { error: 'PREFERRED_LEADER_NOT_AVAILABLE', message: `the preferred replica, broker ${preferred}, is ${live(preferred) ? `not in the ISR [${state.isr.join(',')}]` : 'not live (fenced or not registered)'}` };
  }
  return { next: nextPartitionState(state, { leader: preferred, isr: state.isr })! };
}

/** An unclean election of one partition without a leader (any live replica; records may be lost). */
export function uncleanElection(state: PartitionState, live: Live): ElectionOutcome {
  if (state.leader !== -1) return { error: 'ELECTION_NOT_NEEDED', message: `broker ${state.leader} leads already` };
  const decided = electLeader(state, live, true);
  if (decided.leader === -1) return { error: 'ELIGIBLE_LEADERS_NOT_AVAILABLE', message: `no replica of [${state.replicas.join(',')}] is live` };
  return { next: nextPartitionState(state, decided)! };
}

/**
 * The automatic rebalance: preferred elections for the partitions of every
 * broker whose share of partitions it prefers but does not lead is above
 * `percentage`.
 */
export function imbalanceElections(image: MetadataImage, live: Live, percentage: number): PartitionChanged[] {
  const byPreferred = new Map<number, { topic: string; partition: number; state: PartitionState }[]>();
  for (const topic of image.topics.values()) {
    topic.partitionStates.forEach((state, partition) => {
      if (isReassigning(state)) return;
      const preferred = state.replicas[0]!;
      const list = byPreferred.get(preferred) ?? [];
      list.push({ topic: topic.name, partition, state });
      byPreferred.set(preferred, list);
    });
  }
  const changes: PartitionChanged[] = [];
  for (const [broker, partitions] of byPreferred) {
    if (!live(broker)) continue;
    const notLed = partitions.filter((p) => p.state.leader !== broker);
    if (notLed.length === 0 || (notLed.length * 100) / partitions.length <= percentage) continue;
    for (const { topic, partition, state } of notLed) {
      const outcome = preferredElection(state, live);
      if ('next' in outcome) changes.push(partitionChangedFor(image.topics.get(topic)!, partition, outcome.next));
    }
  }
  return changes;
}
