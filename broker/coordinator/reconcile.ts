/**
 * How one member converges to its share of the target assignment, one
 * heartbeat at a time (KIP-848's current-assignment builder), with the rule
 * that makes double ownership impossible: a partition is given to a member
 * only when no other member has it assigned or is still giving it up.
 *
 * 1. Partitions it is giving up (`revoking`): once it reports owning none
 *    of them, they are free.
 * 2. Partitions it has but the target no longer gives it: taken from
 *    `assigned` into `revoking` (it is told its smaller assignment and must
 *    stop consuming them and report so). Its epoch stays until then.
 * 3. Otherwise it moves to the assignment epoch and is given every target
 *    partition that is free; the others (still held by a member that has
 *    not given them up yet) follow on a later heartbeat.
 * Partitions that stay with a member are never taken away in between, so
 * it consumes them without a pause.
 */
import type { ConsumerGroup, Member } from './group.js';
import { intersects, minus } from './partition-set.js';

/** What changed for the member: whether it must be told a new assignment, and whether its record changed. */
export interface Reconciled {
  readonly assignmentChanged: boolean;
  readonly changed: boolean;
}

export function reconcile(group: ConsumerGroup, member: Member, nowMs: number): Reconciled {
  // A static member away for a restart keeps what it has, untouched, until it returns or its session ends.
  if (member.memberEpoch === -2) return { assignmentChanged: false, changed: false };
  let changed = false;
  if (member.revoking.size > 0) {
    if (intersects(member.owned, member.revoking)) return { assignmentChanged: false, changed: false };
    member.revoking = new Set();
    member.revocationDeadlineMs = null;
    changed = true;
  }
  const toRevoke = minus(member.assigned, member.target);
  if (toRevoke.size > 0) {
    member.assigned = minus(member.assigned, toRevoke);
    // What it already said it does not own needs no wait.
    const stillOwned = new Set([...toRevoke].filter((key) => member.owned.has(key)));
    member.revoking = stillOwned;
    member.revocationDeadlineMs = stillOwned.size > 0 ? nowMs + member.rebalanceTimeoutMs : null;
    if (stillOwned.size > 0) return { assignmentChanged: true, changed: true };
  }
  let assignmentChanged = toRevoke.size > 0;
  const heldByOthers = new Set<string>();
  for (const other of group.members.values()) {
    if (other === member) continue;
    for (const key of other.assigned) heldByOthers.add(key);
    for (const key of other.revoking) heldByOthers.add(key);
  }
  const given: string[] = [];
  for (const key of member.target) {
    if (member.assigned.has(key) || heldByOthers.has(key)) continue;
    member.assigned.add(key);
    given.push(key);
  }
  if (given.length > 0) {
    assignmentChanged = true;
    // It may start consuming them as soon as the answer arrives: owned until it reports otherwise.
    member.owned = new Set([...member.owned, ...given]);
  }
  if (member.memberEpoch !== group.assignmentEpoch) {
    member.previousMemberEpoch = member.memberEpoch;
    member.memberEpoch = group.assignmentEpoch;
    changed = true;
  }
  return { assignmentChanged, changed: changed || assignmentChanged };
}
