/**
 * A whole cluster in one process: the controller process (`startController`)
 * and brokers (`startBroker` with `controller.address`) on one MemoryNetwork
 * and ManualClock, each on its own simulated disk, and client connections
 * on the network's `client` host. Torn down with the test.
 */
import type { Test } from 'tap';
import { Connection } from '../../client/connection.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/messages.js';
import { brokerConfig } from '../../broker/config.js';
import { startController } from '../../broker/controller-node.js';
import { silentLogger } from '../../broker/log.js';
import { startBroker, type RunningBroker } from '../../broker/main.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { simulatedWorld, type SimulatedWorld } from './simulated-world.js';

export interface InProcessCluster {
  world: SimulatedWorld;
  /** Running brokers by id (a test may close one and delete it). */
  brokers: Map<number, RunningBroker>;
  /** A connection to the broker on `host` (`b<id>`), closed at teardown. */
  clientOf(host: string): Connection;
  /** Each broker's simulated disk (its data directory is /data), by id. */
  disks: Map<number, SimulatedFileSystem>;
  /** Starts broker `id` (again, on its disk as it is), as the cluster started it. */
  startBroker(id: number): Promise<RunningBroker>;
  /** Closes the controller and starts it again on its own disk (metadata in /meta). */
  restartController(): Promise<void>;
}

/** Controller `controller` (node 0) and brokers `b1`..`bN` on port 9092, with `settings` for every node. */
export async function startInProcessCluster(t: Test, opts: { seed: number; brokers: number; settings: Record<string, string | number> }): Promise<InProcessCluster> {
  const world = simulatedWorld(opts.seed);
  const base = { ...opts.settings, port: 9092 };
  const metaDisk = new SimulatedFileSystem();
  const launchController = () => startController(brokerConfig({ ...base, 'data.dir': '/meta', 'node.id': 0, host: 'controller' }), { clock: world.clock, rng: world.rng, fs: metaDisk, transport: world.network.node('controller'), logger: silentLogger() });
  let controller = await world.settle(launchController());
  const brokers = new Map<number, RunningBroker>();
  const disks = new Map<number, SimulatedFileSystem>();
  const launch = async (id: number): Promise<RunningBroker> => {
    const config = brokerConfig({ ...base, 'data.dir': '/data', 'node.id': id, host: `b${id}`, 'controller.address': 'controller:9092' });
    if (!disks.has(id)) disks.set(id, new SimulatedFileSystem());
    const broker = await world.settle(startBroker(config, { clock: world.clock, rng: world.rng, fs: disks.get(id)!, transport: world.network.node(`b${id}`), logger: silentLogger() }));
    brokers.set(id, broker);
    return broker;
  };
  for (let id = 1; id <= opts.brokers; id++) await launch(id);
  const connections: Connection[] = [];
  t.teardown(async () => {
    for (const c of connections) await c.close();
    for (const b of brokers.values()) await world.settle(b.close()).catch(() => undefined);
    await world.settle(controller.close());
  });
  const clientOf = (host: string): Connection => {
    const connection = new Connection({ host, port: 9092, clientId: 'test', connectTimeoutMs: 5000, requestTimeoutMs: 10_000, maxInFlightRequests: 5, maxFrameBytes: 1 << 24, reconnect: { initialBackoffMs: 50, maxBackoffMs: 500 }, logger: { debug() {}, info() {}, warn() {}, error() {} }, world: { transport: world.network.node('client'), clock: world.clock, rng: { next: () => world.rng.next() } } });
    connections.push(connection);
    return connection;
  };
  const restartController = async (): Promise<void> => {
    await world.settle(controller.close());
    controller = await world.settle(launchController());
  };
  return { world, brokers, clientOf, disks, startBroker: launch, restartController };
}

/** FindCoordinator for `groupId` through `via` until it names a coordinator other than `not` (bounded: 100 tries, 200 simulated ms apart). */
export async function findCoordinator(world: SimulatedWorld, via: Connection, groupId: string, not = -1): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const found = (await world.settle(via.request('FindCoordinator', { keyType: 0, keys: [groupId] }))).coordinators[0]!;
    if (found.errorCode === 0 && found.nodeId !== not) return found.nodeId;
    await world.run(200, 5);
  }
  throw new Error(`no coordinator found for group ${groupId}`);
}

/**
 * A ConsumerGroupHeartbeat of group `g` on topic `orders`, as the coordinator
 * tests send it: joining (epoch 0) with the subscription and a 30 s rebalance
 * timeout, later ones with only what the member owns (null: unchanged).
 */
export function ordersHeartbeat(memberId: string, memberEpoch: number, owned: number[] | null): ConsumerGroupHeartbeatRequest {
  return {
    groupId: 'g',
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ['orders'] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: owned === null ? null : [{ topic: 'orders', partitions: owned }],
  };
}
