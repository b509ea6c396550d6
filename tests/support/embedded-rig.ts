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
import type { RequestContext } from '../../broker/handlers/handler.js';
import { buildHandlerTable, type HandlerTable } from '../../broker/handlers/index.js';
import { silentLogger } from '../../broker/log.js';
import { LocalMetadataStore } from '../../broker/metadata/local-store.js';
import { ReplicaManager } from '../../broker/replication/replica-manager.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import { logConfigFor } from '../../broker/topic-settings.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { ApiKey, type ApiName } from '../../protocol/api-keys.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';

export interface EmbeddedRig {
  fs: SimulatedFileSystem;
  config: BrokerConfig;
  store: LocalMetadataStore;
  logs: LogManager;
  replicas: ReplicaManager;
  controller: Controller;
  handlers: HandlerTable;
  /** Answers one request as the broker would (the request object may carry fields of newer versions). */
  request<K extends ApiName>(api: K, body: RequestBodies[K]): Promise<ResponseBodies[K]>;
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
  const handlers = buildHandlerTable({ config, controller, replicas, clock, logger, endpoint: { host: '127.0.0.1', port: 9092 } });
  let tail: Promise<unknown> = Promise.resolve();
  const ctx: RequestContext = {
    apiVersion: 0,
    clientId: 'test',
    signal: new AbortController().signal,
    logger,
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
    handlers,
    async request(api, body) {
      const handler = handlers.get(ApiKey[api])!;
      return (await handler.handle(ctx, body as never)) as never;
    },
    async close() {
      await controller.close();
      await replicas.close();
      await logs.close();
      await store.close();
    },
  };
}
