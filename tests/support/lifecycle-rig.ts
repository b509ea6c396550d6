/**
 * A BrokerLifecycle on a ManualClock against a controller channel a test
 * scripts, with no disk behind its replica manager: for tests of its
 * registration, heartbeats, lease and metadata polls.
 */
import { BrokerLifecycle } from '../../broker/cluster/broker-lifecycle.js';
import type { ControllerChannel } from '../../broker/cluster/controller-channel.js';
import { brokerConfig } from '../../broker/config.js';
import { BrokerFaults } from '../../broker/faults.js';
import { silentLogger } from '../../broker/log.js';
import { MetadataCache } from '../../broker/metadata/cache.js';
import type { MetadataEntry } from '../../broker/metadata/changes.js';
import { ReplicaManager } from '../../broker/replication/replica-manager.js';
import type { LogManager } from '../../broker/storage/log-manager.js';
import type { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { sleepOn } from '../../client/clock.js';

/** Broker 1's lifecycle over `channel`; `followsMetadata`: it keeps a metadata cache and polls the channel's changes (a broker of a cluster). */
export async function scriptedLifecycle(clock: ManualClock, channel: ControllerChannel, opts: { heartbeatIntervalMs: number; sessionTimeoutMs: number; followsMetadata: boolean }): Promise<BrokerLifecycle> {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/data');
  const logs = { all: () => [], offline: () => [], get: () => undefined } as unknown as LogManager;
  const replicas = new ReplicaManager({ nodeId: 1, logs, config: brokerConfig({}), logger: silentLogger() });
  return new BrokerLifecycle({
    channel,
    replicas,
    cache: opts.followsMetadata ? new MetadataCache() : null,
    identity: () => ({ brokerId: 1, host: 'h', port: 1, rack: null }),
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    sessionTimeoutMs: opts.sessionTimeoutMs,
    sessionDisconnectTimeoutMs: 0,
    dataDir: '/data',
    fs,
    clock,
    rng: seededRng(1),
    logger: silentLogger(),
    faults: new BrokerFaults(silentLogger()),
  });
}

/** Moves `clock` on 10 ms at a time, letting promises and I/O callbacks run between (the lifecycle's heartbeats and polls). */
export async function flush(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms / 10; i++) {
    clock.advance(10);
    for (let j = 0; j < 5; j++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A controller channel whose metadata polls are answered from `log` (read
 * when asked, so a test may append to it), long-polling on `clock` when
 * there is nothing new; registration and heartbeats as the test scripts them.
 * `beforePoll` sees each poll's broker (it may throw, as a controller refusing it).
 */
export function channelOverLog(clock: ManualClock, log: readonly MetadataEntry[], calls: {
  register: () => Promise<{ brokerEpoch: number; clusterId: string }>;
  heartbeat: () => Promise<{ fenced: boolean }>;
  beforePoll?: (broker: { brokerId: number; brokerEpoch: number } | null) => void;
}): ControllerChannel {
  return {
    controllerId: 0,
    register: calls.register,
    heartbeat: calls.heartbeat,
    changes: async (after: number, opts: { maxWaitMs: number; signal: AbortSignal; broker: { brokerId: number; brokerEpoch: number } | null }) => {
      calls.beforePoll?.(opts.broker);
      const entries = log.filter((e) => e.version > after);
      if (entries.length === 0) await sleepOn(clock, opts.maxWaitMs, opts.signal);
      return { latestVersion: log.length, entries };
    },
    alterPartition: async () => { throw new Error('unused'); },
    forward: async () => { throw new Error('unused'); },
    close: async () => undefined,
  } as unknown as ControllerChannel;
}
