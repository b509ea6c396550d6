/**
 * `unclean.leader.election.enable` as a topic setting (default false): the
 * controller accepts it at creation and alteration (refusing a value that
 * is not a boolean), honours it only when no ISR member is live, takes the
 * broker-wide `log.` default too, and elects at once when the setting is
 * turned on for a partition that has no leader. The CLI's warning is
 * checked last.
 */
import t from 'tap';
import { uncleanElectionWarning } from '../../../tools/topic/unclean-warning.js';
import { controllerRig } from '../../support/controller-rig.js';

const UNCLEAN = 'unclean.leader.election.enable';

/** Brokers 1 and 2, topic `name` on both with the ISR shrunk to its leader, then the leader's session lost: no live ISR member. */
async function leaderlessTopic(t: Parameters<typeof controllerRig>[0], configs: Record<string, string>, settings: Record<string, string | number> = {}) {
  const rig = await controllerRig(t, settings);
  const { store, controller, register, heartbeat, epochs, run } = rig;
  for (const id of [1, 2]) {
    await register(id);
    await heartbeat(id);
  }
  await controller.createTopic({ name: 'orders', partitions: 1, replicationFactor: 2, configs });
  const topic = store.image.topics.get('orders')!;
  const { leader, leaderEpoch, partitionEpoch } = topic.partitionStates[0]!;
  const other = leader === 1 ? 2 : 1;
  await controller.alterPartition({ brokerId: leader, brokerEpoch: epochs.get(leader)!, topics: [{ name: 'orders', topicId: topic.topicId, partitions: [{ partition: 0, leaderEpoch, partitionEpoch, newIsr: [leader] }] }] });
  t.same(store.image.topics.get('orders')!.partitionStates[0]!.isr, [leader], 'the ISR is just the leader');
  await run(12_000, [other]);
  t.equal(store.image.brokers.get(leader)!.fenced, true, 'the leader missed its session');
  return { ...rig, leader, other, leaderEpoch, state: () => store.image.topics.get('orders')!.partitionStates[0]! };
}

t.test('a value that is not a boolean is refused; true and false are accepted', async (t) => {
  const { controller, register, heartbeat } = await controllerRig(t);
  await register(1);
  await heartbeat(1);
  await t.rejects(controller.createTopic({ name: 'a', partitions: 1, replicationFactor: 1, configs: { [UNCLEAN]: 'yes' } }), /unclean.leader.election.enable: 'yes' is not true or false/);
  await controller.createTopic({ name: 'b', partitions: 1, replicationFactor: 1, configs: { [UNCLEAN]: 'true' } });
  await controller.alterTopicConfig('b', [{ name: UNCLEAN, value: 'false' }]);
  await t.rejects(controller.alterTopicConfig('b', [{ name: UNCLEAN, value: '1' }]), /is not true or false/);
});

t.test('default false: no live ISR member leaves the partition without a leader; the replica outside the ISR does not lead', async (t) => {
  const { state, leader } = await leaderlessTopic(t, {});
  t.same([state().leader, state().isr], [-1, [leader]], 'no leader; the ISR keeps its last member');
});

t.test('true on the topic: the live replica outside the ISR leads, alone in the ISR, at a new epoch', async (t) => {
  const { state, other, leaderEpoch } = await leaderlessTopic(t, { [UNCLEAN]: 'true' });
  t.same([state().leader, state().isr, state().leaderEpoch], [other, [other], leaderEpoch + 1]);
});

t.test('true as the broker-wide default (log.unclean.leader.election.enable) counts too; a topic\'s false overrides it', async (t) => {
  const wide = await leaderlessTopic(t, {}, { [`log.${UNCLEAN}`]: 'true' });
  t.equal(wide.state().leader, wide.other, 'the default allows it');
  const overridden = await leaderlessTopic(t, { [UNCLEAN]: 'false' }, { [`log.${UNCLEAN}`]: 'true' });
  t.equal(overridden.state().leader, -1, 'the topic\'s own false wins');
});

t.test('turning it on elects at once for a partition without a leader', async (t) => {
  const { controller, state, other } = await leaderlessTopic(t, {});
  const leaderless = state();
  t.equal(leaderless.leader, -1);
  await controller.alterTopicConfig('orders', [{ name: UNCLEAN, value: 'true' }]);
  t.same([state().leader, state().isr, state().leaderEpoch], [other, [other], leaderless.leaderEpoch + 1], 'the live out-of-ISR replica leads now, at a new epoch');
});

t.test('with an ISR member live, the setting changes nothing: the clean choice leads', async (t) => {
  const { store, controller, register, heartbeat, run } = await controllerRig(t);
  for (const id of [1, 2, 3]) {
    await register(id);
    await heartbeat(id);
  }
  await controller.createTopic({ name: 'orders', partitions: 1, replicationFactor: 3, configs: { [UNCLEAN]: 'true' } });
  const before = store.image.topics.get('orders')!.partitionStates[0]!;
  await run(12_000, before.replicas.filter((id) => id !== before.leader));
  const after = store.image.topics.get('orders')!.partitionStates[0]!;
  t.equal(after.leader, before.replicas.find((id) => id !== before.leader), 'the next replica of the assignment in the ISR');
  t.same(after.isr, before.isr.filter((id) => id !== before.leader), 'the ISR loses only the fenced leader');
});

t.test('the CLI warns, saying what can be lost, only when the setting is turned on', async (t) => {
  const warning = uncleanElectionWarning('orders', { [UNCLEAN]: 'true', 'retention.ms': '1' });
  t.match(warning, /unclean.leader.election.enable=true on topic orders/);
  t.match(warning, /records it lacks are lost, even ones acknowledged with acks=all/i);
  t.equal(uncleanElectionWarning('orders', { [UNCLEAN]: 'false' }), null);
  t.equal(uncleanElectionWarning('orders', { [UNCLEAN]: null }), null, 'a reset to the default');
  t.equal(uncleanElectionWarning('orders', {}), null);
});
