/**
 * Several brokers in one process for replication tests: each node has its
 * own simulated disk, LogManager, ReplicaManager (with replica fetchers and
 * the ISR manager) and a BrokerServer with the real handler table, all on one
 * ManualClock and one MemoryNetwork. The metadata is a plain image the test
 * moves (`commit`), delivered to every running node as the controller's
 * metadata log would be; a fake ControllerChannel answers AlterPartition as
 * the controller does (fenced by leader and partition epoch) and commits the
 * new ISR to that image. A node can be stopped cleanly and started again on
 * the same disk (`stop`, `restart`).
 */
import { Connection } from '../../client/connection.js';
import type { ControllerChannel } from '../../broker/cluster/controller-channel.js';
import { brokerConfig, type BrokerConfig } from '../../broker/config.js';
import type { Controller } from '../../broker/controller/controller.js';
import { buildHandlerTable } from '../../broker/handlers/index.js';
import { silentLogger } from '../../broker/log.js';
import type { MetadataChange } from '../../broker/metadata/changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../broker/metadata/image.js';
import { BrokerServer } from '../../broker/net/server.js';
import type { Partition } from '../../broker/partition.js';
import { HighWatermarkCheckpoint } from '../../broker/replication/hw-checkpoint.js';
import { ReplicaManager } from '../../broker/replication/replica-manager.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import type { PartitionLog } from '../../broker/storage/partition-log.js';
import { logConfigFor } from '../../broker/topic-settings.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import type { KeyProvider } from '../../broker/storage/encryption/key-provider.js';
import { Errors } from '../../protocol/errors.js';
import type { AlterPartitionRequest, AlterPartitionResponse, ProducePartitionResult } from '../../protocol/messages.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { simulatedWorld, type SimulatedWorld } from './simulated-world.js';

const PORT = 9092;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface RigNode {
  readonly id: number;
  readonly host: string;
  readonly fs: SimulatedFileSystem;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly server: BrokerServer;
}

export const hostOf = (id: number): string => `node-${id}`;

export class ReplicationRig {
  readonly world: SimulatedWorld;
  readonly nodes = new Map<number, RigNode>();
  readonly alterRequests: AlterPartitionRequest[] = [];
  /** ISR changes each node's leaders got committed, as the metrics hook hears them ("1:shrink"). */
  readonly isrChanges: string[] = [];
  /** What each node's produce and fetch handlers metered (the metrics' TopicMeter), all topics together. */
  readonly metered = new Map<number, { recordsIn: number; bytesIn: number; recordsOut: number; bytesOut: number; replicatedBytes: number }>();
  /** When set, AlterPartition waits for it before answering (to observe a pending ISR change). */
  alterGate: Promise<void> | null = null;
  image: MetadataImage = EMPTY_IMAGE;
  readonly #config: BrokerConfig;
  readonly #connections: Connection[] = [];
  /** Each node's disk, kept across a stop and restart. */
  readonly #disks = new Map<number, SimulatedFileSystem>();

  /** Every node's keys for encryption at rest (null: none). */
  readonly #keys: KeyProvider | null;

  private constructor(world: SimulatedWorld, settings: Record<string, string | number>, keys: KeyProvider | null) {
    this.world = world;
    this.#keys = keys;
    this.#config = brokerConfig({ 'data.dir': '/data', 'replica.fetch.wait.max.ms': 200, ...settings });
  }

  /** Brokers `ids`, all registered in the image and started. */
  /** `maxDelayMs`: the network's largest delay per message (the world's default unless given; 0 for lock-step timing). */
  static async create(ids: readonly number[], opts: { seed?: number; settings?: Record<string, string | number>; maxDelayMs?: number; keys?: KeyProvider } = {}): Promise<ReplicationRig> {
    const rig = new ReplicationRig(simulatedWorld(opts.seed ?? 1, opts.maxDelayMs === undefined ? {} : { maxDelayMs: opts.maxDelayMs }), opts.settings ?? {}, opts.keys ?? null);
    rig.image = [{ kind: 'clusterCreated', clusterId: 'rig' } as MetadataChange, ...ids.map((id): MetadataChange => ({ kind: 'brokerRegistered', brokerId: id, incarnationId: `inc-${id}`, host: hostOf(id), port: PORT, rack: null }))]
      .reduce((image, change) => applyChange(image, change, image.version + 1), EMPTY_IMAGE);
    // Registered brokers are fenced until the controller sees them caught up: these are, at once.
    rig.#commitNow(...ids.map((id): MetadataChange => ({ kind: 'brokerUnfenced', brokerId: id, brokerEpoch: rig.image.brokers.get(id)!.epoch })));
    for (const id of ids) await rig.#start(id);
    return rig;
  }

  async #start(id: number): Promise<void> {
    const { world } = this;
    const config = { ...this.#config, nodeId: id, host: hostOf(id), advertisedHost: hostOf(id), port: PORT, listeners: [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' as const, host: hostOf(id), port: PORT }] };
    const fs = this.#disks.get(id) ?? new SimulatedFileSystem();
    this.#disks.set(id, fs);
    const logs = await LogManager.open({ dataDir: '/data', fs, clock: world.clock, configFor: (topic) => logConfigFor(config, this.image.topics.get(topic)?.configs ?? {}), recoveryThreads: 0, cleanerThreads: 0, encryption: { keys: this.#keys, rng: world.rng } });
    const replicas = new ReplicaManager({
      nodeId: id,
      logs,
      config,
      logger: silentLogger(),
      clock: world.clock,
      replication: { channel: this.#channel(), world: { transport: world.network.node(hostOf(id)), clock: world.clock, rng: world.rng }, brokerEpoch: () => this.image.brokers.get(id)?.epoch ?? -1, staleBrokerEpoch: () => undefined },
      highWatermarks: new HighWatermarkCheckpoint({ dataDir: '/data', fs, logger: silentLogger() }),
      onIsrChanged: (why) => this.isrChanges.push(`${id}:${why}`),
    });
    await replicas.start(this.image);
    const controller = { autoCreate: async () => false, clusterId: 'rig' } as unknown as Controller;
    const metered = { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0, replicatedBytes: 0 };
    this.metered.set(id, metered);
    const meter = {
      produced: (_topic: string, records: number, bytes: number) => { metered.recordsIn += records; metered.bytesIn += bytes; },
      consumed: (_topic: string, records: number, bytes: number) => { metered.recordsOut += records; metered.bytesOut += bytes; },
      replicated: (_topic: string, bytes: number) => { metered.replicatedBytes += bytes; },
    };
    const handlers = buildHandlerTable({ config, controller, replicas, clock: world.clock, logger: silentLogger(), endpoint: { host: hostOf(id), port: PORT }, meter }, { fatal: (error) => { throw error; } });
    const server = await BrokerServer.start({ transport: world.network.node(hostOf(id)), config, handlers, clock: world.clock, logger: silentLogger() });
    this.nodes.set(id, { id, host: hostOf(id), fs, logs, replicas, server });
  }

  /** Stops node `id` cleanly (as SIGTERM does: server, replica manager, logs); its disk stays. */
  async stop(id: number): Promise<void> {
    const node = this.nodes.get(id)!;
    this.nodes.delete(id);
    await this.world.settle(node.server.close(0));
    await this.world.settle(node.replicas.close());
    await this.world.settle(node.logs.close());
  }

  /** Node `id`'s disk (running or stopped). */
  disk(id: number): SimulatedFileSystem {
    return this.#disks.get(id)!;
  }

  /** Starts a stopped node again on its disk, with the current image. */
  async restart(id: number): Promise<void> {
    await this.world.settle(this.#start(id));
  }

  /** The controller side of AlterPartition, as the real one answers it. */
  #channel(): ControllerChannel {
    const refused = (): never => {
      throw new Error('not used by replication tests');
    };
    return {
      controllerId: 0,
      register: refused,
      heartbeat: refused,
      changes: refused,
      allocateProducerIds: refused,
      forward: refused,
      close: async () => undefined,
      alterPartition: async (request) => {
        this.alterRequests.push(request);
        if (this.alterGate !== null) await this.alterGate;
        const response: AlterPartitionResponse = { errorCode: 0, errorMessage: null, topics: [] };
        for (const topic of request.topics) {
          const partitions: AlterPartitionResponse['topics'][number]['partitions'] = [];
          response.topics.push({ name: topic.name, partitions });
          for (const asked of topic.partitions) {
            const current = this.image.topics.get(topic.name)!.partitionStates[asked.partition]!;
            const state = { leader: current.leader, leaderEpoch: current.leaderEpoch, partitionEpoch: current.partitionEpoch, isr: [...current.isr] };
            if (asked.leaderEpoch !== current.leaderEpoch) partitions.push({ partition: asked.partition, errorCode: Errors.FENCED_LEADER_EPOCH.code, errorMessage: 'fenced', ...state });
            else if (asked.partitionEpoch !== current.partitionEpoch) partitions.push({ partition: asked.partition, errorCode: Errors.INVALID_UPDATE_VERSION.code, errorMessage: 'stale', ...state });
            else {
              const next = { ...state, partitionEpoch: current.partitionEpoch + 1, isr: [...asked.newIsr] };
              this.#commitNow({ kind: 'partitionChanged', name: topic.name, topicId: topic.topicId, partition: asked.partition, replicas: [...current.replicas], ...next });
              partitions.push({ partition: asked.partition, errorCode: 0, errorMessage: null, ...next });
            }
          }
        }
        // The controller answers; brokers learn the change through the metadata log, a moment later.
        void this.#deliver();
        return response;
      },
    };
  }

  #commitNow(...changes: MetadataChange[]): void {
    this.image = changes.reduce((image, change) => applyChange(image, change, image.version + 1), this.image);
  }

  async #deliver(ids: readonly number[] = [...this.nodes.keys()]): Promise<void> {
    const image = this.image;
    await Promise.all(ids.map((id) => this.nodes.get(id)!.replicas.apply(this.nodes.get(id)!.replicas.image, image)));
  }

  /** Commits `changes` and delivers the new image to every running node (or only `to`). */
  async commit(changes: MetadataChange[], opts: { to?: number[] } = {}): Promise<void> {
    this.#commitNow(...changes);
    await this.world.settle(this.#deliver(opts.to));
  }

  async createTopic(name: string, assignments: number[][], configs: Record<string, string> = {}): Promise<void> {
    await this.commit([{ kind: 'topicCreated', name, topicId: `id-${name}`, partitions: assignments.length, replicationFactor: assignments[0]!.length, configs, assignments }]);
  }

  /** Moves the leadership of `topic`-`index` to `leader` (epochs bumped, as an election commits), with `isr`. */
  async elect(topic: string, index: number, leader: number, isr: number[], opts: { to?: number[] } = {}): Promise<void> {
    const image = this.image.topics.get(topic)!;
    const current = image.partitionStates[index]!;
    await this.commit([{ kind: 'partitionChanged', name: topic, topicId: image.topicId, partition: index, replicas: [...current.replicas], leader, leaderEpoch: current.leaderEpoch + 1, partitionEpoch: current.partitionEpoch + 1, isr }], opts);
  }

  partition(id: number, topic: string, index = 0): Partition {
    return this.nodes.get(id)!.replicas.partition(topic, index)!;
  }

  log(id: number, topic: string, index = 0): PartitionLog {
    return this.nodes.get(id)!.logs.get(topic, index)!;
  }

  /** A client connection to node `id` (on the client host of the network). */
  connection(id: number): Connection {
    const connection = new Connection({
      host: hostOf(id),
      port: PORT,
      clientId: 'rig',
      connectTimeoutMs: 1_000,
      requestTimeoutMs: 60_000,
      maxInFlightRequests: 5,
      maxFrameBytes: 1 << 24,
      reconnect: { initialBackoffMs: 100, maxBackoffMs: 1_000 },
      logger: silent,
      world: { transport: this.world.network.node('client'), clock: this.world.clock, rng: this.world.rng },
    });
    this.#connections.push(connection);
    return connection;
  }

  /** Sends one batch of `values` to node `id` (not awaited: the caller settles or watches it). */
  produce(id: number, topic: string, values: string[], opts: { acks?: number; timeoutMs?: number; index?: number } = {}): Promise<ProducePartitionResult> {
    const records = buildBatch(values.map((value) => ({ key: null, value: Buffer.from(value) })), { nowMs: this.world.clock.nowMs() });
    const sent = this.connection(id).request('Produce', { acks: opts.acks ?? 1, timeoutMs: opts.timeoutMs ?? 30_000, topics: [{ name: topic, partitions: [{ partition: opts.index ?? 0, records }] }] });
    return sent.then((response) => response.topics[0]!.partitions[0]!);
  }

  /** Runs simulated time until `condition` holds (checked every ms), at most `maxMs`; returns whether it held. */
  async until(condition: () => boolean, maxMs = 5_000): Promise<boolean> {
    for (let elapsed = 0; elapsed < maxMs && !condition(); elapsed++) await this.world.run(1);
    return condition();
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) await connection.close();
    for (const id of [...this.nodes.keys()]) await this.stop(id);
  }
}
