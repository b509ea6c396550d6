/**
 * The controller-only process (`runnel controller`): the cluster's metadata
 * log (the `local` store in its data directory), the Controller deciding on
 * it (topics, placement, broker sessions, elections, ISR changes), and a
 * server answering the controller APIs (BrokerRegistration, BrokerHeartbeat,
 * AlterPartition, MetadataChanges) plus Metadata and the admin APIs. It
 * hosts no partitions: Produce and Fetch are not in its table.
 */
import path from 'node:path';
import type { BrokerConfig } from './config.js';
import { Controller } from './controller/controller.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { BrokerFaults } from './faults.js';
import { Cleanups, runningNode } from './running-node.js';
import { buildControllerHandlerTable } from './handlers/index.js';
import { AccessControl } from './acl/access.js';
import { createLogger } from './log.js';
import type { BrokerWorld, RunningBroker } from './main.js';
import { LocalMetadataStore } from './metadata/local-store.js';
import { BrokerServer } from './net/server.js';
import { systemClock } from './world/clock.js';
import { realFileSystem } from './world/file-system.js';
import { systemRng, type Rng } from './world/rng.js';
import { nodeTransport } from './world/transport.js';
import { localEndpoints, noteBound, type LocalEndpoints } from './security/endpoints.js';
import { brokerSecurity } from './security/broker-security.js';

/** Starts a controller; resolves once it accepts connections. */
export async function startController(config: BrokerConfig, world: Partial<BrokerWorld> = {}): Promise<RunningBroker> {
  const clock = world.clock ?? systemClock;
  const rng = world.rng ?? systemRng;
  const fs = world.fs ?? realFileSystem;
  const transport = world.transport ?? nodeTransport;
  const logger = world.logger ?? createLogger({ level: config.loggerLevel, format: config.loggerFormat });
  const dataDir = path.resolve(config.dataDir);
  const cleanups = new Cleanups(logger);
  try {
    await fs.mkdirp(dataDir);
    await fs.fsyncDir(path.dirname(dataDir));
    const lock = await acquireDataDirLock(fs, dataDir);
    cleanups.push(() => lock.release());
    const store = await LocalMetadataStore.open({ dataDir, fs, clock, localNodeId: config.nodeId });
    cleanups.push(() => store.close());
    if (store.image.clusterId === '') await store.commit([{ kind: 'clusterCreated', clusterId: newClusterId(rng) }], { expectedVersion: 0 });
    const controller = new Controller({ store, config, rng, logger, local: null, clock });
    world.observe?.({ replicas: null, image: () => store.image });
    cleanups.push(() => controller.close());

    const faults = new BrokerFaults(logger);
    const endpoint: LocalEndpoints = localEndpoints(config.advertising, config.listeners, config.interBrokerListenerName);
    const security = await brokerSecurity(config, fs);
    const view = { get image() { return store.image; }, partition: () => undefined };
    const access = new AccessControl({ config, image: () => store.image, logger: logger.child({ component: 'authorizer' }) });
    const handlers = buildControllerHandlerTable({ config, access, controller, replicas: view, logger, endpoint, controllerId: () => config.nodeId, controllerApis: controller }, faults);
    const server = await BrokerServer.start({ transport, config, handlers, clock, logger, caps: { maxConnections: config.maxConnections === -1 ? 1000 : config.maxConnections, maxConnectionsPerIp: config.maxConnectionsPerIp, adminReservedConnections: config.adminReservedConnections }, listeners: security.listeners });
    noteBound(endpoint, config.advertising, server.listeners, config.interBrokerListenerName);
    cleanups.push(() => server.close(config.shutdownTimeoutMs));
    logger.info(
      { event: 'listening', role: 'controller', host: server.host, port: server.port, dataDir, clusterId: store.image.clusterId, nodeId: config.nodeId, brokers: store.image.brokers.size, topics: store.image.topics.size },
      `runnel controller ${config.nodeId} listening on ${server.host}:${server.port}, metadata in ${dataDir} (${store.image.brokers.size} broker(s) registered, ${store.image.topics.size} topic(s))`,
    );
    return runningNode({ server, dataDir, clusterId: store.image.clusterId, faults, cleanups, logger, role: 'controller' });
  } catch (error) {
    await cleanups.unwind();
    throw error;
  }
}

/** 16 random bytes, base64url: Kafka's cluster id shape. */
export function newClusterId(rng: Rng): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  return bytes.toString('base64url');
}
