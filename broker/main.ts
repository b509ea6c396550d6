/**
 * The broker: `startBroker` assembles one (storage, metadata store, replica
 * manager, controller, handlers, server) from a config and an injected world, and
 * `runBrokerCli` is the process around it: settings from flags, environment
 * and config file, a start-up line with the real address, clean shutdown on
 * SIGTERM/SIGINT, and every uncaught error logged.
 *
 * The embedded default: the broker and its controller (with the `local`
 * metadata store under the data directory) in one process, so one command
 * runs a complete single-node cluster.
 *
 * Start-up order matters for crash safety: the metadata log is replayed
 * first (it says which topics exist and with what settings), then the
 * partition logs are opened (recovering any left unclean), then the replica
 * manager reconciles the two and serves the partitions, then the controller
 * takes changes (applying each through the replica manager), and only then
 * does the server accept connections. Shutdown runs in reverse: stop accepting and answer what is in
 * flight, then close the logs (which writes their clean-shutdown markers).
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrokerConfigError, type BrokerConfig } from './config.js';
import { BROKER_USAGE, loadBrokerConfig, settingsReference } from './config-sources.js';
import { splitAddress } from './cluster/address.js';
import { adminAnswerer } from './cluster/answer-admin.js';
import { BrokerLifecycle } from './cluster/broker-lifecycle.js';
import { InProcessControllerChannel, type ControllerChannel } from './cluster/controller-channel.js';
import { ForwardingAdmin } from './cluster/forwarding-admin.js';
import { RemoteControllerChannel } from './cluster/remote-controller-channel.js';
import { isEtcdAddress } from './metadata/etcd-address.js';
import type { TopicAdmin } from './cluster/topic-admin.js';
import { Controller } from './controller/controller.js';
import { newClusterId, startController } from './controller-node.js';
import { MetadataCache } from './metadata/cache.js';
import type { MetadataImage } from './metadata/image.js';
import { BrokerFaults } from './faults.js';
import { Cleanups, runningNode } from './running-node.js';
import { buildHandlerTable } from './handlers/index.js';
import { AccessControl } from './acl/access.js';
import { ProducerIdBlocks } from './producers/producer-id-blocks.js';
import { GroupCoordinator } from './coordinator/runtime.js';
import { coordinatorSettings } from './coordinator/settings.js';
import { createLogger, type Logger } from './log.js';
import { LocalMetadataStore } from './metadata/local-store.js';
import type { MetadataStore } from './metadata/store.js';
import { BrokerServer } from './net/server.js';
import { HighWatermarkCheckpoint } from './replication/hw-checkpoint.js';
import { ReplicaManager } from './replication/replica-manager.js';
import { logConfigFor } from './topic-settings.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { planDescriptors } from './descriptor-budget.js';
import { DEFAULT_OVERDRAFT, DEFAULT_TRANSIENT_SLOTS } from './storage/handle-cache.js';
import { DEFAULT_CLEANER_THREADS, LogManager, defaultRecoveryThreads } from './storage/log-manager.js';
import { systemDescriptors, type Descriptors } from './world/descriptors.js';
import { systemClock, type Clock } from './world/clock.js';
import { realFileSystem, type FileSystem } from './world/file-system.js';
import { systemRng, type Rng } from './world/rng.js';
import type { KeyProvider } from './storage/encryption/key-provider.js';
import { aesGcm, aesGcmFallback } from './storage/encryption/aes-gcm.js';
import { keyProviderFromConfig } from './storage/encryption/keys-from-config.js';
import { WorkerBatchOpener } from './storage/encryption/batch-opener.js';
import { ParallelSealer, parallelSealingPays } from './storage/encryption/parallel-sealer.js';
import { PlaintextCache } from './storage/encryption/plaintext-cache.js';
import { nodeTransport, type Transport } from './world/transport.js';
import { tuneBrokerProcess } from './process-tuning.js';
import { nodeHttpServer, type HttpServer } from './world/http-server.js';
import { Telemetry } from './metrics/telemetry.js';
import { ClientQuotaEnforcer } from './quota/client-quotas.js';
import { combineObservers } from './metrics/request-observer.js';
import { UsageMetering } from './metering/usage-metering.js';
import { listenersToRegister, localEndpoints, noteBound, type LocalEndpoints } from './security/endpoints.js';
import { brokerSecurity } from './security/broker-security.js';

/** Everything the broker reads from outside: time, randomness, disk, network, and where logs go. */
export interface BrokerWorld {
  clock: Clock;
  rng: Rng;
  fs: FileSystem;
  transport: Transport;
  logger: Logger;
  /** The file-descriptor limit and count (descriptor-budget.ts spends them). */
  descriptors: Descriptors;
  /** Serves `metrics.listen` (/metrics, /health). */
  http: HttpServer;
  /**
   * Called once, at start, with the node's replica manager (null on a
   * controller) and its view of the metadata: a read-only window for a
   * simulation's invariant checks (tests/sim), never used by the broker.
   */
  observe?: (node: { replicas: ReplicaManager | null; image: () => MetadataImage }) => void;
  /** Keys for encryption at rest, for an embedding program with its own source (a KMS); default: from encryption.key.file / encryption.keys. */
  keys?: KeyProvider | null;
}

export interface RunningBroker {
  /** The address bound (port 0 resolved to the OS's choice). */
  readonly host: string;
  readonly port: number;
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  readonly clusterId: string;
  /** Clean shutdown: stop accepting, answer in-flight requests (bounded by shutdown.timeout.ms), close every log. */
  close(): Promise<void>;
  /**
   * Resolves (never rejects) if a broken invariant in broker-wide state
   * stopped the broker (faults.ts): it no longer serves, and its host should
   * exit without a clean shutdown. Resolves once every connection is closed
   * (answers already written are flushed). Pending while the broker is sound.
   */
  readonly failure: Promise<Error>;
}

/**
 * Worker threads that open encrypted batches for fetches (storage/encryption/batch-opener.ts):
 * none below 4 cores. Opening on a worker costs more CPU in all than opening inline (measured on
 * 2 cores: ~2.1 ms per MB on the worker against ~1.2 ms inline, for ~0.5 ms less on the event
 * loop), so it pays only where a core would otherwise sit idle beside the event loop and the clients.
 */
function defaultOpenerThreads(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 2));
}

/** A second SIGINT/SIGTERM within this long of the first is the same request, not an order to hurry. */
const REPEATED_SIGNAL_GRACE_NS = 1_000_000_000n;


/** Starts a broker; resolves once it accepts connections. */
export async function startBroker(config: BrokerConfig, world: Partial<BrokerWorld> = {}): Promise<RunningBroker> {
  const clock = world.clock ?? systemClock;
  const rng = world.rng ?? systemRng;
  const fs = world.fs ?? realFileSystem;
  const transport = world.transport ?? nodeTransport;
  const logger = world.logger ?? createLogger({ level: config.loggerLevel, format: config.loggerFormat });
  const descriptors = world.descriptors ?? systemDescriptors;
  const dataDir = path.resolve(config.dataDir);
  // Recovery scans and the cleaner's work on worker threads read the real disk; any other file system is worked on here (and a simulation stays on one thread, deterministic).
  const recoveryThreads = fs === realFileSystem ? defaultRecoveryThreads() : 0;
  const cleanerThreads = fs === realFileSystem ? DEFAULT_CLEANER_THREADS : 0;
  const openerThreads = fs === realFileSystem ? defaultOpenerThreads() : 0;
  const budget = planDescriptors({
    limit: descriptors.limit(),
    inUse: descriptors.inUse(),
    maxConnections: config.maxConnections,
    adminReservedConnections: config.adminReservedConnections,
    workerThreads: recoveryThreads + cleanerThreads + openerThreads,
    transientFiles: DEFAULT_TRANSIENT_SLOTS,
    segmentFilesOverdraft: DEFAULT_OVERDRAFT,
  });
  logger.info({ event: 'descriptorBudget', limit: budget.limit, maxConnections: budget.maxConnections, adminReservedConnections: budget.adminReservedConnections, segmentFiles: budget.segmentFiles ?? null, reservedForBroker: budget.reservedForBroker }, budget.summary);

  const cleanups = new Cleanups(logger);
  const telemetry = new Telemetry(config, { logger, rng });

  try {
    await fs.mkdirp(dataDir);
    // A data directory created just now must survive a crash along with what goes into it.
    await fs.fsyncDir(path.dirname(dataDir));
    const lock: DataDirLock = await acquireDataDirLock(fs, dataDir);
    cleanups.push(() => lock.release());

    // The embedded default keeps the metadata log here; a broker of a cluster follows its controller's (or etcd's).
    const embedded = config.controllerAddress === '';
    const onEtcd = isEtcdAddress(config.controllerAddress);
    const store: MetadataStore | null = embedded ? await LocalMetadataStore.open({ dataDir, fs, clock, localNodeId: config.nodeId }) : null;
    if (store !== null) {
      cleanups.push(() => store.close());
      if (store.image.clusterId === '') await store.commit([{ kind: 'clusterCreated', clusterId: newClusterId(rng) }], { expectedVersion: 0 });
    }
    const cache = embedded ? null : new MetadataCache();
    const topicImage = (topic: string) => (store ?? cache!).image.topics.get(topic);

    const keys = world.keys !== undefined ? world.keys : await keyProviderFromConfig(config.encryption, (file) => fs.readFile(file));
    if (keys !== null) {
      logger.info({ event: 'encryptionKeys', currentKeyId: keys.currentKeyId(), cipher: aesGcm().name, engine: aesGcm().engine }, `encryption at rest: new batches of encrypted topics go under key ${keys.currentKeyId()} (AES-256-GCM: ${aesGcm().name}, ${aesGcm().engine})`);
      const fallback = aesGcmFallback();
      if (fallback !== null) logger.warn({ event: 'encryptionSlowCipher', reason: fallback }, `encryption at rest runs on node:crypto, 2-3x slower than the native addon: ${fallback}`);
    }
    // Started only when keys are configured; its threads start with the first large read of an encrypted topic.
    const opener = keys === null || openerThreads === 0 ? undefined : new WorkerBatchOpener(openerThreads);
    if (opener !== undefined) cleanups.push(() => opener.close());
    const plaintextCache = keys === null || config.encryption.cacheBytes === 0 ? undefined : new PlaintextCache(config.encryption.cacheBytes);
    // Large appends of encrypted topics seal half on a worker thread (not in a simulation: it stays on one thread).
    const sealer = keys === null || fs !== realFileSystem || !parallelSealingPays() ? undefined : new ParallelSealer({ onAbandoned: (reason) => logger.warn({ event: 'sealWorkerAbandoned', reason }, `encryption at rest: the seal worker thread was abandoned (${reason}); appends now seal on the event loop alone`) });
    if (sealer !== undefined) cleanups.push(() => sealer.close());
    let replicas: ReplicaManager | undefined;
    const logs = await LogManager.open({
      encryption: { keys, rng, ...(opener === undefined ? {} : { opener }), ...(plaintextCache === undefined ? {} : { cache: plaintextCache }), ...(sealer === undefined ? {} : { sealer }) },
      dataDir,
      fs,
      clock,
      logger: logger.child({ component: 'storage' }),
      configFor: (topic) => logConfigFor(config, topicImage(topic)?.configs ?? {}),
      retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
      recoveryThreads,
      cleanerThreads,
      ...(budget.segmentFiles === undefined ? {} : { openFilesMax: budget.segmentFiles }),
      pendingTotalBytesMax: config.pendingSegmentBytesMax,
      pendingPartitionBytesMax: config.pendingSegmentBytesMaxPerPartition,
      onFlushed: telemetry.onFlushed,
      // Retention never deletes what consumers cannot have read yet.
      retentionBoundFor: (topic, partition) => replicas?.partition(topic, partition)?.highWatermark ?? 0,
    });
    cleanups.push(async () => {
      await logs.close();
      const stats = logs.descriptorStats();
      if (stats !== null) logger.info({ event: 'segmentFileDescriptors', ...stats }, `segment files: ${stats.reopens} reopened after their descriptor was closed while idle (${stats.evictions} closed, ${stats.backgroundSyncs} fdatasyncs in the background, ${stats.blockingSyncs} on the event loop, ${stats.overBudget} opens over the budget of ${stats.budget}, at most ${stats.peak} open at once)`);
    });

    // A broker of a cluster replicates: its fetchers and ISR changes need the controller channel (made first) and its broker epoch (known once registered).
    const endpoint: LocalEndpoints = localEndpoints(config.advertising, config.listeners, config.interBrokerListenerName);
    const security = await brokerSecurity(config, fs);
    // What this broker reaches the others with: TLS and SASL when the inter-broker listener uses them (security/broker-security.ts).
    const interBrokerWorld = { transport: security.interBroker(transport), clock, rng };
    // The etcd client (etcd3 with gRPC) takes a quarter of a second to load: only a node on etcd pays for it.
    const ha = onEtcd ? await (await import('./cluster/etcd-controller.js')).openEtcdController({ config, fs, clock, rng, transport: interBrokerWorld.transport, logger, cleanups, endpoint }) : null;
    const remote: ControllerChannel | null = store !== null ? null : ha !== null ? ha.channel : (() => {
      const [controllerHost, controllerPort] = splitAddress(config.controllerAddress);
      const channel = new RemoteControllerChannel({ host: controllerHost, port: controllerPort, brokerId: config.nodeId, world: interBrokerWorld, logger: logger.child({ component: 'controllerChannel' }) });
      cleanups.push(() => channel.close());
      return channel;
    })();
    let joined: BrokerLifecycle | undefined;
    const replication = remote === null ? {} : { replication: { channel: remote, world: interBrokerWorld, brokerEpoch: () => joined?.brokerEpoch ?? -1, staleBrokerEpoch: (epoch: number) => void joined?.staleEpoch(epoch) } };
    const highWatermarks = new HighWatermarkCheckpoint({ dataDir, fs, logger });
    const serving = new ReplicaManager({ nodeId: config.nodeId, logs, config, logger, clock, highWatermarks, onIsrChanged: telemetry.onIsrChanged, ...replication });
    replicas = serving;
    cleanups.push(() => serving.close());
    world.observe?.({ replicas: serving, image: () => serving.image });
    const faults = new BrokerFaults(logger);
    const registrationIdentity = () => {
      const listeners = listenersToRegister(config.listeners, endpoint, config.advertising);
      return { brokerId: config.nodeId, host: endpoint.host, port: endpoint.port, rack: config.brokerRack, ...(listeners === undefined ? {} : { listeners }) };
    };
    const lifecycleOf = (channel: ControllerChannel): BrokerLifecycle =>
      new BrokerLifecycle({ channel, replicas: serving, cache, identity: () => registrationIdentity(), heartbeatIntervalMs: config.brokerHeartbeatIntervalMs, sessionTimeoutMs: config.brokerSessionTimeoutMs, sessionDisconnectTimeoutMs: config.brokerSessionDisconnectTimeoutMs, dataDir, fs, clock, rng, logger, faults });

    let controller: Controller | undefined;
    let channel: ControllerChannel;
    let lifecycle: BrokerLifecycle;
    let admin: TopicAdmin;
    if (store !== null) {
      await serving.start(store.image);
      const local = new Controller({ store, config, rng, logger, local: serving, clock });
      controller = local;
      cleanups.push(() => local.close());
      admin = local;
      channel = new InProcessControllerChannel({ controller: local, controllerId: config.nodeId, answerAdmin: adminAnswerer({ config, controller: local, logger }) });
      lifecycle = lifecycleOf(channel);
    } else {
      channel = remote!;
      lifecycle = lifecycleOf(channel);
      joined = lifecycle;
      admin = new ForwardingAdmin({ channel, config, applied: lifecycle });
    }
    const running = lifecycle;
    cleanups.push(() => running.close());
    logs.startMaintenance();

    // With a fixed port the broker joins its cluster before it accepts connections, so a listening broker is a member; port 0 is known only once bound.
    const joinFirst = config.port !== 0;
    // On etcd this node campaigns as soon as its address is known: a cluster's first broker registers with itself.
    if (joinFirst) await ha?.candidacy.start();
    if (joinFirst) await lifecycle.start();
    const controllerApis = controller ?? ha?.seat;
    // The group coordinator follows the leadership of __consumer_offsets partitions through the replica manager's applies.
    const topicAdmin = admin;
    const coordinator = new GroupCoordinator({ replicas: serving, settings: coordinatorSettings(config), clock, logger: logger.child({ component: 'coordinator' }), createTopic: (request) => topicAdmin.createInternalTopic(request), topicPartitions: config.groups.offsetsTopicPartitions, replicationFactor: config.groups.offsetsTopicReplicationFactor });
    serving.onApplied((image) => coordinator.onImage(image));
    coordinator.onImage(serving.image);
    cleanups.push(async () => coordinator.close());
    const producerIds = new ProducerIdBlocks(channel, () => ({ brokerId: config.nodeId, brokerEpoch: running.brokerEpoch }));
    const access = new AccessControl({ config, image: () => serving.image, logger: logger.child({ component: 'authorizer' }) });
    // Closed after the listener (cleanups run last-pushed first), so the last minute is written whole.
    const usage = config.usage === null ? null : new UsageMetering({ settings: config.usage, nodeId: config.nodeId, clock, logger, replicas: serving, world: interBrokerWorld, createTopic: (request) => topicAdmin.createInternalTopic(request) });
    if (usage !== null) cleanups.push(() => usage.close());
    const handlers = buildHandlerTable({ config, access, controller: admin, replicas: serving, clock, logger, endpoint, coordinator, producerIds, interBroker: interBrokerWorld, controllerId: () => channel.controllerId, meter: telemetry.meter, ...(usage === null ? {} : { usage: usage.tap }), ...(controllerApis === undefined ? {} : { controllerApis }) }, faults);
    let listening: BrokerServer | undefined;
    await telemetry.serve({ replicas: serving, coordinator, lifecycle: running, faults, server: () => listening, ...(plaintextCache === undefined ? {} : { plaintextCache }) }, { http: world.http ?? nodeHttpServer, clock, logger });
    cleanups.push(() => telemetry.close());
    const server = await BrokerServer.start({
      transport,
      config,
      handlers,
      clock,
      logger,
      caps: { maxConnections: budget.maxConnections, maxConnectionsPerIp: config.maxConnectionsPerIp, adminReservedConnections: budget.adminReservedConnections, maxConnectionsPerIpOverrides: config.maxConnectionsPerIpOverrides, maxConnectionCreationRate: config.maxConnectionCreationRate },
      observer: combineObservers([telemetry.observer, usage?.observer ?? null]),
      listeners: security.listeners,
      quotas: new ClientQuotaEnforcer({ quotas: () => serving.image.clientQuotas, clock, ...(telemetry.quotaMeter === undefined ? {} : { meter: telemetry.quotaMeter }) }),
      onRefused: (by) => telemetry.quotaMeter?.connectionRefused(by),
    });
    listening = server;
    noteBound(endpoint, config.advertising, server.listeners, config.interBrokerListenerName);
    cleanups.push(() => server.close(config.shutdownTimeoutMs));
    // Runs before the server closes: leaderships move while this broker still answers, so clients are told where to go.
    cleanups.push(async () => {
      await running.shutDown(config.controlledShutdownTimeoutMs);
    });
    if (!joinFirst) await ha?.candidacy.start();
    if (!joinFirst) await lifecycle.start();
    usage?.start();
    // Runs first on shutdown: /health says so from the start of the controlled shutdown.
    cleanups.push(async () => telemetry.shuttingDown());

    const topicCount = serving.image.topics.size;
    logger.info(
      { event: 'listening', host: server.host, port: server.port, listeners: server.listeners, dataDir, clusterId: serving.image.clusterId, nodeId: config.nodeId, topics: topicCount, controller: embedded ? 'embedded' : config.controllerAddress, brokerEpoch: lifecycle.brokerEpoch },
      `runnel broker listening on ${server.listeners.map((l) => `${l.name}://${l.host}:${l.port}`).join(', ')}, data in ${dataDir} (${topicCount} topic(s))`,
    );

    return runningNode({ server, dataDir, clusterId: serving.image.clusterId, faults, cleanups, logger, role: 'broker' });
  } catch (error) {
    await cleanups.unwind();
    throw error;
  }
}

/**
 * The broker as a process (what `runnel start` runs): parses `argv` (the
 * arguments after `start`), starts the broker, and runs until SIGTERM or
 * SIGINT, then shuts down cleanly. Resolves with the exit code (0 after a
 * clean shutdown, 2 for bad settings, 1 for a failure to start); the caller
 * exits with it. A second signal during shutdown exits at once (the logs are
 * then recovered at the next start).
 */
export async function runBrokerCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, role: 'broker' | 'controller' = 'broker'): Promise<number> {
  let config: BrokerConfig;
  try {
    const loaded = await loadBrokerConfig(argv, env, realFileSystem);
    if (loaded.help) {
      process.stdout.write(`${BROKER_USAGE}\n\n${settingsReference()}\n`);
      return 0;
    }
    config = loaded.config;
  } catch (error) {
    if (!(error instanceof BrokerConfigError)) throw error;
    process.stderr.write(`runnel: ${error.message}\n`);
    return 2;
  }

  tuneBrokerProcess();
  const logger = createLogger({ level: config.loggerLevel, format: config.loggerFormat });
  const fatal = (error: unknown, sentence: string): void => {
    logger.fatal({ err: error }, sentence);
    sayOnStderr(sentence, config);
  };
  const onFatal = (kind: string) => (error: unknown): void => {
    fatal(error, `${kind}: ${(error as Error)?.message ?? String(error)}; exiting (logs are recovered at the next start)`);
    process.exit(1);
  };
  process.on('uncaughtException', onFatal('uncaught exception'));
  process.on('unhandledRejection', onFatal('unhandled promise rejection'));

  let broker: RunningBroker;
  try {
    broker = role === 'controller' ? await startController(config, { logger }) : await startBroker(config, { logger });
  } catch (error) {
    fatal(error, `broker failed to start: ${startFailureAdvice(error, config)}`);
    return 1;
  }

  // faults.ts has logged it: exit at once, as after a crash (the next start recovers the logs).
  void broker.failure.then((error) => {
    sayOnStderr(`broker stopped: ${error.message}; exiting (logs are recovered at the next start)`, config);
    process.exit(1);
  });

  return new Promise<number>((resolve) => {
    let stoppingSinceNs: bigint | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stoppingSinceNs !== undefined) {
        // npm and a terminal both deliver one Ctrl-C; only a later, deliberate signal means "now".
        if (systemClock.monotonicNs() - stoppingSinceNs < REPEATED_SIGNAL_GRACE_NS) return;
        logger.warn({ signal }, `${signal} again during shutdown: exiting now (logs are recovered at the next start)`);
        process.exit(1);
      }
      stoppingSinceNs = systemClock.monotonicNs();
      logger.info({ signal }, `${signal} received: shutting down`);
      broker.close().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * A fatal error also goes to stderr as one sentence, so a person (or a
 * supervisor's log) sees why the broker stopped even when stdout is a file
 * or a pipe of JSON lines. Only a pretty log on a terminal already says it
 * readably where the person looks.
 */
function sayOnStderr(sentence: string, config: BrokerConfig): void {
  const prettyOnTerminal = process.stdout.isTTY === true && config.loggerFormat !== 'json';
  if (!prettyOnTerminal) process.stderr.write(`runnel: ${sentence}\n`);
}

/** Why the file system refused, for the codes a data directory runs into. */
const FILE_SYSTEM_REFUSALS: Readonly<Record<string, string>> = {
  ENOTDIR: 'a part of that path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EEXIST: 'a file is in the way',
};

/** What went wrong at start-up, said so that a person knows what to change. */
function startFailureAdvice(error: unknown, config: BrokerConfig): string {
  const code = (error as NodeJS.ErrnoException).code;
  const syscall = (error as NodeJS.ErrnoException).syscall;
  // mkdir in a directory that exists but takes no new entries (/proc, a mount that went away)
  const refused = code === 'ENOENT' && syscall === 'mkdir' ? 'cannot create a directory there' : code === undefined ? undefined : FILE_SYSTEM_REFUSALS[code];
  const filePath = (error as NodeJS.ErrnoException).path;
  if (refused !== undefined && filePath !== undefined && syscall !== 'listen') {
    return `cannot use ${filePath}: ${refused} (${code}); choose another data directory with --data or RUNNEL_DATA_DIR, or fix its permissions`;
  }
  if (code === 'EADDRINUSE') return `${config.host}:${config.port} is already in use (another broker?); choose another port with --port or RUNNEL_PORT`;
  if (code === 'EACCES' && (error as NodeJS.ErrnoException).syscall === 'listen') return `not allowed to listen on ${config.host}:${config.port}; ports below 1024 need privileges, choose another with --port`;
  if (code === 'EADDRNOTAVAIL') return `${config.host} is not an address of this machine; set --host to one of its addresses (or 0.0.0.0)`;
  return (error as Error).message;
}

const invokedAsScript = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedAsScript) {
  runBrokerCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`runnel: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
