/**
 * BrokerLifecycle against a scripted ControllerChannel on a ManualClock:
 * a broker is fenced for writes from its registration until a heartbeat
 * unfences it, fenced again when a heartbeat says so, and registers again
 * (a new epoch, once per stale epoch) when a heartbeat or an ISR change is
 * answered STALE_BROKER_EPOCH, or a metadata poll is (a broker follows the
 * metadata log as its current registration). The write refusal itself, at
 * the produce handler, is checked in fenced-broker.test.ts; the
 * controller's check of a poll's broker epoch at the end here.
 */
import t from 'tap';
import type { ControllerChannel } from '../../../broker/cluster/controller-channel.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { sleepOn } from '../../../client/clock.js';
import type { MetadataEntry } from '../../../broker/metadata/changes.js';
import { ProtocolError } from '../../../protocol/errors.js';
import { controllerRig } from '../../support/controller-rig.js';
import { channelOverLog, flush, scriptedLifecycle } from '../../support/lifecycle-rig.js';

/** A controller that answers heartbeats from a script (`fenced`, or an error name to throw) and counts registrations. */
function scriptedChannel() {
  const state = { registrations: 0, epoch: 4, heartbeats: [] as number[], answer: 'unfenced' as 'fenced' | 'unfenced' | 'stale' };
  const channel = {
    controllerId: 0,
    register: async () => {
      state.registrations += 1;
      state.epoch += 1;
      return { brokerEpoch: state.epoch, clusterId: 'c' };
    },
    heartbeat: async (h: { brokerEpoch: number }) => {
      state.heartbeats.push(h.brokerEpoch);
      if (state.answer === 'stale' || h.brokerEpoch !== state.epoch) throw new ProtocolError('STALE_BROKER_EPOCH', `epoch ${h.brokerEpoch} is stale`);
      return { fenced: state.answer === 'fenced' };
    },
    alterPartition: async () => { throw new Error('unused'); },
    changes: async () => { throw new Error('unused'); },
    forward: async () => { throw new Error('unused'); },
    close: async () => undefined,
  } as unknown as ControllerChannel;
  return { channel, state };
}

t.test('fenced for writes until a heartbeat unfences; a stale epoch registers again, once', async (t) => {
  const clock = new ManualClock();
  const { channel, state } = scriptedChannel();
  const lifecycle = await scriptedLifecycle(clock, channel, { heartbeatIntervalMs: 100, sessionTimeoutMs: 1000, followsMetadata: false });
  t.teardown(() => lifecycle.close());
  t.match(lifecycle.whyFenced(), /not registered/, 'before registering: fenced');

  state.answer = 'fenced';
  await lifecycle.start();
  t.equal(lifecycle.brokerEpoch, 5);
  t.match(lifecycle.whyFenced(), /has it fenced/, 'registered, heartbeat says fenced: no writes');
  state.answer = 'unfenced';
  await flush(clock, 150);
  t.equal(lifecycle.whyFenced(), null, 'unfenced by a heartbeat: writes taken');

  state.answer = 'stale';
  await flush(clock, 110);
  state.answer = 'fenced';
  await flush(clock, 10);
  t.equal(state.registrations, 2, 'STALE_BROKER_EPOCH: registered again');
  t.equal(lifecycle.brokerEpoch, 6, 'with a new epoch');
  t.match(lifecycle.whyFenced(), /has it fenced/, 'fenced until the controller unfences the new registration');
  state.answer = 'unfenced';
  await flush(clock, 150);
  t.equal(lifecycle.whyFenced(), null);

  // An ISR change and a heartbeat both told the old epoch is stale: one registration.
  await Promise.all([lifecycle.staleEpoch(6), lifecycle.staleEpoch(6)]);
  t.equal(state.registrations, 3, 'two stale answers for epoch 6: one registration');
  await lifecycle.staleEpoch(6);
  t.equal(state.registrations, 3, 'a late stale answer for an epoch already replaced does nothing');
  t.equal(lifecycle.brokerEpoch, 7);
});

t.test('a metadata poll answered STALE_BROKER_EPOCH registers again, and polls on as the new registration', async (t) => {
  const clock = new ManualClock();
  // A controller whose metadata log holds the cluster and each registration; `forget` drops this broker's registration.
  const log: MetadataEntry[] = [{ version: 1, timestampMs: 0, change: { kind: 'clusterCreated', clusterId: 'c' } }];
  const state = { known: false, epoch: -1, registrations: 0, polls: [] as number[] };
  const channel = channelOverLog(clock, log, {
    register: async () => {
      state.registrations += 1;
      const version = log.length + 1;
      log.push({ version, timestampMs: 0, change: { kind: 'brokerRegistered', brokerId: 1, incarnationId: `i${version}`, host: 'h', port: 1, rack: null } });
      state.known = true;
      state.epoch = version;
      return { brokerEpoch: version, clusterId: 'c' };
    },
    heartbeat: async () => ({ fenced: false }),
    beforePoll: (broker) => {
      state.polls.push(broker?.brokerEpoch ?? -1);
      if (!state.known || broker?.brokerEpoch !== state.epoch) throw new ProtocolError('STALE_BROKER_EPOCH', 'not registered');
    },
  });
  const lifecycle = await scriptedLifecycle(clock, channel, { heartbeatIntervalMs: 60_000, sessionTimeoutMs: 120_000, followsMetadata: true });
  t.teardown(() => lifecycle.close());
  await lifecycle.start();
  t.equal(lifecycle.brokerEpoch, 2);
  t.ok(state.polls.every((epoch) => epoch === 2), 'every poll names the broker\'s registration epoch');

  state.known = false;
  await flush(clock, 5_100);
  t.equal(state.registrations, 2, 'the poll answered STALE_BROKER_EPOCH: registered again (no heartbeat was due)');
  t.equal(lifecycle.brokerEpoch, 3);
  await flush(clock, 5_100);
  t.equal(state.polls.at(-1), 3, 'and polls on with the new epoch');
  t.ok(await lifecycle.until((image) => image.version === 3, 1), 'having applied its new registration');
});

t.test('the controller answers a metadata poll only for a broker\'s current registration, or a tool\'s -1', async (t) => {
  const { controller, register } = await controllerRig(t);
  const poll = (broker: { brokerId: number; brokerEpoch: number }) => controller.changes(0, { maxWaitMs: 0, maxEntries: 10, broker });
  const first = await register(1);
  t.ok((await poll({ brokerId: 1, brokerEpoch: first })).entries.length > 0, 'the current registration: answered');
  t.ok((await poll({ brokerId: -1, brokerEpoch: -1 })).entries.length > 0, 'a tool (-1, -1): answered');
  await t.rejects(poll({ brokerId: 2, brokerEpoch: first }), /^STALE_BROKER_EPOCH: broker 2 is not registered/, 'an unregistered broker: refused');
  await t.rejects(poll({ brokerId: 1, brokerEpoch: first + 5 }), /^STALE_BROKER_EPOCH/, 'another epoch: refused');
  await t.rejects(poll({ brokerId: -1, brokerEpoch: first }), /^INVALID_REQUEST/, 'a tool naming an epoch: refused');
  await register(1);
  await t.rejects(poll({ brokerId: 1, brokerEpoch: first }), /^STALE_BROKER_EPOCH/, 'the registration before it registered again: stale');
});
