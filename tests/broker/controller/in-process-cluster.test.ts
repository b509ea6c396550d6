/**
 * A whole cluster in one process on a MemoryNetwork and a ManualClock: the
 * controller process and three brokers (`startController`, `startBroker`
 * with `controller.address`), each on its own simulated disk. An RF 3 topic
 * created through one broker (forwarded to the controller) is placed on all
 * three, and every broker serves the same Metadata for it: three live
 * brokers, the controller's id, leaders balanced, ISR = replicas. A broker
 * that stops cleanly hands its leaderships over before it goes (controlled
 * shutdown; no session timeout waited out) and its close does not wait for
 * its metadata long poll; the moves carry bumped epochs, as every remaining
 * broker then says.
 */
import t from 'tap';
import type { MetadataResponse } from '../../../protocol/messages.js';
import { startInProcessCluster } from '../../support/in-process-cluster.js';

t.test('controller + 3 brokers on one MemoryNetwork: RF 3 placed, described alike by every broker, a stopping broker hands over at once', async (t) => {
  const { world, brokers, clientOf } = await startInProcessCluster(t, { seed: 11, brokers: 3, settings: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500 } });
  const clients = ['b1', 'b2', 'b3'].map(clientOf);
  const metadata = (i: number): Promise<MetadataResponse> => world.settle(clients[i]!.request('Metadata', { topics: ['rf3'], allowAutoTopicCreation: false, includeInternal: false }));

  const created = await world.settle(clients[1]!.request('CreateTopics', { topics: [{ name: 'rf3', partitions: 3, replicationFactor: 3, configs: [] }], timeoutMs: 5000, validateOnly: false }));
  t.same(created.topics.map((r) => [r.errorCode, r.partitions, r.replicationFactor]), [[0, 3, 3]], 'created through broker 2 (forwarded to the controller)');
  const tooMany = await world.settle(clients[0]!.request('CreateTopics', { topics: [{ name: 'rf4', partitions: 1, replicationFactor: 4, configs: [] }], timeoutMs: 5000, validateOnly: false }));
  t.equal(tooMany.topics[0]!.errorCode, 38, 'RF 4 over 3 brokers: INVALID_REPLICATION_FACTOR');
  t.match(tooMany.topics[0]!.errorMessage, /replication factor 4 requested, but only 3 broker/);
  await world.run(200, 5);

  const first = await metadata(0);
  for (const i of [0, 1, 2]) {
    const m = await metadata(i);
    t.same(m.brokers.map((b) => [b.nodeId, b.host]), [[1, 'b1'], [2, 'b2'], [3, 'b3']], `broker ${i + 1} lists the three live brokers`);
    t.equal(m.controllerId, 0, `broker ${i + 1} names the controller`);
    t.same(m.topics, first.topics, `broker ${i + 1} describes rf3 as broker 1 does`);
  }
  const partitions = first.topics[0]!.partitions;
  t.same(partitions.map((p) => p.leader).sort(), [1, 2, 3], 'leaders balanced');
  for (const p of partitions) {
    t.same([...p.replicas].sort(), [1, 2, 3], `p${p.partition} on all three`);
    t.same(p.isr, p.replicas, `p${p.partition}: ISR = replicas`);
    t.equal(p.leaderEpoch, 0);
  }

  // Broker 3 stops (a clean shutdown): a controlled shutdown hands its leaderships over first, and its close does not wait out a 5 s MetadataChanges long poll.
  const closing = world.clock.nowMs();
  await world.settle(brokers.get(3)!.close());
  brokers.delete(3);
  const closeMs = world.clock.nowMs() - closing;
  t.ok(closeMs < 1000, `broker 3 closed in ${closeMs} simulated ms (the long poll waits 5000, the session is 3000)`);
  await world.run(100, 5);
  for (const i of [0, 1]) {
    const m = await metadata(i);
    t.same(m.brokers.map((b) => b.nodeId), [1, 2], `broker ${i + 1}: broker 3 is no longer listed`);
    for (const p of m.topics[0]!.partitions) {
      const was = partitions.find((q) => q.partition === p.partition)!;
      t.notOk(p.isr.includes(3), `p${p.partition}: broker 3 left the ISR`);
      t.same(p.offlineReplicas, [3], `p${p.partition}: replica 3 offline`);
      if (was.leader === 3) {
        t.not(p.leader, 3, `p${p.partition}: moved to a new leader`);
        t.equal(p.leaderEpoch, was.leaderEpoch + 1, `p${p.partition}: leader epoch bumped`);
      } else t.equal(p.leader, was.leader, `p${p.partition}: leader kept`);
    }
  }
});
