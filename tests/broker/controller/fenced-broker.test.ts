/**
 * A fenced broker refuses produce and keeps serving reads (CLUSTER.md
 * "Broker lifecycle"): a controller and three brokers in one process on a
 * MemoryNetwork and a ManualClock. The leader of a partition is cut off
 * from the controller (clients still reach it): once its heartbeats have
 * gone unanswered for the session timeout it answers produce with
 * NOT_LEADER_OR_FOLLOWER (without that, it would acknowledge acks=1 writes
 * that the new leader never sees), while a consumer still reads what it
 * has; healed, it learns it follows now, and the new leader takes writes.
 */
import t from 'tap';
import type { Connection } from '../../../client/connection.js';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { decodeBatch } from '../../../protocol/batch/index.js';
import { walkBatches } from '../../../client/consumer/records.js';
import { Errors } from '../../../protocol/errors.js';
import { startInProcessCluster } from '../../support/in-process-cluster.js';

t.test('a broker cut off from its controller refuses produce once its session has lapsed, serves reads, and rejoins as a follower', async (t) => {
  const { world, clientOf } = await startInProcessCluster(t, { seed: 21, brokers: 3, settings: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500 } });
  const clients = new Map([1, 2, 3].map((id) => [id, clientOf(`b${id}`)]));
  const client = (id: number): Connection => clients.get(id)!;
  const leaderOf = async (via: number): Promise<{ leader: number; leaderEpoch: number }> => {
    const m = await world.settle(client(via).request('Metadata', { topics: ['fence'], allowAutoTopicCreation: false, includeInternal: false }));
    return m.topics[0]!.partitions[0]!;
  };
  const produce = async (id: number, values: string[], acks = 1) => {
    const records = buildBatch(values.map((value) => ({ key: null, value: Buffer.from(value) })), { nowMs: world.clock.nowMs() });
    const response = await world.settle(client(id).request('Produce', { acks, timeoutMs: 5000, topics: [{ name: 'fence', partitions: [{ partition: 0, records }] }] }));
    return response.topics[0]!.partitions[0]!;
  };
  const consume = async (id: number) => {
    const response = await world.settle(client(id).request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: 'fence', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }));
    return response.topics[0]!.partitions[0]!;
  };

  const created = await world.settle(client(1).request('CreateTopics', { topics: [{ name: 'fence', partitions: 1, replicationFactor: 3, configs: [] }], timeoutMs: 5000, validateOnly: false }));
  t.equal(created.topics[0]!.errorCode, 0);
  await world.run(200, 5);
  const { leader, leaderEpoch } = await leaderOf(1);
  t.equal((await produce(leader, ['a', 'b'])).errorCode, Errors.NONE.code, 'the leader takes writes while its session lives');
  await world.run(1000, 5);
  t.equal((await consume(leader)).highWatermark, 2, 'replicated: HW 2');

  world.network.partition(`b${leader}`, 'controller');
  await world.run(1000, 5);
  t.equal((await produce(leader, ['within-lease'])).errorCode, Errors.NONE.code, 'within its lease the cut-off leader still takes writes');
  await world.run(3000, 5);
  const refused = await produce(leader, ['after-lease']);
  t.equal(refused.errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code, 'past the session timeout: NOT_LEADER_OR_FOLLOWER');
  t.match(refused.errorMessage, /takes no writes: no heartbeat was answered/, 'saying why');
  // acks=all needs no lease: the deposed leader may append it, but can never acknowledge it (its followers left).
  const unacknowledged = await produce(leader, ['zombie-all'], -1);
  t.not(unacknowledged.errorCode, Errors.NONE.code, `an acks=all write to the cut-off leader is never acknowledged (${unacknowledged.errorMessage})`);
  const read = await consume(leader);
  t.equal(read.errorCode, Errors.NONE.code, 'reads of what it has are still served');
  t.ok(read.records.length > 0, 'with records');

  const elsewhere = (await leaderOf(leader === 1 ? 2 : 1));
  t.not(elsewhere.leader, leader, 'the controller moved the leadership');
  t.ok(elsewhere.leaderEpoch > leaderEpoch, 'with a bumped epoch');
  t.equal((await produce(elsewhere.leader, ['new-leader'])).errorCode, Errors.NONE.code, 'the new leader takes writes');

  world.network.heal(`b${leader}`, 'controller');
  await world.run(3000, 5);
  const back = await produce(leader, ['x']);
  t.equal(back.errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code, 'healed, the old leader knows it follows');
  t.match(back.errorMessage, /follows fence-0/);
  const values = (await consume(elsewhere.leader)).records.flatMap((chunk) =>
    walkBatches(chunk).batches.flatMap((b) => decodeBatch(chunk, b.position).records.map((r) => Buffer.from(r.value!).toString())));
  t.notOk(values.includes('zombie-all'), 'the acks=all write the deposed leader took is nowhere in the partition');
  t.ok(values.includes('new-leader'), 'the new leader\'s write is');
});

t.test('a broker whose connection to the controller closes refuses produce once broker.session.disconnect.timeout.ms has passed, not the whole session', async (t) => {
  const { world, clientOf } = await startInProcessCluster(t, { seed: 22, brokers: 3, settings: { 'broker.session.timeout.ms': 8000, 'broker.session.disconnect.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 300 } });
  const client = new Map([1, 2, 3].map((id) => [id, clientOf(`b${id}`)]));
  const created = await world.settle(client.get(1)!.request('CreateTopics', { topics: [{ name: 'fence', partitions: 1, replicationFactor: 3, configs: [] }], timeoutMs: 5000, validateOnly: false }));
  t.equal(created.topics[0]!.errorCode, 0);
  await world.run(200, 5);
  const metadata = await world.settle(client.get(1)!.request('Metadata', { topics: ['fence'], allowAutoTopicCreation: false, includeInternal: false }));
  const leader = metadata.topics[0]!.partitions[0]!.leader;
  const produce = async (values: string[]) => {
    const records = buildBatch(values.map((value) => ({ key: null, value: Buffer.from(value) })), { nowMs: world.clock.nowMs() });
    const response = await world.settle(client.get(leader)!.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: 'fence', partitions: [{ partition: 0, records }] }] }));
    return response.topics[0]!.partitions[0]!;
  };
  t.equal((await produce(['a'])).errorCode, Errors.NONE.code);
  // The controller's side and the broker's both see the connection reset (a crashed controller host, a firewall's RST).
  world.network.partition(`b${leader}`, 'controller', 'reset');
  await world.run(1500, 5);
  const refused = await produce(['b']);
  t.equal(refused.errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code, 'refused 1.5 s after the connection closed, well inside the 8 s session');
  t.match(refused.errorMessage, /takes no writes/);
});
