/**
 * The group coordinator under a wall-clock step (NTP or an operator setting
 * the time; `ManualClock.stepWall`: timers and monotonic time run on), on a
 * whole cluster in one process: a member that stops heartbeating after the
 * wall clock went back an hour still leaves its group one session timeout
 * later, and members that heartbeat on keep their partitions when it jumps
 * an hour ahead (runtime.ts `#now` moves the in-memory deadlines with a step).
 */
import t, { type Test } from 'tap';
import type { Connection } from '../../../client/connection.js';
import { Errors } from '../../../protocol/errors.js';
import type { ConsumerGroupHeartbeatResponse } from '../../../protocol/messages.js';
import { findCoordinator, ordersHeartbeat as heartbeat, startInProcessCluster } from '../../support/in-process-cluster.js';

const HOUR_MS = 3_600_000;
const SESSION_MS = 10_000;
const SETTINGS = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  'auto.leader.rebalance.enable': 'false',
  'offsets.topic.num.partitions': 1,
  'group.consumer.min.session.timeout.ms': SESSION_MS,
  'group.consumer.session.timeout.ms': SESSION_MS,
  'group.consumer.heartbeat.interval.ms': 1000,
};

const partitionsOf = (r: ConsumerGroupHeartbeatResponse): number[] | null => (r.assignment === null ? null : r.assignment.topicPartitions.flatMap((x) => x.partitions).sort((a, b) => a - b));

/** A group member that heartbeats like an SDK consumer: reports what it owns, takes what it is told. */
class Member {
  epoch = 0;
  owned: number[] = [];
  constructor(readonly id: string, readonly coordinator: Connection) {}

  async beat(settle: <T>(p: Promise<T>) => Promise<T>): Promise<ConsumerGroupHeartbeatResponse> {
    const response = await settle(this.coordinator.request('ConsumerGroupHeartbeat', heartbeat(this.id, this.epoch, this.epoch === 0 ? [] : this.owned)));
    if (response.errorCode === 0) {
      this.epoch = response.memberEpoch;
      this.owned = partitionsOf(response) ?? this.owned;
    }
    return response;
  }
}

/** A cluster, topic `orders` (4 partitions), and members A and B of group g converged on two partitions each (bounded). */
async function convergedPair(t: Test) {
  const cluster = await startInProcessCluster(t, { seed: 11, brokers: 3, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  await world.settle(b1.request('CreateTopics', { topics: [{ name: 'orders', partitions: 4, replicationFactor: 3, configs: [] }], timeoutMs: 10_000, validateOnly: false }));
  const coordinatorId = await findCoordinator(world, b1, 'g');
  const coordinator = cluster.clientOf(`b${coordinatorId}`);
  const settle = <T>(p: Promise<T>): Promise<T> => world.settle(p);
  const [a, b] = [new Member('A', coordinator), new Member('B', coordinator)];
  for (let i = 0; i < 200 && !(a.owned.length === 2 && b.owned.length === 2); i++) {
    for (const m of [a, b]) {
      const r = await m.beat(settle);
      if (r.errorCode !== 0 && r.errorCode !== Errors.COORDINATOR_LOAD_IN_PROGRESS.code) throw new Error(`${m.id}: ${r.errorMessage ?? r.errorCode}`);
    }
    await world.run(200, 5);
  }
  return { world, a, b, settle };
}

t.test('stepped back an hour, a member that stops heartbeating still leaves after one session timeout', async (t) => {
  const { world, a, b, settle } = await convergedPair(t);
  t.same([a.owned.length, b.owned.length], [2, 2], 'A and B own two partitions each');
  world.clock.stepWall(-HOUR_MS);
  // B is gone; A heartbeats every second for two session timeouts.
  for (let i = 0; i < (2 * SESSION_MS) / 1000 && a.owned.length < 4; i++) {
    await a.beat(settle);
    await world.run(1000, 10);
  }
  t.same(a.owned, [0, 1, 2, 3], 'A was given B\'s partitions: B left one session timeout after its last heartbeat, not an hour later');
});

t.test('stepped an hour ahead, members that heartbeat on keep their partitions', async (t) => {
  const { world, a, b, settle } = await convergedPair(t);
  const before = { a: [...a.owned], b: [...b.owned], epochs: [a.epoch, b.epoch] };
  world.clock.stepWall(HOUR_MS);
  for (let i = 0; i < 12; i++) {
    for (const m of [a, b]) t.equal((await m.beat(settle)).errorCode, 0, `${m.id} heartbeats on (${i})`);
    await world.run(1000, 10);
  }
  t.same({ a: a.owned, b: b.owned, epochs: [a.epoch, b.epoch] }, before, 'same partitions, same epochs: nobody was taken for dead');
});
