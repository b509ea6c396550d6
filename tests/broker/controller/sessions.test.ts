/**
 * The controller's broker sessions on a ManualClock, over the `local` store
 * on a simulated disk: registration (epoch = the entry's version, fenced
 * until caught up), heartbeats, STALE_BROKER_EPOCH, DUPLICATE_BROKER_REGISTRATION,
 * INCONSISTENT_CLUSTER_ID, a missed session fencing the broker and moving
 * its leaderships with bumped epochs, its return, a closed connection
 * ending the session early, controlled shutdown, and AlterPartition's checks.
 */
import t from 'tap';
import { controllerRig as rig } from '../../support/controller-rig.js';

t.test('registration, unfencing, stale epochs, duplicates and another cluster', async (t) => {
  const { store, controller, register, heartbeat, epochs } = await rig(t);
  const epoch = await register(1);
  t.equal(epoch, store.image.version, 'the broker epoch is the version of its registration entry');
  t.equal(store.image.brokers.get(1)!.fenced, true, 'a broker registers fenced');
  t.same(await controller.heartbeat({ brokerId: 1, brokerEpoch: epoch, metadataVersion: epoch - 1 }), { fenced: true, shouldShutDown: false }, 'not caught up to its registration: stays fenced');
  t.same(await heartbeat(1), { fenced: false, shouldShutDown: false }, 'caught up: unfenced');
  t.equal(store.image.brokers.get(1)!.fenced, false);

  await t.rejects(controller.heartbeat({ brokerId: 1, brokerEpoch: epoch - 1, metadataVersion: 99 }), { name: 'ProtocolError', message: /^STALE_BROKER_EPOCH/ }, 'a stale broker epoch is refused');
  await t.rejects(controller.heartbeat({ brokerId: 7, brokerEpoch: 1, metadataVersion: 99 }), { name: 'ProtocolError', message: /^STALE_BROKER_EPOCH/ }, 'an unregistered broker is refused');
  await t.rejects(register(1, 'another-process'), { name: 'ProtocolError', message: /^DUPLICATE_BROKER_REGISTRATION/ }, 'another incarnation while the session lives');
  await t.rejects(controller.registerBroker({ brokerId: 2, clusterId: 'cluster-b', incarnationId: 'x', host: 'h', port: 1, rack: null }), { name: 'ProtocolError', message: /^INCONSISTENT_CLUSTER_ID/ });

  const again = await register(1);
  t.ok(again > epoch, 'the same incarnation registering again gets a larger epoch');
  await t.rejects(controller.heartbeat({ brokerId: 1, brokerEpoch: epoch, metadataVersion: 99 }), { name: 'ProtocolError', message: /^STALE_BROKER_EPOCH/ }, 'the old epoch is stale now');
  t.equal(epochs.get(1), again);
});

t.test('a missed session fences the broker, moves its leaderships with bumped epochs; its return unfences it', async (t) => {
  const { store, controller, register, heartbeat, run } = await rig(t);
  for (const id of [1, 2, 3]) {
    await register(id);
    await heartbeat(id);
  }
  await controller.createTopic({ name: 't', partitions: 3, replicationFactor: 3, configs: {} });
  const before = store.image.topics.get('t')!.partitionStates;
  t.same(before.map((s) => s.leader).sort(), [1, 2, 3], 'one leader per broker');
  t.ok(before.every((s) => s.isr.length === 3), 'ISR = replicas');

  await run(8000, [1, 2, 3]);
  t.equal(store.image.brokers.get(2)!.fenced, false, 'heartbeating brokers stay unfenced');
  await run(10_000, [1, 3]);
  t.equal(store.image.brokers.get(2)!.fenced, true, 'broker 2 is fenced after missing its session');
  const after = store.image.topics.get('t')!.partitionStates;
  before.forEach((was, p) => {
    const now = after[p]!;
    t.notOk(now.isr.includes(2), `p${p}: broker 2 left the ISR`);
    if (was.leader === 2) {
      t.not(now.leader, 2, `p${p}: a new leader`);
      t.ok(was.isr.includes(now.leader), `p${p}: the new leader was in the ISR`);
      t.equal(now.leaderEpoch, was.leaderEpoch + 1, `p${p}: leader epoch bumped`);
    } else t.equal(now.leaderEpoch, was.leaderEpoch, `p${p}: leader kept, leader epoch kept`);
    t.ok(now.partitionEpoch > was.partitionEpoch, `p${p}: partition epoch bumped`);
  });

  t.same(await heartbeat(2), { fenced: false, shouldShutDown: false }, 'broker 2 heartbeats again, caught up: unfenced');
});

t.test('AlterPartition: epochs, the ISR rules, and eligibility', async (t) => {
  const { store, controller, register, heartbeat, epochs } = await rig(t);
  for (const id of [1, 2, 3]) {
    await register(id);
    await heartbeat(id);
  }
  await controller.createTopic({ name: 't', partitions: 1, replicationFactor: 3, configs: {} });
  const topic = store.image.topics.get('t')!;
  const state = topic.partitionStates[0]!;
  const leader = state.leader;
  const other = state.replicas.find((id) => id !== leader)!;
  const ask = (p: { leaderEpoch?: number; partitionEpoch?: number; newIsr: number[] }, brokerId = leader) =>
    controller.alterPartition({ brokerId, brokerEpoch: epochs.get(brokerId)!, topics: [{ name: 't', topicId: topic.topicId, partitions: [{ partition: 0, leaderEpoch: p.leaderEpoch ?? state.leaderEpoch, partitionEpoch: p.partitionEpoch ?? state.partitionEpoch, newIsr: p.newIsr }] }] });
  const codeOf = async (p: Parameters<typeof ask>[0], brokerId?: number) => (await ask(p, brokerId)).topics[0]!.partitions[0]!.errorCode;

  t.equal(await codeOf({ newIsr: [leader] }, other), 6, 'not the leader: NOT_LEADER_OR_FOLLOWER');
  t.equal(await codeOf({ leaderEpoch: state.leaderEpoch + 1, newIsr: [leader] }), 74, 'another leader epoch: FENCED_LEADER_EPOCH');
  t.equal(await codeOf({ partitionEpoch: state.partitionEpoch + 1, newIsr: [leader] }), 95, 'another partition epoch: INVALID_UPDATE_VERSION');
  t.equal(await codeOf({ newIsr: [other] }), 42, 'an ISR without the leader: INVALID_REQUEST');
  await t.rejects(controller.alterPartition({ brokerId: leader, brokerEpoch: 1, topics: [] }), { name: 'ProtocolError', message: /^STALE_BROKER_EPOCH/ });

  const shrunk = await ask({ newIsr: [leader] });
  t.same(shrunk.topics[0]!.partitions[0]!.isr, [leader], 'the shrink is committed');
  const now = store.image.topics.get('t')!.partitionStates[0]!;
  t.same([now.isr, now.partitionEpoch, now.leaderEpoch], [[leader], state.partitionEpoch + 1, state.leaderEpoch], 'partition epoch bumped, leader epoch kept');

  t.equal(await codeOf({ newIsr: [leader, other] }), 95, 'the old partition epoch is stale now');
  await store.commit([{ kind: 'brokerFenced', brokerId: other, brokerEpoch: epochs.get(other)! }]);
  t.equal(await codeOf({ partitionEpoch: now.partitionEpoch, newIsr: [leader, other] }), 107, 'a fenced broker may not join: INELIGIBLE_REPLICA');
});

t.test('a closed connection ends the session after broker.session.disconnect.timeout.ms unless the broker heartbeats again', async (t) => {
  const { store, controller, register, heartbeat, epochs, run } = await rig(t, { 'broker.session.disconnect.timeout.ms': 2000 });
  for (const id of [1, 2, 3]) {
    await register(id);
    await heartbeat(id);
  }
  await controller.createTopic({ name: 't', partitions: 3, replicationFactor: 3, configs: {} });
  const ledBy2 = store.image.topics.get('t')!.partitionStates.findIndex((s) => s.leader === 2);

  controller.connectionLost(2, epochs.get(2)!);
  await run(1500, [1, 3]);
  t.equal(store.image.brokers.get(2)!.fenced, false, 'within the disconnect timeout: still unfenced');
  await run(1500, [1, 3]);
  t.equal(store.image.brokers.get(2)!.fenced, true, 'past the disconnect timeout (far short of the 9000 ms session): fenced');
  t.not(store.image.topics.get('t')!.partitionStates[ledBy2]!.leader, 2, 'its leadership moved');

  // A broker that reconnects and heartbeats in time keeps its session.
  const stateOf1 = () => store.image.topics.get('t')!.partitionStates.map((s) => [s.leader === 1, s.isr.includes(1)]);
  const held = stateOf1();
  controller.connectionLost(1, epochs.get(1)!);
  await run(1000, [3]);
  await heartbeat(1);
  await run(4000, [1, 3]);
  t.equal(store.image.brokers.get(1)!.fenced, false, 'heard from again within the timeout: the early end is cancelled');
  t.same(stateOf1(), held, 'it was never fenced: it kept its leaderships and ISR places');

  // A stale epoch's connection closing says nothing about the broker's current registration.
  const old = epochs.get(3)!;
  await register(3);
  await heartbeat(3);
  controller.connectionLost(3, old);
  await run(3000, [1]);
  t.equal(store.image.brokers.get(3)!.fenced, false, 'a closed connection of an older epoch changes nothing');
});

t.test('broker.session.disconnect.timeout.ms=0: a closed connection changes nothing', async (t) => {
  const { store, controller, register, heartbeat, epochs, run } = await rig(t, { 'broker.session.disconnect.timeout.ms': 0 });
  for (const id of [1, 2]) {
    await register(id);
    await heartbeat(id);
  }
  controller.connectionLost(2, epochs.get(2)!);
  await run(8000, [1]);
  t.equal(store.image.brokers.get(2)!.fenced, false, 'fenced only at the session timeout');
  await run(2000, [1]);
  t.equal(store.image.brokers.get(2)!.fenced, true);
});

t.test('controlled shutdown: leaderships move and the ISR shrinks at once; shouldShutDown once applied; never unfenced again', async (t) => {
  const { store, controller, register, heartbeat, epochs, run } = await rig(t);
  for (const id of [1, 2, 3]) {
    await register(id);
    await heartbeat(id);
  }
  await controller.createTopic({ name: 't', partitions: 3, replicationFactor: 3, configs: {} });
  const before = store.image.topics.get('t')!.partitionStates;
  const applied = store.image.version;
  const ask = (metadataVersion: number) => controller.heartbeat({ brokerId: 2, brokerEpoch: epochs.get(2)!, metadataVersion, wantShutDown: true });

  t.same(await ask(applied), { fenced: true, shouldShutDown: false }, 'fenced at once; not yet applied by the broker: keep going');
  const moved = store.image.version;
  t.ok(moved > applied, 'the move is committed');
  t.equal(store.image.brokers.get(2)!.fenced, true);
  const after = store.image.topics.get('t')!.partitionStates;
  before.forEach((was, p) => {
    const now = after[p]!;
    t.notOk(now.isr.includes(2), `p${p}: broker 2 left the ISR`);
    if (was.leader === 2) {
      t.ok(now.leader !== 2 && was.isr.includes(now.leader), `p${p}: a new leader from the ISR`);
      t.equal(now.leaderEpoch, was.leaderEpoch + 1, `p${p}: leader epoch bumped`);
    }
  });
  t.same(await ask(moved - 1), { fenced: true, shouldShutDown: false }, 'asked again before applying it: not yet');
  t.equal(store.image.version, moved, 'asking again commits nothing more');
  t.same(await ask(moved), { fenced: true, shouldShutDown: true }, 'applied: it may stop');

  t.same(await heartbeat(2), { fenced: true, shouldShutDown: false }, 'a regular heartbeat of the same epoch does not unfence it');
  t.equal(store.image.brokers.get(2)!.fenced, true);
  await run(10_000, [1, 3]);
  t.equal(store.image.version, moved, 'its ended session fences nothing again');

  const epoch = await register(2);
  t.ok(epoch > moved, 'restarted, it registers with a new epoch at once (no live session holds the id)');
  t.same(await heartbeat(2), { fenced: false, shouldShutDown: false }, 'and is unfenced when caught up');
});
