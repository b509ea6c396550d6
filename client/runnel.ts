/**
 * The entry point: `new Runnel({ bootstrap })`, then `.admin()`,
 * `.producer()`, `.consumer()` and `.queue()`. Each of those gets its own connections
 * (see metadata.ts for why); `close()` closes everything this client made.
 */
import { DEFAULT_RETRY, type RetryPolicy } from './backoff.js';
import { ProducerDefaults } from './defaults.js';
import { RunnelError, invalidArgument } from './errors.js';
import { Cluster, parseBootstrap } from './metadata.js';
import { RunnelAdmin } from './admin.js';
import { RunnelConsumer, type ResolvedConsumerOptions } from './consumer/consumer.js';
import { RunnelProducer } from './producer/producer.js';
import { RunnelQueue } from './queue/queue.js';
import { resolveQueueOptions } from './queue/options.js';
import type { Acks, Admin, Consumer, ConsumerOptions, Logger, Producer, ProducerOptions, Queue, QueueOptions, RunnelOptions } from './types.js';
import { systemClientWorld, type ClientWorld } from './world.js';
import { securedTransport } from './security/secure-transport.js';
import { resolveResilience, type ResolvedResilience } from './resilience/options.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Response frames larger than this close the connection (a guard against a confused peer). */
const MIN_MAX_FRAME_BYTES = 128 * MiB;
/** Record bytes per produce request: large enough to amortise a round trip, far below the broker's max.request.bytes. */
const MAX_PRODUCE_REQUEST_BYTES = 4 * MiB;
/** "Unlimited" retries: deliveryTimeoutMs bounds them (Kafka's retries default, Integer.MAX_VALUE). */
const UNLIMITED_RETRIES = Number.MAX_SAFE_INTEGER;

interface Closable {
  close(): Promise<void>;
}

export class Runnel {
  readonly #bootstrap: { host: string; port: number }[];
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #logger: Logger;
  readonly #world: ClientWorld;
  readonly #resilience: ResolvedResilience;
  readonly #children = new Set<Closable>();
  #closed = false;
  #admin: RunnelAdmin | null = null;

  /**
   * `world` is for tests and simulations: the network, clock and randomness
   * the whole client runs on (default: the real ones): connections, and the
   * producers' and consumers' linger, retries, backoff jitter and timeouts.
   */
  constructor(opts: RunnelOptions, world: Partial<ClientWorld> = {}) {
    if (opts === null || typeof opts !== 'object') throw invalidArgument('new Runnel() takes { bootstrap: ["host:port"] }');
    this.#bootstrap = parseBootstrap(opts.bootstrap);
    this.#clientId = opts.clientId ?? 'runnel-js';
    this.#requestTimeoutMs = positive('requestTimeoutMs', opts.requestTimeoutMs ?? ProducerDefaults.requestTimeoutMs);
    this.#connectTimeoutMs = positive('connectTimeoutMs', opts.connectTimeoutMs ?? 10_000);
    this.#retry = {
      retries: nonNegative('retry.retries', opts.retry?.retries ?? DEFAULT_RETRY.retries),
      initialBackoffMs: nonNegative('retry.initialBackoffMs', opts.retry?.initialBackoffMs ?? DEFAULT_RETRY.initialBackoffMs),
      maxBackoffMs: nonNegative('retry.maxBackoffMs', opts.retry?.maxBackoffMs ?? DEFAULT_RETRY.maxBackoffMs),
    };
    this.#logger = opts.logger ?? silentLogger;
    const base = { ...systemClientWorld, ...world };
    this.#world = { ...base, transport: securedTransport(base.transport, opts.tls, opts.sasl) };
    this.#resilience = resolveResilience(opts.resilience);
  }

  #cluster(o: { allowAutoTopicCreation: boolean; maxInFlightRequests: number; maxFrameBytes?: number; requestTimeoutMs?: number; retries?: number; metadataMaxAgeMs?: number }): Cluster {
    if (this.#closed) throw new RunnelError('CLIENT_CLOSED', 'This Runnel client is closed; create a new one.');
    return new Cluster({
      bootstrap: this.#bootstrap,
      clientId: this.#clientId,
      connectTimeoutMs: this.#connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs ?? this.#requestTimeoutMs,
      maxInFlightRequests: o.maxInFlightRequests,
      maxFrameBytes: o.maxFrameBytes ?? MIN_MAX_FRAME_BYTES,
      retry: { ...this.#retry, retries: o.retries ?? this.#retry.retries },
      logger: this.#logger,
      allowAutoTopicCreation: o.allowAutoTopicCreation,
      metadataMaxAgeMs: o.metadataMaxAgeMs ?? ProducerDefaults.metadataMaxAgeMs,
      world: this.#world,
      resilience: this.#resilience,
    });
  }

  #track<T extends Closable>(make: (onClosed: () => void) => T): T {
    let child: T | undefined;
    child = make(() => {
      if (child !== undefined) this.#children.delete(child);
    });
    this.#children.add(child);
    return child;
  }

  /** The client's admin (one, shared by every caller, until it is closed). */
  admin(): Admin {
    if (this.#admin === null) {
      const cluster = this.#cluster({ allowAutoTopicCreation: false, maxInFlightRequests: 16 });
      this.#admin = this.#track((onClosed) => new RunnelAdmin(cluster, this.#requestTimeoutMs, () => {
        this.#admin = null;
        onClosed();
      }));
    }
    return this.#admin;
  }

  producer(opts: ProducerOptions = {}): Producer {
    const requestTimeoutMs = positive('requestTimeoutMs', opts.requestTimeoutMs ?? this.#requestTimeoutMs);
    const maxInFlightRequests = positive('maxInFlightRequests', opts.maxInFlightRequests ?? 5);
    const retries = nonNegative('retries', opts.retries ?? UNLIMITED_RETRIES);
    const lingerMs = nonNegative('lingerMs', opts.lingerMs ?? ProducerDefaults.lingerMs);
    const deliveryTimeoutMs = checkedDeliveryTimeoutMs(opts.deliveryTimeoutMs, lingerMs, requestTimeoutMs);
    const metadataMaxAgeMs = positive('metadataMaxAgeMs', opts.metadataMaxAgeMs ?? ProducerDefaults.metadataMaxAgeMs);
    const bufferMemoryBytes = positive('bufferMemoryBytes', opts.bufferMemoryBytes ?? 32 * MiB);
    const cluster = this.#cluster({ allowAutoTopicCreation: true, maxInFlightRequests, requestTimeoutMs, metadataMaxAgeMs });
    const compression = opts.compression ?? 'none';
    if (compression !== 'none' && compression !== 'gzip' && compression !== 'lz4') {
      throw invalidArgument(`compression must be 'none', 'gzip' or 'lz4', got ${String(compression)}`);
    }
    if (opts.partitioner !== undefined && typeof opts.partitioner !== 'function') throw invalidArgument('partitioner must be a function (key, partitionCount) => partition');
    const acks = acksOnWire(opts.acks ?? 'all');
    if (opts.idempotent !== undefined && typeof opts.idempotent !== 'boolean') throw invalidArgument(`idempotent must be true or false, got ${String(opts.idempotent)}`);
    if (opts.idempotent === true && acks !== -1) {
      throw invalidArgument(`idempotent: true needs acks 'all' (got ${String(opts.acks)}): with acks 0 or 1 a batch the leader acknowledged can be lost in a leader change, and its retry would then be numbered after a gap; use acks 'all', or idempotent: false`);
    }
    return this.#track((onClosed) => new RunnelProducer(cluster, {
      acks,
      idempotent: opts.idempotent ?? acks === -1,
      lingerMs,
      deliveryTimeoutMs,
      batchBytes: positive('batchBytes', opts.batchBytes ?? 64 * KiB),
      bufferMemoryBytes,
      maxBufferedBytesPerBroker: positive('maxBufferedBytesPerBroker', opts.maxBufferedBytesPerBroker ?? Math.max(1, Math.floor(bufferMemoryBytes / 2))),
      codec: compression,
      partitioner: opts.partitioner,
      requestTimeoutMs,
      retries,
      retry: { ...this.#retry, retries },
      maxInFlightRequests,
      maxRequestBytes: MAX_PRODUCE_REQUEST_BYTES,
      logger: this.#logger,
    }, onClosed));
  }

  consumer(opts: ConsumerOptions = {}): Consumer {
    const maxBytes = positive('maxBytes', opts.maxBytes ?? 50 * MiB);
    const requestTimeoutMs = positive('requestTimeoutMs', opts.requestTimeoutMs ?? this.#requestTimeoutMs);
    const cluster = this.#cluster({
      allowAutoTopicCreation: false,
      // A prefetched fetch plus the one being answered, per broker.
      maxInFlightRequests: 4,
      maxFrameBytes: Math.max(MIN_MAX_FRAME_BYTES, 2 * maxBytes),
      requestTimeoutMs,
    });
    return this.#track((onClosed) => new RunnelConsumer(cluster, {
      maxWaitMs: nonNegative('maxWaitMs', opts.maxWaitMs ?? 500),
      minBytes: nonNegative('minBytes', opts.minBytes ?? 1),
      maxBytes,
      partitionMaxBytes: positive('partitionMaxBytes', opts.partitionMaxBytes ?? MiB),
      prefetch: opts.prefetch ?? true,
      requestTimeoutMs,
      retry: this.#retry,
      logger: this.#logger,
      delayedDelivery: delayedDeliveryOf(opts.delayedDelivery),
      group: groupSettings(opts),
      metadataMaxAgeMs: positive('metadataMaxAgeMs', opts.metadataMaxAgeMs ?? ProducerDefaults.metadataMaxAgeMs),
    }, onClosed));
  }

  /**
   * A queue: this client's member of the share group `group` reading
   * `topic` (docs/CLIENT.md "Queues"). It joins at once; `send` goes
   * through a producer of its own (acks all, idempotent), made on first use.
   */
  queue(opts: QueueOptions): Queue {
    const resolved = resolveQueueOptions(opts, this.#requestTimeoutMs);
    const cluster = this.#cluster({ allowAutoTopicCreation: false, maxInFlightRequests: 8, requestTimeoutMs: resolved.requestTimeoutMs });
    return this.#track((onClosed) => new RunnelQueue(cluster, resolved, this.#logger, () => this.producer(), onClosed));
  }

  /** Closes every producer (flushing it), consumer and admin made by this client. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#children].map((c) => c.close()));
  }
}

/**
 * Kafka's rule: a batch may linger, then wait a whole request timeout, so a
 * shorter delivery timeout would expire sends that are doing nothing wrong.
 * Given too short, it is refused; left out, the default grows to fit.
 */
function checkedDeliveryTimeoutMs(given: number | undefined, lingerMs: number, requestTimeoutMs: number): number {
  const floorMs = lingerMs + requestTimeoutMs;
  if (given === undefined) return Math.max(ProducerDefaults.deliveryTimeoutMs, floorMs);
  positive('deliveryTimeoutMs', given);
  if (given < floorMs) {
    throw invalidArgument(`deliveryTimeoutMs (${given}) must be at least lingerMs + requestTimeoutMs (${lingerMs} + ${requestTimeoutMs} = ${floorMs}); raise it or lower requestTimeoutMs`);
  }
  return given;
}

/** A consumer's `delayedDelivery`, checked ('ignore' when not given). */
function delayedDeliveryOf(given: unknown): 'ignore' | 'wait' {
  if (given === undefined || given === 'ignore' || given === 'wait') return given ?? 'ignore';
  throw invalidArgument(`delayedDelivery must be 'ignore' or 'wait', got ${JSON.stringify(given)}`);
}

/** A consumer's group settings, checked (null without a groupId). */
function groupSettings(opts: ConsumerOptions): ResolvedConsumerOptions['group'] {
  const groupOnly = ['groupInstanceId', 'sessionTimeoutMs', 'rebalanceTimeoutMs', 'assignor', 'autoCommit', 'autoCommitIntervalMs'] as const;
  if (opts.groupId === undefined) {
    const given = groupOnly.filter((k) => opts[k] !== undefined);
    if (given.length > 0) throw invalidArgument(`${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} for group members; give a groupId too`);
    return null;
  }
  if (typeof opts.groupId !== 'string' || opts.groupId === '') throw invalidArgument('groupId must be a non-empty string');
  if (opts.groupInstanceId !== undefined && (typeof opts.groupInstanceId !== 'string' || opts.groupInstanceId === '')) throw invalidArgument('groupInstanceId must be a non-empty string');
  if (opts.assignor !== undefined && typeof opts.assignor !== 'string') throw invalidArgument('assignor must be a string, such as "uniform" or "range"');
  return {
    groupId: opts.groupId,
    instanceId: opts.groupInstanceId ?? null,
    sessionTimeoutMs: positive('sessionTimeoutMs', opts.sessionTimeoutMs ?? 45_000),
    rebalanceTimeoutMs: positive('rebalanceTimeoutMs', opts.rebalanceTimeoutMs ?? 300_000),
    assignor: opts.assignor ?? null,
    autoCommit: opts.autoCommit ?? true,
    autoCommitIntervalMs: positive('autoCommitIntervalMs', opts.autoCommitIntervalMs ?? 5000),
  };
}

function acksOnWire(acks: Acks): number {
  if (acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw invalidArgument(`acks must be 0, 1, 'all' or -1, got ${String(acks)}`);
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw invalidArgument(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalidArgument(`${name} must be a non-negative integer, got ${String(value)}`);
  return value;
}
