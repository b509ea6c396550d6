/**
 * Moves ready batches from the accumulator to the brokers: one Produce
 * request per leader broker carrying every ready partition it leads, at most
 * `maxInFlightRequests` requests per broker, at most one in flight per
 * partition (so a retried batch can never land behind a later one).
 *
 * Errors are handled per partition. Retriable ones (a leader change, a broker
 * restart, a timeout) put the batches back at the front of their queue after
 * an exponential backoff, and the stale-metadata ones drop the cached leader
 * first; anything else, or a retriable error past `retries`, fails the
 * batches, and with them the send() calls that own their records.
 *
 * With acks=0 there is no response: a request is done when the socket has
 * taken its bytes, and offsets are reported as -1.
 */
import type { ProduceRequest, ProduceResponse, RecordChunks } from '../../protocol/messages.js';
import { backoffMs, type RetryPolicy } from '../backoff.js';
import { RunnelError } from '../errors.js';
import { addTo } from '../group-by.js';
import { EarliestTimer } from '../earliest-timer.js';
import { CoalescedRun } from '../coalesced.js';
import { isStaleMetadataError, LOOK_UP, NO_SUCH_PARTITION, type Cluster } from '../metadata.js';
import type { Logger } from '../types.js';
import type { Accumulator, PartitionQueue, ProducerBatch } from './accumulator.js';

export interface SenderOptions {
  /** Wire value: 0, 1 or -1. */
  acks: number;
  requestTimeoutMs: number;
  retries: number;
  retry: RetryPolicy;
  maxInFlightRequests: number;
  /** Record bytes in one request (at least one batch always goes). */
  maxRequestBytes: number;
  logger: Logger;
}

interface Entry {
  q: PartitionQueue;
  batches: ProducerBatch[];
}

export class Sender {
  readonly #cluster: Cluster;
  readonly #acc: Accumulator;
  readonly #opts: SenderOptions;
  readonly #inFlight = new Map<number, number>();
  readonly #pass = new CoalescedRun(() => this.#run(), setImmediate);
  readonly #timer = new EarliestTimer(() => this.#run());
  #stopped = false;

  constructor(cluster: Cluster, acc: Accumulator, opts: SenderOptions) {
    this.#cluster = cluster;
    this.#acc = acc;
    this.#opts = opts;
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

  #run(): void {
    if (this.#stopped) return;
    const nowMs = Date.now();
    let nextDueMs = Infinity;
    const byLeader = new Map<number, PartitionQueue[]>();
    for (const q of this.#acc.queues()) {
      // Muted queues wake on their response, blocked ones on a lookup or a free slot.
      if (q.muted || q.isEmpty) continue;
      if (!this.#acc.isReady(q, nowMs)) {
        nextDueMs = Math.min(nextDueMs, this.#acc.dueMs(q));
        continue;
      }
      const leader = this.#cluster.cachedLeader(q.topic, q.partition);
      if (leader === NO_SUCH_PARTITION) {
        this.#acc.failQueue(q, new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Partition ${q.partition} of "${q.topic}" no longer exists.`, { retriable: false }));
      } else if (leader === LOOK_UP) {
        this.#lookUp(q.topic);
      } else {
        addTo(byLeader, leader, q);
      }
    }
    for (const [leader, queues] of byLeader) this.#sendTo(leader, queues, nowMs);
    if (!this.#stopped) this.#timer.armAt(nextDueMs, nowMs);
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
        const batches = this.#acc.drain(q, this.#opts.maxRequestBytes - requestBytes, nowMs);
        if (batches.length === 0) continue;
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
        entries.push({ q, batches });
        let topic = topics.get(q.topic);
        if (topic === undefined) topics.set(q.topic, (topic = { name: q.topic, partitions: [] }));
        topic.partitions.push({ partition: q.partition, records });
      }
      if (entries.length === 0) return;
      const body: ProduceRequest<RecordChunks> = { acks: this.#opts.acks, timeoutMs: this.#opts.requestTimeoutMs, topics: [...topics.values()] };
      this.#inFlight.set(leader, (this.#inFlight.get(leader) ?? 0) + 1);
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
      for (const entry of entries) this.#retryOrFail(entry, e);
    } finally {
      this.#inFlight.set(leader, (this.#inFlight.get(leader) ?? 1) - 1);
      this.wake();
    }
  }

  #handleResponse(res: ProduceResponse, entries: Entry[]): void {
    const results = new Map<string, ProduceResponse['topics'][number]['partitions'][number]>();
    for (const t of res.topics) for (const p of t.partitions) results.set(`${t.name}\0${p.partition}`, p);
    for (const entry of entries) {
      const r = results.get(`${entry.q.topic}\0${entry.q.partition}`);
      if (r === undefined) {
        this.#retryOrFail(entry, new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's Produce response left out ${entry.q.topic}-${entry.q.partition}.`));
      } else if (r.errorCode !== 0) {
        this.#retryOrFail(entry, RunnelError.fromCode(r.errorCode, `Producing to ${entry.q.topic}-${entry.q.partition}`, r.errorMessage));
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
    const { q, batches } = entry;
    q.muted = false;
    const attempt = ++batches[0]!.attempts;
    for (let i = 1; i < batches.length; i++) batches[i]!.attempts = attempt;
    if (err.retriable && attempt <= this.#opts.retries && !this.#stopped && !this.#cluster.closed) {
      if (isStaleMetadataError(err)) this.#cluster.invalidate(q.topic);
      this.#opts.logger.debug({ topic: q.topic, partition: q.partition, attempt, err: err.message }, 'retrying produce');
      this.#acc.requeue(q, batches, Date.now() + backoffMs(this.#opts.retry, attempt - 1));
      return;
    }
    if (err.retriable && attempt > 1) err.message += ` (gave up after ${attempt} attempts)`;
    for (const b of batches) {
      b.fail(err);
      this.#acc.release(b);
    }
  }

  /** Re-learns a topic's leaders; batches wait meanwhile, and fail if it cannot be found. */
  #lookUp(topic: string): void {
    this.#cluster.lookUp(topic).then(
      () => this.wake(),
      (err: unknown) => {
        const e = err instanceof RunnelError ? err : new RunnelError('UNKNOWN_SERVER_ERROR', String(err), { cause: err });
        for (const q of this.#acc.queues()) if (q.topic === topic) this.#acc.failQueue(q, e);
      },
    );
  }
}
