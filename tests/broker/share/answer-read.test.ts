/**
 * A ShareFetch answer whose redelivered records live on a partition led by
 * a broker the coordinator cannot reach (a cluster in one process, the
 * link between the two held: packets dropped, as a firewall does). The
 * coordinator acquires the released record, then cannot read its batch: the
 * answer must not wait for the link with the record's lock running. It
 * comes within half the lock without the record, the record is given back
 * (available at once, that delivery not counted), and once the link heals
 * the next fetch gets it as its second delivery, with its batch.
 */
import t from 'tap';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { batchesIn, decodeBatch } from '../../../protocol/batch/reader.js';
import { Errors } from '../../../protocol/errors.js';
import { AcknowledgeType, type ShareFetchResponse } from '../../../protocol/messages.js';
import { findCoordinator, startInProcessCluster } from '../../support/in-process-cluster.js';

const LOCK_MS = 4000;
const SETTINGS = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  'replica.lag.time.max.ms': 600_000,
  'auto.leader.rebalance.enable': 'false',
  'offsets.topic.num.partitions': 1,
  // The group's writes commit on the coordinator alone: the cut link must stall only the read of the records.
  'offsets.topic.replication.factor': 1,
  'group.share.session.timeout.ms': 600_000,
  // Three records fill a window: the fetch under test reads nothing new (which would wait on the cut link too), it only redelivers.
  'group.share.max.in.flight.records': 3,
};
const TOPIC = 'jobs';
const RETRIABLE: readonly number[] = [Errors.COORDINATOR_LOAD_IN_PROGRESS.code, Errors.NOT_COORDINATOR.code, Errors.COORDINATOR_NOT_AVAILABLE.code];

t.test('an answer does not hold a redelivered record while its leader cannot be read: it is given back, uncounted', async (t) => {
  const cluster = await startInProcessCluster(t, { seed: 7, brokers: 3, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  t.equal((await world.settle(b1.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 3, replicationFactor: 1, configs: [] }], timeoutMs: 10_000, validateOnly: false }))).topics[0]!.errorCode, 0);
  const coordinatorId = await findCoordinator(world, b1, 'q');
  const metadata = await world.settle(b1.request('Metadata', { topics: [TOPIC], allowAutoTopicCreation: false, includeInternal: false }));
  const remote = metadata.topics[0]!.partitions.find((p) => p.leader > 0 && p.leader !== coordinatorId);
  if (remote === undefined) return t.fail(`every partition is led by the coordinator (${coordinatorId})`);
  const { partition, leader } = remote;
  const records = buildBatch(['a', 'b', 'c'].map((v) => ({ key: null, value: Buffer.from(v) })), { nowMs: 0 });
  const produced = await world.settle(cluster.clientOf(`b${leader}`).request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition, records }] }] }));
  t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);

  const coordinator = cluster.clientOf(`b${coordinatorId}`);
  const retried = async <R extends { errorCode: number }>(send: () => Promise<R>): Promise<R> => {
    for (let i = 0; i < 100; i++) {
      const response = await world.settle(send(), { stepMs: 5 });
      if (!RETRIABLE.includes(response.errorCode)) return response;
      await world.run(100, 5);
    }
    throw new Error('the coordinator never answered');
  };
  const joined = await retried(() => coordinator.request('ShareGroupHeartbeat', { groupId: 'q', memberId: 'A', memberEpoch: 0, subscribedTopicNames: [TOPIC], config: { visibilityTimeoutMs: LOCK_MS, maxDeliveryAttempts: 5, deadLetterTopic: null, ordering: null } }));
  t.equal(joined.errorCode, 0, joined.errorMessage ?? '');
  const A = { groupId: 'q', memberId: 'A', memberEpoch: joined.memberEpoch };
  const fetch = (acknowledgements: { firstOffset: number; lastOffset: number; type: number }[] = []) =>
    retried(() => coordinator.request('ShareFetch', { ...A, maxWaitMs: 0, maxRecords: 10, maxBytes: 1 << 20, topics: [{ topic: TOPIC, partitions: [{ partition, acknowledgements: acknowledgements.map((a) => ({ ...a, delayMs: 0, lockMs: -1, reason: null })) }] }] }));
  const answer = (response: ShareFetchResponse) => {
    const p = response.topics[0]!.partitions[0]!;
    const carried = [...batchesIn(p.records)].flatMap(({ position }) => decodeBatch(p.records, position).records.map((r) => r.offset));
    return { errorCode: p.errorCode, acquired: p.acquiredRecords.flatMap((r) => Array.from({ length: r.lastOffset - r.firstOffset + 1 }, (_, i) => [r.firstOffset + i, r.deliveryCount])), carried };
  };

  const first = answer(await fetch());
  t.same(first.acquired, [[0, 1], [1, 1], [2, 1]], 'A holds the three records (the window is full)');
  t.same(first.carried, [0, 1, 2], 'with their batch, read from the leader');
  const released = await retried(() => coordinator.request('ShareAcknowledge', { ...A, topics: [{ topic: TOPIC, partitions: [{ partition, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: -1, reason: null }] }] }] }));
  t.same(released.topics[0]!.partitions[0]!.failedAcknowledgements, [], 'offset 0 released');

  world.network.partition(`b${coordinatorId}`, `b${leader}`, 'hold');
  const startedMs = world.clock.nowMs();
  const cutResponse = await fetch();
  t.equal(cutResponse.errorCode, 0, cutResponse.errorMessage ?? "");
  const cut = answer(cutResponse);
  const tookMs = world.clock.nowMs() - startedMs;
  t.ok(tookMs <= LOCK_MS / 2 + 500, `answered in ${tookMs} ms, within half the ${LOCK_MS} ms lock`);
  t.same([cut.errorCode, cut.acquired, cut.carried], [0, [], []], 'without the record it could not read');
  // The give-back is a write of its own, after the answer: described once it has landed.
  let described = { acquired: -1, held: -1 };
  for (let i = 0; i < 50; i++) {
    const group = (await world.settle(coordinator.request('ShareGroupDescribe', { groupIds: ['q'] }))).groups[0]!;
    described = { acquired: group.partitions.find((p) => p.partition === partition)!.acquired, held: group.members.find((m) => m.memberId === 'A')!.acquiredRecords };
    if (described.acquired === 2) break;
    await world.run(50, 5);
  }
  t.same(described, { acquired: 2, held: 2 }, 'offset 0 is not held: given back; A still holds 1 and 2');

  world.network.heal(`b${coordinatorId}`, `b${leader}`);
  const healed = answer(await fetch());
  t.same(healed.acquired, [[0, 2]], 'after the heal: offset 0, its second delivery (the one never made is not counted)');
  t.same(healed.carried, [0], 'with its batch');
});
