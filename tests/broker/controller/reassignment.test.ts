/**
 * The controller's side of reassignment and preferred leaders, on a
 * ManualClock over the local store, brokers registering and heartbeating by
 * hand and leaders sending AlterPartition as a broker would:
 * - a move records the union with adding/removing and nothing else; only an
 *   ISR that holds every target completes it, and then the removed leader
 *   hands over with a bumped leader epoch; the metadata reads back after a
 *   reopen (a v4 entry);
 * - a target inside the ISR (a replica dropped, the order changed)
 *   completes at once; a replaced move starts again from the originals;
 * - cancel reverts (and refuses when no original replica is in the ISR);
 * - the throttle is recorded, and removed with the last move;
 * - elections: preferred on demand (and the answers when none is needed or
 *   possible), unclean for a leaderless partition, and the automatic
 *   imbalance check on the clock, with its percentage.
 */
import t from 'tap';
import type { AlterPartitionReassignmentsResponse } from '../../../protocol/messages.js';
import { brokerConfig } from '../../../broker/config.js';
import { Controller } from '../../../broker/controller/controller.js';
import { cancelledReassignment, completedReassignment } from '../../../broker/controller/reassignment.js';
import { silentLogger } from '../../../broker/log.js';
import { seededRng } from '../../../broker/world/rng.js';
import { controllerRig as rig } from '../../support/controller-rig.js';

type Rig = Awaited<ReturnType<typeof rig>>;

async function cluster(t: Parameters<typeof rig>[0], brokers: number[], settings: Record<string, string | number> = {}): Promise<Rig> {
  const r = await rig(t, settings);
  for (const id of brokers) {
    await r.register(id);
    await r.heartbeat(id);
  }
  return r;
}

const reassign = (r: Rig, partition: number, replicas: number[] | null, throttleBytesPerSecond = -1): Promise<AlterPartitionReassignmentsResponse> =>
  r.controller.alterPartitionReassignments({ timeoutMs: 1000, throttleBytesPerSecond, topics: [{ name: 't', partitions: [{ partitionIndex: partition, replicas }] }] });

const stateOf = (r: Rig, partition = 0) => r.store.image.topics.get('t')!.partitionStates[partition]!;

/** The leader's AlterPartition proposing `isr`, as its ISR manager sends it. */
async function proposeIsr(r: Rig, partition: number, isr: number[]) {
  const s = stateOf(r, partition);
  const topicId = r.store.image.topics.get('t')!.topicId;
  return r.controller.alterPartition({ brokerId: s.leader, brokerEpoch: r.epochs.get(s.leader)!, topics: [{ name: 't', topicId, partitions: [{ partition, leaderEpoch: s.leaderEpoch, partitionEpoch: s.partitionEpoch, newIsr: isr }] }] });
}

t.test('a move completes only once every target is in the ISR; the removed leader hands over with a new epoch', async (t) => {
  const r = await cluster(t, [1, 2, 3, 4]);
  await r.controller.createTopic({ name: 't', partitions: 1, replicationFactor: 3, configs: {} });
  t.same(stateOf(r).replicas, [1, 2, 3]);
  const before = stateOf(r);

  const answer = await reassign(r, 0, [2, 3, 4]);
  t.same(answer.responses, [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, errorMessage: null }] }]);
  const moving = stateOf(r);
  t.same(moving, { replicas: [2, 3, 4, 1], leader: 1, leaderEpoch: before.leaderEpoch, partitionEpoch: before.partitionEpoch + 1, isr: [1, 2, 3], addingReplicas: [4], removingReplicas: [1] }, 'the union, adding 4, removing 1; the leader and its epoch unchanged');

  await r.run(20_000, [1, 2, 3, 4]);
  t.same(stateOf(r).replicas, [2, 3, 4, 1], 'time alone completes nothing: 4 is not in the ISR');
  t.same(await r.controller.listPartitionReassignments({ timeoutMs: 1000, topics: null }), {
    errorCode: 0, errorMessage: null, throttleBytesPerSecond: 0,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1], isr: [1, 2, 3], leader: 1 }] }],
  });

  const expanded = await proposeIsr(r, 0, [1, 2, 3, 4]);
  t.equal(expanded.topics[0]!.partitions[0]!.errorCode, 0, 'the leader adds 4 to the ISR');
  const done = stateOf(r);
  t.same(done.replicas, [2, 3, 4], 'then the move completes: the target');
  t.same(done.isr, [2, 3, 4], 'the ISR cut to it');
  t.equal(done.leader, 2, 'the first target in the ISR leads');
  t.equal(done.leaderEpoch, before.leaderEpoch + 1, 'with a new leader epoch');
  t.notOk('addingReplicas' in done, 'no move left');
  t.same((await r.controller.listPartitionReassignments({ timeoutMs: 1000, topics: null })).topics, []);
});

t.test('targets inside the ISR complete at once; a replaced move starts from the originals; cancel reverts', async (t) => {
  const r = await cluster(t, [1, 2, 3, 4, 5]);
  await r.controller.createTopic({ name: 't', partitions: 1, replicationFactor: 3, configs: {} });
  t.same(stateOf(r).replicas, [1, 2, 3]);
  await reassign(r, 0, [3, 2]);
  t.same(stateOf(r), { ...stateOf(r), replicas: [3, 2], isr: [2, 3], leader: 3 }, 'RF 3 -> 2 with a new order: done at once (the targets are in the ISR), leader moved to 3');
  t.notOk('addingReplicas' in stateOf(r));

  await reassign(r, 0, [3, 2, 4]);
  t.match(stateOf(r), { replicas: [3, 2, 4], addingReplicas: [4], removingReplicas: [] }, 'RF 2 -> 3: adding only');
  await reassign(r, 0, [5, 2]);
  t.match(stateOf(r), { replicas: [5, 2, 3], addingReplicas: [5], removingReplicas: [3], isr: [2, 3] }, 'replaced: from the originals [3,2], 4 forgotten');
  await reassign(r, 0, null);
  t.same(stateOf(r), { ...stateOf(r), replicas: [2, 3], isr: [2, 3], leader: 3 }, 'cancelled: the originals (in the move\'s order), the leader kept');
  t.notOk('addingReplicas' in stateOf(r));
  t.match((await reassign(r, 0, null)).responses[0]!.partitions[0], { errorCode: 85, errorMessage: /no reassignment in progress/ }, 'NO_REASSIGNMENT_IN_PROGRESS');
  t.match((await reassign(r, 0, [])).responses[0]!.partitions[0], { errorCode: 39, errorMessage: /empty/ });
  t.match((await reassign(r, 0, [2, 7])).responses[0]!.partitions[0], { errorCode: 39, errorMessage: /broker\(s\) 7, which are not registered/ });
  t.match((await reassign(r, 3, [2])).responses[0]!.partitions[0], { errorCode: 3 });
});

t.test('cancel is refused when no original replica is in the ISR (reverting would lose records)', async (t) => {
  const live = (): boolean => true;
  // 1 -> 2, and 1 left the ISR (failed) after 2 joined: only the new replica has the records.
  const state = { replicas: [2, 1], leader: 2, leaderEpoch: 3, partitionEpoch: 7, isr: [2], addingReplicas: [2], removingReplicas: [1] };
  t.throws(() => cancelledReassignment(state, live), { name: 'ProtocolError', errorName: 'INVALID_REPLICA_ASSIGNMENT', message: /no original replica \[1\] is in the ISR \[2\]/ });
  t.same(cancelledReassignment({ ...state, isr: [1, 2], leader: 2 }, live), { replicas: [1], leader: 1, leaderEpoch: 4, partitionEpoch: 8, isr: [1] }, 'with 1 in the ISR: reverted, 1 leads with a new epoch');
  t.equal(completedReassignment({ ...state, isr: [2] }, (id) => id !== 2), null, 'a move whose targets cannot lead (fenced) waits');
});

t.test('the reassignment throttle is recorded, and removed with the last move', async (t) => {
  const r = await cluster(t, [1, 2, 3, 4]);
  await r.controller.createTopic({ name: 't', partitions: 2, replicationFactor: 3, configs: {} });
  await r.controller.alterPartitionReassignments({ timeoutMs: 1000, throttleBytesPerSecond: 1000, topics: [{ name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 3, 4] }, { partitionIndex: 1, replicas: [4, 1, 3] }] }] });
  t.equal(r.store.image.reassignmentThrottle, 1000, 'recorded in the metadata');
  t.equal((await r.controller.listPartitionReassignments({ timeoutMs: 1000, topics: [{ name: 't', partitionIndexes: [1] }] })).throttleBytesPerSecond, 1000);
  const adding = (p: number) => stateOf(r, p).addingReplicas ?? [];
  await proposeIsr(r, 0, [...stateOf(r, 0).isr, ...adding(0)].sort());
  t.equal(r.store.image.reassignmentThrottle, 1000, 'kept while a move is left');
  await proposeIsr(r, 1, [...stateOf(r, 1).isr, ...adding(1)].sort());
  t.equal(r.store.image.reassignmentThrottle, undefined, 'removed with the last move');
  await r.controller.alterPartitionReassignments({ timeoutMs: 1000, throttleBytesPerSecond: 500, topics: [] });
  t.equal(r.store.image.reassignmentThrottle, 500, 'set on its own');
  await r.controller.alterPartitionReassignments({ timeoutMs: 1000, throttleBytesPerSecond: 0, topics: [] });
  t.equal(r.store.image.reassignmentThrottle, undefined, 'and removed explicitly');
  t.match(await r.controller.alterPartitionReassignments({ timeoutMs: 1000, throttleBytesPerSecond: -5, topics: [] }), { errorCode: 42 });
});

t.test('preferred elections on demand, unclean ones for leaderless partitions, and the automatic check on the clock', async (t) => {
  const r = await cluster(t, [1, 2, 3], { 'leader.imbalance.check.interval.seconds': 60, 'leader.imbalance.per.broker.percentage': 10 });
  await r.controller.createTopic({ name: 't', partitions: 3, replicationFactor: 2, configs: {} });
  const preferred = [0, 1, 2].map((p) => stateOf(r, p).replicas[0]!);
  const notNeeded = await r.controller.electLeaders({ electionType: 0, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 1000 });
  t.match(notNeeded.replicaElectionResults, [{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: 84 }] }], 'ELECTION_NOT_NEEDED');

  // Broker 1 misses its session: its leadership moves; it returns.
  await r.run(12_000, [2, 3]);
  const p1 = preferred.indexOf(1);
  t.not(stateOf(r, p1).leader, 1, 'broker 1 fenced: another leads its partition');
  const unavailable = await r.controller.electLeaders({ electionType: 0, topicPartitions: [{ topic: 't', partitions: [p1] }], timeoutMs: 1000 });
  t.match(unavailable.replicaElectionResults[0]!.partitionResult[0], { errorCode: 80, errorMessage: /not live/ }, 'PREFERRED_LEADER_NOT_AVAILABLE while it is fenced');
  await r.heartbeat(1);
  // Back in the ISR through its leader.
  await proposeIsr(r, p1, [...stateOf(r, p1).isr, 1].sort());
  const epochBefore = stateOf(r, p1).leaderEpoch;
  await r.run(40_000, [1, 2, 3]);
  t.not(stateOf(r, p1).leader, 1, 'not before the check interval (60 s)');
  await r.run(10_000, [1, 2, 3]);
  t.equal(stateOf(r, p1).leader, 1, 'the automatic check gave broker 1 its leadership back (1 of 1 partitions not led: above 10%)');
  t.equal(stateOf(r, p1).leaderEpoch, epochBefore + 1, 'with a new leader epoch');

  // Every partition elected on demand: only elections made are reported.
  const all = await r.controller.electLeaders({ electionType: 0, topicPartitions: null, timeoutMs: 1000 });
  t.same(all.replicaElectionResults, [], 'nothing to do: every preferred replica leads');
  const unclean = await r.controller.electLeaders({ electionType: 1, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 1000 });
  t.match(unclean.replicaElectionResults[0]!.partitionResult[0], { errorCode: 84 }, 'unclean: not needed where a leader exists');
  t.match(await r.controller.electLeaders({ electionType: 3, topicPartitions: null, timeoutMs: 1000 }), { errorCode: 42 });
});

t.test('the automatic check respects leader.imbalance.per.broker.percentage and auto.leader.rebalance.enable', async (t) => {
  for (const [settings, expectBack, why] of [
    [{ 'leader.imbalance.per.broker.percentage': 50 }, false, '1 of 2 partitions not led is 50%, not above 50%: left alone'],
    [{ 'leader.imbalance.per.broker.percentage': 49 }, true, '50% is above 49%: moved back'],
    [{ 'auto.leader.rebalance.enable': 'false' }, false, 'the check is off'],
  ] as const) {
    const r = await cluster(t, [1, 2], { 'leader.imbalance.check.interval.seconds': 20, ...settings });
    await r.controller.createTopic({ name: 't', partitions: 4, replicationFactor: 2, configs: {} });
    const mine = [0, 1, 2, 3].filter((p) => stateOf(r, p).replicas[0] === 1);
    t.equal(mine.length, 2, 'broker 1 is the preferred leader of 2 partitions');
    // Broker 1 misses its session (its leaderships move to 2), returns to every ISR, and gets one of its two back on demand.
    await r.run(12_000, [2]);
    await r.heartbeat(1);
    for (const p of [0, 1, 2, 3]) await proposeIsr(r, p, [1, 2]);
    await r.controller.electLeaders({ electionType: 0, topicPartitions: [{ topic: 't', partitions: [mine[1]!] }], timeoutMs: 1000 });
    t.same([stateOf(r, mine[0]!).leader, stateOf(r, mine[1]!).leader], [2, 1], 'one of its two partitions led by 2');
    await r.run(12_000, [1, 2]);
    t.equal(stateOf(r, mine[0]!).leader === 1, expectBack, why);
  }
});

t.test('a controller that starts on a move made ready before it (every target in the ISR) completes it', async (t) => {
  const r = await cluster(t, [1, 2, 3]);
  await r.controller.createTopic({ name: 't', partitions: 1, replicationFactor: 2, configs: {} });
  const original = stateOf(r).replicas;
  const added = [1, 2, 3].find((id) => !original.includes(id))!;
  await reassign(r, 0, [added, original[1]!]);
  await r.controller.close();
  // The ISR change that makes the move ready, committed as the previous controller stopped (before it could complete the move).
  const s = stateOf(r);
  const topic = r.store.image.topics.get('t')!;
  await r.store.commit([{ kind: 'partitionChanged', name: 't', topicId: topic.topicId, partition: 0, replicas: [...s.replicas], leader: s.leader, leaderEpoch: s.leaderEpoch, partitionEpoch: s.partitionEpoch + 1, isr: [...s.isr, added].sort(), addingReplicas: [...s.addingReplicas!], removingReplicas: [...s.removingReplicas!] }], { expectedVersion: r.store.image.version });
  const next = new Controller({ store: r.store, config: brokerConfig({ 'data.dir': '/meta', 'node.id': 0 }), rng: seededRng(4), logger: silentLogger(), local: null, clock: r.clock });
  t.teardown(() => next.close());
  for (let i = 0; i < 20 && stateOf(r).replicas.length !== 2; i++) await new Promise((resolve) => setImmediate(resolve));
  t.same(stateOf(r).replicas, [added, original[1]], 'completed by the new controller at its start');
  t.notOk('addingReplicas' in stateOf(r));
});
