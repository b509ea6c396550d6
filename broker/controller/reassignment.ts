/**
 * Partition reassignment (Kafka's KIP-455), decided as pure functions of a
 * partition's state, so the controller's part can be tested without a store,
 * a clock or a network.
 *
 * Starting a move from the original replicas O to the target T records, in
 * one partition change: replicas = T followed by the replicas of O not in T
 * (Kafka's order: the preferred leader is already the target's), adding =
 * T - O, removing = O - T. The brokers follow the metadata: an adding
 * replica creates its log and fetches from the leader like any follower, and
 * joins the ISR through the leader's ordinary AlterPartition once caught up.
 * The old replicas keep serving meanwhile, so producers and consumers go on.
 *
 * Completion: once every replica of T is in the ISR, the controller commits
 * replicas = T, ISR = ISR ∩ T, no adding/removing; the leader stays if it is
 * in T, else the first live replica of T in the ISR leads, with a new leader
 * epoch (so the old leader's requests are fenced). Removed replicas see
 * themselves gone from the replicas and stop and delete their copy (the
 * replica manager). Nothing is removed before every target is in the ISR:
 * the records the ISR holds are on T.
 *
 * Cancel (a null target) reverts to the original replicas (replicas -
 * adding; their order is T's first, as Kafka's, not necessarily O's), with
 * the ISR cut to them; refused when no original replica is in the ISR
 * (reverting would lose records: let the move finish instead).
 *
 * A new target for a partition already moving replaces the move, from the
 * original replicas, as Kafka does.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { PartitionChanged } from '../metadata/changes.js';
import type { BrokerRegistration, MetadataImage, PartitionState } from '../metadata/image.js';
import { electLeader, partitionChangedFor, type Live } from './election.js';

/** Whether the partition has a reassignment in progress. */
export function isReassigning(state: PartitionState): boolean {
  return (state.addingReplicas?.length ?? 0) > 0 || (state.removingReplicas?.length ?? 0) > 0;
}

/** The replicas the partition had before its reassignment (its replicas when none is in progress). */
export function originalReplicas(state: PartitionState): number[] {
  const adding = state.addingReplicas ?? [];
  return state.replicas.filter((id) => !adding.includes(id));
}

/** The replicas the partition will have once its reassignment completes (its replicas when none is in progress). */
export function targetReplicas(state: PartitionState): number[] {
  const removing = state.removingReplicas ?? [];
  return state.replicas.filter((id) => !removing.includes(id));
}

/**
 * The state that starts moving `state` to `target` (already complete when
 * every target is in the ISR), or null when the partition already has
 * exactly `target` and no move; throws INVALID_REPLICA_ASSIGNMENT for a bad
 * target.
 */
export function startedReassignment(state: PartitionState, target: readonly number[], brokers: ReadonlyMap<number, BrokerRegistration>, live: Live): PartitionState | null {
  checkTarget(target, brokers);
  const original = originalReplicas(state);
  const adding = target.filter((id) => !original.includes(id));
  const removing = original.filter((id) => !target.includes(id));
  const replicas = [...target, ...removing];
  // Members of an earlier, replaced target leave the ISR with it.
  const isr = state.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0) throw new ProtocolError('INVALID_REPLICA_ASSIGNMENT', `no replica in the ISR [${state.isr.join(',')}] is among the original or target replicas [${replicas.join(',')}]`);
  const leader = replicas.includes(state.leader) ? state.leader : electLeader({ replicas, isr }, live, false).leader;
  const moving: PartitionState = withState(state, { replicas, isr, leader, adding, removing });
  const next = completedReassignment(moving, live) ?? moving;
  const unchanged = sameList(next.replicas, state.replicas) && sameList(next.isr, state.isr) && next.leader === state.leader && !isReassigning(next) && !isReassigning(state);
  return unchanged ? null : next;
}

/** The state that ends `state`'s reassignment once every target replica is in the ISR and one of them may lead; null: not yet (or none in progress). */
export function completedReassignment(state: PartitionState, live: Live): PartitionState | null {
  if (!isReassigning(state)) return null;
  const target = targetReplicas(state);
  if (!target.every((id) => state.isr.includes(id))) return null;
  const isr = state.isr.filter((id) => target.includes(id));
  const leader = target.includes(state.leader) && live(state.leader) ? state.leader : electLeader({ replicas: target, isr }, live, false).leader;
  if (leader === -1) return null; // no target replica may lead yet: the move completes when one is back
  return withState(state, { replicas: target, isr, leader, adding: [], removing: [] });
}

/** The state that reverts `state`'s reassignment to its original replicas; throws NO_REASSIGNMENT_IN_PROGRESS, or INVALID_REPLICA_ASSIGNMENT when reverting would lose records. */
export function cancelledReassignment(state: PartitionState, live: Live): PartitionState {
  if (!isReassigning(state)) throw new ProtocolError('NO_REASSIGNMENT_IN_PROGRESS', `no reassignment in progress (replicas [${state.replicas.join(',')}])`);
  const original = originalReplicas(state);
  const isr = state.isr.filter((id) => original.includes(id));
  if (isr.length === 0) {
    throw new ProtocolError('INVALID_REPLICA_ASSIGNMENT', `cannot cancel: no original replica [${original.join(',')}] is in the ISR [${state.isr.join(',')}], so reverting would lose records; let the reassignment finish, or reassign again`);
  }
  const leader = original.includes(state.leader) && live(state.leader) ? state.leader : electLeader({ replicas: original, isr }, live, false).leader;
  return withState(state, { replicas: original, isr, leader, adding: [], removing: [] });
}

/** The completions every partition of `image` is ready for (after an ISR change, a broker's return, a controller start). */
export function reassignmentCompletions(image: MetadataImage, live: Live): PartitionChanged[] {
  const changes: PartitionChanged[] = [];
  for (const topic of image.topics.values()) {
    topic.partitionStates.forEach((state, partition) => {
      const next = completedReassignment(state, live);
      if (next !== null) changes.push(partitionChangedFor(topic, partition, next));
    });
  }
  return changes;
}

function checkTarget(target: readonly number[], brokers: ReadonlyMap<number, BrokerRegistration>): void {
  if (target.length === 0) throw new ProtocolError('INVALID_REPLICA_ASSIGNMENT', 'the target replica list is empty; name at least one broker (null cancels a reassignment)');
  const repeated = target.filter((id, i) => target.indexOf(id) !== i);
  if (repeated.length > 0) throw new ProtocolError('INVALID_REPLICA_ASSIGNMENT', `the target replicas [${target.join(',')}] name broker ${repeated[0]} more than once`);
  const unknown = target.filter((id) => !brokers.has(id));
  if (unknown.length > 0) {
    throw new ProtocolError('INVALID_REPLICA_ASSIGNMENT', `the target replicas [${target.join(',')}] name broker(s) ${unknown.join(', ')}, which are not registered (registered: ${[...brokers.keys()].sort((a, b) => a - b).join(', ') || 'none'})`);
  }
}

/** `state` with the given replicas, ISR, leader and move, epochs bumped (the leader epoch when the leader changes). */
function withState(state: PartitionState, next: { replicas: number[]; isr: number[]; leader: number; adding: number[]; removing: number[] }): PartitionState {
  const base = {
    replicas: next.replicas,
    leader: next.leader,
    leaderEpoch: next.leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1,
    partitionEpoch: state.partitionEpoch + 1,
    isr: next.isr,
  };
  return next.adding.length === 0 && next.removing.length === 0 ? base : { ...base, addingReplicas: next.adding, removingReplicas: next.removing };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
