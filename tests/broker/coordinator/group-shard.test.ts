/**
 * The coordinator's state machine and its parts, case by case: epoch
 * fencing of heartbeats, static membership across a restart, session and
 * rebalance timeouts, the assignors, offsets (stable vs replicated,
 * retention, deleted topics), pattern subscriptions following new topics,
 * the group-to-partition hash and the record encoding.
 */
import t from 'tap';
import { rangeAssignor } from '../../../broker/coordinator/range-assignor.js';
import { uniformAssignor } from '../../../broker/coordinator/uniform-assignor.js';
import { GroupShard, type Outcome } from '../../../broker/coordinator/group-shard.js';
import { javaStringHashCode, offsetsPartitionFor } from '../../../broker/coordinator/offsets-topic.js';
import { decodeRecord, encodeRecord, type CoordinatorRecord } from '../../../broker/coordinator/records.js';
import type { CoordinatorSettings } from '../../../broker/coordinator/settings.js';
import { Errors } from '../../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, TopicPartitions } from '../../../protocol/messages.js';

const SETTINGS: CoordinatorSettings = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxGroupSize: 3, assignors: ['uniform', 'range'], offsetsRetentionMs: 60_000, offsetMetadataMaxBytes: 10 };

function rig(topicsInit: Record<string, number> = { t: 4 }) {
  const shard = new GroupShard(SETTINGS);
  const topics = new Map(Object.entries(topicsInit));
  const clock = { nowMs: 1000 };
  const records: CoordinatorRecord[] = [];
  const env = () => ({ nowMs: clock.nowMs, clientId: 'cid', clientHost: 'h', topics });
  const done = <R>(o: Outcome<R>): R => {
    records.push(...o.records);
    if (o.seq > 0) shard.durable(o.seq);
    return o.response;
  };
  const hb = (memberId: string, memberEpoch: number, extra: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatResponse =>
    done(shard.heartbeat({ groupId: 'g', memberId, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: memberEpoch === 0 ? 5000 : -1, subscribedTopicNames: memberEpoch === 0 ? ['t'] : null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: memberEpoch === 0 ? [] : null, ...extra }, env()));
  const tick = () => done(shard.tick({ nowMs: clock.nowMs, topics }));
  return { shard, topics, clock, records, env, done, hb, tick };
}

const parts = (r: ConsumerGroupHeartbeatResponse): number[] => (r.assignment?.topicPartitions ?? []).flatMap((x) => x.partitions).sort((a, b) => a - b);
const owning = (partitions: number[], topic = 't'): TopicPartitions[] => [{ topic, partitions }];

t.test('heartbeat epochs: current accepted, a lost answer tolerated, anything else fenced', async (t) => {
  const { hb } = rig();
  const a = hb('A', 0);
  t.same(parts(a), [0, 1, 2, 3]);
  t.equal(hb('A', a.memberEpoch + 1).errorCode, Errors.FENCED_MEMBER_EPOCH.code, 'a future epoch');
  const b = hb('B', 0);
  t.same(parts(b), []);
  const a2 = hb('A', a.memberEpoch, { topicPartitions: owning([0, 1, 2, 3]) });
  const kept = parts(a2);
  const a3 = hb('A', a.memberEpoch, { topicPartitions: owning(kept) });
  t.ok(a3.memberEpoch > a.memberEpoch);
  // The answer with the new epoch was lost: the old epoch, owning only what it was given, still works.
  const again = hb('A', a.memberEpoch, { topicPartitions: owning(kept) });
  t.equal(again.errorCode, 0, 'the previous epoch after a lost answer');
  t.equal(again.memberEpoch, a3.memberEpoch);
  t.equal(hb('A', a.memberEpoch, { topicPartitions: owning([0, 1, 2, 3]) }).errorCode, Errors.FENCED_MEMBER_EPOCH.code, 'the previous epoch claiming partitions it no longer has is fenced');
  t.equal(hb('Z', 3).errorCode, Errors.UNKNOWN_MEMBER_ID.code);
  t.equal(hb('', 0).errorCode, Errors.INVALID_REQUEST.code);
  t.equal(hb('C', 0, { serverAssignor: 'sticky' }).errorCode, Errors.UNSUPPORTED_ASSIGNOR.code);
  t.equal(hb('C', 0, { subscribedTopicRegex: '(' }).errorCode, Errors.INVALID_REGULAR_EXPRESSION.code);
  t.equal(hb('C', 0, { subscribedTopicNames: null }).errorCode, Errors.INVALID_REQUEST.code, 'joining needs a subscription');
  hb('C', 0);
  t.equal(hb('D', 0).errorCode, Errors.GROUP_MAX_SIZE_REACHED.code, 'group.consumer.max.size');
});

t.test('static membership: a restart within the session keeps the partitions, with no rebalance', async (t) => {
  const { shard, hb, clock, tick } = rig();
  const a = hb('A1', 0, { instanceId: 'a' });
  const b = hb('B', 0);
  hb('A1', a.memberEpoch, { instanceId: 'a', topicPartitions: owning([0, 1, 2, 3]) });
  const settle = (n: number) => {
    for (let i = 0; i < n; i++) {
      for (const [id, m] of shard.group('g')!.members) if (m.memberEpoch !== -2) hb(id, m.memberEpoch, { topicPartitions: owning([...m.assigned].map((k) => Number(k.split(':')[1]))), ...(m.instanceId === null ? {} : { instanceId: m.instanceId }) });
    }
  };
  settle(3);
  const before = shard.describe('g');
  t.equal(before.groupState, 'Stable');
  const aBefore = before.members.find((m) => m.memberId === 'A1')!;
  t.equal(hb('A1', aBefore.memberEpoch, { instanceId: 'a', memberEpoch: -2 }).memberEpoch, -2, 'static leave');
  t.equal(hb('A2', 0, { instanceId: 'b' }).errorCode, 0, 'another instance id joins normally');
  const epochAfterJoin = shard.group('g')!.groupEpoch;
  hb('A2', -1, { instanceId: 'b' });
  clock.nowMs += 5000;
  tick();
  t.ok(shard.group('g')!.members.has('A1'), 'kept during the session timeout');
  t.same([...shard.group('g')!.members.get('A1')!.assigned].sort(), aBefore.assignment[0]!.partitions.map((p) => `t:${p}`), 'with its partitions');
  const back = hb('A3', 0, { instanceId: 'a' });
  t.equal(back.errorCode, 0);
  t.same(parts(back), aBefore.assignment[0]!.partitions, 'the restarted instance gets the same partitions');
  t.equal(back.memberEpoch, shard.group('g')!.assignmentEpoch, 'at the group\'s current assignment epoch');
  t.equal(shard.group('g')!.groupEpoch, epochAfterJoin + 1, 'no rebalance for the return (only the other member\'s leave bumped the epoch)');
  t.notOk(shard.group('g')!.members.has('A1'));
  t.equal(hb('A4', 0, { instanceId: 'a' }).errorCode, Errors.UNRELEASED_INSTANCE_ID.code, 'the instance id is held by a live member');
  t.equal(hb('A1', aBefore.memberEpoch, { instanceId: 'a' }).errorCode, Errors.FENCED_INSTANCE_ID.code, 'the old incarnation is fenced');
  void b;
});

t.test('a static member gone past its session loses its partitions', async (t) => {
  const { shard, hb, clock, tick } = rig();
  const a = hb('A', 0, { instanceId: 'a' });
  hb('A', a.memberEpoch, { instanceId: 'a', memberEpoch: -2 });
  const b = hb('B', 0);
  t.same(parts(b), [], 'nothing while A may come back');
  clock.nowMs += 10_001;
  hb('B', b.memberEpoch, { topicPartitions: owning([]) });
  tick();
  t.notOk(shard.group('g')!.members.has('A'));
  const b2 = hb('B', shard.group('g')!.members.get('B')!.memberEpoch, { topicPartitions: owning([]) });
  t.same(parts(b2), [0, 1, 2, 3], 'B gets everything');
});

t.test('session and rebalance timeouts remove members; their partitions move on', async (t) => {
  const { shard, hb, clock, tick } = rig();
  const a = hb('A', 0);
  const b = hb('B', 0);
  clock.nowMs += 3000;
  // A is told to give two up and never does: past its rebalance timeout (5 s) it is removed.
  const a2 = hb('A', a.memberEpoch, { topicPartitions: owning([0, 1, 2, 3]) });
  t.equal(parts(a2).length, 2);
  for (let i = 0; i < 6; i++) {
    clock.nowMs += 1000;
    hb('A', a.memberEpoch, { topicPartitions: owning([0, 1, 2, 3]) });
    hb('B', shard.group('g')!.members.get('B')!.memberEpoch, { topicPartitions: owning([]) });
    tick();
  }
  t.notOk(shard.group('g')!.members.has('A'), 'removed after the rebalance timeout');
  const b2 = hb('B', shard.group('g')!.members.get('B')!.memberEpoch, { topicPartitions: owning([]) });
  t.same(parts(b2), [0, 1, 2, 3]);
  // B stops heartbeating: past the session timeout the group is empty.
  clock.nowMs += 10_001;
  tick();
  t.equal(shard.describe('g').groupState, 'Empty');
  t.ok(shard.nextDeadlineMs() === null, 'no timers left');
  void b;
});

t.test('pattern subscriptions follow new topics; partition growth starts a new epoch', async (t) => {
  const { shard, hb, topics, tick } = rig({ 'orders-a': 1, other: 1 });
  const a = hb('A', 0, { subscribedTopicNames: [], subscribedTopicRegex: 'orders-.*' });
  t.same(a.assignment?.topicPartitions, [{ topic: 'orders-a', partitions: [0] }]);
  topics.set('orders-b', 2);
  tick();
  const a2 = hb('A', shard.group('g')!.members.get('A')!.memberEpoch, { topicPartitions: [{ topic: 'orders-a', partitions: [0] }] });
  t.same(a2.assignment?.topicPartitions, [{ topic: 'orders-a', partitions: [0] }, { topic: 'orders-b', partitions: [0, 1] }]);
  const epoch = shard.group('g')!.groupEpoch;
  topics.set('orders-a', 3);
  tick();
  t.equal(shard.group('g')!.groupEpoch, epoch + 1);
  t.same([...shard.group('g')!.members.get('A')!.target].sort(), ['orders-a:0', 'orders-a:1', 'orders-a:2', 'orders-b:0', 'orders-b:1']);
});

t.test('offsets: member checks, replicated view, retention, deleted topics', async (t) => {
  const { shard, hb, env, records, clock, done } = rig({ t: 2, u: 1 });
  const a = hb('A', 0);
  const commit = (memberId: string, epoch: number, partition: number, offset: number, metadata: string | null = null, topic = 't') =>
    shard.commitOffsets({ groupId: 'g', memberId, memberEpoch: epoch, groupInstanceId: null, topics: [{ name: topic, partitions: [{ partition, committedOffset: offset, committedLeaderEpoch: 3, committedMetadata: metadata }] }] }, env());
  const fetch = (requireStable = false) => shard.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitions: [0, 1] }], requireStable });
  const pending = commit('A', a.memberEpoch, 0, 10, 'meta');
  t.equal(pending.response.topics[0]!.partitions[0]!.errorCode, 0);
  t.equal(fetch().topics[0]!.partitions[0]!.committedOffset, -1, 'not visible before it is replicated');
  t.equal(fetch(true).topics[0]!.partitions[0]!.errorCode, Errors.UNSTABLE_OFFSET_COMMIT.code, 'requireStable says it is on its way');
  shard.durable(pending.seq);
  t.match(fetch().topics[0]!.partitions[0]!, { committedOffset: 10, committedLeaderEpoch: 3, metadata: 'meta', commitTimestampMs: 1000 });
  t.equal(done(commit('A', a.memberEpoch, 1, 5, 'x'.repeat(11))).topics[0]!.partitions[0]!.errorCode, Errors.OFFSET_METADATA_TOO_LARGE.code);
  t.equal(done(commit('A', a.memberEpoch, 7, 5)).topics[0]!.partitions[0]!.errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code);
  t.equal(done(commit('A', a.memberEpoch - 1, 0, 5, null, 'u')).topics[0]!.partitions[0]!.errorCode, Errors.STALE_MEMBER_EPOCH.code, 'an older epoch for a partition the member does not hold');
  t.equal(done(commit('A', a.memberEpoch - 1, 1, 5)).topics[0]!.partitions[0]!.errorCode, 0, 'the previous epoch for a partition it still holds (a commit racing its new epoch)');
  t.equal(done(commit('', -1, 1, 5)).topics[0]!.partitions[0]!.errorCode, Errors.NON_EMPTY_GROUP.code);
  t.equal(shard.fetchOffsets({ groupId: 'g', memberId: 'A', memberEpoch: a.memberEpoch + 1, topics: null, requireStable: false }).errorCode, Errors.STALE_MEMBER_EPOCH.code);
  done(commit('A', a.memberEpoch, 0, 1, null, 'u'));
  hb('A', -1);
  // Deleted topic: its offsets go.
  const deleted = done(shard.topicsDeleted(new Set(['u'])));
  void deleted;
  t.same(records.filter((r) => r.kind === 'offset' && r.topic === 'u').map((r) => r.value === null), [false, true], 'a tombstone for the deleted topic\'s offset');
  t.same(shard.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: null, requireStable: false }).topics.map((x) => x.name), ['t']);
  // Retention: 60 s after the group became empty, offsets and then the group go.
  clock.nowMs += 59_000;
  done(shard.expireOffsets({ nowMs: clock.nowMs }));
  t.equal(fetch().topics[0]!.partitions[0]!.committedOffset, 10, 'kept within the retention');
  clock.nowMs += 2000;
  done(shard.expireOffsets({ nowMs: clock.nowMs }));
  t.equal(fetch().topics[0]!.partitions[0]!.committedOffset, -1, 'expired');
  t.equal(shard.describe('g').errorCode, Errors.GROUP_ID_NOT_FOUND.code, 'the group went with its last offset');
  t.same(records.slice(-2).map((r) => [r.kind, r.value]), [['offset', null], ['group', null]]);
});

t.test('assignors: uniform is balanced and sticky, range is contiguous', async (t) => {
  const topics = new Map([['a', 6], ['b', 3]]);
  const member = (memberId: string, previous: Iterable<string> = [], topicNames = ['a', 'b']) => ({ memberId, topics: new Set(topicNames), previous: new Set(previous) });
  const three = uniformAssignor.assign([member('m1'), member('m2'), member('m3')], topics);
  t.same([...three.values()].map((s) => s.size), [3, 3, 3], 'nine partitions, three each');
  const four = uniformAssignor.assign([member('m1', three.get('m1')), member('m2', three.get('m2')), member('m3', three.get('m3')), member('m4')], topics);
  const moved = ['m1', 'm2', 'm3'].reduce((n, id) => n + [...three.get(id)!].filter((k) => !four.get(id)!.has(k)).length, 0);
  t.equal(four.get('m4')!.size, 2, 'the newcomer gets its share');
  t.equal(moved, 2, 'only the partitions the newcomer takes move');
  t.ok([...four.values()].every((s) => s.size === 2 || s.size === 3));
  const mixed = uniformAssignor.assign([member('m1', [], ['a']), member('m2', [], ['b'])], topics);
  t.same([mixed.get('m1')!.size, mixed.get('m2')!.size], [6, 3], 'only subscribers get a topic');
  const range = rangeAssignor.assign([member('m2'), member('m1')], new Map([['a', 5]]));
  t.same([...range.get('m1')!].sort(), ['a:0', 'a:1', 'a:2']);
  t.same([...range.get('m2')!].sort(), ['a:3', 'a:4']);
});

t.test('the group hash is Java\'s, and records round-trip through their bytes', async (t) => {
  t.equal(javaStringHashCode(''), 0);
  t.equal(javaStringHashCode('a'), 97);
  t.equal(javaStringHashCode('hello'), 99162322);
  t.equal(javaStringHashCode('polygenelubricants'), -2147483648, 'Integer.MIN_VALUE');
  t.equal(offsetsPartitionFor('polygenelubricants', 50), 0, 'abs(MIN_VALUE) is 0, as Kafka\'s Utils.abs');
  t.equal(offsetsPartitionFor('my-group', 50), Math.abs(javaStringHashCode('my-group')) % 50);
  const samples: CoordinatorRecord[] = [
    { kind: 'group', groupId: 'g', value: { groupEpoch: 3, assignmentEpoch: 3, assignorName: 'uniform', subscribedTopics: [{ name: 't', partitions: 4 }] } },
    { kind: 'group', groupId: 'g', value: null },
    { kind: 'member', groupId: 'g', memberId: 'm', value: { instanceId: 'i', rackId: null, clientId: 'c', clientHost: 'h', rebalanceTimeoutMs: 5, subscribedTopicNames: ['t'], subscribedTopicRegex: null, serverAssignor: 'range', memberEpoch: 3, previousMemberEpoch: 2, assigned: [{ topic: 't', partitions: [0, 1] }], revoking: [], target: [{ topic: 't', partitions: [0] }] } },
    { kind: 'offset', groupId: 'g', topic: 't', partition: 2, value: { offset: 2 ** 40, leaderEpoch: 1, metadata: null, commitTimestampMs: 1700000000000 } },
    { kind: 'offset', groupId: 'g', topic: 't', partition: 2, value: null },
  ];
  for (const record of samples) {
    const { key, value } = encodeRecord(record);
    t.same(decodeRecord(key, value), record);
  }
  t.same(encodeRecord(samples[0]!).key, encodeRecord(samples[1]!).key, 'a tombstone has its record\'s key, so compaction removes it');
  t.throws(() => decodeRecord(Uint8Array.of(9), null), /unknown __consumer_offsets record kind 9/);
});

t.test('a member still converging is told to come back five times as often; a settled one at the configured pace', async (t) => {
  const { hb } = rig();
  const a = hb('A', 0);
  t.equal(a.heartbeatIntervalMs, 1000, 'alone, it has its whole share at once');
  const b = hb('B', 0);
  t.same(parts(b), [], 'every partition is still held by A');
  t.equal(b.heartbeatIntervalMs, 200, 'the newcomer waits for partitions: it comes back soon to learn they are free');
  const a2 = hb('A', a.memberEpoch, { topicPartitions: owning([0, 1, 2, 3]) });
  t.equal(a2.heartbeatIntervalMs, 200, 'A must give partitions up: it is converging too');
  const kept = parts(a2);
  const a3 = hb('A', a.memberEpoch, { topicPartitions: owning(kept) });
  t.equal(a3.heartbeatIntervalMs, 1000, 'once it has let them go, A is settled');
  const b2 = hb('B', b.memberEpoch, { topicPartitions: [] });
  t.same(parts(b2).length, 2, 'B is handed the freed partitions');
  t.equal(b2.heartbeatIntervalMs, 1000, 'and is settled');
});
