/**
 * The Producer: `send()` turns messages into records, picks their partitions
 * and appends them to the accumulator; the sender ships batches; the promise
 * resolves once every record of the call is acknowledged.
 *
 * Fast path: when the topic's metadata is cached and there is buffer room,
 * `send()` appends every record synchronously and costs one promise per
 * call, not per record. Otherwise the call waits (for metadata, or for
 * memory), and later calls queue behind it, so records keep their send order
 * even when `send()` is not awaited.
 */
import type { RecordInput } from '../../protocol/batch/index.js';
import { RunnelError, clientClosed, invalidArgument } from '../errors.js';
import { headersProblem, toRecordHeaders } from '../headers.js';
import type { Cluster, TopicInfo } from '../metadata.js';
import type { Producer, ProducerMessage, RecordMetadata } from '../types.js';
import { Accumulator } from './accumulator.js';
import { murmur2, StickyPartitions, type Partitioner } from './partitioner.js';
import { SendCall } from './send-call.js';
import { Sender, type SenderOptions } from './sender.js';

export interface ResolvedProducerOptions extends SenderOptions {
  lingerMs: number;
  batchBytes: number;
  bufferMemoryBytes: number;
  codec: 'none' | 'gzip' | 'lz4';
  partitioner: Partitioner | undefined;
}

/** Per-record framing the builder adds beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD_BYTES = 24;

export class RunnelProducer implements Producer {
  readonly #cluster: Cluster;
  readonly #opts: ResolvedProducerOptions;
  readonly #acc: Accumulator;
  readonly #sender: Sender;
  readonly #sticky = new StickyPartitions();
  readonly #onClosed: () => void;
  /** Tail of the calls that could not append synchronously; later calls queue behind it. */
  #blocked: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  readonly #scratch: RecordInput = { key: null, value: null, headers: undefined, timestamp: undefined };

  constructor(cluster: Cluster, opts: ResolvedProducerOptions, onClosed: () => void) {
    this.#cluster = cluster;
    this.#opts = opts;
    this.#onClosed = onClosed;
    this.#acc = new Accumulator({
      batchBytes: opts.batchBytes,
      lingerMs: opts.lingerMs,
      bufferMemoryBytes: opts.bufferMemoryBytes,
      codec: opts.codec,
      onSealed: (topic, partition) => {
        const count = cluster.cachedTopic(topic)?.partitions.length ?? 1;
        this.#sticky.batchClosed(topic, partition, count);
      },
    });
    this.#sender = new Sender(cluster, this.#acc, opts);
  }

  send(req: { topic: string; messages: ProducerMessage[] }): Promise<RecordMetadata[]> {
    if (this.#closing !== null) return Promise.reject(clientClosed('The producer'));
    const problem = validate(req);
    if (problem !== null) return Promise.reject(invalidArgument(problem));
    const messages = req.messages;
    const call = new SendCall(req.topic, messages, Date.now());
    if (messages.length === 0) return call.promise;
    if (this.#blocked === null) {
      const info = this.#cluster.cachedTopic(req.topic);
      if (info !== undefined) {
        const next = this.#appendFrom(call, messages, info, 0);
        if (next < messages.length && !call.settled) this.#enqueue(() => this.#resume(call, messages, next));
        return call.promise;
      }
    }
    this.#enqueue(() => this.#resume(call, messages, 0));
    return call.promise;
  }

  #enqueue(work: () => Promise<void>): void {
    const tail = (this.#blocked ?? Promise.resolve()).then(work);
    this.#blocked = tail;
    void tail.then(() => {
      if (this.#blocked === tail) this.#blocked = null;
    });
  }

  /** The slow path: waits for metadata and memory as needed. Never rejects (the call does). */
  async #resume(call: SendCall, messages: ProducerMessage[], start: number): Promise<void> {
    try {
      const info = await this.#cluster.topic(call.topic);
      let next = start;
      while (next < messages.length && !call.settled) {
        if (!this.#acc.hasRoom) {
          this.#sender.wake();
          await this.#acc.waitForRoom();
          continue;
        }
        next = this.#appendFrom(call, messages, info, next);
      }
    } catch (err) {
      call.fail(err instanceof RunnelError ? err : new RunnelError('UNKNOWN_SERVER_ERROR', (err as Error).message, { cause: err }));
    }
  }

  /**
   * Appends messages from `start` until done or the buffer is full; returns
   * the index of the first message not appended.
   */
  #appendFrom(call: SendCall, messages: ProducerMessage[], info: TopicInfo, start: number): number {
    const acc = this.#acc;
    const partitionCount = info.partitions.length;
    const nowMs = call.sentAtMs;
    const partitioner = this.#opts.partitioner;
    let sealed = false;
    let sticky = -1;
    let i = start;
    for (; i < messages.length; i++) {
      if (!acc.hasRoom) break;
      const m = messages[i]!;
      const key = toBytes(m.key);
      const value = toBytes(m.value);
      let partition: number;
      if (m.partition !== undefined) partition = m.partition;
      else if (partitioner !== undefined) partition = partitioner(key === null ? null : asBuffer(key), partitionCount);
      else if (key !== null) partition = (murmur2(key) & 0x7fffffff) % partitionCount;
      else {
        // Looked up once per run of keyless records, again only after a seal may have moved it.
        if (sticky < 0) sticky = this.#sticky.partition(call.topic, partitionCount);
        partition = sticky;
      }
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
        call.fail(invalidArgument(`message ${i}: partition ${partition} is out of range; topic "${call.topic}" has partitions 0 to ${partitionCount - 1}`));
        return messages.length;
      }
      let estimatedBytes = RECORD_OVERHEAD_BYTES + (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
      // The builder copies the record's bytes at once and keeps no reference: one scratch object serves every record.
      const record = this.#scratch;
      record.key = key;
      record.value = value;
      record.timestamp = m.timestamp;
      record.headers = undefined;
      if (m.headers !== undefined) {
        const headers = toRecordHeaders(m.headers);
        record.headers = headers;
        for (const h of headers) estimatedBytes += h.key.length * 3 + (h.value === null ? 0 : h.value.length) + 10;
      }
      try {
        if (acc.append(acc.queue(call.topic, partition), call, i, record, estimatedBytes, nowMs)) {
          sealed = true;
          sticky = -1;
        }
      } catch (err) {
        call.fail(invalidArgument(`message ${i}: ${(err as Error).message}`));
        return messages.length;
      }
    }
    if (sealed || this.#opts.lingerMs === 0 || !acc.hasRoom) this.#sender.wake();
    else this.#sender.poke(nowMs);
    return i;
  }

  async flush(): Promise<void> {
    while (this.#blocked !== null) await this.#blocked;
    this.#acc.forceDepth++;
    try {
      this.#sender.wake();
      await this.#acc.waitForAllCurrent();
    } finally {
      this.#acc.forceDepth--;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        this.#acc.abortUnsent(clientClosed('The producer'));
        this.#sender.stop();
        await this.#cluster.close();
        this.#onClosed();
      }
    })();
    return this.#closing;
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

/** Cheap shape checks before anything is appended, so a bad call appends nothing. */
function validate(req: { topic: string; messages: ProducerMessage[] }): string | null {
  if (req === null || typeof req !== 'object') return 'send() takes { topic, messages }';
  if (typeof req.topic !== 'string' || req.topic.length === 0) return 'topic must be a non-empty string';
  if (!Array.isArray(req.messages)) return 'messages must be an array';
  const messages = req.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m === null || typeof m !== 'object') return `message ${i} must be an object with a value`;
    const v = m.value;
    if (v !== null && typeof v !== 'string' && !(v instanceof Uint8Array)) return `message ${i}: value must be a string, a Buffer or null`;
    const k = m.key;
    if (k !== undefined && k !== null && typeof k !== 'string' && !(k instanceof Uint8Array)) return `message ${i}: key must be a string, a Buffer, null or absent`;
    if (m.partition !== undefined && (!Number.isInteger(m.partition) || m.partition < 0)) return `message ${i}: partition must be a non-negative integer`;
    if (m.timestamp !== undefined && !Number.isSafeInteger(m.timestamp)) return `message ${i}: timestamp must be an integer (ms since the epoch)`;
    if (m.headers !== undefined) {
      const problem = headersProblem(m.headers);
      if (problem !== null) return `message ${i}: ${problem}`;
    }
  }
  return null;
}
