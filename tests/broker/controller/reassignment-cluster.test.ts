/**
 * Partition reassignment on a whole cluster in one process (a controller and
 * four brokers on a MemoryNetwork and a ManualClock, the client SDK on the
 * same world):
 * - [1,2,3] -> [2,3,4] while an acks=all producer keeps sending and a
 *   consumer reads: while broker 4 cannot reach the leader the move waits
 *   with the union as replicas and the old ones in place; once 4 is in the
 *   ISR the move completes, broker 1 (the leader) leaves with a new leader
 *   epoch, and its copy is deleted; every acknowledged record is on 2, 3 and
 *   4 at its acknowledged offset, in order, and the consumer read them all;
 * - a cancelled move reverts, and the added replica's copy is deleted;
 * - a move survives a controller restart and completes after it;
 * - preferred-leader election: after a broker returns, ElectLeaders gives
 *   it its leaderships back (on demand), and so does the automatic check.
 */
import t, { type Test } from 'tap';
import { Runnel, type Message } from '../../../client/index.js';
import { Ledger } from '../../support/ledger.js';
import { startInProcessCluster, type InProcessCluster } from '../../support/in-process-cluster.js';
import { simulatedReplica } from '../../support/simulated-replica.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const SETTINGS = { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.lag.time.max.ms': 3000, 'auto.leader.rebalance.enable': 'false' };

async function clusterWithClient(t: Test, seed: number, settings: Record<string, string | number> = {}): Promise<{ cluster: InProcessCluster; runnel: Runnel }> {
  const cluster = await startInProcessCluster(t, { seed, brokers: 4, settings: { ...SETTINGS, ...settings } });
  const { world } = cluster;
  const runnel = new Runnel({ bootstrap: ['b1:9092', 'b2:9092', 'b3:9092', 'b4:9092'], logger: silent, requestTimeoutMs: 3000, connectTimeoutMs: 1000 }, { transport: world.network.node('client-1'), clock: world.clock, rng: world.rng });
  t.teardown(() => world.settle(runnel.close()).catch(() => undefined));
  return { cluster, runnel };
}

/** Moves simulated time until `test` holds, checking every `everyMs`, at most `maxMs`. */
async function until(cluster: InProcessCluster, test: () => Promise<boolean>, maxMs: number, everyMs = 100): Promise<boolean> {
  for (let waited = 0; waited <= maxMs; waited += everyMs) {
    if (await test()) return true;
    await cluster.world.run(everyMs, 5);
  }
  return false;
}

t.test('[1,2,3] -> [2,3,4] under acks=all load: the old replicas stay until 4 is in the ISR, then the leader moves with a new epoch and 1 deletes its copy; nothing acknowledged is lost', async (t) => {
  const { cluster, runnel } = await clusterWithClient(t, 31);
  const { world } = cluster;
  const admin = runnel.admin();
  await world.settle(admin.createTopic({ name: 'move', partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': '2' } }));
  await world.run(300, 5);
  const before = (await world.settle(admin.describeTopic('move'))).partitions[0]!;
  t.same(before.replicas, [1, 2, 3], 'placed on 1, 2, 3');
  t.equal(before.leader, 1);

  // Load: one acks=all send every 10 simulated ms, and a consumer reading all along.
  const ledger = new Ledger(() => world.clock.nowMs());
  const producer = runnel.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 20_000, requestTimeoutMs: 3000 });
  let sent = 0;
  let pumping = true;
  const sends: Promise<unknown>[] = [];
  const pump = (): void => {
    if (!pumping) return;
    const value = `v${sent++}`;
    ledger.sent('p', value, 0);
    sends.push(producer.send({ topic: 'move', messages: [{ value, partition: 0 }] }).then((m) => ledger.acked(value, m[0]!.offset), (e: unknown) => ledger.failed(value, e)));
    world.clock.schedule(10, pump);
  };
  pump();
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'move', partition: 0, offset: 'earliest' }]);
  const consumed: Message[] = [];
  const reading = (async () => {
    for await (const message of consumer) consumed.push(message);
  })();
  await world.run(500, 5);

  // Broker 4 cannot reach the leader: the move is recorded and waits.
  world.network.partition('b4', 'b1');
  const outcomes = await world.settle(admin.alterPartitionReassignments([{ topic: 'move', partition: 0, replicas: [2, 3, 4] }]));
  t.same(outcomes, [{ topic: 'move', partition: 0, error: null }], 'accepted');
  await world.run(1000, 5);
  const moving = await world.settle(admin.listPartitionReassignments());
  t.same(moving.reassignments, [{ topic: 'move', partition: 0, replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1], isr: [1, 2, 3], leader: 1 }], 'in progress: replicas = target + removing, 4 not in the ISR yet, 1 still leads');
  t.ok((await simulatedReplica(cluster.disks.get(1)!, 'move', 0))!.length > 0, 'broker 1 keeps its copy meanwhile');

  world.network.heal('b4', 'b1');
  t.ok(await until(cluster, async () => (await world.settle(admin.listPartitionReassignments())).reassignments.length === 0, 10_000), 'the move completes once 4 caught up');
  await world.run(500, 5);
  const after = (await world.settle(admin.describeTopic('move'))).partitions[0]!;
  t.same(after.replicas, [2, 3, 4], 'replicas are the target');
  t.same([...after.isr].sort(), [2, 3, 4], 'ISR the target');
  t.equal(after.leader, 2, 'the removed leader 1 handed over to the first target replica in the ISR');
  t.ok(after.leaderEpoch > before.leaderEpoch, `with a new leader epoch (${before.leaderEpoch} -> ${after.leaderEpoch})`);
  t.equal(await simulatedReplica(cluster.disks.get(1)!, 'move', 0), null, 'broker 1 deleted its copy');

  await world.run(500, 5);
  pumping = false;
  await world.settle(Promise.all(sends), { stepMs: 5, maxSteps: 10_000 });
  await world.settle(producer.close());
  const acked = ledger.entries().filter((e) => e.status === 'acked');
  t.ok(acked.length > 100, `${acked.length} of ${sent} sends acknowledged, some after the move`);
  t.ok(acked.some((e) => e.ackedAt! > world.clock.nowMs() - 1200), 'including sends acknowledged by the new leader');
  const highest = Math.max(...acked.map((e) => e.offset!));
  t.ok(await until(cluster, async () => consumed.some((m) => m.offset >= highest), 5000), 'the consumer reads up to the last acknowledged offset');
  await world.settle(consumer.close());
  await reading;

  for (const id of [2, 3, 4]) {
    const records = (await simulatedReplica(cluster.disks.get(id)!, 'move', 0))!;
    const report = ledger.check(records.map((r) => ({ partition: 0, offset: r.offset, value: r.value! })));
    t.ok(report.ok, `broker ${id} holds every acknowledged record at its offset, in order: ${report.violations.join('; ') || 'ok'}`);
    t.equal(report.lost.count, 0);
  }
  const read = ledger.check(consumed.map((m) => ({ partition: 0, offset: m.offset, value: m.value!.toString() })));
  t.ok(read.ok, `the consumer read every acknowledged record, in order: ${read.violations.join('; ') || 'ok'}`);
  t.equal(read.duplicates.count, 0, 'each once');
});

t.test('cancel reverts to the original replicas and the added replica deletes its copy; bad targets are refused clearly', async (t) => {
  const { cluster, runnel } = await clusterWithClient(t, 32);
  const { world } = cluster;
  const admin = runnel.admin();
  await world.settle(admin.createTopic({ name: 'c', partitions: 2, replicationFactor: 3 }));
  await world.run(300, 5);
  const original = (await world.settle(admin.describeTopic('c'))).partitions[0]!;
  const newcomer = [1, 2, 3, 4].find((id) => !original.replicas.includes(id))!;
  const leader = original.leader;
  world.network.partition(`b${newcomer}`, `b${leader}`);
  const target = [newcomer, ...original.replicas.slice(1)];
  t.same(await world.settle(admin.alterPartitionReassignments([{ topic: 'c', partition: 0, replicas: target }])), [{ topic: 'c', partition: 0, error: null }]);
  await world.run(1000, 5);
  t.ok((await simulatedReplica(cluster.disks.get(newcomer)!, 'c', 0)) !== null, `broker ${newcomer} created its copy`);

  const bad = await world.settle(admin.alterPartitionReassignments([
    { topic: 'c', partition: 1, replicas: [1, 1, 2] },
    { topic: 'c', partition: 1, replicas: [1, 9] },
    { topic: 'c', partition: 7, replicas: [1] },
    { topic: 'c', partition: 1, replicas: null },
  ]));
  t.match(bad, [
    { partition: 1, error: { name: 'INVALID_REPLICA_ASSIGNMENT', message: /name broker 1 more than once/ } },
    { partition: 1, error: { name: 'INVALID_REQUEST', message: /named more than once/ } },
    { partition: 7, error: { name: 'UNKNOWN_TOPIC_OR_PARTITION', message: /partitions 0 to 1, not 7/ } },
    { partition: 1, error: { name: 'INVALID_REQUEST' } },
  ], 'per-partition errors that say what is wrong');
  const unknownBroker = await world.settle(admin.alterPartitionReassignments([{ topic: 'c', partition: 1, replicas: [1, 9] }]));
  t.match(unknownBroker, [{ error: { name: 'INVALID_REPLICA_ASSIGNMENT', message: /broker\(s\) 9, which are not registered \(registered: 1, 2, 3, 4\)/ } }]);
  const nothingToCancel = await world.settle(admin.alterPartitionReassignments([{ topic: 'c', partition: 1, replicas: null }]));
  t.match(nothingToCancel, [{ error: { name: 'NO_REASSIGNMENT_IN_PROGRESS' } }]);

  t.same(await world.settle(admin.alterPartitionReassignments([{ topic: 'c', partition: 0, replicas: null }])), [{ topic: 'c', partition: 0, error: null }], 'cancelled');
  world.network.heal(`b${newcomer}`, `b${leader}`);
  await world.run(1000, 5);
  t.same((await world.settle(admin.listPartitionReassignments())).reassignments, [], 'nothing in progress');
  const reverted = (await world.settle(admin.describeTopic('c'))).partitions[0]!;
  t.same([...reverted.replicas].sort(), [...original.replicas].sort(), 'back on the original replicas');
  t.equal(reverted.leader, leader, 'the leader kept');
  t.equal(reverted.leaderEpoch, original.leaderEpoch, 'with its epoch');
  t.equal(await simulatedReplica(cluster.disks.get(newcomer)!, 'c', 0), null, `broker ${newcomer} deleted its copy`);
});

t.test('a move survives a controller restart, and completes after it', async (t) => {
  const { cluster, runnel } = await clusterWithClient(t, 33);
  const { world } = cluster;
  const admin = runnel.admin();
  await world.settle(admin.createTopic({ name: 'r', partitions: 1, replicationFactor: 2 }));
  await world.run(300, 5);
  const before = (await world.settle(admin.describeTopic('r'))).partitions[0]!;
  const producer = runnel.producer({ acks: 'all', lingerMs: 0 });
  for (let i = 0; i < 20; i++) await world.settle(producer.send({ topic: 'r', messages: [{ value: `r${i}` }] }));
  const target = [3, 4];
  world.network.partition('b3', `b${before.leader}`);
  world.network.partition('b4', `b${before.leader}`);
  t.same(await world.settle(admin.alterPartitionReassignments([{ topic: 'r', partition: 0, replicas: target }])), [{ topic: 'r', partition: 0, error: null }]);
  await world.run(500, 5);
  await cluster.restartController();
  const listed = await world.settle(admin.listPartitionReassignments());
  t.match(listed.reassignments, [{ topic: 'r', partition: 0, addingReplicas: target.filter((id) => !before.replicas.includes(id)) }], 'the restarted controller still knows the move (it is in the metadata)');
  world.network.heal('b3', `b${before.leader}`);
  world.network.heal('b4', `b${before.leader}`);
  t.ok(await until(cluster, async () => (await world.settle(admin.listPartitionReassignments())).reassignments.length === 0, 15_000), 'completed after the restart');
  await world.run(500, 5);
  const after = (await world.settle(admin.describeTopic('r'))).partitions[0]!;
  t.same(after.replicas, target);
  for (const id of target) t.same((await simulatedReplica(cluster.disks.get(id)!, 'r', 0))!.map((r) => r.value), Array.from({ length: 20 }, (_, i) => `r${i}`), `broker ${id} has the 20 records`);
  await world.settle(producer.close());
});

t.test('preferred leaders: a returning broker gets its leaderships back with ElectLeaders, and by the automatic check', async (t) => {
  const { cluster, runnel } = await clusterWithClient(t, 34, { 'auto.leader.rebalance.enable': 'true', 'leader.imbalance.check.interval.seconds': 5 });
  const { world } = cluster;
  const admin = runnel.admin();
  await world.settle(admin.createTopic({ name: 'p', partitions: 4, replicationFactor: 3 }));
  await world.run(300, 5);
  const leadersOf = async (): Promise<number[]> => (await world.settle(admin.describeTopic('p'))).partitions.map((p) => p.leader);
  const preferred = (await world.settle(admin.describeTopic('p'))).partitions.map((p) => p.replicas[0]!);
  t.same(await leadersOf(), preferred, 'created with the preferred replicas leading');
  const notNeeded = await world.settle(admin.electLeaders({ partitions: [{ topic: 'p', partition: 0 }] }));
  t.match(notNeeded, [{ topic: 'p', partition: 0, error: { name: 'ELECTION_NOT_NEEDED' } }]);

  // Broker 2 stops and comes back: its partitions are led by others.
  const led = preferred.filter((id) => id === 2).length;
  t.ok(led > 0, 'broker 2 is a preferred leader');
  await world.settle(cluster.brokers.get(2)!.close());
  cluster.brokers.delete(2);
  await world.run(500, 5);
  await cluster.startBroker(2);
  t.ok(await until(cluster, async () => (await world.settle(admin.describeTopic('p'))).partitions.every((p) => p.isr.length === 3), 10_000, 200), 'broker 2 back in every ISR');
  t.ok((await leadersOf()).every((id) => id !== 2), 'broker 2 leads nothing after its return');
  const elected = await world.settle(admin.electLeaders({ partitions: [{ topic: 'p', partition: preferred.indexOf(2) }] }));
  t.same(elected, [{ topic: 'p', partition: preferred.indexOf(2), error: null }], 'elected on demand');
  await world.run(200, 5);
  t.equal((await leadersOf())[preferred.indexOf(2)], 2, 'broker 2 leads it again');

  // Again, and let the automatic check (every 5 s) do it.
  await world.settle(cluster.brokers.get(2)!.close());
  cluster.brokers.delete(2);
  await world.run(500, 5);
  await cluster.startBroker(2);
  t.ok(await until(cluster, async () => (await world.settle(admin.describeTopic('p'))).partitions.every((p) => p.isr.length === 3), 10_000, 200));
  t.ok(await until(cluster, async () => JSON.stringify(await leadersOf()) === JSON.stringify(preferred), 8000, 250), 'the automatic check gave every preferred leader back');
});

t.test('the reassignment throttle bounds the copy rate to an added replica, measured over simulated time; removing it lets the copy finish', async (t) => {
  const { cluster, runnel } = await clusterWithClient(t, 35);
  const { world } = cluster;
  const admin = runnel.admin();
  await world.settle(admin.createTopic({ name: 'slow', partitions: 1, replicationFactor: 1 }));
  await world.run(300, 5);
  const from = (await world.settle(admin.describeTopic('slow'))).partitions[0]!.replicas[0]!;
  const to = from === 4 ? 3 : 4;
  const producer = runnel.producer({ acks: 'all', lingerMs: 0 });
  const value = 'x'.repeat(1000);
  const RECORDS = 300;
  for (let i = 0; i < RECORDS; i += 10) await world.settle(producer.send({ topic: 'slow', messages: Array.from({ length: 10 }, () => ({ value })) }));
  await world.settle(producer.close());

  const RATE = 40_000;
  const copied = async (): Promise<number> => ((await simulatedReplica(cluster.disks.get(to)!, 'slow', 0)) ?? []).length * value.length;
  t.same(await world.settle(admin.alterPartitionReassignments([{ topic: 'slow', partition: 0, replicas: [from, to] }], { throttleBytesPerSecond: RATE })), [{ topic: 'slow', partition: 0, error: null }]);
  t.equal((await world.settle(admin.listPartitionReassignments())).throttleBytesPerSecond, RATE, 'the throttle is in force');
  const start = world.clock.nowMs();
  const samples: string[] = [];
  for (let second = 1; second <= 4; second++) {
    await world.run(1000, 5);
    const bytes = await copied();
    const elapsed = (world.clock.nowMs() - start) / 1000;
    samples.push(`${elapsed}s: ${bytes}`);
    // One second's worth of burst and one batch (10 records) of overdraft at most, on top of the rate.
    t.ok(bytes <= RATE * elapsed + RATE + 10 * 1100, `after ${elapsed} s, ${bytes} bytes copied: within ${RATE} bytes/s (+ burst)`);
  }
  const after4 = await copied();
  t.ok(after4 >= RATE * 2, `the copy progresses at about the rate (${samples.join(', ')})`);
  t.ok(after4 < RECORDS * value.length, 'and has not finished: the throttle held it back');

  await world.settle(admin.alterPartitionReassignments([], { throttleBytesPerSecond: 0 }));
  t.ok(await until(cluster, async () => (await world.settle(admin.listPartitionReassignments())).reassignments.length === 0, 3000), 'unthrottled, the copy finishes within moments');
  t.equal(await copied(), RECORDS * value.length, 'every record copied');
});
