/**
 * A ShareFetch answer whose redelivered records live on a partition led by
 * a broker the coordinator cannot read (a cluster in one process). The
 * coordinator acquires the released record, then cannot read its batch;
 * the answer must neither wait for the leader with the record's lock
 * running, nor hand out a record without its bytes, nor count deliveries
 * that were never made, nor spin:
 *   - a leader that does not answer (its link held: packets dropped, as a
 *     firewall does): the answer comes within half the lock without the
 *     record, which is given back (available at once, that delivery not
 *     counted), while a partition the coordinator leads, in the same
 *     answer, is served in full;
 *   - a read that fails (the link reset): the record is left out and stays
 *     locked, so fetches meanwhile wait instead of acquiring it again, and
 *     once its lock ends the failed attempt counts;
 *   - a partition with no leader: nothing of it is acquired at all.
 */
import t, { type Test } from 'tap';
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
  // The group's writes commit on the coordinator alone: cutting a link must stall only the reads of records.
  'offsets.topic.replication.factor': 1,
  'group.share.session.timeout.ms': 600_000,
  // Three records fill a window: the fetches under test read nothing new (which would wait on the cut link too), they only redeliver.
  'group.share.max.in.flight.records': 3,
};
const TOPIC = 'jobs';
const RETRIABLE: readonly number[] = [Errors.COORDINATOR_LOAD_IN_PROGRESS.code, Errors.NOT_COORDINATOR.code, Errors.COORDINATOR_NOT_AVAILABLE.code];

/** Three single-replica partitions, three records each; member A of group q holds them all, then releases offset 0 of each. */
async function holdingAll(t: Test, seed: number) {
  const cluster = await startInProcessCluster(t, { seed, brokers: 3, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  t.equal((await world.settle(b1.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 3, replicationFactor: 1, configs: [] }], timeoutMs: 10_000, validateOnly: false }))).topics[0]!.errorCode, 0);
  const coordinatorId = await findCoordinator(world, b1, 'q');
  const metadata = await world.settle(b1.request('Metadata', { topics: [TOPIC], allowAutoTopicCreation: false, includeInternal: false }));
  const leaders = metadata.topics[0]!.partitions.map((p) => p.leader);
  for (const [partition, leader] of leaders.entries()) {
    const records = buildBatch(['a', 'b', 'c'].map((v) => ({ key: null, value: Buffer.from(`${partition}${v}`) })), { nowMs: 0 });
    const produced = await world.settle(cluster.clientOf(`b${leader}`).request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition, records }] }] }));
    t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);
  }
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
  /** A ShareFetch of the partitions named, in that order; `maxWaitMs` 0 unless given. */
  const fetch = async (partitions: number[], maxWaitMs = 0) => {
    const response = await retried(() => coordinator.request('ShareFetch', { ...A, maxWaitMs, maxRecords: 10, maxBytes: 1 << 20, topics: [{ topic: TOPIC, partitions: partitions.map((partition) => ({ partition, acknowledgements: [] })) }] }));
    t.equal(response.errorCode, 0, response.errorMessage ?? 'fetched');
    return new Map(partitions.map((partition) => [partition, answerOf(response, partition)]));
  };
  const first = await fetch([0, 1, 2]);
  t.same([...first.values()].map((a) => a.acquired), [0, 1, 2].map(() => [[0, 1], [1, 1], [2, 1]]), 'A holds every record (the windows are full)');
  const released = await retried(() => coordinator.request('ShareAcknowledge', { ...A, topics: [{ topic: TOPIC, partitions: [0, 1, 2].map((partition) => ({ partition, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: -1, reason: null }] })) }] }));
  t.ok(released.topics[0]!.partitions.every((p) => p.failedAcknowledgements.length === 0), 'offset 0 of each released');
  /** How many records of partition `partition`'s window are acquired, once `until` holds (bounded: a give-back is a write after the answer). */
  const acquiredWhen = async (partition: number, until: (acquired: number) => boolean): Promise<number> => {
    let acquired = -1;
    for (let i = 0; i < 50; i++) {
      const group = (await world.settle(coordinator.request('ShareGroupDescribe', { groupIds: ['q'] }))).groups[0]!;
      acquired = group.partitions.find((p) => p.partition === partition)!.acquired;
      if (until(acquired)) break;
      await world.run(50, 5);
    }
    return acquired;
  };
  const remote = leaders.findIndex((leader) => leader > 0 && leader !== coordinatorId);
  const local = leaders.findIndex((leader) => leader === coordinatorId);
  return { cluster, world, coordinatorId, leaders, remote, local, fetch, acquiredWhen };
}

function answerOf(response: ShareFetchResponse, partition: number) {
  const p = response.topics[0]!.partitions.find((x) => x.partition === partition)!;
  const carried = [...batchesIn(p.records)].flatMap(({ position }) => decodeBatch(p.records, position).records.map((r) => r.offset));
  return { errorCode: p.errorCode, acquired: p.acquiredRecords.flatMap((r) => Array.from({ length: r.lastOffset - r.firstOffset + 1 }, (_, i) => [r.firstOffset + i, r.deliveryCount])), carried };
}

t.test('a leader that does not answer: the record is given back within half the lock, uncounted; a partition led here is served in full', async (t) => {
  const { world, coordinatorId, leaders, remote, local, fetch, acquiredWhen } = await holdingAll(t, 7);
  if (remote < 0 || local < 0) return t.fail(`the partitions' leaders (${leaders.join(',')}) must include the coordinator (${coordinatorId}) and another broker`);
  const leader = leaders[remote]!;
  world.network.partition(`b${coordinatorId}`, `b${leader}`, 'hold');
  const startedMs = world.clock.nowMs();
  // The cut partition first: the other's read must not wait behind it, nor lose to its deadline.
  const cut = await fetch([remote, local]);
  const tookMs = world.clock.nowMs() - startedMs;
  t.ok(tookMs <= LOCK_MS / 2 + 500, `answered in ${tookMs} ms, within half the ${LOCK_MS} ms lock`);
  t.same(cut.get(remote), { errorCode: 0, acquired: [], carried: [] }, 'without the record it could not read');
  t.same(cut.get(local), { errorCode: 0, acquired: [[0, 2]], carried: [0] }, 'the partition led here: its released record, with its batch');
  t.equal(await acquiredWhen(remote, (n) => n === 2), 2, `${TOPIC}-${remote}'s offset 0 is not held: given back (A holds its 1 and 2)`);

  world.network.heal(`b${coordinatorId}`, `b${leader}`);
  const healed = await fetch([remote]);
  t.same(healed.get(remote), { errorCode: 0, acquired: [[0, 2]], carried: [0] }, 'after the heal: offset 0, its second delivery (the one never made is not counted), with its batch');
});

t.test('a read that fails: the record is left out and stays locked, the fetch waits instead of spinning, and the attempt counts once the lock ends', async (t) => {
  const { world, coordinatorId, leaders, remote, fetch, acquiredWhen } = await holdingAll(t, 7);
  if (remote < 0) return t.fail(`no partition led by a broker other than the coordinator (${coordinatorId})`);
  const leader = leaders[remote]!;
  world.network.partition(`b${coordinatorId}`, `b${leader}`, 'reset');
  const failed = (await fetch([remote])).get(remote)!;
  t.same([failed.acquired, failed.carried], [[], []], 'the record is not handed out without its bytes');
  t.equal(await acquiredWhen(remote, (n) => n === 3), 3, 'it stays locked (A holds all three there)');
  const startedMs = world.clock.nowMs();
  const waited = (await fetch([remote], 1000)).get(remote)!;
  t.same(waited.acquired, [], 'a fetch meanwhile acquires nothing');
  t.ok(world.clock.nowMs() - startedMs >= 1000, `and waits out its maxWaitMs (${world.clock.nowMs() - startedMs} ms) instead of answering at once`);
  world.network.heal(`b${coordinatorId}`, `b${leader}`);
  await world.run(LOCK_MS, 10);
  const after = (await fetch([remote])).get(remote)!;
  // A's other locks there (offsets 1 and 2, from the first fetch) ended meanwhile too.
  t.same([after.acquired, after.carried], [[[0, 3], [1, 2], [2, 2]], [0, 1, 2]], 'once its lock ended: offset 0 again, its third delivery (the failed one counted), with its batch');
});

t.test('a partition with no leader: nothing of it is acquired, so no delivery is counted', async (t) => {
  const { cluster, world, coordinatorId, leaders, remote, fetch, acquiredWhen } = await holdingAll(t, 7);
  if (remote < 0) return t.fail(`no partition led by a broker other than the coordinator (${coordinatorId})`);
  const leader = leaders[remote]!;
  await world.settle(cluster.brokers.get(leader)!.close());
  cluster.brokers.delete(leader);
  // Once the controller has fenced the closed broker the partition has no leader (its one replica is gone): wait for the coordinator to know.
  const coordinator = cluster.clientOf(`b${coordinatorId}`);
  let leaderNow = leader;
  for (let i = 0; i < 60 && leaderNow === leader; i++) {
    await world.run(250, 5);
    const md = await world.settle(coordinator.request('Metadata', { topics: [TOPIC], allowAutoTopicCreation: false, includeInternal: false }));
    leaderNow = md.topics[0]!.partitions[remote]!.leader;
  }
  t.equal(leaderNow, -1, `${TOPIC}-${remote} has no leader`);
  const answer = (await fetch([remote])).get(remote)!;
  t.not(answer.errorCode, 0, `the partition answers an error (${answer.errorCode})`);
  t.same([answer.acquired, answer.carried], [[], []], 'and acquires nothing');
  t.equal(await acquiredWhen(remote, () => true), 2, 'offset 0 stays available: A holds only 1 and 2 there');
});
