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
 * One broker's share (resilience/byte-bulkhead.ts): records for a broker
 * whose buffered bytes reached `maxBufferedBytesPerBroker` are not
 * appended; their call is parked where it stands, and the calls behind it go
 * on, except that none of their records may enter a partition the parked
 * call still has records for (send order per partition holds), nor a broker
 * that is full. Keyless records go to partitions whose broker has room and
 * whose circuit breaker is closed. A call parked for metadata or for the
 * whole buffer still holds up every call behind it, as before.
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
import type { BrokerStats, PartitionDescription, Producer, ProducerMessage, RecordMetadata } from '../types.js';
import { ByteBulkhead } from '../resilience/byte-bulkhead.js';
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
  /** Bytes of the buffer one broker's records may hold (applied while the metadata names more than one broker). */
  maxBufferedBytesPerBroker: number;
  codec: 'none' | 'gzip' | 'lz4';
  partitioner: Partitioner | undefined;
}

/** Per-record framing the builder adds beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD_BYTES = 24;

/** Why `#appendFrom` stopped short of a call's end. */
type Stop =
  /** Appended to the end, or the call failed. */
  | { kind: 'done' }
  /** The whole buffer is full, or the call waits for a fresher metadata answer before placing. */
  | { kind: 'wait' }
  /** Message `w.next` is for a broker whose share is full (or a partition a call before it has parked on). */
  | { kind: 'parked'; broker: number };

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
  /** Each broker's share of the buffer. */
  readonly #bulkhead: ByteBulkhead;
  /** Partitions (`topic\0partition`) that parked calls still have records for: later calls' records for them wait too (as of the last pass). */
  #parkedPartitions = new Set<string>();
  /** The last pass stopped at a call waiting for metadata or the whole buffer: every later call queues behind it. */
  #headOfLine = false;
  /** A pass is queued (a broker's share has room again). */
  #pumpQueued = false;
  #closing: Promise<void> | null = null;
  /** Stops close() waiting for pending sends (its timeout). */
  #stopWaiting: () => void = () => {};
  readonly #scratch: RecordInput = { key: null, value: null, headers: undefined, timestamp: undefined };

  constructor(cluster: Cluster, opts: ResolvedProducerOptions, onClosed: () => void) {
    super(cluster.events, () => cluster.brokerStats());
    this.#cluster = cluster;
    this.#opts = opts;
    this.#onClosed = onClosed;
    this.#sticky = new StickyPartitions(() => cluster.random());
    this.#waitTimer = new EarliestTimer(cluster.clock, () => this.#pumpWaiting());
    this.#bulkhead = new ByteBulkhead(opts.maxBufferedBytesPerBroker, {
      full: (broker, bytes) => {
        const address = broker < 0 ? 'partitions without a leader' : this.#brokerAddress(broker);
        opts.logger.warn({ broker: address, nodeId: broker, bytes, limit: opts.maxBufferedBytesPerBroker }, 'buffer share of a broker full: its records wait, the others go on');
        cluster.events.emit('bulkhead-full', { broker: address, nodeId: broker < 0 ? null : broker, kind: 'bytes', current: bytes, limit: opts.maxBufferedBytesPerBroker });
      },
      // Released from the middle of a response's bookkeeping: the pass runs after it.
      room: () => {
        if (this.#pumpQueued || this.#waiting.isEmpty) return;
        this.#pumpQueued = true;
        queueMicrotask(() => {
          this.#pumpQueued = false;
          this.#pumpWaiting();
        });
      },
    });
    this.#acc = new Accumulator({
      bulkhead: this.#bulkhead,
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
    const wasEmpty = this.#waiting.isEmpty;
    // Behind parked calls (not behind one waiting for metadata or memory) a call may still go in, around their partitions.
    let stop: Stop = { kind: 'wait' };
    if (wasEmpty || !this.#headOfLine) {
      const info = this.#cluster.cachedTopic(req.topic, nowMs);
      if (info !== undefined) stop = this.#appendFrom(w, info, wasEmpty ? new Set() : this.#parkedPartitions);
    }
    if (w.next < messages.length && !call.settled) {
      this.#waiting.push(w);
      // A pass sets the timer and asks for what the call needs; behind a call waiting for metadata or memory, the pass
      // that comes when it arrives takes this one too.
      if (wasEmpty) this.#pumpWaiting();
      else if (stop.kind === 'parked') this.#park(w, this.#cluster.cachedTopic(req.topic, nowMs)!, this.#parkedPartitions);
      else if (!this.#headOfLine) this.#pumpWaiting();
    }
    return call.promise;
  }

  /** The producer's per-broker counters: the cluster's, with the bytes each broker's share holds. */
  override brokerStats(): BrokerStats[] {
    const stats = super.brokerStats();
    for (const s of stats) {
      if (s.nodeId === null) continue;
      s.bufferedBytes = this.#bulkhead.bytes(s.nodeId);
      s.bufferedBytesFull = this.#bulkhead.fills(s.nodeId);
    }
    return stats;
  }

  #brokerAddress(nodeId: number): string {
    try {
      return this.#cluster.broker(nodeId).address;
    } catch {
      return `broker ${nodeId}`;
    }
  }

  /** Whether records may be buffered for broker `leader` now: the breaker lets requests through and its share has room. */
  #brokerHasRoom(leader: number): boolean {
    // One broker: nothing to keep apart, the whole buffer is its.
    if (this.#cluster.brokerCount <= 1) return true;
    return this.#bulkhead.hasRoom(leader);
  }

  /** A call parked at `w.next`: the partitions of its remaining records are closed to later calls (their order). */
  #park(w: WaitingSend, info: TopicInfo, parked: Set<string>): void {
    const partitionCount = info.partitions.length;
    for (let i = w.next; i < w.messages.length; i++) {
      const partition = this.#fixedPartition(w, i, partitionCount);
      if (partition >= 0) parked.add(`${w.call.topic}\0${partition}`);
    }
  }

  /** The partition message `i` must go to (explicit, the partitioner's or its key's), or -1 for a keyless record (sticky: any). */
  #fixedPartition(w: WaitingSend, i: number, partitionCount: number): number {
    const m = w.messages[i]!;
    if (m.partition !== undefined) return m.partition;
    if (w.chosen !== null) return w.chosen[i]!;
    const key = toBytes(m.key);
    return key === null ? -1 : (murmur2(key) & 0x7fffffff) % partitionCount;
  }

  /**
   * Moves the waiting calls into the accumulator, head first, as far as
   * metadata and memory allow; fails calls whose deadline has passed. A call
   * parked on a broker's share is passed over (its partitions closed to the
   * calls behind it); one that waits for metadata or the whole buffer stops
   * the pass, asking for what it needs. The timer is set for the head's
   * deadline (the earliest: calls are queued in deadline order).
   */
  #pumpWaiting(): void {
    const nowMs = this.#cluster.clock.nowMs();
    const parked = new Set<string>();
    let headOfLine = false;
    for (const w of this.#waiting.entries()) {
      if (w.call.settled) {
        this.#waiting.finish(w);
        continue;
      }
      if (nowMs >= w.call.deadlineMs) {
        const info = this.#cluster.cachedTopic(w.call.topic, nowMs);
        const known = info !== undefined && info.asOf >= w.freshAsOf;
        w.call.fail(this.#waitTimeout(w, !known ? 'metadata' : this.#acc.hasRoom ? 'share' : 'memory', nowMs));
        this.#waiting.finish(w);
        continue;
      }
      const stop = this.#tryWaiting(w, nowMs, parked);
      if (stop.kind === 'done') this.#waiting.finish(w);
      else if (stop.kind === 'parked') this.#park(w, this.#cluster.cachedTopic(w.call.topic, nowMs)!, parked);
      else {
        headOfLine = true;
        break;
      }
    }
    this.#waiting.compact();
    this.#parkedPartitions = parked;
    this.#headOfLine = headOfLine;
    const head = this.#waiting.head;
    // Nothing waits: no timer may keep the process alive.
    if (head === undefined) this.#waitTimer.cancel();
    else this.#waitTimer.armAt(head.call.deadlineMs, nowMs);
  }

  /** One waiting call's turn in a pass: appended (or failed), parked on a broker's share, or waiting for metadata or memory (asked for). */
  #tryWaiting(w: WaitingSend, nowMs: number, parked: Set<string>): Stop {
    for (let attempt = 0; attempt < 2; attempt++) {
      const info = this.#cluster.cachedTopic(w.call.topic, nowMs);
      // Metadata from before the call asked for a refresh does not count.
      const known = info !== undefined && info.asOf >= w.freshAsOf;
      if (!known) {
        if (info !== undefined) this.#cluster.invalidate(w.call.topic);
        this.#lookups.request(w.call.topic);
        return { kind: 'wait' };
      }
      if (!this.#acc.hasRoom) {
        if (!this.#roomAsked) {
          this.#roomAsked = true;
          this.#acc.whenRoom(() => {
            this.#roomAsked = false;
            this.#pumpWaiting();
          });
        }
        this.#sender.wake();
        return { kind: 'wait' };
      }
      const stop = this.#appendFrom(w, info, parked);
      if (w.call.settled || w.next >= w.messages.length) return { kind: 'done' };
      if (stop.kind === 'parked') return stop;
      // Out of memory part-way, or placing wants a fresher answer: the checks above say which, and ask for it.
    }
    return { kind: 'wait' };
  }

  #waitTimeout(w: WaitingSend, blockedOn: 'metadata' | 'memory' | 'share', nowMs: number): RunnelError {
    const { deliveryTimeoutMs, bufferMemoryBytes, maxBufferedBytesPerBroker } = this.#opts;
    if (blockedOn === 'metadata') {
      const asked = w.freshAsOf >= 0 ? ` (a message names partition ${w.highestPartition}, which it did not have)` : '';
      return deliveryTimeoutErrors(this.#cluster, deliveryTimeoutMs, `waiting for the metadata of topic "${w.call.topic}"${asked}`, this.#lookups.lastError(w.call.topic), nowMs)(w.call);
    }
    const appended = w.next > 0 ? ` (${w.next} of its ${w.messages.length} records were buffered)` : '';
    if (blockedOn === 'share') {
      return deliveryTimeoutErrors(this.#cluster, deliveryTimeoutMs,
        `waiting for room in a broker's share of the buffer${appended}: the records before it for that broker hold all ${maxBufferedBytesPerBroker} bytes of maxBufferedBytesPerBroker, or an earlier call waits for the same partition`, null, nowMs)(w.call);
    }
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
   * Appends the call's messages from `w.next` until done, the buffer is
   * full, or a record's broker's share is (or its partition is in `parked`:
   * an earlier call waits to append to it), placing them first if that is
   * still to do; `w.next` ends at the first message not appended.
   */
  #appendFrom(w: WaitingSend, info: TopicInfo, parked: ReadonlySet<string>): Stop {
    if (!w.placed && !this.#place(w, info)) return { kind: w.call.settled ? 'done' : 'wait' };
    const { call, messages, chosen } = w;
    const acc = this.#acc;
    const partitionCount = info.partitions.length;
    const nowMs = call.sentAtMs;
    let sealed = false;
    let sticky = -1;
    let i = w.next;
    let stop: Stop = { kind: 'done' };
    // Keyless records go where the breaker is closed and the share has room (any partition with a leader if none is).
    const open = (p: number): boolean => {
      const leader = info.partitions[p]!.leader;
      return leader >= 0 && this.#cluster.brokerAvailable(leader) && this.#brokerHasRoom(leader);
    };
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
        if (sticky < 0) sticky = this.#sticky.partition(call.topic, partitionCount, open);
        partition = sticky;
      }
      // Placing checked this against the metadata of the time; only a topic deleted and made again smaller gets here.
      if (partition >= partitionCount) {
        call.fail(invalidArgument(`message ${i}: partition ${partition} is out of range; topic "${call.topic}" now has partitions 0 to ${partitionCount - 1}${buffered(i)}`));
        i = messages.length;
        break;
      }
      const leader = info.partitions[partition]!.leader;
      if ((parked.size > 0 && parked.has(`${call.topic}\0${partition}`)) || !this.#brokerHasRoom(leader)) {
        stop = { kind: 'parked', broker: leader };
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
        if (acc.append(acc.queue(call.topic, partition), call, i, record, estimatedBytes, nowMs, leader)) {
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
    if (sealed || this.#opts.lingerMs === 0 || !acc.hasRoom || stop.kind === 'parked') this.#sender.wake();
    else this.#sender.poke(nowMs);
    if (stop.kind === 'done' && i < messages.length && !call.settled) stop = { kind: 'wait' };
    return stop;
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
