/**
 * What the client knows about the cluster: brokers, topics, partition leaders,
 * and one connection per broker id. Metadata is fetched on demand and cached;
 * it is refreshed when a request fails in a way that means the cache is wrong
 * (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH,
 * UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, BROKER_NOT_AVAILABLE,
 * REPLICA_NOT_AVAILABLE) or a broker connection drops, and in the background once it is older than
 * `metadataMaxAgeMs` (Kafka's metadata.max.age.ms), so a long-running client
 * learns of partitions added to a topic and of leaders that moved without an
 * error to tell it. Concurrent refreshes share one request.
 *
 * Outages: each broker the metadata names is one outage at a time, however
 * many of its connections fail, and a bootstrap address (which is usually
 * one of those brokers under another name: `localhost:9092` for
 * `127.0.0.1:9092`) is reported only while no broker is known yet. Any
 * connection that completes ends the bootstrap outages: the cluster is
 * reachable. So a single broker that goes away is one 'broker-unreachable'
 * and, once it is back, one 'broker-reachable', whichever connections
 * noticed.
 *
 * Leader epochs (KIP-320): every partition's leader epoch is remembered
 * across invalidations, and an answer that gives a partition an older epoch
 * than one already seen (a broker that has not heard of the election yet) is
 * ignored for that partition: the cached state stays, or, if none is cached,
 * the partition counts as leaderless, so it is looked up again after a
 * backoff rather than sent to a deposed leader.
 *
 * Each producer, consumer and admin owns its own `Cluster`, so their sockets
 * and in-flight limits are separate: a consumer's long poll never takes a
 * slot a producer needs.
 */
import type { MetadataResponse } from '../protocol/messages.js';
import type { Connection } from './connection.js';
import { CircuitBreaker } from './resilience/circuit-breaker.js';
import { GuardedConnection } from './resilience/guarded-connection.js';
import { NO_RESILIENCE, type ResolvedResilience } from './resilience/options.js';
import { Errors, errorNameOf } from '../protocol/errors.js';
import { RunnelError, invalidArgument, isRetriable, type RunnelErrorName } from './errors.js';
import { backoffMs, type RetryPolicy } from './backoff.js';
import { sleepOn, type ClientClock } from './clock.js';
import { systemClientWorld } from './world.js';
import { ClientEventEmitter } from './events.js';
import type { ClientWorld } from './world.js';
import type { BrokerStats, Logger } from './types.js';

export interface ClusterOptions {
  bootstrap: { host: string; port: number }[];
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxInFlightRequests: number;
  maxFrameBytes: number;
  retry: RetryPolicy;
  logger: Logger;
  /** Producers ask brokers to auto-create topics (if the broker allows it); admin and consumers don't. */
  allowAutoTopicCreation: boolean;
  /** Cached topic metadata older than this is refreshed in the background when next used. */
  metadataMaxAgeMs: number;
  /** The network, clock and randomness the connections run on (default: the real ones). */
  world?: ClientWorld;
  /** Circuit breakers and request bulkheads per broker (default: none; the SDK's Runnel passes its own). */
  resilience?: ResolvedResilience;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  partitions: PartitionInfo[];
  /** The number of the Metadata request that brought it (see `Cluster.nextMetadataSeq`). */
  asOf: number;
  /** When a background refresh is due (ms since the epoch): metadataMaxAgeMs after it came, later after a failed refresh. */
  refreshAtMs: number;
}

/** Errors that mean "the cached metadata is stale" (or the broker it names is out of reach): refresh it. */
const STALE_METADATA: ReadonlySet<RunnelErrorName> = new Set<RunnelErrorName>([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  // The request named an epoch the broker has moved past, or not reached yet: one of us is behind.
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'CONNECTION_FAILED',
  'REQUEST_TIMED_OUT',
  // A broker we stopped sending to: whoever leads its partitions now may be another.
  'BROKER_CIRCUIT_OPEN',
]);

/** A broker no connection could reach since `sinceMs` (one outage). */
export interface Unreachable {
  /** Its address, `host:port`. */
  broker: string;
  sinceMs: number;
  /** The latest failed attempt's reason (an errno code, or what got no answer) and error. */
  reason: string;
  error: RunnelError;
}

/**
 * How long answers may keep naming an older leader epoch than one seen before
 * they are believed after all. Metadata has no topic id, so a topic deleted
 * and created again under the same name (epochs from 0 again) looks like a
 * broker behind an election; no broker stays behind that long without being
 * fenced (its session times out after 9 s), so by then it is a new topic.
 */
const STALE_EPOCH_PATIENCE_MS = 10_000;

/** The code a partition the broker did not describe is cached with: it has no leader we know of. */
const LEADERLESS = Errors.LEADER_NOT_AVAILABLE.code;

function hasLeaderless(info: TopicInfo): boolean {
  return info.partitions.some((p) => p.leader < 0);
}

export const LOOK_UP = -1;
export const NO_SUCH_PARTITION = -2;

export function isStaleMetadataError(err: unknown): boolean {
  return err instanceof RunnelError && STALE_METADATA.has(err.errorName);
}

export function parseBootstrap(bootstrap: string[]): { host: string; port: number }[] {
  if (!Array.isArray(bootstrap) || bootstrap.length === 0) throw invalidArgument('bootstrap must list at least one "host:port"');
  return bootstrap.flatMap((entry) => entry.split(',')).map((entry) => {
    const trimmed = entry.trim();
    const colon = trimmed.lastIndexOf(':');
    const host = colon > 0 ? trimmed.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : '';
    const port = Number(trimmed.slice(colon + 1));
    if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalidArgument(`bootstrap address "${entry}" is not "host:port" (for example 127.0.0.1:9092)`);
    }
    return { host, port };
  });
}

export class Cluster {
  readonly opts: ClusterOptions;
  readonly #bootstrap: GuardedConnection[];
  readonly #brokers = new Map<number, GuardedConnection>();
  readonly #topics = new Map<string, TopicInfo>();
  /** Topics looked up while some partition had no leader: how many times, and when the next lookup may go out. */
  readonly #leaderless = new Map<string, { lookups: number; nextMs: number }>();
  readonly #lookups = new Map<string, Promise<TopicInfo>>();
  /** The newest leader epoch seen per partition (`topic\0partition`); outlives invalidate(), forgotten only with the topic. */
  readonly #epochs = new Map<string, number>();
  /** Since when answers have named an older epoch than `#epochs` has, per partition (see STALE_EPOCH_PATIENCE_MS). */
  readonly #olderSinceMs = new Map<string, number>();
  #refreshing: Promise<void> | null = null;
  #closed = false;
  #nextBootstrap = 0;
  /** Ends retry sleeps at close(), so no timer outlives the client. */
  readonly #abort = new AbortController();
  /** Outages by broker (`node <id>`) or bootstrap address (`bootstrap <host:port>`): every connection to one may fail, the outage is reported once. */
  readonly #unreachable = new Map<string, Unreachable>();
  /** The number the next Metadata request gets: an answer to a later request is fresher. */
  #metadataSeq = 0;
  /** 'broker-unreachable' and 'broker-reachable', for the producer or consumer that owns this cluster. */
  readonly events: ClientEventEmitter;

  /** The world's clock: every time this client reads or waits on. */
  readonly clock: ClientClock;
  readonly #random: () => number;

  constructor(opts: ClusterOptions) {
    this.events = new ClientEventEmitter(opts.logger);
    this.opts = opts;
    const world = opts.world ?? systemClientWorld;
    this.clock = world.clock;
    this.#random = () => world.rng.next();
    this.#bootstrap = opts.bootstrap.map((addr) => this.#newConnection(addr.host, addr.port, `bootstrap ${addr.host}:${addr.port}`, null));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * `outageKey`: what an outage of this connection is an outage of (a broker
   * id, or a bootstrap address). Each connection has its own breaker: a
   * bootstrap address may be a broker under another name, but its
   * connection fails on its own.
   */
  #newConnection(host: string, port: number, outageKey: string, nodeId: number | null): GuardedConnection {
    const address = `${host}:${port}`;
    const settings = this.opts.resilience ?? NO_RESILIENCE;
    const breaker = settings.breaker === null ? null : new CircuitBreaker(settings.breaker, this.clock, this.#random, {
      opened: ({ failures, cooldownMs, error, reopened }) => {
        this.opts.logger.warn({ broker: address, nodeId, failures, cooldownMs, reopened, err: error.message }, 'circuit breaker open: failing requests to this broker fast');
        this.events.emit('breaker-open', { broker: address, nodeId, failures, cooldownMs, error, reopened });
      },
      halfOpened: () => {
        this.opts.logger.info({ broker: address, nodeId }, 'circuit breaker half-open: the next request probes the broker');
        this.events.emit('breaker-half-open', { broker: address, nodeId });
      },
      closed: ({ openForMs }) => {
        this.opts.logger.info({ broker: address, nodeId, openForMs }, 'circuit breaker closed: the broker answers again');
        this.events.emit('breaker-closed', { broker: address, nodeId, openForMs });
      },
    });
    const connection: GuardedConnection = new GuardedConnection({
      host,
      port,
      clientId: this.opts.clientId,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      maxInFlightRequests: this.opts.maxInFlightRequests,
      maxFrameBytes: this.opts.maxFrameBytes,
      reconnect: this.opts.retry,
      logger: this.opts.logger,
      // A dropped broker may have lost leadership: re-learn before the next request.
      onDisconnect: () => this.invalidate(),
      // The guarded connection counts each of these towards its breaker too.
      onTrouble: (error, reason, sinceMs) => this.#trouble(outageKey, address, error, reason, sinceMs),
      onReachable: () => this.#reachable(outageKey),
      onThrottled: (throttleTimeMs, api) => {
        this.opts.logger.debug({ broker: address, nodeId, api, throttleTimeMs }, 'throttled by the broker\'s quota: holding requests to it');
        this.events.emit('throttled', { broker: address, nodeId, api, throttleTimeMs });
      },
      world: this.opts.world,
    }, {
      breaker,
      maxQueuedRequests: settings.maxQueuedRequests,
      onBulkheadFull: (outstanding) => {
        const limit = this.opts.maxInFlightRequests + settings.maxQueuedRequests;
        this.opts.logger.warn({ broker: address, nodeId, outstanding, limit }, 'request bulkhead full: refusing a request to this broker');
        this.events.emit('bulkhead-full', { broker: address, nodeId, kind: 'requests', current: outstanding, limit });
      },
    });
    return connection;
  }

  /** Every connection's breaker and request bulkhead: brokers by id, then bootstrap addresses. */
  brokerStats(): BrokerStats[] {
    const row = (conn: GuardedConnection, nodeId: number | null): BrokerStats => ({
      broker: conn.address,
      nodeId,
      breaker: conn.breaker?.state ?? 'off',
      consecutiveFailures: conn.breaker?.consecutiveFailures ?? 0,
      breakerOpens: conn.breaker?.opens ?? 0,
      breakerRejected: conn.breaker?.rejected ?? 0,
      outstandingRequests: conn.outstandingRequests,
      bulkheadRejected: conn.bulkheadRejected,
      bufferedBytes: 0,
      bufferedBytesFull: 0,
      throttledResponses: conn.throttledResponses,
      throttleTimeMs: conn.throttleTimeMs,
    });
    return [...[...this.#brokers].sort(([a], [b]) => a - b).map(([id, conn]) => row(conn, id)), ...this.#bootstrap.map((conn) => row(conn, null))];
  }

  /** Whether requests to broker `nodeId` would be tried now (unknown brokers count as available: asking says more). */
  brokerAvailable(nodeId: number): boolean {
    return this.#brokers.get(nodeId)?.available ?? true;
  }

  /** How many brokers the metadata has named. */
  get brokerCount(): number {
    return this.#brokers.size;
  }

  /** The brokers no connection can reach now, oldest outage first. */
  unreachableBrokers(): readonly Unreachable[] {
    return [...this.#unreachable.values()];
  }

  #trouble(key: string, broker: string, error: RunnelError, reason: string, sinceMs: number): void {
    const known = this.#unreachable.get(key);
    if (known !== undefined) {
      known.reason = reason;
      known.error = error;
      return;
    }
    // A bootstrap address speaks for the cluster only until the cluster has told us its brokers: after that it
    // is one of them under another name, or not one at all, and the brokers' own connections say what matters.
    if (key.startsWith('bootstrap ') && this.#brokers.size > 0) return;
    const outage: Unreachable = { broker, sinceMs, reason, error };
    this.#unreachable.set(key, outage);
    this.opts.logger.warn({ broker, reason }, 'broker unreachable; retrying');
    this.events.emit('broker-unreachable', { broker, reason, error, sinceMs });
  }

  /** A connection answered: its own outage is over, and so is every bootstrap address's (the cluster is reachable). */
  #reachable(key: string): void {
    for (const [k, outage] of [...this.#unreachable]) {
      if (k !== key && !k.startsWith('bootstrap ')) continue;
      this.#unreachable.delete(k);
      const unreachableMs = this.clock.nowMs() - outage.sinceMs;
      this.opts.logger.info({ broker: outage.broker, unreachableMs }, 'broker reachable again');
      this.events.emit('broker-reachable', { broker: outage.broker, unreachableMs });
    }
  }

  /**
   * A connection for control requests (metadata, admin): a known broker if
   * any is connected, else the bootstrap list in turn. `avoid` names a broker
   * that stopped answering: any other known broker is asked first, connected
   * or not (in turn, so one that is down does not take every ask).
   */
  anyConnection(avoid?: number): Connection {
    // A broker whose breaker is open would only fail fast: ask the others (all of them only when every one is open).
    const open = (conn: GuardedConnection): boolean => !conn.available;
    if (avoid !== undefined) {
      const others = [...this.#brokers].filter(([id, conn]) => id !== avoid && !open(conn)).map(([, conn]) => conn);
      const connected = others.find((conn) => conn.isConnected);
      if (connected !== undefined) return connected;
      if (others.length > 0) return others[this.#nextBootstrap++ % others.length]!;
    }
    for (const conn of this.#brokers.values()) if (conn.isConnected && !open(conn)) return conn;
    for (const conn of this.#bootstrap) if (conn.isConnected && !open(conn)) return conn;
    const all = [...this.#brokers.values(), ...this.#bootstrap];
    const candidates = all.filter((conn) => !open(conn));
    const from = candidates.length > 0 ? candidates : all;
    return from[this.#nextBootstrap++ % from.length]!;
  }

  /** The connection to broker `nodeId` (as metadata names it). */
  broker(nodeId: number): GuardedConnection {
    const conn = this.#brokers.get(nodeId);
    if (conn === undefined) throw new RunnelError('LEADER_NOT_AVAILABLE', `Broker ${nodeId} is not in the metadata; refreshing.`);
    return conn;
  }

  /** Forgets cached topics (all, or one), so the next lookup asks a broker. */
  invalidate(topic?: string): void {
    if (topic === undefined) this.#topics.clear();
    else this.#topics.delete(topic);
  }

  /**
   * Cached topic metadata, or undefined if it must be fetched. Metadata
   * past its age is still returned, and refreshed in the background.
   */
  cachedTopic(name: string, nowMs = this.clock.nowMs()): TopicInfo | undefined {
    const info = this.#topics.get(name);
    if (info !== undefined && nowMs >= info.refreshAtMs) this.#refreshInBackground(info, nowMs);
    return info;
  }

  /** The number the next Metadata request gets: topic metadata with `asOf` at least this is from a later request. */
  get nextMetadataSeq(): number {
    return this.#metadataSeq;
  }

  /** One Metadata request for a topic whose metadata is old; a failure is tried again a backoff later, at the next use. */
  #refreshInBackground(info: TopicInfo, nowMs: number): void {
    if (this.#closed) return;
    info.refreshAtMs = nowMs + this.opts.retry.maxBackoffMs;
    this.fetchMetadata([info.name]).catch((err: unknown) => {
      this.opts.logger.debug({ topic: info.name, err: (err as Error)?.message ?? String(err) }, 'background metadata refresh failed');
    });
  }

  /**
   * Topic metadata, fetched if not cached. Retries while the answer is
   * retriable (a broker restarting); a topic that does not exist is
   * UNKNOWN_TOPIC_OR_PARTITION at once: waiting would not create it.
   *
   * A topic some of whose partitions have no leader (an election under way,
   * every ISR member down) is returned as it is: its other partitions keep
   * working, and only a send or fetch to a leaderless one waits (Kafka's
   * producer and consumer do the same). Asked again while partitions are
   * leaderless, it fetches the topic anew, but no sooner than a backoff
   * after the previous such lookup, so waiting callers poll the cluster at
   * the retry backoff, not in a loop.
   */
  async topic(name: string, retries = this.opts.retry.retries): Promise<TopicInfo> {
    const cached = this.#topics.get(name);
    if (cached !== undefined && !hasLeaderless(cached)) return cached;
    if (cached !== undefined) await this.#leaderlessPause(name);
    return this.withRetries(`looking up topic "${name}"`, async () => {
      const res = await this.fetchMetadata([name]);
      const t = res.topics.find((x) => x.name === name);
      if (t === undefined) throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" was not in the broker's metadata answer; create it first.`);
      const error = errorNameOf(t.errorCode);
      if (error !== 'NONE') {
        const err = RunnelError.fromCode(t.errorCode, `Topic "${name}"`);
        // A missing topic will not appear by retrying; say so rather than spin.
        if (error === 'UNKNOWN_TOPIC_OR_PARTITION') throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" does not exist; create it first (runnel topic create ${name}), or enable auto.create.topics on the broker.`, { retriable: false });
        throw err;
      }
      const info = this.#topics.get(name);
      // An answer to an older request was dropped for a newer one in flight: ask again.
      if (info === undefined) throw new RunnelError('LEADER_NOT_AVAILABLE', `Topic "${name}" changed while it was looked up; retrying.`);
      if (!hasLeaderless(info)) this.#leaderless.delete(name);
      return info;
    }, retries);
  }

  /** Waits out the backoff since the previous lookup of `name` that found partitions without a leader. */
  async #leaderlessPause(name: string): Promise<void> {
    const nowMs = this.clock.nowMs();
    const state = this.#leaderless.get(name) ?? { lookups: 0, nextMs: nowMs };
    const waitMs = state.nextMs - nowMs;
    state.nextMs = Math.max(nowMs, state.nextMs) + this.backoffMs(state.lookups);
    state.lookups += 1;
    this.#leaderless.set(name, state);
    if (waitMs > 0) await this.sleep(waitMs);
  }

  /**
   * The cached leader of a partition: a broker id, `LOOK_UP` when the topic
   * must be (re)fetched first, or `NO_SUCH_PARTITION`.
   */
  cachedLeader(topic: string, partition: number): number {
    const info = this.#topics.get(topic);
    if (info === undefined) return LOOK_UP;
    const p = info.partitions[partition];
    if (p === undefined) return NO_SUCH_PARTITION;
    // Only this partition waits for a leader; the topic's others keep their cached leaders.
    if (p.leader < 0) return LOOK_UP;
    return p.leader;
  }

  /** `topic()`, shared by every caller asking for the same topic at the same time. */
  lookUp(topic: string): Promise<TopicInfo> {
    let pending = this.#lookups.get(topic);
    if (pending === undefined) {
      pending = this.topic(topic).finally(() => this.#lookups.delete(topic));
      this.#lookups.set(topic, pending);
    }
    return pending;
  }

  /** The leader connection of a partition, looking metadata up if needed. */
  async leaderFor(topic: string, partition: number): Promise<{ conn: Connection; leader: number }> {
    const info = await this.topic(topic);
    const p = info.partitions[partition];
    if (p === undefined) {
      throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${topic}" has ${info.partitions.length} partitions; partition ${partition} does not exist.`, { retriable: false, topicPartition: { topic, partition } });
    }
    if (p.leader < 0) throw new RunnelError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader right now; retrying.`, { topicPartition: { topic, partition } });
    return { conn: this.broker(p.leader), leader: p.leader };
  }

  /**
   * One Metadata request (null: every topic); updates the broker list and
   * the cache. `avoid`: a broker to ask only if no other is connected.
   */
  async fetchMetadata(topics: string[] | null, opts?: { includeInternal?: boolean; avoid?: number }): Promise<MetadataResponse> {
    const conn = this.anyConnection(opts?.avoid);
    const seq = this.#metadataSeq++;
    const res = await conn.request('Metadata', { topics, allowAutoTopicCreation: this.opts.allowAutoTopicCreation, includeInternal: opts?.includeInternal ?? false });
    this.#apply(res, seq);
    return res;
  }

  /** Refreshes every cached topic (one request, shared by concurrent callers). */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const names = [...this.#topics.keys()];
        await this.fetchMetadata(names.length === 0 ? [] : names);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  #apply(res: MetadataResponse, seq: number): void {
    if (this.#closed) return;
    for (const b of res.brokers) {
      const existing = this.#brokers.get(b.nodeId);
      if (existing !== undefined && existing.host === b.host && existing.port === b.port) continue;
      // The broker moved: what was in flight to the old address is retried at the new one.
      if (existing !== undefined) void existing.close(new RunnelError('NETWORK_EXCEPTION', `Broker ${b.nodeId} moved from ${existing.address} to ${b.host}:${b.port}; retrying there.`));
      if (existing !== undefined) existing.breaker?.close();
      this.#brokers.set(b.nodeId, this.#newConnection(b.host, b.port, `node ${b.nodeId}`, b.nodeId));
    }
    const refreshAtMs = this.clock.nowMs() + this.opts.metadataMaxAgeMs;
    for (const t of res.topics) {
      // An answer to an older request (they may cross) never replaces a newer one.
      const cached = this.#topics.get(t.name);
      if (cached !== undefined && cached.asOf > seq) continue;
      if (errorNameOf(t.errorCode) !== 'NONE') {
        this.#topics.delete(t.name);
        // A deleted topic made again starts its epochs over.
        if (errorNameOf(t.errorCode) === 'UNKNOWN_TOPIC_OR_PARTITION') this.#forgetEpochs(t.name);
        continue;
      }
      const partitions: PartitionInfo[] = [];
      for (const p of t.partitions) partitions[p.partition] = this.#newerOf(t.name, p, cached);
      // A hole means a partition the broker did not describe: treat as leaderless.
      for (let i = 0; i < partitions.length; i++) {
        partitions[i] ??= { partition: i, leader: -1, leaderEpoch: -1, replicas: [], isr: [], errorCode: LEADERLESS };
      }
      this.#topics.set(t.name, { name: t.name, partitions, asOf: seq, refreshAtMs });
    }
  }

  /**
   * The partition as the answer gives it, unless its leader epoch is older
   * than one we have seen (KIP-320): then the cached state, or leaderless.
   */
  #newerOf(topic: string, p: MetadataResponse['topics'][number]['partitions'][number], cached: TopicInfo | undefined): PartitionInfo {
    const key = `${topic}\0${p.partition}`;
    let known = this.#epochs.get(key) ?? -1;
    if (p.leaderEpoch >= 0 && p.leaderEpoch < known) {
      const nowMs = this.clock.nowMs();
      const sinceMs = this.#olderSinceMs.get(key) ?? nowMs;
      this.#olderSinceMs.set(key, sinceMs);
      if (nowMs - sinceMs >= STALE_EPOCH_PATIENCE_MS) {
        this.opts.logger.warn({ topic, partition: p.partition, leaderEpoch: p.leaderEpoch, known }, 'metadata has named an older leader epoch for too long; taking it (the topic was made again?)');
        this.#epochs.set(key, p.leaderEpoch);
        known = p.leaderEpoch;
      }
    }
    if (p.leaderEpoch >= 0 && p.leaderEpoch < known) {
      const kept = cached?.partitions[p.partition];
      this.opts.logger.debug({ topic, partition: p.partition, leaderEpoch: p.leaderEpoch, known }, 'ignoring metadata with an older leader epoch');
      if (kept !== undefined && kept.leaderEpoch === known) return kept;
      return { partition: p.partition, leader: -1, leaderEpoch: known, replicas: [...p.replicas], isr: [...p.isr], errorCode: LEADERLESS };
    }
    this.#olderSinceMs.delete(key);
    if (p.leaderEpoch > known) this.#epochs.set(key, p.leaderEpoch);
    return { partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: [...p.replicas], isr: [...p.isr], errorCode: p.errorCode };
  }

  #forgetEpochs(topic: string): void {
    const prefix = `${topic}\0`;
    for (const key of this.#epochs.keys()) if (key.startsWith(prefix)) this.#epochs.delete(key);
    for (const key of this.#olderSinceMs.keys()) if (key.startsWith(prefix)) this.#olderSinceMs.delete(key);
  }

  /** The leader epoch of a partition as the cached metadata has it; -1 when not cached or unknown (a v0 broker). */
  cachedLeaderEpoch(topic: string, partition: number): number {
    return this.#topics.get(topic)?.partitions[partition]?.leaderEpoch ?? -1;
  }

  /**
   * Runs `attempt` until it succeeds, a non-retriable error, or the retry
   * budget is spent. Stale-metadata errors drop the cache first. The error
   * that escapes is the last real one, with the attempt count in its message.
   */
  async withRetries<T>(what: string, attempt: () => Promise<T>, retries = this.opts.retry.retries, signal?: AbortSignal): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isRetriable(err) || n >= retries || this.#closed || signal?.aborted) {
          if (n > 0 && err instanceof RunnelError) err.message += ` (gave up ${what} after ${n + 1} attempts)`;
          throw err;
        }
        if (isStaleMetadataError(err)) this.invalidate();
        this.opts.logger.debug({ err: (err as Error).message, attempt: n + 1 }, `retrying ${what}`);
        await this.sleep(backoffMs(this.opts.retry, n, this.#random), signal);
      }
    }
  }

  /** A float in [0, 1) from the world's randomness. */
  random(): number {
    return this.#random();
  }

  /** A retry's backoff, `attempt` counting from 0, with the world's jitter. */
  backoffMs(attempt: number): number {
    return backoffMs(this.opts.retry, attempt, this.#random);
  }

  /**
   * Waits `ms` on the world's clock, ended early by close() or `signal`. The
   * timer keeps the process alive on purpose: a process awaiting a request
   * that is between retries must not exit.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this.clock, ms, signal === undefined ? this.#abort.signal : AbortSignal.any([signal, this.#abort.signal]), { keepAlive: true });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    const all = [...this.#bootstrap, ...this.#brokers.values()];
    for (const c of all) c.breaker?.close();
    await Promise.all(all.map((c) => c.close()));
  }
}
