/**
 * The producer's buffer: one queue of record batches per partition, filled by
 * `send()` and emptied by the sender. A partition's open batch is sealed
 * (built, compressed, CRC'd) when the next record would push it past
 * `batchBytes`; a partition is ready to send when it has a sealed batch, or
 * its open batch has waited `lingerMs`, or someone is flushing or waiting
 * for buffer memory (lingering would only make them wait longer).
 *
 * Memory is bounded: `bufferedBytes` counts every batch from its first record
 * until it is acknowledged or failed, and `send()` waits (`whenRoom`)
 * rather than append past `bufferMemoryBytes`.
 *
 * Deadlines: a batch must be finished by the earliest deadline of the send()
 * calls it carries. Calls are appended in the order they were made, so along
 * a partition's queue deadlines never decrease, and `expireQueued` only
 * looks at the front.
 *
 * Ordering: batches of a partition leave in the order they were filled, one
 * request at a time per partition (`muted` while one is in flight), and a
 * batch that must be retried goes back to the front of its queue. So records
 * of one partition are written in send order even across retries.
 *
 * Pure bookkeeping with time passed in; the producer owns the timers.
 */
import type { ProducerStamp } from './idempotence.js';
import { BatchBuilder, type RecordInput } from '../../protocol/batch/index.js';
import type { CodecName } from '../../protocol/batch/index.js';
import type { RunnelError } from '../errors.js';
import type { SendCall } from './send-call.js';
import type { ByteBulkhead } from '../resilience/byte-bulkhead.js';

export interface AccumulatorOptions {
  batchBytes: number;
  lingerMs: number;
  bufferMemoryBytes: number;
  codec: CodecName;
  /** Called when a partition's open batch is sealed (the sticky partitioner moves on). */
  onSealed?: (topic: string, partition: number) => void;
  /** Where each batch's bytes are charged to the broker it was buffered for (the producer's per-broker share). */
  bulkhead?: ByteBulkhead;
}

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly createdMs: number;
  readonly seq: number;
  /** The broker its bytes are charged to (its partition's leader when it was opened; -1: none). */
  broker = -1;
  /** Null once sealed. */
  builder: BatchBuilder | null;
  /** The built batch, once sealed. */
  bytes: Uint8Array | null = null;
  recordCount = 0;
  /** Bytes this batch holds against bufferMemoryBytes. */
  memoryBytes = 0;
  /** The buffer the accumulator gave its builder (recycled once the batch is released), or null. */
  ownBuffer: ArrayBuffer | null = null;
  attempts = 0;
  /** The earliest deadline of the calls whose records it carries. */
  deadlineMs = Infinity;
  /** The last error a send of it met (for the message if it times out). */
  lastError: RunnelError | null = null;
  /** Its calls were failed while a request still carried it: its memory waits for that request to end. */
  expired = false;
  /** Its memory is given back (once only). */
  released = false;
  /** The idempotent producer's id, epoch and sequence in its header (idempotence.ts), or null until first sent. */
  stamp: ProducerStamp | null = null;
  /**
   * The batch's records as runs of consecutive messages of one send() call:
   * run r is messages [runFirst[r], runFirst[r] + runCount[r]) of runCalls[r].
   * Parallel arrays rather than an object per run: a producer fed one
   * message per send() has a run per record, all alive until acknowledged.
   */
  readonly runCalls: SendCall[] = [];
  readonly runFirst: number[] = [];
  readonly runCount: number[] = [];

  constructor(topic: string, partition: number, builder: BatchBuilder, nowMs: number, seq: number) {
    this.topic = topic;
    this.partition = partition;
    this.builder = builder;
    this.createdMs = nowMs;
    this.seq = seq;
  }

  /** Resolves the records of this batch: the first is at `baseOffset` (-1: unknown, acks=0). */
  complete(baseOffset: number, logAppendTimeMs: number): void {
    let offset = baseOffset;
    const { runCalls, runFirst, runCount } = this;
    for (let r = 0; r < runCalls.length; r++) {
      runCalls[r]!.complete(this.partition, runFirst[r]!, runCount[r]!, offset, logAppendTimeMs);
      if (offset >= 0) offset += runCount[r]!;
    }
  }

  /** Fails every call with records in it: with `err`, or with the error `err` makes for each call (a timeout says each call's own wait). */
  fail(err: RunnelError | ((call: SendCall) => RunnelError)): void {
    for (const call of this.runCalls) call.fail(typeof err === 'function' ? err(call) : err);
  }

  addRecord(call: SendCall, index: number): void {
    const last = this.runCalls.length - 1;
    if (last >= 0 && this.runCalls[last] === call && this.runFirst[last]! + this.runCount[last]! === index) {
      this.runCount[last]!++;
    } else {
      if (call.deadlineMs < this.deadlineMs) this.deadlineMs = call.deadlineMs;
      this.runCalls.push(call);
      this.runFirst.push(index);
      this.runCount.push(1);
    }
  }
}

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: ProducerBatch | null = null;
  readonly sealed: ProducerBatch[] = [];
  /** A request for this partition is in flight: the next waits, to keep order. */
  muted = false;
  /** Not before this time (a retry's backoff). */
  retryAtMs = 0;
  /** The last batch was sealed for size, not by linger or flush. */
  lastBatchFull = false;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get isEmpty(): boolean {
    return this.sealed.length === 0 && this.open === null;
  }

  /** The batch that leaves first (and has the earliest deadline), or null. */
  get front(): ProducerBatch | null {
    return this.sealed[0] ?? this.open;
  }
}

/** Buffers of acknowledged full-size batches kept for the next ones, at most (one 4 MiB request's worth of 64 KiB batches). */
const SPARE_BUFFERS_MAX = 64;

export class Accumulator {
  readonly opts: AccumulatorOptions;
  /**
   * Recycled batch buffers, each exactly `batchBytes` (allocating a fresh
   * 64 KiB buffer per batch made the producer's V8 heap count all of its
   * traffic as external memory, which triggers full collections). A buffer
   * comes back only through `release()`, when nothing will read its batch
   * again (see there).
   */
  readonly #spare: ArrayBuffer[] = [];
  readonly #queues = new Map<string, PartitionQueue[]>();
  /** Every batch not yet acknowledged or failed, in creation order (for flush). */
  readonly #unfinished = new Set<ProducerBatch>();
  #bufferedBytes = 0;
  #seq = 0;
  #roomWaiters: (() => void)[] = [];
  /** Batches whose memory is not yet given back (may exceed #unfinished by expired batches still on the wire). */
  #held = 0;
  #flushWaiters: { upToSeq: number; resolve: () => void }[] = [];
  /** Open batches count as ready while this is > 0 (flush, close). */
  forceDepth = 0;

  constructor(opts: AccumulatorOptions) {
    this.opts = opts;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Whether any batch still holds memory or is waited for by flush (the sender's timer has work). */
  get isIdle(): boolean {
    return this.#held === 0;
  }

  get hasRoom(): boolean {
    return this.#bufferedBytes < this.opts.bufferMemoryBytes;
  }

  /** Someone is blocked on memory: everything buffered should go now. */
  get memoryPressure(): boolean {
    return this.#roomWaiters.length > 0;
  }

  queue(topic: string, partition: number): PartitionQueue {
    let byPartition = this.#queues.get(topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.#queues.set(topic, byPartition);
    }
    let q = byPartition[partition];
    if (q === undefined) {
      q = new PartitionQueue(topic, partition);
      byPartition[partition] = q;
    }
    return q;
  }

  /** Whether any partition of `topic` has batches not yet sent. */
  hasQueued(topic: string): boolean {
    return this.#queues.get(topic)?.some((q) => !q.isEmpty) ?? false;
  }

  *queues(): Iterable<PartitionQueue> {
    for (const byPartition of this.#queues.values()) for (const q of byPartition) if (q !== undefined) yield q;
  }

  /**
   * Appends message `index` of `call` to its partition. Returns true when an
   * open batch was sealed to make room (the sender has something to do).
   * `broker`: the partition's leader now, charged for a batch this opens.
   */
  append(q: PartitionQueue, call: SendCall, index: number, record: RecordInput, estimatedBytes: number, nowMs: number, broker = -1): boolean {
    let sealed = false;
    let batch = q.open;
    if (batch !== null && batch.recordCount > 0 && batch.builder!.sizeBytes + estimatedBytes > this.opts.batchBytes) {
      this.#seal(q);
      sealed = true;
      batch = null;
    }
    if (batch === null) {
      // A partition that just filled a batch will likely fill the next: give it the whole size up front
      // rather than growing (and copying) it by doubling.
      const capacityBytes = sealed || q.lastBatchFull ? this.opts.batchBytes : Math.min(this.opts.batchBytes, Math.max(4096, estimatedBytes * 2));
      q.lastBatchFull = sealed;
      const initialCapacityBytes = Math.max(capacityBytes, estimatedBytes + 128);
      // Full-size batches are built in a buffer of our own (recycled when one is spare), so it can be recycled again.
      let own: Buffer | undefined;
      if (initialCapacityBytes === this.opts.batchBytes && this.opts.codec === 'none') {
        const spare = this.#spare.pop();
        own = spare === undefined ? Buffer.allocUnsafeSlow(initialCapacityBytes) : Buffer.from(spare);
      }
      const builder = new BatchBuilder({ codec: this.opts.codec, initialCapacityBytes, buffer: own });
      batch = new ProducerBatch(q.topic, q.partition, builder, nowMs, this.#seq++);
      batch.broker = broker;
      batch.ownBuffer = own === undefined ? null : (own.buffer as ArrayBuffer);
      q.open = batch;
      this.#unfinished.add(batch);
      this.#held++;
    }
    const builder = batch.builder!;
    const before = builder.sizeBytes;
    try {
      builder.append(record, nowMs);
    } catch (err) {
      // A record the builder refuses leaves no trace: an empty batch must not be sent.
      if (batch.recordCount === 0) {
        q.open = null;
        this.release(batch);
      }
      throw err;
    }
    const grew = builder.sizeBytes - before;
    batch.memoryBytes += grew;
    this.#bufferedBytes += grew;
    this.opts.bulkhead?.charge(batch.broker, grew);
    batch.recordCount++;
    batch.addRecord(call, index);
    return sealed;
  }

  /** Builds the open batch of `q` and queues it for sending. */
  #seal(q: PartitionQueue): void {
    const batch = q.open;
    if (batch === null) return;
    q.open = null;
    const bytes = batch.builder!.build();
    batch.builder = null;
    batch.bytes = bytes;
    // Compression shrinks what we hold.
    this.#bufferedBytes += bytes.byteLength - batch.memoryBytes;
    this.opts.bulkhead?.charge(batch.broker, bytes.byteLength - batch.memoryBytes);
    batch.memoryBytes = bytes.byteLength;
    q.sealed.push(batch);
    this.opts.onSealed?.(q.topic, q.partition);
  }

  /** Whether `q` has something that should be sent now. */
  isReady(q: PartitionQueue, nowMs: number): boolean {
    if (q.muted || nowMs < q.retryAtMs) return false;
    if (q.sealed.length > 0) return true;
    const open = q.open;
    if (open === null) return false;
    return this.forceDepth > 0 || this.#roomWaiters.length > 0 || nowMs - open.createdMs >= this.opts.lingerMs;
  }

  /** When an unready, non-empty queue becomes ready: its linger or its backoff running out. */
  dueMs(q: PartitionQueue): number {
    const lingerDoneMs = q.sealed.length > 0 || q.open === null ? 0 : q.open.createdMs + this.opts.lingerMs;
    return Math.max(lingerDoneMs, q.retryAtMs);
  }

  /**
   * Takes the batches of a ready queue for one request: its sealed batches
   * (oldest first) up to `maxBytes` and `maxBatches` (always at least one),
   * plus the open one if it is due and fits.
   */
  drain(q: PartitionQueue, maxBytes: number, nowMs: number, maxBatches = Infinity): ProducerBatch[] {
    const open = q.open;
    if (open !== null && (this.forceDepth > 0 || this.#roomWaiters.length > 0 || nowMs - open.createdMs >= this.opts.lingerMs || q.sealed.length === 0)) {
      this.#seal(q);
    }
    const out: ProducerBatch[] = [];
    let bytes = 0;
    while (q.sealed.length > 0) {
      const next = q.sealed[0]!;
      if (out.length > 0 && (bytes + next.bytes!.byteLength > maxBytes || out.length >= maxBatches)) break;
      q.sealed.shift();
      out.push(next);
      bytes += next.bytes!.byteLength;
    }
    return out;
  }

  /** Puts batches that must be retried back at the front of their queue, in order. */
  requeue(q: PartitionQueue, batches: ProducerBatch[], retryAtMs: number): void {
    q.sealed.unshift(...batches);
    q.retryAtMs = retryAtMs;
  }

  /**
   * A batch is settled for its callers (acknowledged, failed, or expired
   * while a request carries it): flush no longer waits for it. Its memory is
   * given back by `release`.
   */
  finish(batch: ProducerBatch): void {
    if (this.#unfinished.delete(batch) && this.#flushWaiters.length > 0) this.#wakeFlushers();
  }

  /**
   * A batch is acknowledged or has failed for good: its memory is free.
   * Callers guarantee its bytes will not be read again: the broker answered
   * the request that carried them (so all of it was written), or their
   * connection was destroyed (queued writes are dropped), or they were never
   * sent. That is what lets a full-size batch's buffer be built in again.
   */
  release(batch: ProducerBatch): void {
    this.finish(batch);
    if (batch.released) return;
    batch.released = true;
    this.#held--;
    this.#bufferedBytes -= batch.memoryBytes;
    const freed = batch.memoryBytes;
    batch.memoryBytes = 0;
    const own = batch.ownBuffer;
    batch.ownBuffer = null;
    // Only if the built batch is still in that buffer (the builder may have moved on to a bigger one).
    if (own !== null && batch.bytes !== null && batch.bytes.buffer === own && this.#spare.length < SPARE_BUFFERS_MAX) this.#spare.push(own);
    // After the totals are right: the bulkhead's room hook may append at once.
    this.opts.bulkhead?.charge(batch.broker, -freed);
    if (this.#roomWaiters.length > 0 && this.hasRoom) {
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Calls `wake` once buffered bytes are below the limit (re-check after waking). */
  whenRoom(wake: () => void): void {
    this.#roomWaiters.push(wake);
  }

  /** Resolves when buffered bytes are below the limit (re-check after waking). */
  waitForRoom(): Promise<void> {
    return new Promise((resolve) => this.whenRoom(resolve));
  }

  /** Resolves when every batch that exists now is finished. */
  waitForAllCurrent(): Promise<void> {
    const upToSeq = this.#seq - 1;
    return new Promise((resolve) => {
      this.#flushWaiters.push({ upToSeq, resolve });
      this.#wakeFlushers();
    });
  }

  #wakeFlushers(): void {
    let oldest = Infinity;
    for (const b of this.#unfinished) {
      oldest = b.seq;
      break;
    }
    this.#flushWaiters = this.#flushWaiters.filter((w) => {
      if (w.upToSeq >= oldest) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * Fails the batches at the front of `q` whose deadline has passed (never
   * sent, or waiting to be sent again), with `errorFor(batch)`. Returns
   * whether any expired.
   */
  expireQueued(q: PartitionQueue, nowMs: number, errorFor: (batch: ProducerBatch) => (call: SendCall) => RunnelError): boolean {
    let any = false;
    for (let b = q.front; b !== null && b.deadlineMs <= nowMs; b = q.front) {
      if (b === q.open) q.open = null;
      else q.sealed.shift();
      b.fail(errorFor(b));
      this.release(b);
      any = true;
    }
    return any;
  }

  /** Fails every batch of `q` not yet sent. */
  failQueue(q: PartitionQueue, err: RunnelError): void {
    const batches = q.sealed.splice(0);
    if (q.open !== null) {
      batches.push(q.open);
      q.open = null;
    }
    for (const b of batches) {
      b.fail(err);
      this.release(b);
    }
  }

  /** Fails every batch not yet sent (close after a failed flush). */
  abortUnsent(err: RunnelError): void {
    for (const q of this.queues()) this.failQueue(q, err);
  }
}
