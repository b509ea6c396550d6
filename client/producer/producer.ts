/**
 * The Producer: `send()` turns messages into records, picks their partitions
 * and appends them to the accumulator; the sender ships batches; the promise
 * resolves once every record of the call is acknowledged.
 *
 * Fast path: when the topic's metadata is cached and there is buffer room,
 * `send()` appends every record synchronously and costs one promise per
 * call, not per record. Otherwise the call waits (for metadata, or for
 * memory) in a queue, and later calls queue behind it, so records keep their
 * send order even when `send()` is not awaited.
 *
 * Every call settles by its deadline (`deliveryTimeoutMs` after `send()`):
 * the waiting queue's timer fails the call at its head when that passes, and
 * the sender expires the batches carrying appended records. Calls are made,
 * and so appended, in deadline order, which is why looking at the head (of
 * this queue, of each partition's queue) is enough.
 *
 * A call is all or nothing up to the point of appending: its messages are
 * checked (shape, then every message's partition against the topic) before
 * the first record goes in, so a call refused as invalid has written
 * nothing. A partition the cached metadata does not have may be one added
 * since (`topic alter --partitions`): the call waits for one refresh of the
 * topic, within its deadline, and is refused only if the partition is still
 * not there.
 */
import type { RecordInput } from '../../protocol/batch/index.js';
import { RunnelError, clientClosed, invalidArgument } from '../errors.js';
import { deliverAtHeader, deliverAtMs, deliveryTimeProblem } from '../delivery-time.js';
import { EarliestTimer } from '../earliest-timer.js';
import { headersProblem, toRecordHeaders } from '../headers.js';
import type { Cluster, TopicInfo } from '../metadata.js';
import { EmitsClientEvents } from '../events.js';
import type { PartitionDescription, Producer, ProducerMessage, RecordMetadata } from '../types.js';
import { Accumulator } from './accumulator.js';
import { deliveryTimeoutErrors } from './delivery-timeout.js';
import { murmur2, StickyPartitions, type Partitioner } from './partitioner.js';
import { SendCall } from './send-call.js';
import { Sender, type SenderOptions } from './sender.js';
import { TopicLookups } from './topic-lookups.js';
import { WaitingSends, type WaitingSend } from './waiting-sends.js';

export interface ResolvedProducerOptions extends SenderOptions {
  lingerMs: number;
  batchBytes: number;
  bufferMemoryBytes: number;
  codec: 'none' | 'gzip' | 'lz4';
  partitioner: Partitioner | undefined;
}

/** Per-record framing the builder adds beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD_BYTES = 24;

/** `on('broker-unreachable' | 'broker-reachable', ...)` comes from EmitsClientEvents. */
export class RunnelProducer extends EmitsClientEvents implements Producer {
  readonly #cluster: Cluster;
  readonly #opts: ResolvedProducerOptions;
  readonly #acc: Accumulator;
  readonly #sender: Sender;
  readonly #lookups: TopicLookups;
  readonly #sticky: StickyPartitions;
  readonly #onClosed: () => void;
  /** Calls that could not append at once (no metadata, no buffer room), in send order; later calls queue behind them. */
  readonly #waiting = new WaitingSends();
  /** Fires at the deadline of the call at the head of #waiting. */
  readonly #waitTimer: EarliestTimer;
  /** The head waits for buffer room and has asked to hear of it. */
  #roomAsked = false;
  #closing: Promise<void> | null = null;
  /** Stops close() waiting for pending sends (its timeout). */
  #stopWaiting: () => void = () => {};
  readonly #scratch: RecordInput = { key: null, value: null, headers: undefined, timestamp: undefined };

  constructor(cluster: Cluster, opts: ResolvedProducerOptions, onClosed: () => void) {
    super(cluster.events);
    this.#cluster = cluster;
    this.#opts = opts;
    this.#onClosed = onClosed;
    this.#sticky = new StickyPartitions(() => cluster.random());
    this.#waitTimer = new EarliestTimer(cluster.clock, () => this.#pumpWaiting());
    this.#acc = new Accumulator({
      batchBytes: opts.batchBytes,
      lingerMs: opts.lingerMs,
      bufferMemoryBytes: opts.bufferMemoryBytes,
      codec: opts.codec,
      onSealed: (topic, partition) => {
        const partitions = cluster.cachedTopic(topic)?.partitions;
        this.#sticky.batchClosed(topic, partition, partitions?.length ?? 1, (p) => (partitions?.[p]?.leader ?? -1) >= 0);
      },
    });
    this.#lookups = new TopicLookups(cluster, opts.retry, {
      needed: (topic) => this.#waiting.hasTopic(topic) || this.#acc.hasQueued(topic),
      found: () => {
        this.#pumpWaiting();
        this.#sender.wake();
      },
      failed: (topic, err) => {
        this.#waiting.failTopic(topic, err);
        for (const q of this.#acc.queues()) if (q.topic === topic) this.#acc.failQueue(q, err);
        this.#pumpWaiting();
      },
    });
    this.#sender = new Sender(cluster, this.#acc, this.#lookups, opts);
  }

  send(req: { topic: string; messages: ProducerMessage[] }): Promise<RecordMetadata[]> {
    if (this.#closing !== null) return Promise.reject(clientClosed('The producer'));
    const checked = checkMessages(req);
    if (typeof checked === 'string') return Promise.reject(invalidArgument(checked));
    const messages = req.messages;
    const nowMs = this.#cluster.clock.nowMs();
    const call = new SendCall(req.topic, messages, nowMs, nowMs + this.#opts.deliveryTimeoutMs);
    if (messages.length === 0) return call.promise;
    const w: WaitingSend = { call, messages, next: 0, highestPartition: checked, placed: false, chosen: null, freshAsOf: -1 };
    if (this.#waiting.isEmpty) {
      const info = this.#cluster.cachedTopic(req.topic, nowMs);
      if (info !== undefined) this.#appendFrom(w, info);
    }
    if (w.next < messages.length && !call.settled) {
      const wasEmpty = this.#waiting.isEmpty;
      this.#waiting.push(w);
      if (wasEmpty) this.#pumpWaiting();
    }
    return call.promise;
  }

  /**
   * Moves the waiting calls into the accumulator, head first, as far as
   * metadata and memory allow; fails the head when its deadline has passed;
   * otherwise asks for what the head needs and sets the timer for its
   * deadline.
   */
  #pumpWaiting(): void {
    const nowMs = this.#cluster.clock.nowMs();
    for (let w = this.#waiting.head; w !== undefined; w = this.#waiting.head) {
      if (w.call.settled) {
        this.#waiting.shift();
        continue;
      }
      const info = this.#cluster.cachedTopic(w.call.topic, nowMs);
      // Metadata from before the call asked for a refresh does not count.
      const known = info !== undefined && info.asOf >= w.freshAsOf;
      const roomy = this.#acc.hasRoom;
      if (nowMs >= w.call.deadlineMs) {
        w.call.fail(this.#waitTimeout(w, known ? 'memory' : 'metadata', nowMs));
        this.#waiting.shift();
        continue;
      }
      if (!known) {
        if (info !== undefined) this.#cluster.invalidate(w.call.topic);
        this.#lookups.request(w.call.topic);
      } else if (!roomy) {
        if (!this.#roomAsked) {
          this.#roomAsked = true;
          this.#acc.whenRoom(() => {
            this.#roomAsked = false;
            this.#pumpWaiting();
          });
        }
        this.#sender.wake();
      } else {
        this.#appendFrom(w, info!);
        // Placed and appended as far as memory allows, or failed: the next call's turn. Else a refresh is due first.
        if (w.next >= w.messages.length || w.call.settled) this.#waiting.shift();
        continue;
      }
      this.#waitTimer.armAt(w.call.deadlineMs, nowMs);
      return;
    }
    // Nothing waits: no timer may keep the process alive.
    this.#waitTimer.cancel();
  }

  #waitTimeout(w: WaitingSend, blockedOn: 'metadata' | 'memory', nowMs: number): RunnelError {
    const { deliveryTimeoutMs, bufferMemoryBytes } = this.#opts;
    if (blockedOn === 'metadata') {
      const asked = w.freshAsOf >= 0 ? ` (a message names partition ${w.highestPartition}, which it did not have)` : '';
      return deliveryTimeoutErrors(this.#cluster, deliveryTimeoutMs, `waiting for the metadata of topic "${w.call.topic}"${asked}`, this.#lookups.lastError(w.call.topic), nowMs)(w.call);
    }
    const appended = w.next > 0 ? ` (${w.next} of its ${w.messages.length} records were buffered)` : '';
    return deliveryTimeoutErrors(this.#cluster, deliveryTimeoutMs,
      `waiting for buffer memory${appended}: all ${bufferMemoryBytes} bytes of bufferMemoryBytes hold records not yet acknowledged`, null, nowMs)(w.call);
  }

  /**
   * Before the first record of a call goes in: every partition a message
   * names must exist, and the partitioner's choices must be partitions of the
   * topic. False when the call cannot be appended yet (it waits for a
   * refresh of the topic, `w.freshAsOf`) or has failed.
   */
  #place(w: WaitingSend, info: TopicInfo): boolean {
    const { call, messages } = w;
    const partitionCount = info.partitions.length;
    if (w.highestPartition >= partitionCount) {
      // Partitions may have been added since the metadata was cached: look once more before refusing.
      if (w.freshAsOf < 0 || info.asOf < w.freshAsOf) {
        if (w.freshAsOf < 0) w.freshAsOf = this.#cluster.nextMetadataSeq;
        return false;
      }
      const i = messages.findIndex((m) => m.partition !== undefined && m.partition >= partitionCount);
      call.fail(invalidArgument(`message ${i}: partition ${messages[i]!.partition} is out of range; topic "${call.topic}" has partitions 0 to ${partitionCount - 1} (as its metadata says, just refreshed); nothing of this call was sent`));
      return false;
    }
    const partitioner = this.#opts.partitioner;
    if (partitioner !== undefined) {
      const chosen = new Int32Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.partition !== undefined) {
          chosen[i] = m.partition;
          continue;
        }
        const key = toBytes(m.key);
        const partition = partitioner(key === null ? null : asBuffer(key), partitionCount);
        if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
          call.fail(invalidArgument(`message ${i}: the partitioner chose partition ${String(partition)}, but topic "${call.topic}" has partitions 0 to ${partitionCount - 1}; nothing of this call was sent`));
          return false;
        }
        chosen[i] = partition;
      }
      w.chosen = chosen;
    }
    w.placed = true;
    return true;
  }

  /**
   * Appends the call's messages from `w.next` until done or the buffer is
   * full, placing them first if that is still to do; `w.next` ends at the
   * first message not appended.
   */
  #appendFrom(w: WaitingSend, info: TopicInfo): void {
    if (!w.placed && !this.#place(w, info)) return;
    const { call, messages, chosen } = w;
    const acc = this.#acc;
    const partitionCount = info.partitions.length;
    const nowMs = call.sentAtMs;
    let sealed = false;
    let sticky = -1;
    let i = w.next;
    for (; i < messages.length; i++) {
      if (!acc.hasRoom) break;
      const m = messages[i]!;
      const key = toBytes(m.key);
      const value = toBytes(m.value);
      let partition: number;
      if (m.partition !== undefined) partition = m.partition;
      else if (chosen !== null) partition = chosen[i]!;
      else if (key !== null) partition = (murmur2(key) & 0x7fffffff) % partitionCount;
      else {
        // Looked up once per run of keyless records, again only after a seal may have moved it.
        if (sticky < 0) sticky = this.#sticky.partition(call.topic, partitionCount, (p) => info.partitions[p]!.leader >= 0);
        partition = sticky;
      }
      // Placing checked this against the metadata of the time; only a topic deleted and made again smaller gets here.
      if (partition >= partitionCount) {
        call.fail(invalidArgument(`message ${i}: partition ${partition} is out of range; topic "${call.topic}" now has partitions 0 to ${partitionCount - 1}${buffered(i)}`));
        i = messages.length;
        break;
      }
      let estimatedBytes = RECORD_OVERHEAD_BYTES + (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
      // The builder copies the record's bytes at once and keeps no reference: one scratch object serves every record.
      const record = this.#scratch;
      record.key = key;
      record.value = value;
      record.timestamp = m.timestamp;
      record.headers = undefined;
      const atMs = deliverAtMs(m, nowMs);
      if (m.headers !== undefined || atMs !== undefined) {
        const headers = m.headers === undefined ? [] : toRecordHeaders(m.headers);
        if (atMs !== undefined) headers.push(deliverAtHeader(atMs));
        record.headers = headers;
        for (const h of headers) estimatedBytes += h.key.length * 3 + (h.value === null ? 0 : h.value.length) + 10;
      }
      try {
        if (acc.append(acc.queue(call.topic, partition), call, i, record, estimatedBytes, nowMs)) {
          sealed = true;
          sticky = -1;
        }
      } catch (err) {
        // The checks before appending leave the builder nothing to refuse but a bug; say what was already in.
        call.fail(invalidArgument(`message ${i}: ${(err as Error).message}${buffered(i)}`));
        i = messages.length;
        break;
      }
    }
    w.next = i;
    if (sealed || this.#opts.lingerMs === 0 || !acc.hasRoom) this.#sender.wake();
    else this.#sender.poke(nowMs);
  }

  async partitionsFor(topic: string): Promise<PartitionDescription[]> {
    if (this.#closing !== null) throw clientClosed('The producer');
    if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('partitionsFor() takes a topic name');
    const info = this.#cluster.cachedTopic(topic) ?? (await this.#cluster.topic(topic));
    return info.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }));
  }

  async flush(): Promise<void> {
    await this.#waiting.drained();
    this.#acc.forceDepth++;
    try {
      this.#sender.wake();
      await this.#acc.waitForAllCurrent();
    } finally {
      this.#acc.forceDepth--;
    }
  }

  close(opts?: { timeoutMs?: number }): Promise<void> {
    const timeoutMs = opts?.timeoutMs;
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 0)) {
      return Promise.reject(invalidArgument(`close({ timeoutMs }) takes a non-negative integer, got ${String(timeoutMs)}`));
    }
    if (this.#closing === null) {
      const stopped = new Promise<void>((resolve) => (this.#stopWaiting = resolve));
      this.#closing = this.#close(stopped);
    }
    if (timeoutMs !== undefined) {
      const timer = this.#cluster.clock.schedule(timeoutMs, this.#stopWaiting, { keepAlive: true });
      void this.#closing.finally(() => timer.cancel());
    }
    return this.#closing;
  }

  async #close(stopWaiting: Promise<void>): Promise<void> {
    try {
      await Promise.race([this.flush(), stopWaiting]);
    } finally {
      const err = new RunnelError('CLIENT_CLOSED', 'The producer was closed before these records were acknowledged; they may or may not have been written.');
      this.#waiting.failAll(err);
      this.#acc.abortUnsent(err);
      this.#sender.abandonOnTheWire(err);
      this.#sender.stop();
      this.#lookups.close();
      this.#waitTimer.cancel();
      await this.#cluster.close();
      this.#onClosed();
    }
  }
}

function toBytes(v: string | Buffer | Uint8Array | null | undefined): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return v;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Records whose bytes could pass a batch's i32 length once framed: refused up front rather than by the builder part-way. */
const RECORD_BYTES_MAX = 0x7fffffff - 1024;

/** What the messages before `i` became when message `i` could not be appended. */
function buffered(i: number): string {
  return i === 0 ? '; nothing of this call was sent' : `; messages 0 to ${i - 1} of this call were already buffered and will still be sent`;
}

/**
 * Cheap shape checks before anything is appended, so a bad call appends
 * nothing: a problem to refuse the call with, or else the highest partition
 * a message names (-1 for none), which the producer checks against the
 * topic before appending.
 */
function checkMessages(req: { topic: string; messages: ProducerMessage[] }): string | number {
  if (req === null || typeof req !== 'object') return 'send() takes { topic, messages }';
  if (typeof req.topic !== 'string' || req.topic.length === 0) return 'topic must be a non-empty string';
  if (!Array.isArray(req.messages)) return 'messages must be an array';
  const messages = req.messages;
  let highestPartition = -1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m === null || typeof m !== 'object') return `message ${i} must be an object with a value`;
    const v = m.value;
    if (v !== null && typeof v !== 'string' && !(v instanceof Uint8Array)) return `message ${i}: value must be a string, a Buffer or null`;
    const k = m.key;
    if (k !== undefined && k !== null && typeof k !== 'string' && !(k instanceof Uint8Array)) return `message ${i}: key must be a string, a Buffer, null or absent`;
    // A UTF-8 string takes at most 3 bytes a UTF-16 unit.
    if ((v === null ? 0 : typeof v === 'string' ? 3 * v.length : v.length) + (k == null ? 0 : typeof k === 'string' ? 3 * k.length : k.length) > RECORD_BYTES_MAX) {
      return `message ${i}: key and value together may take at most ${RECORD_BYTES_MAX} bytes`;
    }
    const p = m.partition;
    if (p !== undefined) {
      if (!Number.isInteger(p) || p < 0) return `message ${i}: partition must be a non-negative integer`;
      if (p > highestPartition) highestPartition = p;
    }
    // Non-negative, as Kafka requires: two such times are always a safe distance apart within a batch.
    if (m.timestamp !== undefined && (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0)) return `message ${i}: timestamp must be a non-negative integer (ms since the epoch)`;
    if (m.headers !== undefined) {
      const problem = headersProblem(m.headers);
      if (problem !== null) return `message ${i}: ${problem}`;
    }
    const timeProblem = deliveryTimeProblem(m);
    if (timeProblem !== null) return `message ${i}: ${timeProblem}`;
  }
  return highestPartition;
}
