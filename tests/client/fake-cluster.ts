/**
 * A scripted cluster for SDK tests of leader changes: several fake brokers
 * (fake-broker.ts) sharing one model of the partitions, each with a leader,
 * a leader epoch, replicas, an ISR and one log (the replicated log: a real
 * follower's copy of the leader's). Every broker answers Metadata v1, Produce,
 * Fetch v1, ListOffsets v1 and OffsetForLeaderEpoch as a real broker of that
 * cluster would: only the leader takes produce and fetch, a request naming
 * an older leader epoch gets FENCED_LEADER_EPOCH, a newer one
 * UNKNOWN_LEADER_EPOCH. The test moves leaders (`moveLeader`, optionally
 * truncating the log as an unclean election does), makes a broker's
 * metadata lag (`staleMetadata`), injects errors (`inject`), and reads what
 * every broker was asked (`seen`).
 */
import type { Test } from 'tap';
import type net from 'node:net';
import { apiVersionsTable, encodeResponse } from '../../protocol/codec.js';
import { stampBatch } from '../../protocol/batch/index.js';
import { walkBatches } from '../../client/consumer/records.js';
import type { ApiName } from '../../protocol/api-keys.js';
import type { MetadataResponse, RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { fakeBroker, type FakeBroker } from './fake-broker.js';

const NOT_LEADER_OR_FOLLOWER = 6;
const FENCED_LEADER_EPOCH = 74;
const UNKNOWN_LEADER_EPOCH = 76;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

export interface StoredBatch {
  baseOffset: number;
  /** One past its last offset. */
  endOffset: number;
  leaderEpoch: number;
  bytes: Uint8Array;
}

export interface FakePartition {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** Replicas the Metadata answer lists as offline. */
  offline?: number[];
  log: StoredBatch[];
}

/** One request a broker received (decoded), for assertions. */
export interface Seen {
  broker: number;
  api: ApiName;
  version: number;
  body: unknown;
}

/** What an injected fault does to one partition of one request: answer this error code instead. */
export type Injection = (broker: number, api: ApiName, topic: string, partition: number) => number | undefined;

export class FakeCluster {
  readonly brokers = new Map<number, FakeBroker>();
  readonly topics = new Map<string, FakePartition[]>();
  readonly seen: Seen[] = [];
  /** Brokers whose Metadata answers are frozen at a snapshot (a broker that has not heard of the change yet). */
  readonly #frozen = new Map<number, Map<string, FakePartition[]>>();
  inject: Injection = () => undefined;
  /**
   * Answers the APIs this cluster does not (group APIs, from tests/client/groups/fake-coordinator.ts); null: silent
   * (answer later through `reply`, as a long poll does).
   */
  more: ((broker: number, api: ApiName, correlationId: number, body: unknown, version: number, reply: (chunks: Uint8Array[]) => void) => Uint8Array[] | null) | null = null;

  static async start(t: Test, brokerIds: number[], topics: Record<string, { partitions: number; replicas: number[] }>): Promise<FakeCluster> {
    const cluster = new FakeCluster();
    for (const [name, spec] of Object.entries(topics)) {
      cluster.topics.set(name, Array.from({ length: spec.partitions }, (_, p) => {
        // Leaders spread over the replicas, as a real controller places them.
        const replicas = spec.replicas.map((_, i) => spec.replicas[(p + i) % spec.replicas.length]!);
        return { leader: replicas[0]!, leaderEpoch: 0, replicas, isr: [...replicas], log: [] };
      }));
    }
    for (const id of brokerIds) {
      cluster.brokers.set(id, await fakeBroker(t, (api, correlationId, body, socket, version) => cluster.#answer(id, api, correlationId, body, socket, version), apiVersionsTable()));
    }
    return cluster;
  }

  get bootstrap(): string[] {
    return [...this.brokers.values()].map((b) => `127.0.0.1:${b.port}`);
  }

  partition(topic: string, partition: number): FakePartition {
    return this.topics.get(topic)![partition]!;
  }

  /** A new leader (epoch + 1); `truncateTo` cuts the log there first, as a new leader that lacked the tail has it. */
  moveLeader(topic: string, partition: number, leader: number, opts: { truncateTo?: number } = {}): void {
    const p = this.partition(topic, partition);
    p.leader = leader;
    p.leaderEpoch++;
    if (opts.truncateTo !== undefined) p.log = p.log.filter((b) => b.endOffset <= opts.truncateTo!);
  }

  /** Broker `id` answers Metadata from a copy of the partitions as they are now, until `thaw`. */
  staleMetadata(id: number): void {
    this.#frozen.set(id, new Map([...this.topics].map(([name, ps]) => [name, ps.map((p) => ({ ...p, replicas: [...p.replicas], isr: [...p.isr] }))])));
  }

  thaw(id: number): void {
    this.#frozen.delete(id);
  }

  logEnd(topic: string, partition: number): number {
    return this.partition(topic, partition).log.at(-1)?.endOffset ?? 0;
  }

  /** Requests of `api`, optionally only those to broker `id`. */
  requests(api: ApiName, id?: number): Seen[] {
    return this.seen.filter((s) => s.api === api && (id === undefined || s.broker === id));
  }

  #answer(id: number, api: ApiName, correlationId: number, body: unknown, socket: net.Socket, version: number): Uint8Array[] | null {
    this.seen.push({ broker: id, api, version, body });
    switch (api) {
      case 'Metadata':
        return encodeResponse('Metadata', version, correlationId, this.#metadata(id, body as RequestBodies['Metadata']));
      case 'Produce':
        return encodeResponse('Produce', version, correlationId, this.#produce(id, body as RequestBodies['Produce']));
      case 'Fetch':
        return encodeResponse('Fetch', version, correlationId, this.#fetch(id, body as RequestBodies['Fetch']));
      case 'ListOffsets':
        return encodeResponse('ListOffsets', version, correlationId, this.#listOffsets(id, body as RequestBodies['ListOffsets']));
      case 'OffsetForLeaderEpoch':
        return encodeResponse('OffsetForLeaderEpoch', version, correlationId, this.#offsetForLeaderEpoch(id, body as RequestBodies['OffsetForLeaderEpoch']));
      case 'DescribeConfigs': {
        const results = (body as RequestBodies['DescribeConfigs']).resources.map((r) => ({ type: r.type, name: r.name, errorCode: 0, errorMessage: null, configs: [] }));
        return encodeResponse('DescribeConfigs', version, correlationId, { results });
      }
      default:
        return this.more?.(id, api, correlationId, body, version, (chunks) => {
          if (!socket.destroyed) for (const chunk of chunks) socket.write(chunk);
        }) ?? null;
    }
  }

  #metadata(id: number, req: RequestBodies['Metadata']): MetadataResponse {
    const view = this.#frozen.get(id) ?? this.topics;
    // Internal topics (`__`) only when asked for, or named (Metadata v1).
    const names = req.topics ?? [...view.keys()].filter((name) => req.includeInternal || !name.startsWith('__'));
    return {
      brokers: [...this.brokers].filter(([, b]) => b.server.listening).map(([nodeId, b]) => ({ nodeId, host: '127.0.0.1', port: b.port, rack: null })),
      clusterId: 'fake-cluster',
      controllerId: 0,
      topics: names.map((name) => {
        const ps = view.get(name);
        if (ps === undefined) return { errorCode: UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] };
        return {
          errorCode: 0, name, isInternal: name.startsWith('__'),
          partitions: ps.map((p, partition) => ({ errorCode: 0, partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr, offlineReplicas: p.offline ?? [] })),
        };
      }),
    };
  }

  /** The error a request to broker `id` for this partition gets, if any: not the leader, or the epoch it names is off. */
  #refusal(id: number, api: ApiName, topic: string, partition: number, currentLeaderEpoch: number): number {
    const p = this.topics.get(topic)?.[partition];
    if (p === undefined) return UNKNOWN_TOPIC_OR_PARTITION;
    const injected = this.inject(id, api, topic, partition);
    if (injected !== undefined) return injected;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < p.leaderEpoch) return FENCED_LEADER_EPOCH;
    if (currentLeaderEpoch > p.leaderEpoch) return UNKNOWN_LEADER_EPOCH;
    if (p.leader !== id) return NOT_LEADER_OR_FOLLOWER;
    return 0;
  }

  #produce(id: number, req: RequestBodies['Produce']): ResponseBodies['Produce'] {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map(({ partition, records }) => {
          const errorCode = this.#refusal(id, 'Produce', t.name, partition, -1);
          if (errorCode !== 0) return { partition, errorCode, errorMessage: null, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: 0 };
          const p = this.partition(t.name, partition);
          const baseOffset = this.logEnd(t.name, partition);
          let next = baseOffset;
          for (const { position, header } of walkBatches(records).batches) {
            const bytes = records.slice(position, position + header.sizeBytes);
            stampBatch(bytes, 0, next, p.leaderEpoch);
            p.log.push({ baseOffset: next, endOffset: next + header.lastOffsetDelta + 1, leaderEpoch: p.leaderEpoch, bytes });
            next += header.lastOffsetDelta + 1;
          }
          return { partition, errorCode: 0, errorMessage: null, baseOffset, logAppendTimeMs: -1, logStartOffset: 0 };
        }),
      })),
    };
  }

  #fetch(id: number, req: RequestBodies['Fetch']): ResponseBodies['Fetch'] {
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map(({ partition, currentLeaderEpoch, fetchOffset }) => {
          const errorCode = this.#refusal(id, 'Fetch', t.name, partition, currentLeaderEpoch);
          if (errorCode !== 0) return { partition, errorCode, leaderEpoch: -1, highWatermark: -1, logStartOffset: -1, records: [] };
          const p = this.partition(t.name, partition);
          const end = this.logEnd(t.name, partition);
          if (fetchOffset > end) return { partition, errorCode: 1, leaderEpoch: p.leaderEpoch, highWatermark: end, logStartOffset: 0, records: [] };
          const records = p.log.filter((b) => b.endOffset > fetchOffset).map((b) => b.bytes);
          return { partition, errorCode: 0, leaderEpoch: p.leaderEpoch, highWatermark: end, logStartOffset: 0, records: records.length === 0 ? [] : [Buffer.concat(records)] };
        }),
      })),
    };
  }

  #listOffsets(id: number, req: RequestBodies['ListOffsets']): ResponseBodies['ListOffsets'] {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map(({ partition, currentLeaderEpoch, timestamp }) => {
          const errorCode = this.#refusal(id, 'ListOffsets', t.name, partition, currentLeaderEpoch);
          if (errorCode !== 0) return { partition, errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 };
          const offset = timestamp === -2 ? 0 : this.logEnd(t.name, partition);
          return { partition, errorCode: 0, timestamp: -1, offset, leaderEpoch: this.partition(t.name, partition).leaderEpoch };
        }),
      })),
    };
  }

  /** Kafka's answer: the largest epoch <= the one asked, and where the next epoch starts (the log end for the latest). */
  #offsetForLeaderEpoch(id: number, req: RequestBodies['OffsetForLeaderEpoch']): ResponseBodies['OffsetForLeaderEpoch'] {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map(({ partition, currentLeaderEpoch, leaderEpoch }) => {
          const errorCode = this.#refusal(id, 'OffsetForLeaderEpoch', t.name, partition, currentLeaderEpoch);
          if (errorCode !== 0) return { partition, errorCode, errorMessage: null, leaderEpoch: -1, endOffset: -1 };
          const p = this.partition(t.name, partition);
          const epochs = [...new Set([...p.log.map((b) => b.leaderEpoch), p.leaderEpoch])].sort((a, b) => a - b);
          const found = epochs.filter((e) => e <= leaderEpoch).at(-1);
          if (found === undefined) return { partition, errorCode: 0, errorMessage: null, leaderEpoch: -1, endOffset: -1 };
          const nextStart = p.log.find((b) => b.leaderEpoch > found)?.baseOffset;
          return { partition, errorCode: 0, errorMessage: null, leaderEpoch: found, endOffset: nextStart ?? this.logEnd(t.name, partition) };
        }),
      })),
    };
  }
}
