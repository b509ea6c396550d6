/**
 * Where the share-group coordinator reads a partition's records and writes
 * dead letters: the partition's leader. On this broker that is its local
 * replica (reads through Partition.read, new data announced by onAdvance,
 * appends waiting for the in-sync replicas); on another broker it is an
 * inter-broker Fetch (as a consumer: up to the high watermark) and an
 * acks=all Produce over one connection per broker, and new data is waited
 * for with a long-polling Fetch (no polling loop).
 */
import { Connection } from '../../client/connection.js';
import type { Logger as ClientLogger } from '../../client/types.js';
import type { ClientWorld } from '../../client/world.js';
import { Errors } from '../../protocol/errors.js';
import type { Logger } from '../log.js';
import { Partition } from '../partition.js';
import { READ_BYTES, type PartitionData } from './partition-reader.js';
import { tp } from '../coordinator/partition-set.js';
import { NotLeaderError } from '../errors.js';
import type { ReplicaManager } from '../replication/replica-manager.js';

export interface ShareSource {
  readonly topic: string;
  readonly index: number;
  readonly data: PartitionData;
  /** The local replica (woken by its onAdvance), or null for a partition led by another broker. */
  readonly partition: Partition | null;
  /** Remote only: resolves once records at or past `offset` may be there (a long-polling Fetch); never when the leader cannot be asked. */
  waitForData(offset: number, ms: number): Promise<void>;
  /** Appends whole batches, resolving once every in-sync replica has them (acks=all). */
  append(batch: Uint8Array): Promise<void>;
}

export function localSource(partition: Partition): ShareSource {
  return {
    topic: partition.topic,
    index: partition.index,
    partition,
    data: {
      // Below the log start (retention or DeleteRecords moved it): read from there.
      read: (offset, maxBytes) => partition.read(Math.max(offset, partition.logStartOffset), maxBytes),
      get logStartOffset() {
        return partition.logStartOffset;
      },
      get highWatermark() {
        return partition.highWatermark;
      },
    },
    waitForData: () => new Promise<void>(() => undefined),
    async append(batch) {
      const append = partition.append(batch);
      append.committed.catch(() => undefined);
      await partition.whenReplicated(append.info.lastOffset + 1);
    },
  };
}

/**
 * A partition at its leader: the local replica when this broker leads it,
 * else the leader on another broker (over `world`; absent on a single node).
 * What the share-group coordinator reads and writes through, and where the
 * usage writer appends `__usage` (metering/usage-writer.ts).
 */
export function leaderSources(opts: { replicas: Pick<ReplicaManager, 'partitionOrError' | 'image'>; nodeId: number; world: ClientWorld | undefined; logger: Logger }): { lookup: (topic: string, index: number) => ShareSource | Error; onClose: () => void } {
  const { replicas, nodeId, world } = opts;
  const remote = world === undefined ? null : new RemoteLeaders({ world, nodeId, logger: opts.logger, addressOf: (id) => replicas.image.brokers.get(id) });
  return {
    lookup: (topic, index) => {
      const found = replicas.partitionOrError(topic, index, { role: 'leader' });
      if (found instanceof Partition) return localSource(found);
      if (remote !== null && found instanceof NotLeaderError && found.leader >= 0 && found.leader !== nodeId) return remote.source(topic, index, found.leader);
      return found;
    },
    onClose: () => void remote?.close(),
  };
}

class RemoteError extends Error {}

/** One connection per other broker, for the coordinator's reads and dead-letter writes. */
export class RemoteLeaders {
  readonly #world: ClientWorld;
  readonly #nodeId: number;
  readonly #logger: ClientLogger;
  readonly #addressOf: (id: number) => { host: string; port: number } | undefined;
  readonly #connections = new Map<number, Connection>();
  /** What the last read of each partition said: the describe's high watermark. */
  readonly #marks = new Map<string, { logStartOffset: number; highWatermark: number }>();
  /** Long-polling Fetches in flight, by partition and offset: every ShareFetch waiting there shares one (none is ever cancelled, so a new one per wake would pile up on the connection). */
  readonly #waits = new Map<string, Promise<void>>();

  constructor(opts: { world: ClientWorld; nodeId: number; logger: Logger; addressOf: (id: number) => { host: string; port: number } | undefined }) {
    this.#world = opts.world;
    this.#nodeId = opts.nodeId;
    this.#addressOf = opts.addressOf;
    const child = opts.logger.child({ component: 'share-remote' });
    this.#logger = { debug: () => undefined, info: (o, m) => child.debug(o, m), warn: (o, m) => child.info(o, m), error: (o, m) => child.warn(o, m) };
  }

  source(topic: string, index: number, leader: number): ShareSource | Error {
    const connection = this.#connection(leader);
    if (connection === null) return new Error(`broker ${leader} leads ${topic}-${index}, and its address is not known yet`);
    const key = tp(topic, index);
    const marks = (): { logStartOffset: number; highWatermark: number } => this.#marks.get(key) ?? { logStartOffset: -1, highWatermark: -1 };
    const fetch = async (offset: number, maxWaitMs: number) => {
      const response = await connection.request('Fetch', {
        replicaId: -1,
        replicaEpoch: -1,
        maxWaitMs,
        minBytes: 1,
        maxBytes: READ_BYTES,
        topics: [{ name: topic, partitions: [{ partition: index, currentLeaderEpoch: -1, fetchOffset: offset, partitionMaxBytes: READ_BYTES }] }],
      });
      const result = response.topics[0]?.partitions[0];
      if (result === undefined) throw new RemoteError(`broker ${leader} answered no result for ${topic}-${index}`);
      if (result.errorCode === 0 || result.errorCode === Errors.OFFSET_OUT_OF_RANGE.code) this.#marks.set(key, { logStartOffset: result.logStartOffset, highWatermark: result.highWatermark });
      return result;
    };
    return {
      topic,
      index,
      partition: null,
      data: {
        read: async (offset, _maxBytes) => {
          let result = await fetch(offset, 0);
          // Below the log start: read from there (the answer says where it is).
          if (result.errorCode === Errors.OFFSET_OUT_OF_RANGE.code && result.logStartOffset > offset) result = await fetch(result.logStartOffset, 0);
          if (result.errorCode !== 0) throw new RemoteError(`reading ${topic}-${index} from broker ${leader}: error ${result.errorCode}`);
          return { records: result.records };
        },
        get logStartOffset() {
          return marks().logStartOffset;
        },
        get highWatermark() {
          return marks().highWatermark;
        },
      },
      waitForData: (offset, ms) => {
        const from = Math.max(0, offset);
        const waitKey = `${key}@${from}`;
        let wait = this.#waits.get(waitKey);
        if (wait === undefined) {
          const polled = fetch(from, Math.max(0, Math.floor(ms))).finally(() => this.#waits.delete(waitKey));
          // An error wakes nobody: the ShareFetch's own deadline (or a coordinator change) ends its wait.
          wait = polled.then(
            (result) => (result.errorCode === 0 ? undefined : new Promise<void>(() => undefined)),
            () => new Promise<void>(() => undefined),
          );
          this.#waits.set(waitKey, wait);
        }
        return wait;
      },
      append: async (batch) => {
        const response = await connection.request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: topic, partitions: [{ partition: index, records: batch }] }] });
        const result = response.topics[0]?.partitions[0];
        if (result === undefined || result.errorCode !== 0) throw new RemoteError(`writing to ${topic}-${index} on broker ${leader}: ${result?.errorMessage ?? result?.errorCode ?? 'no result'}`);
      },
    };
  }

  async close(): Promise<void> {
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
  }

  #connection(id: number): Connection | null {
    const address = this.#addressOf(id);
    if (address === undefined) return null;
    let connection = this.#connections.get(id);
    if (connection !== undefined && (connection.host !== address.host || connection.port !== address.port)) {
      void connection.close().catch(() => undefined);
      connection = undefined;
    }
    if (connection === undefined) {
      connection = new Connection({
        host: address.host,
        port: address.port,
        clientId: `runnel-share-coordinator-${this.#nodeId}`,
        connectTimeoutMs: 10_000,
        requestTimeoutMs: 60_000,
        maxInFlightRequests: 64,
        maxFrameBytes: 64 * 1024 * 1024,
        reconnect: { initialBackoffMs: 100, maxBackoffMs: 1000 },
        logger: this.#logger,
        world: this.#world,
      });
      this.#connections.set(id, connection);
    }
    return connection;
  }
}
