/**
 * Coordinator failover on a whole cluster in one process (a controller and
 * three brokers on a MemoryNetwork and a ManualClock): `__consumer_offsets`
 * is replicated on all three; a group converges and commits on its
 * coordinator; the coordinator's broker stops; the new leader of the
 * group's partition loads the group from its replica of the log and carries
 * on with the same members, epochs, assignments and offsets, while the old
 * broker, back, answers NOT_COORDINATOR.
 */
import t, { type Test } from 'tap';
import type { Connection } from '../../../client/connection.js';
import { Errors } from '../../../protocol/errors.js';
import type { ConsumerGroupHeartbeatResponse, TopicPartitions } from '../../../protocol/messages.js';
import { findCoordinator as findTheCoordinator, ordersHeartbeat as heartbeat, startInProcessCluster } from '../../support/in-process-cluster.js';

const SETTINGS = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  'replica.lag.time.max.ms': 3000,
  'auto.leader.rebalance.enable': 'false',
  'offsets.topic.num.partitions': 1,
  'group.consumer.session.timeout.ms': 60_000,
};

/** The cluster, topic `orders` (`partitions`, RF 3), and the broker that coordinates group g (found through b1, bounded). */
async function clusterWithCoordinator(t: Test, seed: number, partitions: number) {
  const cluster = await startInProcessCluster(t, { seed, brokers: 3, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  await world.settle(b1.request('CreateTopics', { topics: [{ name: 'orders', partitions, replicationFactor: 3, configs: [] }], timeoutMs: 10_000, validateOnly: false }));
  let first = -1;
  for (let i = 0; i < 100 && first === -1; i++) {
    const found = (await world.settle(b1.request('FindCoordinator', { keyType: 0, keys: ['g'] }))).coordinators[0]!;
    if (found.errorCode === 0) first = found.nodeId;
    else await world.run(200, 5);
  }
  return { cluster, world, b1, first };
}

/** Member A joins through `coordinator`, retried while the group's partition is still loading (bounded). */
async function joinA(world: Awaited<ReturnType<typeof clusterWithCoordinator>>['world'], coordinator: Connection): Promise<ConsumerGroupHeartbeatResponse> {
  let a = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', 0, [])));
  for (let i = 0; i < 50 && a.errorCode !== 0; i++) {
    await world.run(100, 5);
    a = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', 0, [])));
  }
  return a;
}

const parts = (list: readonly TopicPartitions[] | undefined): number[] => (list ?? []).flatMap((x) => x.partitions).sort((a, b) => a - b);

t.test('the group and its offsets survive the loss of the coordinator\'s broker', async (t) => {
  const cluster = await startInProcessCluster(t, { seed: 9, brokers: 3, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  const created = await world.settle(b1.request('CreateTopics', { topics: [{ name: 'orders', partitions: 4, replicationFactor: 3, configs: [] }], timeoutMs: 10_000, validateOnly: false }));
  t.equal(created.topics[0]!.errorCode, 0);

  /** FindCoordinator through `via` until it names a coordinator other than `not` (bounded). */
  const findCoordinator = (via: Connection, not = -1): Promise<number> => findTheCoordinator(world, via, 'g', not);
  /** A request to the coordinator, retried while it loads (bounded). */
  const whenLoaded = async <T extends { errorCode: number }>(send: () => Promise<T>): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const response = await world.settle(send());
      if (response.errorCode !== Errors.COORDINATOR_LOAD_IN_PROGRESS.code && response.errorCode !== Errors.NOT_COORDINATOR.code) return response;
      await world.run(100, 5);
    }
    throw new Error('still loading');
  };

  const first = await findCoordinator(b1);
  const metadata = await world.settle(b1.request('Metadata', { topics: ['__consumer_offsets'], allowAutoTopicCreation: false, includeInternal: true }));
  t.same([...metadata.topics[0]!.partitions[0]!.replicas].sort(), [1, 2, 3], '__consumer_offsets is replicated on every broker');
  const coordinator = cluster.clientOf(`b${first}`);

  const a = await whenLoaded(() => coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', 0, [])));
  const b = await whenLoaded(() => coordinator.request('ConsumerGroupHeartbeat', heartbeat('B', 0, [])));
  const a2 = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', a.memberEpoch, [0, 1, 2, 3])));
  const aKept = parts(a2.assignment?.topicPartitions);
  const a3 = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', a.memberEpoch, aKept)));
  const b2 = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('B', b.memberEpoch, [])));
  const bGot = parts(b2.assignment?.topicPartitions);
  t.same([...aKept, ...bGot].sort(), [0, 1, 2, 3], 'converged on the first coordinator');
  await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('B', b2.memberEpoch, bGot)));
  const commit = await world.settle(
    coordinator.request('OffsetCommit', { groupId: 'g', memberId: 'A', memberEpoch: a3.memberEpoch, groupInstanceId: null, topics: [{ name: 'orders', partitions: aKept.map((partition) => ({ partition, committedOffset: 100 + partition, committedLeaderEpoch: -1, committedMetadata: null })) }] }),
  );
  t.ok(commit.topics[0]!.partitions.every((p) => p.errorCode === 0), 'committed (replicated to the ISR before the answer)');
  const before = (await world.settle(coordinator.request('ConsumerGroupDescribe', { groupIds: ['g'] }))).groups[0]!;
  t.equal(before.groupState, 'Stable');

  // The coordinator's broker goes away; another replica of __consumer_offsets-0 leads and loads the group.
  await world.settle(cluster.brokers.get(first)!.close());
  cluster.brokers.delete(first);
  const other = [1, 2, 3].find((id) => id !== first)!;
  const via = cluster.clientOf(`b${other}`);
  const second = await findCoordinator(via, first);
  t.not(second, first, `the coordinator moved from ${first} to ${second}`);
  const next = cluster.clientOf(`b${second}`);
  const after = (await whenLoaded(async () => (await next.request('ConsumerGroupDescribe', { groupIds: ['g'] })).groups[0]!));
  t.same(after, before, 'same members, epochs and assignments on the new coordinator');
  const fetched = await whenLoaded(() => next.request('OffsetFetch', { groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitions: aKept }], requireStable: true }));
  t.same(fetched.topics[0]!.partitions.map((p) => p.committedOffset), aKept.map((p) => 100 + p), 'the committed offsets too');
  const goOn = await world.settle(next.request('ConsumerGroupHeartbeat', heartbeat('A', a3.memberEpoch, aKept)));
  t.equal(goOn.errorCode, 0, 'a member carries on with its epoch');
  t.equal(goOn.memberEpoch, a3.memberEpoch);

  // The old broker, back, follows: it is not the coordinator any more.
  await cluster.startBroker(first);
  await world.run(3000, 5);
  const old = cluster.clientOf(`b${first}`);
  const refused = await world.settle(old.request('ConsumerGroupHeartbeat', heartbeat('A', a3.memberEpoch, aKept)));
  t.equal(refused.errorCode, Errors.NOT_COORDINATOR.code, 'the former coordinator sends members on');

  // Leadership goes back to the preferred replica: the second coordinator drops the group, the first loads it again, with what the second wrote.
  const elected = await world.settle(old.request('ElectLeaders', { electionType: 0, topicPartitions: [{ topic: '__consumer_offsets', partitions: [0] }], timeoutMs: 10_000 }));
  t.equal(elected.replicaElectionResults[0]?.partitionResult[0]?.errorCode, 0, 'preferred leader elected');
  t.equal(await findCoordinator(old, second), first, 'the first broker coordinates again');
  await world.run(500, 5);
  const dropped = await world.settle(next.request('ConsumerGroupHeartbeat', heartbeat('A', a3.memberEpoch, aKept)));
  t.equal(dropped.errorCode, Errors.NOT_COORDINATOR.code, 'the second coordinator dropped the group when it stopped leading');
  const back = await whenLoaded(() => old.request('ConsumerGroupHeartbeat', heartbeat('B', b2.memberEpoch, bGot)));
  t.equal(back.errorCode, 0, 'members carry on with the first coordinator');
  t.same((await world.settle(old.request('ConsumerGroupDescribe', { groupIds: ['g'] }))).groups[0], after, 'with the same state');

  // B goes silent: past the session timeout (60 s) the coordinator's timer removes it, and A, heartbeating, gets everything.
  let epochA = goOn.memberEpoch;
  let ownedA = aKept;
  for (let i = 0; i < 14; i++) {
    const beat = await world.settle(old.request('ConsumerGroupHeartbeat', heartbeat('A', epochA, ownedA)));
    t.equal(beat.errorCode, 0);
    epochA = beat.memberEpoch;
    if (beat.assignment !== null) ownedA = parts(beat.assignment.topicPartitions);
    await world.run(5000, 50);
  }
  const alone = (await world.settle(old.request('ConsumerGroupDescribe', { groupIds: ['g'] }))).groups[0]!;
  t.same(alone.members.map((m) => m.memberId), ['A'], 'the silent member was removed by its session timeout');
  t.same(ownedA, [0, 1, 2, 3], 'and its partitions went to A');
});

t.test('a commit the coordinator cannot replicate is never acknowledged nor shown, and is gone after the failover', async (t) => {
  const { cluster, world, b1, first } = await clusterWithCoordinator(t, 12, 1);
  const coordinator = cluster.clientOf(`b${first}`);
  const commit = (offset: number) =>
    coordinator.request('OffsetCommit', { groupId: 'g', memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  const fetchFrom = async (connection: Connection) => (await world.settle(connection.request('OffsetFetch', { groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitions: [0] }], requireStable: false }))).topics[0]?.partitions[0];
  let committed = -1;
  for (let i = 0; i < 100 && committed !== 0; i++) {
    committed = (await world.settle(commit(10))).topics[0]!.partitions[0]!.errorCode;
    if (committed !== 0) await world.run(100, 5);
  }
  t.equal(committed, 0, 'a first commit, replicated');

  // Cut the coordinator off from the other brokers and the controller (clients still reach it).
  const others = ['controller', ...[1, 2, 3].filter((id) => id !== first).map((id) => `b${id}`)];
  for (const host of others) world.network.partition(`b${first}`, host);
  const lonely = commit(20);
  let answered: Awaited<typeof lonely> | null = null;
  void lonely.then((r) => (answered = r));
  await world.run(1000, 5);
  t.equal(answered, null, 'not answered while the ISR does not have it');
  t.equal((await fetchFrom(coordinator))?.committedOffset, 10, 'and not shown by OffsetFetch meanwhile');
  await world.settle(lonely);
  t.not(answered!.topics[0]!.partitions[0]!.errorCode, 0, `never acknowledged (${answered!.topics[0]!.partitions[0]!.errorMessage})`);

  // The controller moves leadership; the new coordinator has the replicated commit only.
  let second = -1;
  const via = cluster.clientOf(`b${[1, 2, 3].find((id) => id !== first)}`);
  for (let i = 0; i < 100 && second === -1; i++) {
    const found = (await world.settle(via.request('FindCoordinator', { keyType: 0, keys: ['g'] }))).coordinators[0]!;
    if (found.errorCode === 0 && found.nodeId !== first) second = found.nodeId;
    else await world.run(200, 5);
  }
  t.not(second, -1, 'a new coordinator');
  const next = cluster.clientOf(`b${second}`);
  let shown: number | undefined;
  for (let i = 0; i < 100; i++) {
    const response = await world.settle(next.request('OffsetFetch', { groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitions: [0] }], requireStable: false }));
    if (response.errorCode === 0) {
      shown = response.topics[0]!.partitions[0]!.committedOffset;
      break;
    }
    await world.run(100, 5);
  }
  t.equal(shown, 10, 'the unacknowledged commit is not there');
  for (const host of others) world.network.heal(`b${first}`, host);
  await world.run(3000, 5);
  const old = await world.settle(coordinator.request('OffsetFetch', { groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitions: [0] }], requireStable: false }));
  t.equal(old.errorCode, Errors.NOT_COORDINATOR.code, 'the cut-off broker, back, is a follower and no longer answers for the group');
});


t.test('with the ISR below min.insync.replicas the coordinator refuses changes before making them', async (t) => {
  const { cluster, world, b1, first } = await clusterWithCoordinator(t, 5, 2);
  const coordinator = cluster.clientOf(`b${first}`);
  const a = await joinA(world, coordinator);
  t.equal(a.errorCode, 0, 'A joined');
  const altered = await world.settle(b1.request('AlterConfigs', { resources: [{ type: 'topic', name: '__consumer_offsets', configs: [{ name: 'min.insync.replicas', value: '3' }] }], validateOnly: false }));
  t.equal(altered.results[0]!.errorCode, 0);
  const victim = [1, 2, 3].find((id) => id !== first)!;
  await world.settle(cluster.brokers.get(victim)!.close());
  cluster.brokers.delete(victim);
  await world.run(6000, 5);
  const refused = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('B', 0, [])));
  t.equal(refused.errorCode, Errors.COORDINATOR_NOT_AVAILABLE.code, `a join is refused: ${refused.errorMessage}`);
  const described = (await world.settle(coordinator.request('ConsumerGroupDescribe', { groupIds: ['g'] }))).groups[0]!;
  t.same(described.members.map((m) => m.memberId), ['A'], 'and nothing changed: B is not a member');
  t.equal(described.groupEpoch, a.memberEpoch, 'the group epoch did not move');
});

t.test('__consumer_offsets is created with min.insync.replicas 2: with one in-sync replica left, nothing is acknowledged on its word alone', async (t) => {
  const { cluster, world, b1, first } = await clusterWithCoordinator(t, 7, 2);
  const configs = await world.settle(b1.request('DescribeConfigs', { resources: [{ type: 'topic', name: '__consumer_offsets', configNames: ['min.insync.replicas'] }] }));
  t.equal(configs.results[0]!.configs.find((c) => c.name === 'min.insync.replicas')?.value, '2', 'created with min.insync.replicas 2 (3 replicas)');
  const coordinator = cluster.clientOf(`b${first}`);
  const a = await joinA(world, coordinator);
  t.equal(a.errorCode, 0, 'A joined');
  // Both other replicas go: the coordinator's ISR shrinks to itself.
  for (const victim of [1, 2, 3].filter((id) => id !== first)) {
    await world.settle(cluster.brokers.get(victim)!.close());
    cluster.brokers.delete(victim);
  }
  await world.run(6000, 5);
  const refused = await world.settle(coordinator.request('ConsumerGroupHeartbeat', heartbeat('B', 0, [])));
  t.equal(refused.errorCode, Errors.COORDINATOR_NOT_AVAILABLE.code, `a join with the coordinator alone in the ISR is refused: ${refused.errorMessage}`);
});
