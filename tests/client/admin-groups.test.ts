/**
 * The admin's consumer-group calls over the wire, against scripted brokers
 * (fake-groups.ts): listing asks every broker, group requests follow the
 * coordinator and ride out its retriable errors, lag is read from the
 * partitions' leaders, a reset plans without committing and commits as no
 * member only with `execute` and only while the group has no members.
 */
import t, { type Test } from 'tap';
import { Runnel, RunnelError } from '../../client/index.js';
import { fakeGroupsCluster, key, type FakeGroupsCluster, type FakeMember } from './fake-groups.js';

const MINUTE = 60_000;

function admin(t: Test, cluster: FakeGroupsCluster) {
  const runnel = new Runnel({ bootstrap: [cluster.bootstrap], retry: { retries: 5, initialBackoffMs: 5, maxBackoffMs: 20 } });
  t.teardown(() => runnel.close());
  return runnel.admin();
}

function group(cluster: FakeGroupsCluster, id: string, g: { coordinator?: number; state?: string; members?: FakeMember[]; offsets?: Record<string, number> }): void {
  cluster.groups.set(id, { coordinator: g.coordinator ?? 1, state: g.state ?? 'Empty', members: g.members ?? [], offsets: new Map(Object.entries(g.offsets ?? {})) });
}

t.test('listGroups asks every broker for the groups it coordinates and merges them, sorted', async (t) => {
  const cluster = await fakeGroupsCluster(t, { brokers: 3 });
  group(cluster, 'zeta', { coordinator: 1, state: 'Stable' });
  group(cluster, 'alpha', { coordinator: 3, state: 'Empty' });
  group(cluster, 'mid', { coordinator: 2, state: 'Reconciling' });
  const a = admin(t, cluster);
  t.same(await a.listGroups(), [
    { group: 'alpha', state: 'Empty', type: 'consumer', coordinator: 3 },
    { group: 'mid', state: 'Reconciling', type: 'consumer', coordinator: 2 },
    { group: 'zeta', state: 'Stable', type: 'consumer', coordinator: 1 },
  ]);
  t.same((await a.listGroups({ states: ['Stable', 'Empty'] })).map((g) => g.group), ['alpha', 'zeta'], 'the states filter goes to every broker');
  for (const b of cluster.brokers) t.ok(b.requests('ListGroups') >= 2, 'each broker was asked');

  // A broker that cannot be asked would hide its groups: the call fails, naming it, rather than list some.
  await cluster.brokers[1]!.stop();
  await t.rejects(a.listGroups(), { name: 'RunnelError', errorName: 'BROKER_NOT_AVAILABLE', reason: new RegExp(`^Could not ask broker 2 \\(127\\.0\\.0\\.1:${cluster.brokers[1]!.port}\\) for its groups \\(ECONNREFUSED\\), so a list now would miss the groups it coordinates`) });
});

t.test('describeGroups finds the coordinator and retries NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS', async (t) => {
  const cluster = await fakeGroupsCluster(t, { brokers: 2, topics: { orders: 2 } });
  group(cluster, 'app', { coordinator: 2, state: 'Stable', members: [{ memberId: 'm-b', host: '/127.0.0.2', assignment: [{ topic: 'orders', partitions: [1] }] }, { memberId: 'm-a', instanceId: 'pod-0', assignment: [{ topic: 'orders', partitions: [0] }] }] });
  const a = admin(t, cluster);
  cluster.failNext('COORDINATOR_LOAD_IN_PROGRESS', 2);
  const [d] = await a.describeGroups(['app']);
  t.equal(d!.coordinator, 2);
  t.equal(d!.state, 'Stable');
  t.same(d!.members.map((m) => [m.memberId, m.instanceId, m.host, m.assignment]), [
    ['m-a', 'pod-0', '/127.0.0.1', [{ topic: 'orders', partition: 0 }]],
    ['m-b', null, '/127.0.0.2', [{ topic: 'orders', partition: 1 }]],
  ], 'members sorted by id, assignments flattened');
  t.equal(cluster.brokers[1]!.requests('ConsumerGroupDescribe'), 3, 'two loading answers, then the description');

  // The group's coordinator moves: the old one says NOT_COORDINATOR until FindCoordinator is asked again.
  cluster.groups.get('app')!.coordinator = 1;
  const [moved] = await a.describeGroups(['app']);
  t.equal(moved!.coordinator, 1);

  await t.rejects(a.describeGroups(['nope']), { name: 'RunnelError', errorName: 'GROUP_ID_NOT_FOUND' });
  await t.rejects(a.describeGroups(['']), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
});

t.test('groupLag: records and seconds per partition from the committed offset, the log start without one, with the owner', async (t) => {
  const cluster = await fakeGroupsCluster(t, { topics: { orders: 4 } });
  const now = Date.now();
  const first = now - 100 * MINUTE;
  for (let p = 0; p < 4; p++) cluster.append('orders', p, 10, first, MINUTE);
  cluster.topics.get('orders')![3]!.logStartOffset = 4; // retention removed offsets 0-3 of partition 3
  cluster.topics.get('orders')![3]!.records.splice(0, 4);
  group(cluster, 'app', {
    state: 'Stable',
    members: [{ memberId: 'm-1', host: '/10.0.0.7', assignment: [{ topic: 'orders', partitions: [1, 3] }] }],
    offsets: { [key('orders', 0)]: 6, [key('orders', 2)]: 10, [key('orders', 3)]: 2 },
  });
  const a = admin(t, cluster);
  const { description, partitions } = await a.groupLag('app');
  t.equal(description.state, 'Stable');
  const byPartition = new Map(partitions.map((p) => [p.partition, p]));
  t.same(partitions.map((p) => p.partition), [0, 1, 2, 3], 'committed or assigned, sorted');

  const p0 = byPartition.get(0)!;
  t.match(p0, { committedOffset: 6, logStartOffset: 0, logEndOffset: 10, lag: 4, member: null, host: null });
  // The oldest unconsumed record is offset 6, stamped first + 6 minutes: 94 minutes ago.
  t.ok(Math.abs(p0.lagSeconds! - 94 * 60) < 30, `lag seconds from the record at the committed offset (${p0.lagSeconds})`);

  const p1 = byPartition.get(1)!;
  t.match(p1, { committedOffset: null, logEndOffset: 10, lag: 10, member: 'm-1', host: '/10.0.0.7' }, 'no commit: counted from the log start');
  t.ok(Math.abs(p1.lagSeconds! - 100 * 60) < 30, `from the first record (${p1.lagSeconds})`);

  t.match(byPartition.get(2)!, { committedOffset: 10, lag: 0, lagSeconds: 0 }, 'caught up');

  const p3 = byPartition.get(3)!;
  t.match(p3, { committedOffset: 2, logStartOffset: 4, logEndOffset: 10, lag: 6, member: 'm-1' }, 'a commit before the log start counts from the log start');
  t.ok(Math.abs(p3.lagSeconds! - 96 * 60) < 30, `from the first record still there (${p3.lagSeconds})`);

  // The same figure through the plain lag call.
  const [same] = await a.lag([{ topic: 'orders', partition: 0, position: 6 }]);
  t.match(same, { lag: 4, logEndOffset: 10 });
});

t.test('groupLag keeps offsets of a deleted topic with empty figures, and a group known only by its offsets is Empty', async (t) => {
  const cluster = await fakeGroupsCluster(t, { topics: { orders: 1 } });
  cluster.append('orders', 0, 3, Date.now(), 1);
  group(cluster, 'tool', { offsets: { [key('orders', 0)]: 1, [key('gone', 0)]: 7 } });
  const a = admin(t, cluster);
  const { partitions } = await a.groupLag('tool');
  t.same(partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.logEndOffset, p.lag]), [['gone', 0, 7, null, null], ['orders', 0, 1, 3, 2]]);
  await t.rejects(a.groupLag('nobody'), { name: 'RunnelError', errorName: 'GROUP_ID_NOT_FOUND' }, 'no description and no offsets: it does not exist');
});

t.test('resetGroupOffsets plans without committing, and commits as no member with execute', async (t) => {
  const cluster = await fakeGroupsCluster(t, { topics: { orders: 3 } });
  for (let p = 0; p < 3; p++) cluster.append('orders', p, 20, 1_000_000, 1000);
  group(cluster, 'app', { offsets: { [key('orders', 0)]: 15, [key('orders', 1)]: 5 } });
  const a = admin(t, cluster);

  const plan = await a.resetGroupOffsets('app', { topics: [{ topic: 'orders' }], spec: { shiftBy: -10 }, execute: false }).catch((err: unknown) => err);
  t.type(plan, RunnelError, 'shift-by needs a committed offset in every partition: 2 has none');
  t.match(plan, { name: 'RunnelError', errorName: 'INVALID_ARGUMENT', message: /orders-2/ });

  const dry = await a.resetGroupOffsets('app', { topics: [{ topic: 'orders', partitions: [0, 1] }], spec: { shiftBy: -10 } });
  t.same(dry, { executed: false, partitions: [{ topic: 'orders', partition: 0, currentOffset: 15, newOffset: 5 }, { topic: 'orders', partition: 1, currentOffset: 5, newOffset: 0 }] });
  t.equal(cluster.commits.length, 0, 'a plan commits nothing');
  t.same([...cluster.groups.get('app')!.offsets.values()], [15, 5]);

  const byTime = await a.resetGroupOffsets('app', { topics: 'all', spec: { to: 'datetime', timestampMs: 1_000_000 + 12_500 } });
  t.same(byTime.partitions.map((p) => p.newOffset), [13, 13], 'the first record at or after the time, for every partition with an offset');

  const twice = await a.resetGroupOffsets('app', { topics: [{ topic: 'orders' }, { topic: 'orders', partitions: [1, 1] }], spec: { to: 'latest' } });
  t.same(twice.partitions.map((p) => p.partition), [0, 1, 2], 'a partition named twice is planned once');

  const done = await a.resetGroupOffsets('app', { topics: [{ topic: 'orders' }], spec: { to: 'earliest' }, execute: true });
  t.equal(done.executed, true);
  t.equal(cluster.commits.length, 1);
  t.match(cluster.commits[0], { groupId: 'app', memberId: '', memberEpoch: -1, groupInstanceId: null }, 'committed as a tool, outside the group');
  t.same([...cluster.groups.get('app')!.offsets].sort(), [[key('orders', 0), 0], [key('orders', 1), 0], [key('orders', 2), 0]]);

  // A group that does not exist yet gets its offsets (this is how an operator prepares a new consumer group).
  await a.resetGroupOffsets('new', { topics: [{ topic: 'orders', partitions: [2] }], spec: { to: 'offset', offset: 7 }, execute: true });
  t.same([...cluster.groups.get('new')!.offsets], [[key('orders', 2), 7]]);
  await t.rejects(a.resetGroupOffsets('app', { topics: [{ topic: 'orders', partitions: [3] }], spec: { to: 'latest' } }), { name: 'RunnelError', errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
});

t.test('resetGroupOffsets with execute is refused while the group has members, and sends no commit', async (t) => {
  const cluster = await fakeGroupsCluster(t, { topics: { orders: 1 } });
  cluster.append('orders', 0, 5, 1, 1);
  group(cluster, 'live', { state: 'Stable', offsets: { [key('orders', 0)]: 3 }, members: [{ memberId: 'm-1', clientId: 'billing', host: '/10.0.0.9', assignment: [{ topic: 'orders', partitions: [0] }] }] });
  const a = admin(t, cluster);
  const dry = await a.resetGroupOffsets('live', { topics: [{ topic: 'orders' }], spec: { to: 'latest' } });
  t.same(dry.partitions, [{ topic: 'orders', partition: 0, currentOffset: 3, newOffset: 5 }], 'a plan is shown even for a live group');
  await t.rejects(a.resetGroupOffsets('live', { topics: [{ topic: 'orders' }], spec: { to: 'latest' }, execute: true }), { name: 'RunnelError', errorName: 'NON_EMPTY_GROUP', message: /1 active member \(m-1 \(billing at \/10\.0\.0\.9\)\)/ });
  t.equal(cluster.commits.length, 0, 'refused before any commit was sent');
  t.equal(cluster.groups.get('live')!.offsets.get(key('orders', 0)), 3);
});

t.test('deleteGroups: one outcome per group', async (t) => {
  const cluster = await fakeGroupsCluster(t, { brokers: 2 });
  group(cluster, 'old', { coordinator: 2, offsets: { [key('orders', 0)]: 1 } });
  group(cluster, 'live', { state: 'Stable', members: [{ memberId: 'm', assignment: [] }] });
  const a = admin(t, cluster);
  cluster.failNext('NOT_COORDINATOR', 1);
  t.same(await a.deleteGroups(['old', 'live', 'ghost']), [
    { group: 'old', error: null },
    { group: 'live', error: { name: 'NON_EMPTY_GROUP', message: 'The group still has members; stop its consumers first (or wait for their sessions to time out).' } },
    { group: 'ghost', error: { name: 'GROUP_ID_NOT_FOUND', message: 'No such group.' } },
  ]);
  t.notOk(cluster.groups.has('old'));
  t.ok(cluster.groups.has('live'));
  t.same(await a.listGroupOffsets('old'), [], 'a deleted group has no offsets');
});
