/**
 * Durations a broker or controller measures run on the monotonic clock,
 * never on the wall clock, which NTP or an operator may step by any amount,
 * forward or back (world/clock.ts `monotonicMs`). Each test steps the wall
 * clock of a ManualClock (`stepWall`: timers and monotonic time run on) and
 * checks that what the duration decides comes when it should: a follower
 * cut off still leaves the ISR after replica.lag.time.max.ms, a broker's
 * lease and its session at the controller still end after
 * broker.session.timeout.ms, and neither ends early because the wall clock
 * jumped ahead.
 */
import t from 'tap';
import { BrokerSessions } from '../../broker/controller/broker-sessions.js';
import type { MetadataEntry } from '../../broker/metadata/changes.js';
import { ManualClock } from '../../broker/world/clock.js';
import { channelOverLog, flush, scriptedLifecycle } from '../support/lifecycle-rig.js';
import { hostOf, ReplicationRig } from '../support/replication-rig.js';

const HOUR_MS = 3_600_000;
const TOPIC = 'orders';

t.test('ISR: after the wall clock steps back two hours, a follower cut off still leaves the ISR within the lag limit', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.lag.time.max.ms': 1_000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }));
  const isr = (): readonly number[] => rig.image.topics.get(TOPIC)!.partitionStates[0]!.isr;

  rig.world.clock.stepWall(-2 * HOUR_MS);
  rig.world.network.partition(hostOf(1), hostOf(3));
  let answered: { errorCode: number } | null = null;
  void rig.produce(1, TOPIC, ['b'], { acks: -1 }).then((r) => (answered = r));
  // Read on the wall clock, follower 3 would have been caught up two hours in the future: never lagging for two hours.
  t.ok(await rig.until(() => isr().length === 2, 2_000), `the ISR shrinks within the lag limit and a check's period (ISR now [${isr().join(',')}])`);
  t.ok(await rig.until(() => answered !== null), 'and the acks=all produce waiting for follower 3 is answered');
});

t.test('a broker\'s lease: a wall clock stepped an hour ahead keeps its writes; stepped back, unanswered heartbeats still end them on time', async (t) => {
  const clock = new ManualClock();
  const state = { failing: false };
  // The controller's log: the cluster, this broker's registration (its epoch, 2), and its unfencing.
  const log: MetadataEntry[] = [
    { version: 1, timestampMs: 0, change: { kind: 'clusterCreated', clusterId: 'c' } },
    { version: 2, timestampMs: 0, change: { kind: 'brokerRegistered', brokerId: 1, incarnationId: 'i', host: 'h', port: 1, rack: null } },
    { version: 3, timestampMs: 0, change: { kind: 'brokerUnfenced', brokerId: 1, brokerEpoch: 2 } },
  ];
  const channel = channelOverLog(clock, log, {
    register: async () => ({ brokerEpoch: 2, clusterId: 'c' }),
    heartbeat: async () => {
      if (state.failing) throw new Error('the controller is unreachable');
      return { fenced: false };
    },
  });
  const lifecycle = await scriptedLifecycle(clock, channel, { heartbeatIntervalMs: 100, sessionTimeoutMs: 1_000, followsMetadata: true });
  t.teardown(() => lifecycle.close());
  await lifecycle.start();
  await flush(clock, 250);
  t.equal(lifecycle.whyFenced('local'), null, 'heartbeats answered: acks=1 writes taken');
  clock.stepWall(HOUR_MS);
  t.equal(lifecycle.whyFenced('local'), null, 'an hour ahead on the wall clock: still taken (the lease runs on monotonic time)');
  state.failing = true;
  clock.stepWall(-2 * HOUR_MS);
  await flush(clock, 1_200);
  t.match(lifecycle.whyFenced('local') ?? '', /no heartbeat was answered/, 'stepped back two hours, heartbeats unanswered for the session timeout: refused, as the controller has fenced it by then');
});

t.test('controller sessions: a wall clock stepped forward ends none early, one stepped back keeps none alive', async (t) => {
  const clock = new ManualClock();
  const sessions = new BrokerSessions(clock, 3_000);
  sessions.touch(1, 'one');
  sessions.touch(2, 'two');
  clock.stepWall(HOUR_MS);
  clock.advance(100);
  t.equal(sessions.liveIncarnation(1), 'one', 'an hour ahead on the wall clock, 100 ms later: still live');
  t.same(sessions.takeExpired(), [], 'nobody fenced');
  t.ok(sessions.expireWithin(2, 'two', 1_000), 'a closed connection still shortens a session');

  clock.stepWall(-2 * HOUR_MS);
  clock.advance(1_001);
  t.same(sessions.takeExpired(), [{ brokerId: 2, disconnected: true }], 'stepped back, the shortened session still ends on time');
  clock.advance(2_000);
  t.equal(sessions.liveIncarnation(1), null, 'and the other ends broker.session.timeout.ms after it was last heard');
  t.same(sessions.takeExpired(), [{ brokerId: 1, disconnected: false }]);
});
