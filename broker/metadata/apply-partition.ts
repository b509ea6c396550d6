/**
 * How partition changes turn into replica state (image.ts's `applyChange`),
 * with the invariants the replication protocol rests on:
 * - a replica list is non-empty, without repeats, of broker ids;
 * - the ISR is never empty, is a subset of the replicas, and holds the leader
 *   (or the leader is -1);
 * - every change raises the partition epoch (a stale AlterPartition cannot
 *   match it again), and a change of leader raises the leader epoch (a
 *   deposed leader's requests are fenced by it); neither ever goes back.
 *
 * - a reassignment in progress adds replicas that are in the replica list
 *   and removes others of it, never one broker both ways.
 *
 * A new partition starts as Kafka's does: the ISR is the whole assignment,
 * epochs 0, and the leader is the first replica that may lead (not a fenced
 * broker; `mayLead`).
 */
import { assert } from '../world/assert.js';
import type { PartitionChanged } from './changes.js';
import type { BrokerRegistration, PartitionState } from './image.js';
import { mayLead } from './queries.js';

/** States of partitions `firstIndex`, `firstIndex + 1`, ... from their assignments. */
export function createdPartitionStates(
  brokers: ReadonlyMap<number, BrokerRegistration>,
  change: { name: string; partitions: number; replicationFactor: number; assignments: readonly (readonly number[])[] },
  firstIndex: number,
  version: number,
): PartitionState[] {
  const count = change.partitions - firstIndex;
  assert(change.assignments.length === count, 'each new partition has an assignment', { topic: change.name, partitions: count, assignments: change.assignments.length, version });
  return change.assignments.map((replicas, i) => {
    const where = { topic: change.name, partition: firstIndex + i, replicas, version };
    assertReplicaList(replicas, 'replicas', where);
    assert(replicas.length === change.replicationFactor, 'an assignment has replication-factor replicas', { ...where, replicationFactor: change.replicationFactor });
    const leader = replicas.find((id) => mayLead(brokers, id)) ?? -1;
    return { replicas: [...replicas], leader, leaderEpoch: 0, partitionEpoch: 0, isr: [...replicas] };
  });
}

export function changedPartitionState(current: PartitionState, change: PartitionChanged, version: number): PartitionState {
  const where = { topic: change.name, partition: change.partition, version };
  assertReplicaList(change.replicas, 'replicas', where);
  assertReplicaList(change.isr, 'ISR', where);
  assert(change.isr.every((id) => change.replicas.includes(id)), 'the ISR is a subset of the replicas', { ...where, isr: change.isr, replicas: change.replicas });
  assert(change.leader === -1 || change.isr.includes(change.leader), 'the leader is in the ISR, or -1', { ...where, leader: change.leader, isr: change.isr });
  assert(change.partitionEpoch > current.partitionEpoch, 'partition epochs strictly increase', { ...where, from: current.partitionEpoch, to: change.partitionEpoch });
  assert(change.leaderEpoch >= current.leaderEpoch, 'leader epochs never decrease', { ...where, from: current.leaderEpoch, to: change.leaderEpoch });
  assert(change.leader === current.leader || change.leaderEpoch > current.leaderEpoch, 'a change of leader raises the leader epoch', { ...where, leader: change.leader, previousLeader: current.leader, leaderEpoch: change.leaderEpoch });
  const adding = change.addingReplicas ?? [];
  const removing = change.removingReplicas ?? [];
  assert(adding.every((id) => change.replicas.includes(id)) && removing.every((id) => change.replicas.includes(id)), 'replicas being added or removed are among the replicas', { ...where, replicas: change.replicas, adding, removing });
  assert(!adding.some((id) => removing.includes(id)) && new Set(adding).size === adding.length && new Set(removing).size === removing.length, 'a replica is added or removed once, not both', { ...where, adding, removing });
  const state = { replicas: [...change.replicas], leader: change.leader, leaderEpoch: change.leaderEpoch, partitionEpoch: change.partitionEpoch, isr: [...change.isr] };
  return adding.length === 0 && removing.length === 0 ? state : { ...state, addingReplicas: [...adding], removingReplicas: [...removing] };
}

function assertReplicaList(ids: readonly number[], what: string, where: Record<string, unknown>): void {
  assert(ids.length > 0, `a partition's ${what} are not empty`, where);
  assert(ids.every((id) => Number.isInteger(id) && id >= 0), `a partition's ${what} are broker ids`, { ...where, [what]: ids });
  assert(new Set(ids).size === ids.length, `a partition's ${what} name each broker once`, { ...where, [what]: ids });
}
