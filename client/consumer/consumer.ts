/**
 * The Consumer (assignment-based; groups come later): the app assigns
 * partitions with a start (earliest, latest, an offset, or a timestamp
 * resolved with ListOffsets) and iterates messages or batches.
 *
 * Fetching: one Fetch in flight per leader broker, covering every assigned
 * partition it leads. With `prefetch` (the default) the next fetch goes out
 * as soon as an answer arrives, while the app is still working on the one
 * before, so at most two answers per broker wait in memory; without it, the
 * next fetch waits until the app has taken everything buffered.
 *
 * Record bytes stay raw until the app reaches them; a `seek` bumps the
 * partition's epoch, and anything fetched for the old position (buffered or
 * still in flight) is dropped when its turn comes.
 *
 * Errors: retriable ones (leader moved, broker restarting) are retried with
 * backoff for as long as the consumer lives, logged at warn. An offset out of
 * range, a topic that does not exist, or a corrupt batch is thrown from the
 * iteration, in order with the data before it, and that partition stops
 * until the app seeks it.
 */
import { RunnelError, clientClosed, invalidArgument } from '../errors.js';
import { backoffMs, type RetryPolicy } from '../backoff.js';
import { isStaleMetadataError, LOOK_UP, NO_SUCH_PARTITION, type Cluster } from '../metadata.js';
import { addTo } from '../group-by.js';
import { EarliestTimer } from '../earliest-timer.js';
import { listOffsets, offsetsForTimestamps } from '../offsets.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type FetchRequest, type FetchResponse } from '../../protocol/messages.js';
import type { Consumer, Logger, Message, MessageBatch, StartOffset } from '../types.js';
import { decodeMessages, walkBatches, type BatchWalk } from './records.js';

export interface ResolvedConsumerOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  prefetch: boolean;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
}

interface PartitionState {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  /** A start still to resolve to an offset, or null. */
  start: Exclude<StartOffset, number> | null;
  /** The next offset the app will be given. */
  position: number | undefined;
  /** The next offset to fetch (ahead of `position` while answers are buffered). */
  fetchOffset: number | undefined;
  /** Bumped by seek: data fetched under an older epoch is dropped. */
  epoch: number;
  /** False once a new assign() left it out (its buffered data is dropped). */
  assigned: boolean;
  inFlight: boolean;
  resolving: boolean;
  /** Set after a non-retriable error: no fetching until the next seek. */
  stopped: RunnelError | null;
  fetchMaxBytes: number;
  retryAtMs: number;
  failures: number;
  highWatermark: number;
}

/** One fetch answer's worth of buffered entries from one broker (prefetch accounting). */
interface ResponseToken {
  leader: number;
  remaining: number;
}

interface ReadyEntry {
  state: PartitionState;
  epoch: number;
  token: ResponseToken | null;
  records: Uint8Array | null;
  walk: BatchWalk | null;
  /** Records below this were asked for by no one (the first batch may start earlier). */
  minOffset: number;
  highWatermark: number;
  error: RunnelError | null;
}

interface Cursor {
  batch: MessageBatch;
  index: number;
  state: PartitionState;
  epoch: number;
}

const keyOf = (topic: string, partition: number): string => `${topic}\0${partition}`;

export class RunnelConsumer implements Consumer {
  readonly #cluster: Cluster;
  readonly #opts: ResolvedConsumerOptions;
  readonly #onClosed: () => void;
  #states = new Map<string, PartitionState>();
  readonly #ready: ReadyEntry[] = [];
  readonly #fetching = new Set<number>();
  readonly #buffered = new Map<number, number>();
  #waiters: (() => void)[] = [];
  #current: Cursor | null = null;
  #pumpScheduled = false;
  readonly #retryTimer = new EarliestTimer(() => this.#pump());
  #closed = false;
  #closing: Promise<void> | null = null;
  /**
   * Loops currently iterating. Fetching (prefetch included) happens only
   * while one is, as a Kafka consumer fetches only inside poll(): an app that
   * has left its loop holds no long poll open, and can exit.
   */
  #iterating = 0;

  constructor(cluster: Cluster, opts: ResolvedConsumerOptions, onClosed: () => void) {
    this.#cluster = cluster;
    this.#opts = opts;
    this.#onClosed = onClosed;
  }

  assign(assignments: { topic: string; partition: number; offset?: StartOffset }[]): void {
    this.#checkOpen();
    if (!Array.isArray(assignments)) throw invalidArgument('assign() takes an array of { topic, partition, offset? }');
    const next = new Map<string, PartitionState>();
    for (const a of assignments) {
      if (a === null || typeof a !== 'object' || typeof a.topic !== 'string' || a.topic === '') throw invalidArgument('each assignment needs a topic name');
      if (!Number.isInteger(a.partition) || a.partition < 0) throw invalidArgument(`partition of "${a.topic}" must be a non-negative integer, got ${String(a.partition)}`);
      const key = keyOf(a.topic, a.partition);
      if (next.has(key)) throw invalidArgument(`${a.topic}-${a.partition} is assigned twice`);
      const existing = this.#states.get(key);
      if (existing !== undefined && a.offset === undefined) {
        next.set(key, existing);
        continue;
      }
      const state: PartitionState = {
        key, topic: a.topic, partition: a.partition, start: null, position: undefined, fetchOffset: undefined, epoch: 0, assigned: true,
        inFlight: false, resolving: false, stopped: null, fetchMaxBytes: this.#opts.partitionMaxBytes, retryAtMs: 0, failures: 0, highWatermark: -1,
      };
      setStart(state, checkStart(a.offset ?? 'latest'));
      next.set(key, state);
    }
    for (const [key, state] of this.#states) if (!next.has(key)) state.assigned = false;
    this.#states = next;
    this.#pump();
  }

  seek(topic: string, partition: number, offset: StartOffset): void {
    this.#checkOpen();
    const state = this.#states.get(keyOf(topic, partition));
    if (state === undefined) throw invalidArgument(`${topic}-${partition} is not assigned; assign() it before seeking`);
    state.epoch++;
    state.stopped = null;
    state.failures = 0;
    state.retryAtMs = 0;
    state.fetchMaxBytes = this.#opts.partitionMaxBytes;
    setStart(state, checkStart(offset));
    this.#pump();
  }

  position(topic: string, partition: number): number | undefined {
    return this.#states.get(keyOf(topic, partition))?.position;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    let active = false;
    const end = (): void => {
      if (active) this.#iterating--;
      active = false;
    };
    return {
      next: () => {
        if (!active) {
          active = true;
          this.#iterating++;
        }
        const result = this.#nextMessage();
        // Most results are already settled values: only watch for the end, not every message.
        if (this.#current === null || this.#closed) result.then((r) => r.done === true && end(), end);
        return result;
      },
      // Leaving a for-await loop ends that loop only; the consumer keeps its place.
      return: () => {
        end();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async *batches(): AsyncIterable<MessageBatch> {
    this.#iterating++;
    try {
      for (;;) {
        const rest = this.#takeRestOfCurrent();
        const batch = rest ?? (await this.#nextBatch());
        if (batch === null) return;
        const last = batch.messages[batch.messages.length - 1]!;
        this.#states.get(keyOf(batch.topic, batch.partition))!.position = last.offset + 1;
        yield batch;
      }
    } finally {
      this.#iterating--;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#retryTimer.cancel();
      this.#wake();
      await this.#cluster.close();
      this.#onClosed();
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closed) throw clientClosed('The consumer');
  }

  #nextMessage(): Promise<IteratorResult<Message>> {
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    const cur = this.#current;
    if (cur !== null) {
      if (cur.index < cur.batch.messages.length && this.#isCurrent(cur.state, cur.epoch)) {
        const m = cur.batch.messages[cur.index++]!;
        cur.state.position = m.offset + 1;
        return Promise.resolve({ done: false, value: m });
      }
      this.#current = null;
    }
    return this.#nextBatch().then((batch) => {
      if (batch === null) return { done: true, value: undefined };
      const state = this.#states.get(keyOf(batch.topic, batch.partition))!;
      this.#current = { batch, index: 1, state, epoch: state.epoch };
      const m = batch.messages[0]!;
      state.position = m.offset + 1;
      return { done: false, value: m };
    });
  }

  /** What message iteration left of its current batch, for batches() to hand out first. */
  #takeRestOfCurrent(): MessageBatch | null {
    const cur = this.#current;
    this.#current = null;
    if (cur === null || cur.index >= cur.batch.messages.length || !this.#isCurrent(cur.state, cur.epoch)) return null;
    return { ...cur.batch, messages: cur.batch.messages.slice(cur.index) };
  }

  #isCurrent(state: PartitionState, epoch: number): boolean {
    return state.epoch === epoch && state.assigned;
  }

  /** The next non-empty batch for the app, waiting for one; null once closed. */
  async #nextBatch(): Promise<MessageBatch | null> {
    for (;;) {
      if (this.#closed) return null;
      const batch = this.#take();
      if (batch !== null) return batch;
      this.#pump();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #take(): MessageBatch | null {
    while (this.#ready.length > 0) {
      const entry = this.#ready.shift()!;
      if (entry.token !== null && --entry.token.remaining === 0) {
        this.#buffered.set(entry.token.leader, (this.#buffered.get(entry.token.leader) ?? 1) - 1);
        this.#pump();
      }
      const state = entry.state;
      if (!this.#isCurrent(state, entry.epoch)) continue;
      if (entry.error !== null) throw entry.error;
      const messages: Message[] = [];
      try {
        for (const b of entry.walk!.batches) decodeMessages(entry.records!, b.position, b.header, state.topic, state.partition, entry.minOffset, messages);
      } catch (err) {
        state.stopped = new RunnelError('CORRUPT_MESSAGE', `A batch fetched from ${state.topic}-${state.partition} is damaged (${(err as Error).message}); seek past it or check the broker's log.`, { cause: err });
        throw state.stopped;
      }
      if (messages.length === 0) continue;
      return { topic: state.topic, partition: state.partition, highWatermark: entry.highWatermark, messages };
    }
    return null;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #deliverError(state: PartitionState, err: RunnelError): void {
    state.stopped = err;
    this.#ready.push({ state, epoch: state.epoch, token: null, records: null, walk: null, minOffset: 0, highWatermark: -1, error: err });
    this.#opts.logger.warn({ topic: state.topic, partition: state.partition, err: err.message }, 'partition stopped');
    this.#wake();
  }

  #retryLater(state: PartitionState, err: RunnelError): void {
    state.retryAtMs = Date.now() + backoffMs(this.#opts.retry, state.failures++);
    if (isStaleMetadataError(err)) this.#cluster.invalidate(state.topic);
    this.#opts.logger.warn({ topic: state.topic, partition: state.partition, err: err.message, attempt: state.failures }, 'fetch failed; retrying');
  }

  #pump(): void {
    if (this.#pumpScheduled || this.#closed) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#doPump();
    });
  }

  #doPump(): void {
    if (this.#closed) return;
    const nowMs = Date.now();
    let nextDueMs = Infinity;
    const toResolve: PartitionState[] = [];
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of this.#states.values()) {
      if (s.stopped !== null || s.inFlight || s.resolving) continue;
      if (s.retryAtMs > nowMs) {
        nextDueMs = Math.min(nextDueMs, s.retryAtMs);
        continue;
      }
      if (s.start !== null) {
        toResolve.push(s);
        continue;
      }
      const leader = this.#cluster.cachedLeader(s.topic, s.partition);
      if (leader === NO_SUCH_PARTITION) {
        this.#deliverError(s, new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${s.topic}" has no partition ${s.partition}.`, { retriable: false }));
      } else if (leader === LOOK_UP) {
        this.#lookUp(s.topic);
      } else {
        addTo(byLeader, leader, s);
      }
    }
    if (toResolve.length > 0) void this.#resolveStarts(toResolve);
    const bufferLimit = this.#iterating === 0 ? 0 : this.#opts.prefetch ? 2 : 1;
    for (const [leader, states] of byLeader) {
      if (this.#fetching.has(leader) || (this.#buffered.get(leader) ?? 0) >= bufferLimit) continue;
      void this.#fetch(leader, states);
    }
    this.#retryTimer.armAt(nextDueMs, nowMs);
  }

  #lookUp(topic: string): void {
    this.#cluster.lookUp(topic).then(
      () => this.#pump(),
      (err: unknown) => {
        for (const s of this.#states.values()) {
          if (s.topic !== topic) continue;
          if (err instanceof RunnelError && err.retriable) this.#retryLater(s, err);
          else this.#deliverError(s, asRunnelError(err));
        }
        this.#pump();
      },
    );
  }

  /** Turns earliest / latest / timestamp starts into offsets, per topic, with ListOffsets. */
  async #resolveStarts(states: PartitionState[]): Promise<void> {
    const byTopic = new Map<string, PartitionState[]>();
    for (const s of states) {
      s.resolving = true;
      addTo(byTopic, s.topic, s);
    }
    await Promise.all([...byTopic].map(async ([topic, list]) => {
      const asked = list.map((s) => ({ state: s, epoch: s.epoch, start: s.start! }));
      try {
        const offsets = await offsetsForTimestamps(this.#cluster, topic, asked.map((a) => ({ partition: a.state.partition, timestamp: timestampOf(a.start) })));
        const latest = asked.some((a) => offsets.get(a.state.partition)! < 0)
          ? await listOffsets(this.#cluster, topic, asked.map((a) => ({ partition: a.state.partition, timestamp: LATEST_TIMESTAMP })))
          : null;
        for (const a of asked) {
          if (!this.#isCurrent(a.state, a.epoch)) continue;
          // No record at or after the timestamp: start at the end, where the next one will be.
          let offset = offsets.get(a.state.partition)!;
          if (offset < 0) offset = latest!.get(a.state.partition)!;
          setStart(a.state, offset);
          a.state.failures = 0;
        }
      } catch (err) {
        for (const a of asked) {
          if (!this.#isCurrent(a.state, a.epoch)) continue;
          if (err instanceof RunnelError && err.retriable) this.#retryLater(a.state, err);
          else this.#deliverError(a.state, asRunnelError(err));
        }
      } finally {
        for (const s of list) s.resolving = false;
      }
    }));
    this.#pump();
  }

  async #fetch(leader: number, states: PartitionState[]): Promise<void> {
    this.#fetching.add(leader);
    const asked = states.map((s) => ({ state: s, epoch: s.epoch, offset: s.fetchOffset! }));
    const topics = new Map<string, FetchRequest['topics'][number]>();
    for (const a of asked) {
      a.state.inFlight = true;
      let t = topics.get(a.state.topic);
      if (t === undefined) topics.set(a.state.topic, (t = { name: a.state.topic, partitions: [] }));
      t.partitions.push({ partition: a.state.partition, fetchOffset: a.offset, partitionMaxBytes: a.state.fetchMaxBytes });
    }
    const { maxWaitMs, minBytes, maxBytes, requestTimeoutMs } = this.#opts;
    const body: FetchRequest = { replicaId: -1, maxWaitMs, minBytes, maxBytes, topics: [...topics.values()] };
    try {
      const res = await this.#cluster.broker(leader).request('Fetch', body, requestTimeoutMs + maxWaitMs);
      if (this.#closed) return;
      this.#handleFetch(leader, res, asked);
    } catch (err) {
      if (this.#closed) return;
      const e = asRunnelError(err);
      for (const a of asked) {
        if (!this.#isCurrent(a.state, a.epoch)) continue;
        if (e.retriable) this.#retryLater(a.state, e);
        else this.#deliverError(a.state, e);
      }
    } finally {
      for (const a of asked) a.state.inFlight = false;
      this.#fetching.delete(leader);
      this.#pump();
    }
  }

  /** Stops the partition with an OFFSET_OUT_OF_RANGE that says which offsets it does hold. */
  async #outOfRange(s: PartitionState, epoch: number, offset: number): Promise<void> {
    s.stopped = new RunnelError('OFFSET_OUT_OF_RANGE', `Offset ${offset} is out of range for ${s.topic}-${s.partition}.`);
    let detail = '';
    try {
      const [earliest, latest] = await Promise.all([EARLIEST_TIMESTAMP, LATEST_TIMESTAMP].map(async (timestamp) =>
        (await listOffsets(this.#cluster, s.topic, [{ partition: s.partition, timestamp }])).get(s.partition)!));
      const holds = latest! > earliest! ? `it holds offsets ${earliest} to ${latest! - 1}` : `it is empty, the next offset is ${latest}`;
      detail = offset < earliest! ? `: ${holds} (older records were deleted by retention)` : `: ${holds}, so ${offset} is past its end`;
    } catch {
      // Still worth delivering without the range.
    }
    if (!this.#isCurrent(s, epoch)) return;
    this.#deliverError(s, new RunnelError('OFFSET_OUT_OF_RANGE',
      `Offset ${offset} is out of range for ${s.topic}-${s.partition}${detail}; seek to 'earliest', 'latest' or an offset it holds.`));
  }

  #handleFetch(leader: number, res: FetchResponse, asked: { state: PartitionState; epoch: number; offset: number }[]): void {
    if (res.errorCode !== 0) throw RunnelError.fromCode(res.errorCode, `Fetching from broker ${leader}`);
    const byKey = new Map(asked.map((a) => [a.state.key, a]));
    const token: ResponseToken = { leader, remaining: 0 };
    for (const t of res.topics) {
      for (const p of t.partitions) {
        const a = byKey.get(keyOf(t.name, p.partition));
        if (a === undefined || !this.#isCurrent(a.state, a.epoch)) continue;
        const s = a.state;
        s.highWatermark = p.highWatermark;
        if (p.errorCode === 1) {
          void this.#outOfRange(s, a.epoch, a.offset);
          continue;
        }
        if (p.errorCode !== 0) {
          const err = RunnelError.fromCode(p.errorCode, `Fetching ${s.topic}-${s.partition}`);
          if (err.retriable) this.#retryLater(s, err);
          else this.#deliverError(s, err);
          continue;
        }
        s.failures = 0;
        const records = p.records[0];
        if (records === undefined || records.byteLength === 0) continue;
        let walk: BatchWalk;
        try {
          walk = walkBatches(records);
        } catch (err) {
          this.#deliverError(s, new RunnelError('CORRUPT_MESSAGE', `The fetch answer for ${s.topic}-${s.partition} holds a damaged batch (${(err as Error).message}).`, { cause: err }));
          continue;
        }
        if (walk.batches.length === 0) {
          // The first batch alone is bigger than the limit: ask for all of it next time.
          if (walk.truncatedFirstBatchBytes > s.fetchMaxBytes) s.fetchMaxBytes = walk.truncatedFirstBatchBytes;
          continue;
        }
        s.fetchMaxBytes = this.#opts.partitionMaxBytes;
        s.fetchOffset = walk.nextOffset;
        token.remaining++;
        this.#ready.push({ state: s, epoch: a.epoch, token, records, walk, minOffset: a.offset, highWatermark: p.highWatermark, error: null });
      }
    }
    if (token.remaining > 0) {
      this.#buffered.set(leader, (this.#buffered.get(leader) ?? 0) + 1);
      this.#wake();
    }
  }
}

function setStart(state: PartitionState, start: StartOffset): void {
  if (typeof start === 'number') {
    state.start = null;
    state.position = start;
    state.fetchOffset = start;
  } else {
    state.start = start;
    state.position = undefined;
    state.fetchOffset = undefined;
  }
}

function checkStart(start: StartOffset): StartOffset {
  if (start === 'earliest' || start === 'latest') return start;
  if (typeof start === 'number' && Number.isSafeInteger(start) && start >= 0) return start;
  if (start !== null && typeof start === 'object' && Number.isSafeInteger(start.timestamp) && start.timestamp >= 0) return { timestamp: start.timestamp };
  throw invalidArgument(`a start offset is 'earliest', 'latest', a non-negative offset or { timestamp: ms }, got ${JSON.stringify(start)}`);
}

function timestampOf(start: Exclude<StartOffset, number>): number {
  if (start === 'earliest') return EARLIEST_TIMESTAMP;
  if (start === 'latest') return LATEST_TIMESTAMP;
  return start.timestamp;
}

function asRunnelError(err: unknown): RunnelError {
  return err instanceof RunnelError ? err : new RunnelError('UNKNOWN_SERVER_ERROR', (err as Error)?.message ?? String(err), { cause: err });
}
