/**
 * BrokerLifecycle against a scripted ControllerChannel on a ManualClock:
 * a broker is fenced for writes from its registration until a heartbeat
 * unfences it, fenced again when a heartbeat says so, and registers again
 * (a new epoch, once per stale epoch) when a heartbeat or an ISR change is
 * answered STALE_BROKER_EPOCH. The write refusal itself, at the produce
 * handler, is checked in fenced-broker.test.ts.
 */
import t from 'tap';
import { BrokerLifecycle } from '../../../broker/cluster/broker-lifecycle.js';
import type { ControllerChannel } from '../../../broker/cluster/controller-channel.js';
import { brokerConfig } from '../../../broker/config.js';
import { BrokerFaults } from '../../../broker/faults.js';
import { silentLogger } from '../../../broker/log.js';
import { ReplicaManager } from '../../../broker/replication/replica-manager.js';
import type { LogManager } from '../../../broker/storage/log-manager.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../../broker/world/file-system.js';
import { seededRng } from '../../../broker/world/rng.js';
import { ProtocolError } from '../../../protocol/errors.js';

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

async function flush(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms / 10; i++) {
    clock.advance(10);
    for (let j = 0; j < 5; j++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

t.test('fenced for writes until a heartbeat unfences; a stale epoch registers again, once', async (t) => {
  const clock = new ManualClock();
  const { channel, state } = scriptedChannel();
  const replicas = new ReplicaManager({ nodeId: 1, logs: {} as LogManager, config: brokerConfig({}), logger: silentLogger() });
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/data');
  const lifecycle = new BrokerLifecycle({ channel, replicas, cache: null, identity: () => ({ brokerId: 1, host: 'h', port: 1, rack: null }), heartbeatIntervalMs: 100, sessionTimeoutMs: 1000, dataDir: '/data', fs, clock, rng: seededRng(1), logger: silentLogger(), faults: new BrokerFaults(silentLogger()) });
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
