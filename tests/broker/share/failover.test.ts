/**
 * Share-group coordinator failover on a whole cluster in one process (a
 * controller and three brokers on a MemoryNetwork and a ManualClock): a
 * topic of three partitions led by different brokers (so the coordinator
 * reads most of them from another broker), two members holding records
 * under locks, a release (count kept) and a rejection (dead-lettered), then
 * the coordinator's broker stops. The new coordinator rebuilds every window
 * from its replica of `__consumer_offsets`: it hands none of A's locked
 * records to B, A still settles them, the released record comes back with
 * its count, and nothing is handed out twice.
 */
import t from 'tap';
import type { Connection } from '../../../client/connection.js';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { batchesIn, decodeBatch } from '../../../protocol/batch/reader.js';
import { Errors } from '../../../protocol/errors.js';
import { DlqHeader } from '../../../protocol/headers.js';
import { AcknowledgeType, type ShareAcknowledgement, type ShareFetchResponse } from '../../../protocol/messages.js';
import { findCoordinator as findTheCoordinator, startInProcessCluster } from '../../support/in-process-cluster.js';

const SETTINGS = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  'replica.lag.time.max.ms': 3000,
  'auto.leader.rebalance.enable': 'false',
  'offsets.topic.num.partitions': 1,
  'group.share.session.timeout.ms': 600_000,
};
const TOPIC = 'jobs';
const DLQ = 'jobs-dlq';
const RETRIABLE: readonly number[] = [Errors.COORDINATOR_LOAD_IN_PROGRESS.code, Errors.NOT_COORDINATOR.code, Errors.COORDINATOR_NOT_AVAILABLE.code];

type Key = string;
const key = (partition: number, offset: number): Key => `${partition}/${offset}`;

/** Every acquired record of the answer: partition/offset -> delivery count. */
function acquiredOf(response: ShareFetchResponse): Map<Key, number> {
  const out = new Map<Key, number>();
  for (const topic of response.topics) for (const p of topic.partitions) for (const r of p.acquiredRecords) for (let o = r.firstOffset; o <= r.lastOffset; o++) out.set(key(p.partition, o), r.deliveryCount);
  return out;
}

function acks(records: Iterable<Key>, type: number, extra: Partial<ShareAcknowledgement> = {}) {
  const byPartition = new Map<number, ShareAcknowledgement[]>();
  for (const k of records) {
    const [p, o] = k.split('/').map(Number) as [number, number];
    if (!byPartition.has(p)) byPartition.set(p, []);
    byPartition.get(p)!.push({ firstOffset: o, lastOffset: o, type, delayMs: 0, lockMs: -1, reason: null, ...extra });
  }
  return [0, 1, 2].map((partition) => ({ partition, acknowledgements: byPartition.get(partition) ?? [] }));
}

t.test('a share group\'s locks, holders and delivery counts survive the loss of its coordinator\'s broker', async (t) => {
  const cluster = await startInProcessCluster(t, { seed: 21, brokers: 3, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  t.equal((await world.settle(b1.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 3, replicationFactor: 3, configs: [] }, { name: DLQ, partitions: 1, replicationFactor: 3, configs: [] }], timeoutMs: 10_000, validateOnly: false }))).topics[0]!.errorCode, 0);
  const metadata = await world.settle(b1.request('Metadata', { topics: [TOPIC, DLQ], allowAutoTopicCreation: false, includeInternal: false }));
  const leaders = metadata.topics.find((x) => x.name === TOPIC)!.partitions.map((p) => p.leader);
  t.ok(new Set(leaders).size > 1, `the partitions have different leaders (${leaders.join(',')})`);
  for (const [partition, leader] of leaders.entries()) {
    const records = buildBatch(['a', 'b', 'c'].map((v) => ({ key: null, value: Buffer.from(`${partition}${v}`) })), { nowMs: 0 });
    const produced = await world.settle(cluster.clientOf(`b${leader}`).request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition, records }] }] }));
    t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);
  }

  const findCoordinator = (via: Connection, not = -1): Promise<number> => findTheCoordinator(world, via, 'q', not);
  const retried = async <T extends { errorCode: number }>(send: () => Promise<T>): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const response = await world.settle(send());
      if (!RETRIABLE.includes(response.errorCode)) return response;
      await world.run(100, 5);
    }
    throw new Error('the coordinator never answered');
  };
  const first = await findCoordinator(b1);
  t.ok(leaders.some((l) => l !== first), `the coordinator (${first}) reads some partitions from another broker`);
  let coordinator = cluster.clientOf(`b${first}`);
  const join = (memberId: string) => retried(() => coordinator.request('ShareGroupHeartbeat', { groupId: 'q', memberId, memberEpoch: 0, subscribedTopicNames: [TOPIC], config: { visibilityTimeoutMs: 600_000, maxDeliveryAttempts: 5, deadLetterTopic: DLQ, ordering: null } }));
  const a = await join('A');
  const b = await join('B');
  t.equal(a.errorCode, 0, a.errorMessage ?? '');
  const A = { groupId: 'q', memberId: 'A', memberEpoch: a.memberEpoch };
  const B = { groupId: 'q', memberId: 'B', memberEpoch: b.memberEpoch };
  const fetch = (member: typeof A, maxRecords: number, partitions = acks([], 1)) => retried(() => coordinator.request('ShareFetch', { ...member, maxWaitMs: 0, maxRecords, maxBytes: 1 << 20, topics: [{ topic: TOPIC, partitions }] }));
  const settle = (member: typeof A, partitions: ReturnType<typeof acks>) => retried(() => coordinator.request('ShareAcknowledge', { ...member, topics: [{ topic: TOPIC, partitions }] }));

  const fa = await fetch(A, 5);
  t.equal(fa.errorCode, 0, fa.errorMessage ?? '');
  t.ok(fa.topics[0]!.partitions.every((p) => p.errorCode === 0), 'every partition read, local or remote');
  const heldByA = acquiredOf(fa);
  t.equal(heldByA.size, 5, 'A holds five');
  const fb = await fetch(B, 100);
  const heldByB = acquiredOf(fb);
  t.equal(heldByB.size, 4, 'B holds the other four');
  t.notOk([...heldByB.keys()].some((k) => heldByA.has(k)), 'none of them A\'s');
  const recordsOf = (response: ShareFetchResponse) => response.topics[0]!.partitions.flatMap((p) => [...batchesIn(p.records)].flatMap(({ position }) => decodeBatch(p.records, position).records.map((r) => key(p.partition, r.offset))));
  t.ok([...heldByA.keys()].every((k) => recordsOf(fa).includes(k)), 'A\'s answer carries its records\' batches');

  // A accepts two, releases one (count 1 kept) and keeps two locked; B rejects one (dead-lettered) and keeps three.
  const [a1, a2, a3, a4, a5] = [...heldByA.keys()] as [Key, Key, Key, Key, Key];
  const [bRejected, ...bKept] = [...heldByB.keys()] as [Key, ...Key[]];
  const merged = (x: ReturnType<typeof acks>, y: ReturnType<typeof acks>) => x.map((p, i) => ({ partition: p.partition, acknowledgements: [...p.acknowledgements, ...y[i]!.acknowledgements] }));
  const settledA = await settle(A, merged(acks([a1, a2], AcknowledgeType.ACCEPT), acks([a3], AcknowledgeType.RELEASE)));
  t.ok(settledA.topics[0]!.partitions.every((p) => p.failedAcknowledgements.length === 0), 'A settled');
  const settledB = await settle(B, acks([bRejected], AcknowledgeType.REJECT, { reason: 'poison' }));
  t.ok(settledB.topics[0]!.partitions.every((p) => p.failedAcknowledgements.length === 0), 'B rejected one');
  const before = (await world.settle(coordinator.request('ShareGroupDescribe', { groupIds: ['q'] }))).groups[0]!;
  t.equal(before.members.find((m) => m.memberId === 'A')!.acquiredRecords, 2);

  // The coordinator's broker goes away.
  await world.settle(cluster.brokers.get(first)!.close());
  cluster.brokers.delete(first);
  const other = [1, 2, 3].find((id) => id !== first)!;
  const second = await findCoordinator(cluster.clientOf(`b${other}`), first);
  t.not(second, first, `the coordinator moved from ${first} to ${second}`);
  coordinator = cluster.clientOf(`b${second}`);
  const after = await retried(async () => (await coordinator.request('ShareGroupDescribe', { groupIds: ['q'] })).groups[0]!);
  t.same(after.members.map((m) => [m.memberId, m.acquiredRecords]), [['A', 2], ['B', 3]], 'locks and holders rebuilt');
  t.same(after.partitions.map((p) => [p.accepted, p.acquired]), before.partitions.map((p) => [p.accepted, p.acquired]), 'windows rebuilt');

  // B asks for everything: it gets only the released record (its second delivery), none of A's locked ones, none it holds.
  const again = acquiredOf(await fetch(B, 100));
  t.same([...again], [[a3, 2]], 'only the released record, its delivery count kept');
  const final = await settle(A, acks([a4, a5], AcknowledgeType.ACCEPT));
  t.ok(final.topics[0]!.partitions.every((p) => p.failedAcknowledgements.length === 0), 'A still holds its two and settles them');
  const lateB = await settle(B, acks([...bKept, a3], AcknowledgeType.ACCEPT));
  t.ok(lateB.topics[0]!.partitions.every((p) => p.failedAcknowledgements.length === 0), 'and B its four');
  const done = await retried(async () => (await coordinator.request('ShareGroupDescribe', { groupIds: ['q'] })).groups[0]!);
  t.same(done.partitions.map((p) => [p.startOffset, p.endOffset, p.inFlight]), [0, 1, 2].map(() => [3, 3, 0]), 'every record settled');
  t.equal(done.partitions.reduce((n, p) => n + p.accepted, 0), 8);
  t.equal(done.partitions.reduce((n, p) => n + p.rejected, 0), 1);

  // A long poll on the new coordinator is woken by a record produced to a partition another broker leads (a long-polling Fetch there).
  const md = await world.settle(coordinator.request('Metadata', { topics: [TOPIC], allowAutoTopicCreation: false, includeInternal: false }));
  const remote = md.topics[0]!.partitions.find((p) => p.leader !== second && p.leader > 0)!;
  const startedMs = world.clock.nowMs();
  const poll = coordinator.request('ShareFetch', { ...B, maxWaitMs: 20_000, maxRecords: 10, maxBytes: 1 << 20, topics: [{ topic: TOPIC, partitions: acks([], 1) }] });
  await world.run(1000, 5);
  const late = buildBatch([{ key: null, value: Buffer.from('late') }], { nowMs: 0 });
  t.equal((await world.settle(cluster.clientOf(`b${remote.leader}`).request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: remote.partition, records: late }] }] }))).topics[0]!.partitions[0]!.errorCode, 0);
  const woken = acquiredOf(await world.settle(poll, { stepMs: 5 }));
  t.same([...woken.keys()], [key(remote.partition, 3)], `the poll got the new record of ${TOPIC}-${remote.partition} (led by broker ${remote.leader})`);
  t.ok(world.clock.nowMs() - startedMs < 5000, `woken by it, not by its 20 s wait (${world.clock.nowMs() - startedMs} ms)`);

  // The rejected record was copied to the dead-letter topic (by the first coordinator, or again by the second).
  const dlqLeader = () => cluster.clientOf(`b${[...cluster.brokers.keys()].find((id) => id !== first)}`);
  const dead: Record<string, string>[] = [];
  for (let i = 0; i < 50 && dead.length === 0; i++) {
    const md = await world.settle(dlqLeader().request('Metadata', { topics: [DLQ], allowAutoTopicCreation: false, includeInternal: false }));
    const leader = md.topics[0]!.partitions[0]!.leader;
    if (leader > 0 && cluster.brokers.has(leader)) {
      const fetched = await world.settle(cluster.clientOf(`b${leader}`).request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: DLQ, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }));
      for (const bytes of fetched.topics[0]!.partitions[0]!.records) for (const { position } of batchesIn(bytes)) for (const r of decodeBatch(bytes, position).records) dead.push(Object.fromEntries(r.headers.map((h) => [h.key, Buffer.from(h.value ?? []).toString()])));
    }
    if (dead.length === 0) await world.run(200, 5);
  }
  const [rp, ro] = bRejected.split('/');
  t.ok(dead.length >= 1 && dead.every((h) => h[DlqHeader.SOURCE_PARTITION] === rp && h[DlqHeader.SOURCE_OFFSET] === ro && h[DlqHeader.REASON] === 'rejected' && h[DlqHeader.ERROR] === 'poison'), `the rejected record ${bRejected} is in the dead-letter topic (${dead.length} cop${dead.length === 1 ? 'y' : 'ies'})`);
});
