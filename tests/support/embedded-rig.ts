/**
 * The embedded broker's core in process, without a server: a `local`
 * metadata store, the partition logs and a replica manager on a simulated
 * disk, and a controller that applies its commits through that replica
 * manager (as broker/main.ts assembles them), plus the handler table over
 * them and a request context that runs ordered steps in order, as one
 * connection does. For tests that drive the controller, the replica manager
 * or a handler directly.
 */
import { brokerConfig, type BrokerConfig } from '../../broker/config.js';
import { Controller } from '../../broker/controller/controller.js';
import type { BrokerContext } from '../../broker/handlers/broker-context.js';
import { createTopicsHandler } from '../../broker/handlers/create-topics.js';
import { deleteTopicsHandler } from '../../broker/handlers/delete-topics.js';
import { fetchHandler } from '../../broker/handlers/fetch.js';
import type { ApiHandler, RequestContext } from '../../broker/handlers/handler.js';
import { listOffsetsHandler } from '../../broker/handlers/list-offsets.js';
import { metadataHandler } from '../../broker/handlers/metadata.js';
import { produceHandler } from '../../broker/handlers/produce.js';
import { silentLogger } from '../../broker/log.js';
import { LocalMetadataStore } from '../../broker/metadata/local-store.js';
import { ReplicaManager } from '../../broker/replication/replica-manager.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import { logConfigFor } from '../../broker/topic-settings.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { internalSession } from '../../broker/security/session.js';

/** The APIs a rig answers: those that create, delete or reach topics and partitions. */
type RigApi = 'Produce' | 'Fetch' | 'ListOffsets' | 'Metadata' | 'CreateTopics' | 'DeleteTopics';

export interface EmbeddedRig {
  fs: SimulatedFileSystem;
  config: BrokerConfig;
  store: LocalMetadataStore;
  logs: LogManager;
  replicas: ReplicaManager;
  controller: Controller;
  /** Answers one decoded request as that API's handler does. */
  request<K extends RigApi>(api: K, body: RequestBodies[K]): Promise<ResponseBodies[K]>;
  close(): Promise<void>;
}

export async function embeddedRig(settings: Record<string, string | number | boolean> = {}, fs = new SimulatedFileSystem()): Promise<EmbeddedRig> {
  const config = brokerConfig({ 'data.dir': '/data', 'node.id': 1, ...settings });
  const clock = new ManualClock();
  const logger = silentLogger();
  const store = await LocalMetadataStore.open({ dataDir: '/data', fs, clock, localNodeId: config.nodeId });
  if (store.image.clusterId === '') await store.commit([{ kind: 'clusterCreated', clusterId: 'test-cluster' }]);
  const logs = await LogManager.open({ dataDir: '/data', fs, clock, configFor: (topic) => logConfigFor(config, store.image.topics.get(topic)?.configs ?? {}), recoveryThreads: 0, cleanerThreads: 0 });
  const replicas = new ReplicaManager({ nodeId: config.nodeId, logs, config, logger });
  await replicas.start(store.image);
  const controller = new Controller({ store, config, rng: seededRng(7), logger, local: replicas });
  const broker: BrokerContext = { config, controller, replicas, clock, logger, endpoint: { host: '127.0.0.1', port: 9092 } };
  const handlers: { [K in RigApi]: ApiHandler<K> } = {
    Produce: produceHandler(broker),
    Fetch: fetchHandler(broker),
    ListOffsets: listOffsetsHandler(broker),
    Metadata: metadataHandler(broker),
    CreateTopics: createTopicsHandler(broker),
    DeleteTopics: deleteTopicsHandler(broker),
  };
  let tail: Promise<unknown> = Promise.resolve();
  const ctx: RequestContext = {
    apiVersion: 0,
    clientId: 'test',
    signal: new AbortController().signal,
    logger,
    session: internalSession(),
    ordered: (step) => {
      const run = tail.then(step);
      tail = run.catch(() => undefined);
      return run;
    },
    whenWritable: async () => undefined,
    closeConnection: () => undefined,
    afterResponseWritten: () => undefined,
  };
  return {
    fs,
    config,
    store,
    logs,
    replicas,
    controller,
    async request<K extends RigApi>(api: K, body: RequestBodies[K]): Promise<ResponseBodies[K]> {
      const handler = handlers[api] as ApiHandler<K>;
      const response = await handler.handle(ctx, body);
      if (typeof response === 'symbol') throw new Error(`${api} answered nothing`);
      return response;
    },
    async close() {
      await controller.close();
      await replicas.close();
      await logs.close();
      await store.close();
    },
  };
}
