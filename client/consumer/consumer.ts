/**
 * The Consumer: the app either assigns partitions itself, with a start
 * (earliest, latest, an offset, or a timestamp resolved with ListOffsets),
 * or subscribes to topics by name and pattern, as a member of a group
 * (group-session.ts: the coordinator assigns the partitions) or alone
 * (topic-follower.ts: every partition). It iterates messages or batches,
 * or runs a handler. The fetching itself (prefetch, backpressure, retries,
 * errors in order) is the Fetcher's; this is the app's side: assignments,
 * seeks, pauses, positions, the kinds of iteration, and which messages the
 * app has finished (what a group commits).
 */
import { clientClosed, invalidArgument, type RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { EmitsClientEvents } from '../events.js';
import { partitionLags } from '../lag.js';
import type { Consumer, Message, MessageBatch, ConsumerPartitionLag, RunOptions, StartOffset, SubscribeOptions } from '../types.js';
import { Fetcher, type ResolvedConsumerOptions as FetchOptions, type TakenBatch } from './fetcher.js';
import { GroupSession, type GroupSessionOptions, type PartitionControl } from './group-session.js';
import { checkStart, keyOf, newPartitionState, setPaused, setStart, type PartitionState } from './partition-state.js';
import { parseSubscription } from './subscription.js';
import { TopicFollower } from './topic-follower.js';
import type { TopicPartition } from './topic-partitions.js';

export interface ResolvedConsumerOptions extends FetchOptions {
  /** Null: no group. */
  group: Omit<GroupSessionOptions, 'logger' | 'requestTimeoutMs'> | null;
  metadataMaxAgeMs: number;
}

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
  /** How partitions were chosen: not yet, assign(), or subscribe(). */
  #mode: 'none' | 'assign' | 'subscribe' = 'none';
  readonly #group: GroupSession | null;
  #follower: TopicFollower | null = null;
  /** The message handed to the app and not finished yet (it is once the app asks for the next). */
  #handed: Message | null = null;
  /** The batch handed to the app and not finished yet. */
  #batchInHand: MessageBatch | null = null;

  constructor(cluster: Cluster, opts: ResolvedConsumerOptions, onClosed: () => void) {
    super(cluster.events, () => cluster.brokerStats());
    this.#cluster = cluster;
    this.#opts = opts;
    this.#onClosed = onClosed;
    this.#fetcher = new Fetcher(cluster, opts);
    const control: PartitionControl = {
      add: (list) => this.#addPartitions(list),
      remove: (list) => this.#removePartitions(list),
      inHand: () => {
        const out: TopicPartition[] = [];
        if (this.#handed !== null) out.push(this.#handed);
        if (this.#batchInHand !== null) out.push(this.#batchInHand);
        return out;
      },
      fail: (err: RunnelError) => this.#fetcher.fail(err),
    };
    this.#group = opts.group === null ? null : new GroupSession(cluster, { ...opts.group, requestTimeoutMs: opts.requestTimeoutMs, logger: opts.logger }, control, cluster.events);
    const group = this.#group;
    if (group !== null) this.#fetcher.onStartResolved = (topic, partition, offset) => group.offsets.started(topic, partition, offset);
  }

  subscribe(opts: SubscribeOptions): void {
    this.#checkOpen();
    if (opts === null || typeof opts !== 'object') throw invalidArgument('subscribe() takes { topics: [...], fromBeginning? }');
    if (this.#mode === 'assign') throw invalidArgument('this consumer uses assign(); a consumer either assigns partitions or subscribes');
    const sub = parseSubscription(opts.topics);
    const fromBeginning = opts.fromBeginning === true;
    this.#mode = 'subscribe';
    if (this.#group !== null) {
      this.#group.subscribe(sub, fromBeginning);
      return;
    }
    this.#follower ??= new TopicFollower(this.#cluster, this.#opts.metadataMaxAgeMs, this.#opts.logger, {
      add: (list) => this.#addPartitions(list),
      remove: (list) => this.#removePartitions(list),
    });
    this.#follower.follow(sub, fromBeginning);
  }

  #addPartitions(list: readonly { topic: string; partition: number; start: StartOffset }[]): void {
    if (this.#fetcher.closed) return;
    const next = new Map(this.#fetcher.states);
    for (const p of list) next.set(keyOf(p.topic, p.partition), newPartitionState(p.topic, p.partition, p.start, this.#opts.partitionMaxBytes));
    this.#fetcher.assign(next);
  }

  #removePartitions(list: readonly TopicPartition[]): void {
    if (this.#fetcher.closed) return;
    const next = new Map(this.#fetcher.states);
    for (const tp of list) next.delete(keyOf(tp.topic, tp.partition));
    this.#fetcher.assign(next);
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.#fetcher.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  pause(partitions: { topic: string; partition: number }[]): void {
    this.#setPaused(partitions, true);
  }

  resume(partitions: { topic: string; partition: number }[]): void {
    this.#setPaused(partitions, false);
  }

  #setPaused(partitions: { topic: string; partition: number }[], paused: boolean): void {
    this.#checkOpen();
    if (!Array.isArray(partitions)) throw invalidArgument(`${paused ? 'pause' : 'resume'}() takes an array of { topic, partition }`);
    for (const tp of partitions) {
      const state = this.#fetcher.state(tp?.topic, tp?.partition);
      if (state === undefined) throw invalidArgument(`${String(tp?.topic)}-${String(tp?.partition)} is not assigned to this consumer`);
      setPaused(state, paused);
    }
    this.#fetcher.pump();
  }

  commit(offsets?: { topic: string; partition: number; offset: number; metadata?: string | null }[]): Promise<void> {
    this.#checkOpen();
    if (this.#group === null) return Promise.reject(invalidArgument('commit() needs a groupId: offsets are committed to a consumer group'));
    return this.#group.commit(offsets);
  }

  async lag(): Promise<ConsumerPartitionLag[]> {
    this.#checkOpen();
    const states = [...this.#fetcher.states.values()];
    // A group counts from its committed offset; a consumer without one from its position (what it has not handed out yet).
    const from = (s: PartitionState): number | null => (this.#group !== null ? this.#group.offsets.get(s.topic, s.partition)?.committed : s.position) ?? null;
    const lags = await partitionLags(this.#cluster, states.map((s) => ({ topic: s.topic, partition: s.partition, position: from(s) })));
    return lags.map((l) => {
      const state = this.#fetcher.state(l.topic, l.partition);
      return { ...l, committedOffset: this.#group === null ? null : l.committedOffset, position: state?.position ?? null };
    });
  }

  async run(opts: RunOptions): Promise<void> {
    this.#checkOpen();
    const { eachMessage, eachBatch } = opts ?? {};
    if ((typeof eachMessage === 'function') === (typeof eachBatch === 'function')) throw invalidArgument('run() takes one handler: { eachMessage } or { eachBatch }');
    if (eachMessage !== undefined) {
      for await (const m of this) await eachMessage(m);
      return;
    }
    for await (const batch of this.batches()) await eachBatch!(batch);
  }

  /** The message in hand is finished: the app asked for the next one (or its handler resolved). */
  #finishHanded(): void {
    const m = this.#handed;
    if (m === null) return;
    this.#handed = null;
    this.#group?.offsets.finish(m.topic, m.partition, m.offset + 1);
  }

  assign(assignments: { topic: string; partition: number; offset?: StartOffset }[]): void {
    this.#checkOpen();
    if (this.#mode === 'subscribe' || this.#group !== null) throw invalidArgument('this consumer subscribes (or has a groupId, whose coordinator assigns its partitions); a consumer either assigns partitions or subscribes');
    if (!Array.isArray(assignments)) throw invalidArgument('assign() takes an array of { topic, partition, offset? }');
    this.#mode = 'assign';
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
    state.heldUntilMs = 0;
    state.fetchMaxBytes = this.#opts.partitionMaxBytes;
    setStart(state, start);
    // A group member seeking forward (past a record it must skip) has finished what it skipped: the skip is committed.
    if (typeof start === 'number') this.#group?.offsets.finish(topic, partition, start);
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
      // Leaving a for-await loop ends that loop only; the consumer keeps its place. The message in hand stays
      // unfinished (the loop may have left because it failed): a group redelivers it rather than skip it.
      return: () => {
        this.#handed = null;
        end();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async *batches(): AsyncIterable<MessageBatch> {
    this.#fetcher.iterating++;
    try {
      for (;;) {
        const taken = this.#takeRestOfCurrent() ?? (await this.#fetcher.nextBatch());
        if (taken === null) return;
        // Revoked or sought while the batch waited for this loop: no longer wanted.
        if (!this.#fetcher.isCurrent(taken.state, taken.epoch)) continue;
        const batch = taken.batch;
        const last = batch.messages[batch.messages.length - 1]!;
        taken.state.position = last.offset + 1;
        this.#batchInHand = batch;
        yield batch;
        // Asked for the next: this one is finished.
        this.#batchInHand = null;
        this.#group?.offsets.finish(batch.topic, batch.partition, last.offset + 1);
      }
    } finally {
      this.#batchInHand = null;
      this.#fetcher.iterating--;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#fetcher.close();
      this.#follower?.stop();
      await this.#group?.close();
      await this.#cluster.close();
      this.#onClosed();
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#fetcher.closed) throw clientClosed('The consumer');
  }

  #nextMessage(): Promise<IteratorResult<Message>> {
    this.#finishHanded();
    if (this.#fetcher.closed) return Promise.resolve({ done: true, value: undefined });
    const cur = this.#current;
    if (cur !== null) {
      if (cur.index < cur.batch.messages.length && this.#fetcher.isCurrent(cur.state, cur.epoch)) {
        const m = cur.batch.messages[cur.index++]!;
        cur.state.position = m.offset + 1;
        this.#handed = m;
        return Promise.resolve({ done: false, value: m });
      }
      this.#current = null;
    }
    return this.#fetcher.nextBatch().then((taken): Promise<IteratorResult<Message>> | IteratorResult<Message> => {
      if (taken === null) return { done: true, value: undefined };
      const { batch, state, epoch } = taken;
      // Revoked or sought between the take and now: dropped, and the next one taken.
      if (!this.#fetcher.isCurrent(state, epoch)) return this.#nextMessage();
      this.#current = { batch, index: 1, state, epoch };
      const m = batch.messages[0]!;
      state.position = m.offset + 1;
      this.#handed = m;
      return { done: false, value: m };
    });
  }

  /** What message iteration left of its current batch, for batches() to hand out first. */
  #takeRestOfCurrent(): TakenBatch | null {
    const cur = this.#current;
    this.#current = null;
    if (cur === null || cur.index >= cur.batch.messages.length || !this.#fetcher.isCurrent(cur.state, cur.epoch)) return null;
    return { batch: { ...cur.batch, messages: cur.batch.messages.slice(cur.index) }, state: cur.state, epoch: cur.epoch };
  }
}
