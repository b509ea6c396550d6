/**
 * A queue (`runnel.queue({ topic, group })`): a member of a share group
 * reading one topic, plus `send` through the client's producer. The parts:
 * share-membership.ts (the heartbeat loop), share-fetch.ts (receive),
 * acknowledgements.ts (settlements batched on the wire),
 * share-acknowledge.ts (batches no fetch took), queue-message.ts (one
 * record in hand), iteration.ts (`for await` with auto-extend and auto-ack).
 *
 * Receives run one at a time (a second waits for the first), so the
 * acknowledgements a fetch carries and the records it acquires are never
 * interleaved with another fetch's.
 */
import { AcknowledgeType } from '../../protocol/messages.js';
import { clientClosed, isRetriable, type RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import type { Logger, Producer, RecordMetadata } from '../types.js';
import { GroupCoordinator } from '../consumer/group-coordinator.js';
import { Acknowledgements, type AckKind, type AckWaiter } from './acknowledgements.js';
import { iterate } from './iteration.js';
import { bounded, type ResolvedQueueOptions } from './options.js';
import type { Queue, QueueConfig, QueueMessage, QueueSendMessage, ReceiveOptions } from './queue-types.js';
import { ShareMessage, type Settler } from './queue-message.js';
import { toProducerMessage } from './send.js';
import { sendAcknowledgements } from './share-acknowledge.js';
import { shareFetch, type FetchContext } from './share-fetch.js';
import { ShareMembership } from './share-membership.js';

export class RunnelQueue implements Queue, Settler {
  readonly topic: string;
  readonly group: string;
  readonly #cluster: Cluster;
  readonly #opts: ResolvedQueueOptions;
  readonly #logger: Logger;
  readonly #makeProducer: () => Producer;
  readonly #onClosed: () => void;
  readonly #membership: ShareMembership;
  readonly #acks: Acknowledgements;
  readonly #ctx: FetchContext;
  /** ShareAcknowledge requests in flight (close waits for them). */
  readonly #sending = new Set<Promise<void>>();
  #producer: Producer | null = null;
  #receiving: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(cluster: Cluster, opts: ResolvedQueueOptions, logger: Logger, makeProducer: () => Producer, onClosed: () => void) {
    this.topic = opts.topic;
    this.group = opts.group;
    this.#cluster = cluster;
    this.#opts = opts;
    this.#logger = logger;
    this.#makeProducer = makeProducer;
    this.#onClosed = onClosed;
    const coordinator = new GroupCoordinator(cluster, opts.group);
    this.#acks = new Acknowledgements(cluster.clock, opts.ackLingerMs, () => this.#flushAcks());
    this.#membership = new ShareMembership(cluster, coordinator, {
      topic: opts.topic,
      wanted: opts.wanted,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      logger,
    });
    this.#ctx = { cluster, coordinator, membership: this.#membership, acks: this.#acks, requestTimeoutMs: opts.requestTimeoutMs, closed: () => this.#closed };
    this.#membership.start();
  }

  get config(): QueueConfig | null {
    return this.#membership.config;
  }

  async send(message: string | Buffer | null | QueueSendMessage): Promise<RecordMetadata> {
    if (this.#closed) throw clientClosed(`Queue "${this.group}"`);
    this.#producer ??= this.#makeProducer();
    const [meta] = await this.#producer.send({ topic: this.topic, messages: [toProducerMessage(message)] });
    return meta!;
  }

  receive(opts: ReceiveOptions = {}): Promise<QueueMessage[]> {
    if (this.#closed) return Promise.reject(clientClosed(`Queue "${this.group}"`));
    let max: number;
    let waitMs: number;
    try {
      max = bounded('max', opts?.max ?? 100, 1);
      waitMs = bounded('waitMs', opts?.waitMs ?? this.#opts.waitMs, 0);
    } catch (err) {
      return Promise.reject(err as RunnelError);
    }
    const run = this.#receiving.then(() => this.#receive(max, waitMs));
    this.#receiving = run.catch(() => undefined);
    return run;
  }

  async #receive(max: number, waitMs: number): Promise<ShareMessage[]> {
    const messages = await shareFetch(this.#ctx, max, waitMs, (message, deliveryCount, lockExpiresAtMs) => new ShareMessage(message, deliveryCount, lockExpiresAtMs, this));
    if (this.#closed) {
      // Acquired as the queue closed: handed straight back.
      for (const m of messages) m.settleQuietly(RELEASE, () => undefined);
      return [];
    }
    return messages;
  }

  [Symbol.asyncIterator](): AsyncIterator<QueueMessage> {
    return iterate({
      receive: () => this.#loopReceive(),
      closed: () => this.#closed,
      autoExtend: this.#opts.autoExtend,
      clock: this.#cluster.clock,
      logger: this.#logger,
      group: this.group,
    });
  }

  /** The loop's fetch: a retriable failure (the coordinator unreachable for the whole wait) is logged and the loop fetches again. */
  async #loopReceive(): Promise<QueueMessage[]> {
    if (this.#closed) return [];
    try {
      return await this.receive({ max: this.#opts.batchSize });
    } catch (err) {
      if (this.#closed) return [];
      if (!isRetriable(err)) throw err;
      this.#logger.warn({ group: this.group, err: (err as Error).message }, 'receive failed; retrying');
      return [];
    }
  }

  /** Settler: queues the acknowledgement. */
  settle(message: ShareMessage, kind: AckKind, waiter: AckWaiter | null): void {
    this.#acks.add(message.topic, message.partition, message.offset, kind, waiter);
  }

  nowMs(): number {
    return this.#cluster.clock.nowMs();
  }

  visibilityTimeoutMs(): number {
    return this.#membership.config?.visibilityTimeoutMs ?? 30_000;
  }

  #flushAcks(): void {
    const batch = this.#acks.take();
    if (batch === null) return;
    const sending = sendAcknowledgements(this.#ctx, batch).catch((err: unknown) => batch.fail(err as RunnelError));
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }

  close(opts: { release?: boolean } = {}): Promise<void> {
    this.#closing ??= this.#close(opts?.release !== false);
    return this.#closing;
  }

  async #close(release: boolean): Promise<void> {
    this.#closed = true;
    // Settlements given before close go out first; leaving then releases whatever else this member holds, at once.
    this.#flushAcks();
    await Promise.allSettled([...this.#sending]);
    await this.#membership.leave(release);
    await this.#producer?.close();
    await this.#cluster.close();
    this.#onClosed();
  }
}

const RELEASE: AckKind = { type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: -1, reason: null };
