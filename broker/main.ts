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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrokerConfigError, type BrokerConfig } from './config.js';
import { BROKER_USAGE, loadBrokerConfig, settingsReference } from './config-sources.js';
import { Controller } from './controller/controller.js';
import { BrokerFaults } from './faults.js';
import { buildHandlerTable } from './handlers/index.js';
import { createLogger, type Logger } from './log.js';
import { LocalMetadataStore } from './metadata/local-store.js';
import type { MetadataStore } from './metadata/store.js';
import { BrokerServer } from './net/server.js';
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
import { nodeTransport, type Transport } from './world/transport.js';

/** Everything the broker reads from outside: time, randomness, disk, network, and where logs go. */
export interface BrokerWorld {
  clock: Clock;
  rng: Rng;
  fs: FileSystem;
  transport: Transport;
  logger: Logger;
  /** The file-descriptor limit and count (descriptor-budget.ts spends them). */
  descriptors: Descriptors;
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

/** A second SIGINT/SIGTERM within this long of the first is the same request, not an order to hurry. */
const REPEATED_SIGNAL_GRACE_NS = 1_000_000_000n;

/** 16 random bytes, base64url: Kafka's cluster id shape. */
function newClusterId(rng: Rng): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  return bytes.toString('base64url');
}

/** Starts a broker; resolves once it accepts connections. */
export async function startBroker(config: BrokerConfig, world: Partial<BrokerWorld> = {}): Promise<RunningBroker> {
  const clock = world.clock ?? systemClock;
  const rng = world.rng ?? systemRng;
  const fs = world.fs ?? realFileSystem;
  const transport = world.transport ?? nodeTransport;
  const logger = world.logger ?? createLogger({ level: config.loggerLevel, format: config.loggerFormat });
  const descriptors = world.descriptors ?? systemDescriptors;
  const dataDir = path.resolve(config.dataDir);
  // Recovery scans on worker threads read the real disk; any other file system is scanned here.
  const recoveryThreads = fs === realFileSystem ? defaultRecoveryThreads() : 0;
  const budget = planDescriptors({
    limit: descriptors.limit(),
    inUse: descriptors.inUse(),
    maxConnections: config.maxConnections,
    adminReservedConnections: config.adminReservedConnections,
    workerThreads: recoveryThreads + DEFAULT_CLEANER_THREADS,
    transientFiles: DEFAULT_TRANSIENT_SLOTS,
    segmentFilesOverdraft: DEFAULT_OVERDRAFT,
  });
  logger.info({ event: 'descriptorBudget', limit: budget.limit, maxConnections: budget.maxConnections, adminReservedConnections: budget.adminReservedConnections, segmentFiles: budget.segmentFiles ?? null, reservedForBroker: budget.reservedForBroker }, budget.summary);

  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
  };

  try {
    await fs.mkdirp(dataDir);
    // A data directory created just now must survive a crash along with what goes into it.
    await fs.fsyncDir(path.dirname(dataDir));
    const lock: DataDirLock = await acquireDataDirLock(fs, dataDir);
    cleanups.push(() => lock.release());

    const store: MetadataStore = await LocalMetadataStore.open({ dataDir, fs, clock, localNodeId: config.nodeId });
    cleanups.push(() => store.close());
    if (store.image.clusterId === '') await store.commit([{ kind: 'clusterCreated', clusterId: newClusterId(rng) }], { expectedVersion: 0 });

    let replicas: ReplicaManager | undefined;
    const logs = await LogManager.open({
      dataDir,
      fs,
      clock,
      logger: logger.child({ component: 'storage' }),
      configFor: (topic) => logConfigFor(config, store.image.topics.get(topic)?.configs ?? {}),
      retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
      recoveryThreads,
      ...(budget.segmentFiles === undefined ? {} : { openFilesMax: budget.segmentFiles }),
      pendingTotalBytesMax: config.pendingSegmentBytesMax,
      pendingPartitionBytesMax: config.pendingSegmentBytesMaxPerPartition,
      // Retention never deletes what consumers cannot have read yet.
      retentionBoundFor: (topic, partition) => replicas?.partition(topic, partition)?.highWatermark ?? 0,
    });
    cleanups.push(async () => {
      await logs.close();
      const stats = logs.descriptorStats();
      if (stats !== null) logger.info({ event: 'segmentFileDescriptors', ...stats }, `segment files: ${stats.reopens} reopened after their descriptor was closed while idle (${stats.evictions} closed, ${stats.backgroundSyncs} fdatasyncs in the background, ${stats.blockingSyncs} on the event loop, ${stats.overBudget} opens over the budget of ${stats.budget}, at most ${stats.peak} open at once)`);
    });

    const serving = new ReplicaManager({ nodeId: config.nodeId, logs, config, logger });
    replicas = serving;
    cleanups.push(() => serving.close());
    await serving.start(store.image);
    const controller = new Controller({ store, config, rng, logger, local: serving });
    cleanups.push(() => controller.close());
    logs.startMaintenance();

    const endpoint = { host: config.advertisedHost, port: config.port };
    const faults = new BrokerFaults(logger);
    const handlers = buildHandlerTable({ config, controller, replicas: serving, clock, logger, endpoint }, faults);
    const server = await BrokerServer.start({
      transport,
      config,
      handlers,
      clock,
      logger,
      caps: { maxConnections: budget.maxConnections, maxConnectionsPerIp: config.maxConnectionsPerIp, adminReservedConnections: budget.adminReservedConnections },
    });
    endpoint.port = server.port;
    cleanups.push(() => server.close(config.shutdownTimeoutMs));
    // Not one more answer from state that broke an invariant: close every connection now (the failed request's answer is flushed first).
    let connectionsClosed = Promise.resolve();
    faults.onFatal(() => {
      connectionsClosed = server.close(0);
    });

    const topicCount = serving.image.topics.size;
    logger.info(
      { event: 'listening', host: server.host, port: server.port, dataDir, clusterId: store.image.clusterId, nodeId: config.nodeId, topics: topicCount },
      `runnel broker listening on ${server.host}:${server.port}, data in ${dataDir} (${topicCount} topic(s))`,
    );

    let closing: Promise<void> | undefined;
    return {
      host: server.host,
      port: server.port,
      dataDir,
      clusterId: store.image.clusterId,
      failure: faults.failure.then(async (error) => {
        await connectionsClosed;
        return error;
      }),
      close() {
        closing ??= unwind().then(() => logger.info({ event: 'stopped' }, 'runnel broker stopped cleanly'));
        return closing;
      },
    };
  } catch (error) {
    await unwind();
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
export async function runBrokerCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
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
    broker = await startBroker(config, { logger });
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
