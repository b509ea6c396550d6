/**
 * The coordinator's broker SIGKILLed under commits, on real processes (a
 * controller and three brokers): the new leader of the group's
 * `__consumer_offsets` partition becomes its coordinator, with the same
 * members and epochs, and every commit that was acknowledged before the
 * kill (none in doubt is ever shown below the last acknowledged one).
 */
import t from 'tap';
import { Errors } from '../../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest } from '../../../protocol/messages.js';
import { freshDataDir } from '../../support/broker-process.js';
import { FAST_CLUSTER, startProcessCluster } from '../../support/process-cluster.js';
import { RawClient } from '../../support/raw-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function heartbeat(memberId: string, memberEpoch: number, owned: number[] | null): ConsumerGroupHeartbeatRequest {
  return { groupId: 'g', memberId, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1, subscribedTopicNames: memberEpoch === 0 ? ['orders'] : null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: owned === null ? null : [{ topic: 'orders', partitions: owned }] };
}

t.test('SIGKILL of the coordinator\'s broker: the group and every acknowledged commit carry on', async (t) => {
  const cluster = await startProcessCluster(t, { dir: freshDataDir('runnel-coord-'), brokers: 3, flags: [...FAST_CLUSTER, '--set', 'offsets.topic.num.partitions=2'] });
  const clients = new Map<number, RawClient>();
  const clientOf = async (id: number): Promise<RawClient> => {
    let client = clients.get(id);
    if (client === undefined) clients.set(id, (client = await RawClient.connect('127.0.0.1', cluster.ports.get(id)!)));
    return client;
  };
  t.teardown(() => {
    for (const c of clients.values()) c.close();
  });
  const b1 = await clientOf(1);
  t.equal((await b1.request('CreateTopics', { topics: [{ name: 'orders', partitions: 2, replicationFactor: 3, configs: [] }], timeoutMs: 10_000, validateOnly: false })).topics[0]!.errorCode, 0);

  /** Asks `via` (any live broker) for the coordinator until one other than `not` answers (bounded: 30 s). */
  const findCoordinator = async (via: number, not = -1): Promise<number> => {
    for (let i = 0; i < 150; i++) {
      const found = (await (await clientOf(via)).request('FindCoordinator', { keyType: 0, keys: ['g'] })).coordinators[0]!;
      if (found.errorCode === 0 && found.nodeId !== not) return found.nodeId;
      await sleep(200);
    }
    throw new Error('no coordinator');
  };
  const retrying = async <T extends { errorCode: number }>(send: () => Promise<T>): Promise<T> => {
    for (let i = 0; i < 150; i++) {
      const response = await send();
      if (!([Errors.COORDINATOR_LOAD_IN_PROGRESS.code, Errors.NOT_COORDINATOR.code, Errors.COORDINATOR_NOT_AVAILABLE.code] as number[]).includes(response.errorCode)) return response;
      await sleep(200);
    }
    throw new Error('coordinator not ready');
  };

  const first = await findCoordinator(1);
  const coordinator = await clientOf(first);
  const a = await retrying(() => coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', 0, [])));
  t.equal(a.errorCode, 0);
  const partitions = (a.assignment?.topicPartitions ?? []).flatMap((x) => x.partitions);
  t.same(partitions.sort(), [0, 1], 'A alone has both partitions');
  await coordinator.request('ConsumerGroupHeartbeat', heartbeat('A', a.memberEpoch, partitions));

  // Commits one after another until the kill; each acknowledged one must survive it.
  let lastAcked = -1;
  let lastSent = -1;
  let killed = false;
  const committing = (async () => {
    for (let offset = 1; !killed && offset < 100_000; offset++) {
      lastSent = offset;
      try {
        const response = await coordinator.request('OffsetCommit', { groupId: 'g', memberId: 'A', memberEpoch: a.memberEpoch, groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }] });
        if (response.topics[0]!.partitions[0]!.errorCode === 0) lastAcked = offset;
        else return;
      } catch {
        return; // the connection died with the broker
      }
    }
  })();
  for (let i = 0; i < 100 && lastAcked < 20; i++) await sleep(50);
  t.ok(lastAcked >= 20, `commits acknowledged before the kill (${lastAcked})`);
  const before = (await (await clientOf(first === 1 ? 2 : 1)).request('Metadata', { topics: ['__consumer_offsets'], allowAutoTopicCreation: false, includeInternal: true })).topics[0]!;
  t.ok(before.partitions.every((p) => p.replicas.length === 3), '__consumer_offsets has three replicas per partition');
  killed = true;
  cluster.brokers.get(first)!.child.kill('SIGKILL');
  clients.delete(first);
  await committing;
  const acked = lastAcked;

  const via = first === 1 ? 2 : 1;
  const second = await findCoordinator(via, first);
  t.not(second, first, `the coordinator moved from ${first} to ${second}`);
  const next = await clientOf(second);
  const fetched = await retrying(() => next.request('OffsetFetch', { groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitions: [0] }], requireStable: true }));
  const offset = fetched.topics[0]!.partitions[0]!.committedOffset;
  t.ok(offset >= acked && offset <= lastSent, `the committed offset ${offset} is at least the last acknowledged (${acked}) and at most the last sent (${lastSent})`);
  const described = (await next.request('ConsumerGroupDescribe', { groupIds: ['g'] })).groups[0]!;
  t.match(described, { errorCode: 0, groupState: 'Stable', members: [{ memberId: 'A', memberEpoch: a.memberEpoch }] }, 'the member, at its epoch');
  const carryOn = await next.request('ConsumerGroupHeartbeat', heartbeat('A', a.memberEpoch, partitions));
  t.equal(carryOn.errorCode, 0, 'A heartbeats on with the new coordinator');
  const commitAgain = await next.request('OffsetCommit', { groupId: 'g', memberId: 'A', memberEpoch: a.memberEpoch, groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: offset + 1, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  t.equal(commitAgain.topics[0]!.partitions[0]!.errorCode, 0, 'and commits');
});
