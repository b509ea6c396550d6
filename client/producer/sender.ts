/**
 * Moves ready batches from the accumulator to the brokers: one Produce
 * request per leader broker carrying every ready partition it leads, at most
 * `maxInFlightRequests` requests per broker, at most one in flight per
 * partition (so a retried batch can never land behind a later one).
 *
 * Errors are handled per partition. Retriable ones (a leader change, a broker
 * restart, a timeout) put the batches back at the front of their queue after
 * an exponential backoff, and the stale-metadata ones (a leader that moved, a
 * broker gone, a lost connection) drop the cached leader first, so the retry
 * goes to whoever leads the partition by then; anything else, or a retriable error past `retries`, fails the
 * batches, and with them the send() calls that own their records.
 *
 * With acks=0 there is no response: a request is done when the socket has
 * taken its bytes, and offsets are reported as -1.
 *
 * A leader that stops answering (paused, cut off) would hold its partitions'
 * batches for a whole requestTimeoutMs. A Produce request unanswered for a
 * check interval has its leaders checked (leader-checks.ts); a partition
 * whose leader the metadata then names differently is taken off that
 * request and sent to its new leader at once (its late answer, if any, is
 * ignored). Order is kept (nothing of that partition is on the wire any
 * more); a copy may land twice if the old leader had already replicated it,
 * as with any retry without idempotence.
 *
 * Deadlines (Kafka's delivery.timeout.ms): every pass fails the batches at
 * the front of each queue whose deadline has passed, whether they wait for a
 * leader, a retry backoff or a free slot; a batch on the wire past its
 * deadline has its calls failed at once, and its memory comes back when its
 * request ends (the socket may still be writing it). The timer is armed for
 * the earliest of every linger, backoff and deadline, and disarmed when no
 * batch is left, so it never keeps an idle process alive.
 */
import type { ProduceRequest, ProduceResponse, RecordChunks } from '../../protocol/messages.js';
import type { RetryPolicy } from '../backoff.js';
import { errorNameOf } from '../../protocol/errors.js';
import { RunnelError } from '../errors.js';
import { addTo } from '../group-by.js';
import { EarliestTimer } from '../earliest-timer.js';
import { CoalescedRun } from '../coalesced.js';
import { LeaderChecks } from '../leader-checks.js';
import { isStaleMetadataError, LOOK_UP, NO_SUCH_PARTITION, type Cluster } from '../metadata.js';
import type { Logger } from '../types.js';
import type { Accumulator, PartitionQueue, ProducerBatch } from './accumulator.js';
import { deliveryTimeoutErrors, formatDuration } from './delivery-timeout.js';
import { IDEMPOTENT_BATCHES_PER_REQUEST, ProducerIdentity } from './idempotence.js';
import type { SendCall } from './send-call.js';
import type { TopicLookups } from './topic-lookups.js';

export interface SenderOptions {
  /** Wire value: 0, 1 or -1. */
  acks: number;
  /** Idempotent producing (needs acks -1): batches carry a producer id and per-partition sequence numbers (idempotence.ts). */
  idempotent: boolean;
  requestTimeoutMs: number;
  retries: number;
  retry: RetryPolicy;
  maxInFlightRequests: number;
  /** Record bytes in one request (at least one batch always goes). */
  maxRequestBytes: number;
  deliveryTimeoutMs: number;
  logger: Logger;
}

/** One partition's batches in one request. */
interface Entry {
  q: PartitionQueue;
  batches: ProducerBatch[];
  leader: number;
  sentAtMs: number;
  /** Taken off its request because the partition's leader moved: its batches are back in their queue. */
  abandoned: boolean;
}


export class Sender {
  readonly #cluster: Cluster;
  readonly #acc: Accumulator;
  readonly #opts: SenderOptions;
  readonly #lookups: TopicLookups;
  readonly #inFlight = new Map<number, number>();
  /** Every partition's batches a request is carrying now. */
  readonly #onTheWire = new Set<Entry>();
  readonly #pass = new CoalescedRun(() => this.#run(), setImmediate);
  readonly #timer: EarliestTimer;
  readonly #leaderChecks: LeaderChecks;
  /** A pass took batches off a request whose leader moved: another pass sends them. */
  #requeuedByAbandon = false;
  #stopped = false;
  /** The idempotent producer's id and numbering; null when not idempotent. */
  readonly #identity: ProducerIdentity | null;

  constructor(cluster: Cluster, acc: Accumulator, lookups: TopicLookups, opts: SenderOptions) {
    this.#cluster = cluster;
    this.#acc = acc;
    this.#lookups = lookups;
    this.#opts = opts;
    this.#timer = new EarliestTimer(cluster.clock, () => this.#run());
    this.#leaderChecks = new LeaderChecks(cluster, opts.requestTimeoutMs, opts.logger, () => this.wake());
    this.#identity = opts.idempotent ? new ProducerIdentity(cluster, { requestTimeoutMs: opts.requestTimeoutMs, logger: opts.logger }) : null;
  }

  /** Runs a send pass soon (same tick's appends still join the batches). */
  wake(): void {
    this.#pass.request();
  }

  /** A record was appended to an open batch: make sure its linger deadline is watched. */
  poke(nowMs: number): void {
    if (this.#pass.scheduled) return;
    if (!this.#stopped) this.#timer.armAt(nowMs + this.#acc.opts.lingerMs, nowMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#pass.stopped = true;
    this.#timer.cancel();
  }

  /**
   * Fails the calls of every batch a request still carries, with `err`
   * (close() that stops waiting). Their requests still end on their own.
   */
  abandonOnTheWire(err: RunnelError): void {
    for (const entry of this.#onTheWire) for (const b of entry.batches) this.#expire(b, err);
  }

  /** Fails the calls of a batch still on the wire; its memory waits for the request to end. */
  #expire(b: ProducerBatch, err: RunnelError | ((call: SendCall) => RunnelError)): void {
    if (b.expired) return;
    b.expired = true;
    b.fail(err);
    this.#acc.finish(b);
  }

  #run(): void {
    if (this.#stopped) return;
    const nowMs = this.#cluster.clock.nowMs();
    let nextDueMs = Infinity;
    const byLeader = new Map<number, PartitionQueue[]>();
    for (const q of this.#acc.queues()) {
      if (q.isEmpty) continue;
      if (q.front!.deadlineMs <= nowMs) this.#acc.expireQueued(q, nowMs, (b) => this.#queuedTimeout(q, b, nowMs));
      const front = q.front;
      if (front === null) continue;
      nextDueMs = Math.min(nextDueMs, front.deadlineMs);
      // Muted queues wake on their response, blocked ones on a lookup or a free slot.
      if (q.muted) continue;
      if (!this.#acc.isReady(q, nowMs)) {
        nextDueMs = Math.min(nextDueMs, this.#acc.dueMs(q));
        continue;
      }
      const leader = this.#cluster.cachedLeader(q.topic, q.partition);
      if (leader === NO_SUCH_PARTITION) {
        this.#acc.failQueue(q, new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Partition ${q.partition} of "${q.topic}" no longer exists.`, { retriable: false, topicPartition: { topic: q.topic, partition: q.partition } }));
      } else if (leader === LOOK_UP) {
        this.#lookups.request(q.topic);
      } else {
        addTo(byLeader, leader, q);
      }
    }
    // Idempotent: nothing is sent until the producer holds a current id and epoch (stamps need them).
    const identity = this.#identity;
    if (identity !== null && !identity.ready && byLeader.size > 0) identity.ensure(() => this.wake(), (error) => this.#acc.abortUnsent(error));
    else for (const [leader, queues] of byLeader) this.#sendTo(leader, queues, nowMs);
    // After sending, so that the requests just sent are watched too (their leader checks).
    for (const entry of this.#onTheWire) {
      if (this.#leaderMoved(entry)) {
        this.#abandon(entry);
        continue;
      }
      for (const b of entry.batches) {
        if (b.expired) continue;
        if (b.deadlineMs <= nowMs) this.#expire(b, this.#onTheWireTimeout(entry, b, nowMs));
        else nextDueMs = Math.min(nextDueMs, b.deadlineMs);
      }
      if (this.#opts.acks !== 0) nextDueMs = Math.min(nextDueMs, this.#leaderChecks.watch(entry.q.topic, entry.leader, entry.sentAtMs + this.#leaderChecks.intervalMs, nowMs));
    }
    // Abandoned batches went back to their queues: send them now rather than at the next pass.
    if (this.#requeuedByAbandon) {
      this.#requeuedByAbandon = false;
      this.wake();
    }
    if (this.#stopped) return;
    if (this.#acc.isIdle) this.#timer.cancel();
    else this.#timer.armAt(nextDueMs, nowMs);
  }

  /** Whether the metadata now names another leader for the entry's partition than the one its request went to. */
  #leaderMoved(entry: Entry): boolean {
    if (entry.abandoned || this.#opts.acks === 0) return false;
    const leader = this.#cluster.cachedLeader(entry.q.topic, entry.q.partition);
    return leader >= 0 && leader !== entry.leader;
  }

  /**
   * Takes a partition off the request that carries it, because its leader
   * moved: its batches go back to the front of their queue for the new
   * leader, not counted as a failed attempt. Their buffers are never built
   * in again: the old request's socket may still hold their bytes.
   */
  #abandon(entry: Entry): void {
    entry.abandoned = true;
    this.#onTheWire.delete(entry);
    const { q } = entry;
    q.muted = false;
    const batches: ProducerBatch[] = [];
    for (const b of entry.batches) {
      b.ownBuffer = null;
      if (b.expired) this.#acc.release(b);
      else batches.push(b);
    }
    const newLeader = this.#cluster.cachedLeader(q.topic, q.partition);
    this.#opts.logger.debug({ topic: q.topic, partition: q.partition, from: entry.leader, to: newLeader }, 'leader moved while a Produce request waited; sending to the new leader');
    if (batches.length === 0) return;
    this.#acc.requeue(q, batches, this.#cluster.clock.nowMs());
    this.#requeuedByAbandon = true;
  }

  /** Why a batch that never left (or waits to be sent again) timed out, for each of its calls. */
  #queuedTimeout(q: PartitionQueue, b: ProducerBatch, nowMs: number): (call: SendCall) => RunnelError {
    const name = `${q.topic}-${q.partition}`;
    const leader = this.#cluster.cachedLeader(q.topic, q.partition);
    let waitingFor: string;
    if (this.#identity !== null && !this.#identity.ready) {
      waitingFor = `waiting for a producer id (InitProducerId) before sending ${name}`;
      return deliveryTimeoutErrors(this.#cluster, this.#opts.deliveryTimeoutMs, waitingFor, this.#identity.lastError ?? b.lastError, nowMs);
    } else if (b.attempts > 0) {
      waitingFor = `waiting to send ${name} again after ${b.attempts} failed attempt${b.attempts === 1 ? '' : 's'}`;
    } else if (leader === LOOK_UP) {
      waitingFor = `waiting for the leader of ${name}`;
    } else if (q.muted) {
      // One request per partition at a time (to keep order): this batch waited behind the one on the wire.
      const ahead = [...this.#onTheWire].find((e) => e.q === q);
      waitingFor = ahead === undefined
        ? `waiting behind a Produce request for ${name}`
        : `waiting behind a Produce request for ${name} that ${this.#brokerName(ahead.leader)} has not answered since it was sent ${formatDuration(nowMs - ahead.sentAtMs)} ago`;
    } else if ((this.#inFlight.get(leader) ?? 0) >= this.#opts.maxInFlightRequests) {
      const oldest = Math.min(...[...this.#onTheWire].filter((e) => e.leader === leader).map((e) => e.sentAtMs));
      waitingFor = `waiting for a free request slot to ${this.#brokerName(leader)}: all ${this.#opts.maxInFlightRequests} Produce requests in flight are unanswered, the oldest sent ${formatDuration(nowMs - oldest)} ago`;
    } else {
      waitingFor = `waiting to send ${name}`;
    }
    return deliveryTimeoutErrors(this.#cluster, this.#opts.deliveryTimeoutMs, waitingFor, b.lastError ?? this.#lookups.lastError(q.topic), nowMs);
  }

  #onTheWireTimeout(entry: Entry, b: ProducerBatch, nowMs: number): (call: SendCall) => RunnelError {
    const waitingFor = `waiting for ${this.#brokerName(entry.leader)} to answer a Produce request for ${entry.q.topic}-${entry.q.partition} sent ${formatDuration(nowMs - entry.sentAtMs)} ago`;
    return deliveryTimeoutErrors(this.#cluster, this.#opts.deliveryTimeoutMs, waitingFor, b.lastError, nowMs);
  }

  /** "broker 0 (127.0.0.1:9092)", or the id alone once the metadata no longer names it. */
  #brokerName(nodeId: number): string {
    try {
      return `broker ${nodeId} (${this.#cluster.broker(nodeId).address})`;
    } catch {
      return `broker ${nodeId}`;
    }
  }

  /** As many requests to `leader` as its free slots allow, each up to maxRequestBytes. */
  #sendTo(leader: number, queues: PartitionQueue[], nowMs: number): void {
    let i = 0;
    while (i < queues.length && (this.#inFlight.get(leader) ?? 0) < this.#opts.maxInFlightRequests) {
      const entries: Entry[] = [];
      const topics = new Map<string, ProduceRequest<RecordChunks>['topics'][number]>();
      let requestBytes = 0;
      for (; i < queues.length && (entries.length === 0 || requestBytes < this.#opts.maxRequestBytes); i++) {
        const q = queues[i]!;
        // Idempotent: a batch sent before (numbered) goes alone, so the leader answers its retry with its own original offsets;
        // fresh batches go up to IDEMPOTENT_BATCHES_PER_REQUEST together (the leader keeps that many per producer).
        const retry = this.#identity !== null && q.front?.stamp != null;
        const batches = this.#acc.drain(q, retry ? 0 : this.#opts.maxRequestBytes - requestBytes, nowMs, this.#identity === null ? Infinity : IDEMPOTENT_BATCHES_PER_REQUEST);
        if (batches.length === 0) continue;
        if (this.#identity !== null) for (const b of batches) this.#identity.stamp(q, b);
        // Several batches go out as they are, one after another (no concatenated copy).
        let records: RecordChunks;
        if (batches.length === 1) {
          records = batches[0]!.bytes!;
          requestBytes += records.byteLength;
        } else {
          records = batches.map((b) => b.bytes!);
          for (const b of batches) requestBytes += b.bytes!.byteLength;
        }
        if (this.#opts.acks !== 0) q.muted = true;
        entries.push({ q, batches, leader, sentAtMs: nowMs, abandoned: false });
        let topic = topics.get(q.topic);
        if (topic === undefined) topics.set(q.topic, (topic = { name: q.topic, partitions: [] }));
        topic.partitions.push({ partition: q.partition, records });
      }
      if (entries.length === 0) return;
      const body: ProduceRequest<RecordChunks> = { acks: this.#opts.acks, timeoutMs: this.#opts.requestTimeoutMs, topics: [...topics.values()] };
      this.#inFlight.set(leader, (this.#inFlight.get(leader) ?? 0) + 1);
      for (const e of entries) this.#onTheWire.add(e);
  void this.#dispatch(leader, body, entries);
    }
  }

  async #dispatch(leader: number, body: ProduceRequest<RecordChunks>, entries: Entry[]): Promise<void> {
    try {
      const conn = this.#cluster.broker(leader);
      if (this.#opts.acks === 0) {
        await conn.sendOnly('Produce', body);
        for (const e of entries) this.#succeed(e, -1, -1);
      } else {
        // The broker may hold the request up to timeoutMs waiting for replicas; give the answer time to arrive.
        const res = await conn.request('Produce', body, this.#opts.requestTimeoutMs + 5000);
        this.#handleResponse(res, entries);
      }
    } catch (err) {
      const e = err instanceof RunnelError ? err : new RunnelError('UNKNOWN_SERVER_ERROR', `Producing failed: ${(err as Error).message}`, { cause: err });
      for (const entry of entries) if (!entry.abandoned) this.#retryOrFail(entry, e);
    } finally {
      for (const e of entries) this.#onTheWire.delete(e);
      this.#inFlight.set(leader, (this.#inFlight.get(leader) ?? 1) - 1);
      this.wake();
    }
  }

  #handleResponse(res: ProduceResponse, entries: Entry[]): void {
    const results = new Map<string, ProduceResponse['topics'][number]['partitions'][number]>();
    for (const t of res.topics) for (const p of t.partitions) results.set(`${t.name}\0${p.partition}`, p);
    for (const entry of entries) {
      if (entry.abandoned) continue;
      const r = results.get(`${entry.q.topic}\0${entry.q.partition}`);
      if (r === undefined) {
        this.#retryOrFail(entry, new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's Produce response left out ${entry.q.topic}-${entry.q.partition}.`));
      } else if (errorNameOf(r.errorCode) !== 'NONE') {
        const topicPartition = { topic: entry.q.topic, partition: entry.q.partition };
        const name = errorNameOf(r.errorCode);
        if (this.#identity !== null && name === 'DUPLICATE_SEQUENCE_NUMBER') {
          // Appended already, long enough ago that the leader no longer knows where: written once, offsets unknown.
          this.#succeed(entry, -1, -1);
          continue;
        }
        const renew = this.#identity !== null && (name === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || name === 'UNKNOWN_PRODUCER_ID');
        if (renew) for (const b of entry.batches) this.#identity!.renewFor(b);
        // A sequence refusal appended nothing: retried under a new epoch (KIP-360).
        this.#retryOrFail(entry, RunnelError.fromCode(r.errorCode, `Producing to ${entry.q.topic}-${entry.q.partition}`, r.errorMessage, renew ? { topicPartition, retriable: true } : { topicPartition }));
      } else {
        this.#succeed(entry, r.baseOffset, r.logAppendTimeMs);
      }
    }
  }

  #succeed(entry: Entry, baseOffset: number, logAppendTimeMs: number): void {
    entry.q.muted = false;
    let offset = baseOffset;
    for (const b of entry.batches) {
      b.complete(offset, logAppendTimeMs);
      if (offset >= 0) offset += b.recordCount;
      this.#acc.release(b);
    }
  }

  #retryOrFail(entry: Entry, err: RunnelError): void {
    const { q } = entry;
    q.muted = false;
    // Batches whose calls already timed out are not sent again: their memory is free now that the request is over.
    let batches = entry.batches;
    if (batches.some((b) => b.expired)) {
      for (const b of batches) if (b.expired) this.#acc.release(b);
      batches = batches.filter((b) => !b.expired);
      if (batches.length === 0) return;
    }
    const attempt = ++batches[0]!.attempts;
    for (let i = 0; i < batches.length; i++) {
      batches[i]!.attempts = attempt;
      batches[i]!.lastError = err;
    }
    // Past the deadline the requeued batches expire at the next pass, with this error as the reason.
    if (err.retriable && attempt <= this.#opts.retries && !this.#stopped && !this.#cluster.closed) {
      if (isStaleMetadataError(err)) this.#cluster.invalidate(q.topic);
      this.#opts.logger.debug({ topic: q.topic, partition: q.partition, attempt, err: err.message }, 'retrying produce');
      this.#acc.requeue(q, batches, this.#cluster.clock.nowMs() + this.#cluster.backoffMs(attempt - 1));
      return;
    }
    if (attempt > 1) err.message += ` (gave up after ${attempt} attempts over ${formatDuration(this.#cluster.clock.nowMs() - batches[0]!.createdMs)})`;
    for (const b of batches) {
      b.fail(err);
      this.#acc.release(b);
    }
  }
}
