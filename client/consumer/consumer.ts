/**
 * The Consumer (assignment-based; groups come later): the app assigns
 * partitions with a start (earliest, latest, an offset, or a timestamp
 * resolved with ListOffsets) and iterates messages or batches. The fetching
 * itself (prefetch, retries, errors in order) is the Fetcher's; this is the
 * app's side: assignments, seeks, positions and the two kinds of iteration.
 */
import { clientClosed, invalidArgument } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { EmitsClientEvents } from '../events.js';
import type { Consumer, Message, MessageBatch, StartOffset } from '../types.js';
import { Fetcher, type ResolvedConsumerOptions } from './fetcher.js';
import { checkStart, keyOf, newPartitionState, setStart, type PartitionState } from './partition-state.js';

export type { ResolvedConsumerOptions } from './fetcher.js';

/** Where message iteration is inside the batch it is handing out. */
interface Cursor {
  batch: MessageBatch;
  index: number;
  state: PartitionState;
  epoch: number;
}

/**
 * Emits 'broker-unreachable' when a broker it needs cannot be connected to
 * (once an outage; fetching goes on retrying) and 'broker-reachable' when it
 * answers again (EmitsClientEvents).
 */
export class RunnelConsumer extends EmitsClientEvents implements Consumer {
  readonly #cluster: Cluster;
  readonly #opts: ResolvedConsumerOptions;
  readonly #onClosed: () => void;
  readonly #fetcher: Fetcher;
  #current: Cursor | null = null;
  #closing: Promise<void> | null = null;

  constructor(cluster: Cluster, opts: ResolvedConsumerOptions, onClosed: () => void) {
    super(cluster.events);
    this.#cluster = cluster;
    this.#opts = opts;
    this.#onClosed = onClosed;
    this.#fetcher = new Fetcher(cluster, opts);
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
      // A partition assigned again without a start keeps its place.
      const existing = this.#fetcher.state(a.topic, a.partition);
      next.set(key, existing !== undefined && a.offset === undefined
        ? existing
        : newPartitionState(a.topic, a.partition, checkStart(a.offset ?? 'latest'), this.#opts.partitionMaxBytes));
    }
    this.#fetcher.assign(next);
  }

  seek(topic: string, partition: number, offset: StartOffset): void {
    this.#checkOpen();
    const state = this.#fetcher.state(topic, partition);
    if (state === undefined) throw invalidArgument(`${topic}-${partition} is not assigned; assign() it before seeking`);
    const start = checkStart(offset);
    state.epoch++;
    state.stopped = null;
    state.failures = 0;
    state.retryAtMs = 0;
    state.fetchMaxBytes = this.#opts.partitionMaxBytes;
    setStart(state, start);
    this.#fetcher.pump();
  }

  position(topic: string, partition: number): number | undefined {
    return this.#fetcher.state(topic, partition)?.position;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    const fetcher = this.#fetcher;
    let active = false;
    const end = (): void => {
      if (active) fetcher.iterating--;
      active = false;
    };
    return {
      next: () => {
        if (!active) {
          active = true;
          fetcher.iterating++;
        }
        const result = this.#nextMessage();
        // Most results are already settled values: only watch for the end, not every message.
        if (this.#current === null || fetcher.closed) result.then((r) => r.done === true && end(), end);
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
    this.#fetcher.iterating++;
    try {
      for (;;) {
        const batch = this.#takeRestOfCurrent() ?? (await this.#fetcher.nextBatch());
        if (batch === null) return;
        const last = batch.messages[batch.messages.length - 1]!;
        this.#fetcher.state(batch.topic, batch.partition)!.position = last.offset + 1;
        yield batch;
      }
    } finally {
      this.#fetcher.iterating--;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#fetcher.close();
      await this.#cluster.close();
      this.#onClosed();
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#fetcher.closed) throw clientClosed('The consumer');
  }

  #nextMessage(): Promise<IteratorResult<Message>> {
    if (this.#fetcher.closed) return Promise.resolve({ done: true, value: undefined });
    const cur = this.#current;
    if (cur !== null) {
      if (cur.index < cur.batch.messages.length && this.#fetcher.isCurrent(cur.state, cur.epoch)) {
        const m = cur.batch.messages[cur.index++]!;
        cur.state.position = m.offset + 1;
        return Promise.resolve({ done: false, value: m });
      }
      this.#current = null;
    }
    return this.#fetcher.nextBatch().then((batch) => {
      if (batch === null) return { done: true, value: undefined };
      const state = this.#fetcher.state(batch.topic, batch.partition)!;
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
    if (cur === null || cur.index >= cur.batch.messages.length || !this.#fetcher.isCurrent(cur.state, cur.epoch)) return null;
    return { ...cur.batch, messages: cur.batch.messages.slice(cur.index) };
  }
}
