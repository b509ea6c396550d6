/**
 * The idempotent producer's identity and numbering (KIP-98, KIP-360): a
 * producer id and epoch from InitProducerId, and per partition the sequence
 * number of its next batch. A batch is stamped when it is first sent (the
 * sender sends one request per partition at a time, so sequences reach the
 * leader in order) and keeps its stamp across retries: a retry of a batch
 * the leader appended but whose answer was lost is then recognised and
 * answered with the original offsets. Fresh batches travel up to
 * IDEMPOTENT_BATCHES_PER_REQUEST in one request; a batch sent before is
 * retried alone, since the leader answers a retry batch by batch.
 *
 * When the leader reports a gap (OUT_OF_ORDER_SEQUENCE_NUMBER: a batch
 * before this one was given up after it was sent, and never appended) or
 * has no state for the producer (UNKNOWN_PRODUCER_ID), the producer bumps
 * its epoch (InitProducerId with the id and epoch it holds), every
 * partition's numbering starts again at 0, and the refused batch is
 * stamped anew. A batch already stamped and waiting for a retry keeps its
 * old stamp: it reaches its partition before any batch of the new epoch
 * (one request per partition at a time), so the leader still takes it.
 */
import { stampProducer } from '../../protocol/batch/header.js';
import { errorNameOf } from '../../protocol/errors.js';
import { isRetriable, RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import type { Logger } from '../types.js';
import type { PartitionQueue, ProducerBatch } from './accumulator.js';

const MAX_SEQUENCE = 0x7fffffff;

/**
 * The most batches of one partition a request carries: the partition leader
 * remembers a producer's last 5 batches, so each batch of a request whose
 * answer was lost is still known when it is retried (alone).
 */
export const IDEMPOTENT_BATCHES_PER_REQUEST = 5;

/** What a batch was stamped with. */
export interface ProducerStamp {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export class ProducerIdentity {
  readonly #cluster: Cluster;
  readonly #logger: Logger;
  readonly #requestTimeoutMs: number;
  #producerId = -1;
  #producerEpoch = -1;
  /** The next sequence per partition queue, under the current epoch. */
  #nextSequence = new WeakMap<PartitionQueue, number>();
  #asking: Promise<void> | null = null;
  /** The identity must be renewed (a new epoch) before the next batch is stamped. */
  #stale = true;
  #lastError: RunnelError | null = null;

  constructor(cluster: Cluster, opts: { requestTimeoutMs: number; logger: Logger }) {
    this.#cluster = cluster;
    this.#logger = opts.logger;
    this.#requestTimeoutMs = opts.requestTimeoutMs;
  }

  /** An id and epoch are held and current: batches may be stamped. */
  get ready(): boolean {
    return !this.#stale && this.#producerId >= 0;
  }

  get producerId(): number {
    return this.#producerId;
  }

  get producerEpoch(): number {
    return this.#producerEpoch;
  }

  /** Why the last InitProducerId failed (for a delivery timeout's message), or null. */
  get lastError(): RunnelError | null {
    return this.#lastError;
  }

  /**
   * Asks for an id (or the next epoch of the one held) unless that is under
   * way; `onReady` runs once it is held. Retries retriable failures with
   * backoff; a closed client stops it. A refusal retrying cannot change (no
   * IDEMPOTENT_WRITE grant: CLUSTER_AUTHORIZATION_FAILED) goes to
   * `onRefused`, so the sends waiting for the id fail now, not at their
   * delivery timeout; the next send asks again (a grant may have come).
   */
  ensure(onReady: () => void, onRefused: (error: RunnelError) => void): void {
    if (this.ready || this.#asking !== null) return;
    this.#asking = this.#cluster
      .withRetries('getting a producer id', () => this.#initOnce(), Number.MAX_SAFE_INTEGER)
      .then(
        () => onReady(),
        (error: unknown) => {
          this.#lastError = error instanceof RunnelError ? error : new RunnelError('UNKNOWN_SERVER_ERROR', `InitProducerId failed: ${(error as Error).message}`, { cause: error });
          if (this.#cluster.closed) return;
          this.#logger.warn({ err: this.#lastError.message }, 'could not get a producer id');
          if (!isRetriable(this.#lastError)) onRefused(this.#lastError);
        },
      )
      .finally(() => {
        this.#asking = null;
      });
  }

  async #initOnce(): Promise<void> {
    const conn = this.#cluster.anyConnection();
    const res = await conn.request('InitProducerId', { transactionalId: null, transactionTimeoutMs: -1, producerId: this.#producerId, producerEpoch: this.#producerEpoch }, this.#requestTimeoutMs);
    if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, 'Getting a producer id', res.errorMessage);
    const renewed = res.producerId === this.#producerId ? `epoch ${res.producerEpoch}` : `id ${res.producerId} epoch ${res.producerEpoch}`;
    this.#logger.debug({ producerId: res.producerId, producerEpoch: res.producerEpoch }, `idempotent producer: ${renewed}`);
    this.#producerId = res.producerId;
    this.#producerEpoch = res.producerEpoch;
    this.#nextSequence = new WeakMap();
    this.#stale = false;
    this.#lastError = null;
  }

  /** Stamps `b` (bound for `q`'s partition) with the id, epoch and its partition's next sequence, unless it carries a stamp already. */
  stamp(q: PartitionQueue, b: ProducerBatch): void {
    if (b.stamp !== null) return;
    const baseSequence = this.#nextSequence.get(q) ?? 0;
    const next = baseSequence + b.recordCount;
    this.#nextSequence.set(q, next > MAX_SEQUENCE ? next - MAX_SEQUENCE - 1 : next);
    const bytes = b.bytes!;
    stampProducer(bytes, 0, bytes.byteLength, this.#producerId, this.#producerEpoch, baseSequence);
    b.stamp = { producerId: this.#producerId, producerEpoch: this.#producerEpoch, baseSequence };
  }

  /**
   * The leader refused `b` for its sequence (a gap, or no state for this
   * producer): a new epoch is needed before anything is stamped again, and
   * `b` is stamped anew then. Batches refused under an epoch already
   * renewed only need the new stamp.
   */
  renewFor(b: ProducerBatch): void {
    const stamp = b.stamp;
    b.stamp = null;
    if (stamp !== null && stamp.producerId === this.#producerId && stamp.producerEpoch === this.#producerEpoch) this.#stale = true;
  }
}
