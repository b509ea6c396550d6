/**
 * The consumer's fetching engine: one Fetch in flight per leader broker,
 * covering every assigned partition it leads, and a queue of answers waiting
 * for the app. With `prefetch` (the default) the next fetch goes out as soon
 * as an answer arrives, while the app is still working on the one before, so
 * at most two answers per broker wait in memory; without it, the next fetch
 * waits until the app has taken everything buffered. Nothing is fetched while
 * no loop is iterating (as a Kafka consumer fetches only inside poll()), so
 * an app that has left its loop holds no long poll open and can exit.
 *
 * Record bytes stay raw until the app reaches them; anything fetched for a
 * position a seek has since replaced (buffered or still in flight) is
 * dropped when its turn comes.
 *
 * A leader that stops answering (paused, cut off): a Fetch unanswered past
 * maxWaitMs plus a check interval has its leaders checked (leader-checks.ts),
 * and the partitions whose leader moved leave that fetch (its late answer is
 * ignored for them) and are fetched from their new leader, from the same
 * offset, without waiting out requestTimeoutMs.
 *
 * Errors: retriable ones (leader moved, broker restarting) are retried with
 * backoff for as long as the consumer lives, logged at warn; the position
 * stays where it was, so the partition resumes at the new leader with
 * nothing skipped or repeated.
 *
 * Leader epochs (KIP-320): every fetch carries the partition's leader epoch
 * as the metadata has it, so a deposed leader (FENCED_LEADER_EPOCH) or one
 * that has not caught up with the election (UNKNOWN_LEADER_EPOCH) refuses it
 * rather than serving a log that may have diverged; both refresh metadata.
 * When the epoch rises, the position is checked with the new leader first
 * (epoch-validation.ts). If the records after some offset were truncated
 * away, anything fetched past it is dropped; if the app already had some of
 * them, the position moves back to where the partition's log now ends and
 * an 'offset-reset' event says so: nothing is skipped silently. An offset out of
 * range, a topic that does not exist, or a corrupt batch is queued as an
 * error, in order with the data before it, and that partition stops until
 * the app seeks it.
 *
 * Delayed delivery (`delayedDelivery: 'wait'`): a record whose
 * `runnel.deliver.at` is still in the future stops its partition when the
 * app reaches it (what came before it is handed out; it and everything
 * after it wait, so offsets stay in order and a group's commits never pass
 * it). The partition is held (partition-state.ts `holdUntil`) and fetched
 * again from that record when it is due, on the same one timer as retries:
 * no polling in between. That fetch goes out at once on a request of its
 * own (maxWaitMs 0), beside the long poll that may be in flight to the same
 * leader for other partitions, so a due record is not late by up to
 * maxWaitMs.
 */
import { errorNameOf } from '../../protocol/errors.js';
import { RunnelError } from '../errors.js';
import type { RetryPolicy } from '../backoff.js';
import { isStaleMetadataError, LOOK_UP, NO_SUCH_PARTITION, type Cluster } from '../metadata.js';
import { addTo } from '../group-by.js';
import { EarliestTimer } from '../earliest-timer.js';
import { CoalescedRun } from '../coalesced.js';
import { LeaderChecks } from '../leader-checks.js';
import { listOffsets, offsetsForTimestamps } from '../offsets.js';
import { validatePositions, type ValidationAsk } from './epoch-validation.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type FetchRequest, type FetchResponse } from '../../protocol/messages.js';
import type { Logger, Message, MessageBatch } from '../types.js';
import { firstNotDue } from './delivery-hold.js';
import { holdUntil, keyOf, setStart, timestampOf, type PartitionState } from './partition-state.js';
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
  /** 'wait': records whose runnel.deliver.at is in the future hold their partition until then; 'ignore': handed out at once. */
  delayedDelivery: 'ignore' | 'wait';
}

/** A batch taken for the app, with what it was fetched for. */
export interface TakenBatch {
  batch: MessageBatch;
  state: PartitionState;
  epoch: number;
}

/** One fetch answer's worth of buffered entries from one broker (prefetch accounting). */
interface ResponseToken {
  leader: number;
  remaining: number;
}

/** One partition in a Fetch request. */
interface FetchAsk {
  state: PartitionState;
  epoch: number;
  offset: number;
  leaderEpoch: number;
  /** Taken off its request because the partition's leader moved: its answer there is not wanted. */
  abandoned: boolean;
}

/** A Fetch request on the wire. */
interface InFlightFetch {
  leader: number;
  sentAtMs: number;
  asked: FetchAsk[];
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

export class Fetcher {
  readonly #cluster: Cluster;
  readonly #opts: ResolvedConsumerOptions;
  #states = new Map<string, PartitionState>();
  readonly #ready: ReadyEntry[] = [];
  readonly #fetching = new Set<number>();
  readonly #buffered = new Map<number, number>();
  #waiters: (() => void)[] = [];
  readonly #pass = new CoalescedRun(() => this.#doPump(), queueMicrotask);
  readonly #retryTimer: EarliestTimer;
  readonly #leaderChecks: LeaderChecks;
  /** For leader checks of fetches on the wire; never keeps the process alive (their sockets do). */
  readonly #checkTimer: EarliestTimer;
  readonly #onTheWire = new Set<InFlightFetch>();
  #closed = false;
  #fatal: RunnelError | null = null;
  /** Told each start resolved to an offset (earliest, latest, a timestamp). */
  onStartResolved: ((topic: string, partition: number, offset: number) => void) | null = null;
  /** Loops currently iterating; fetching happens only while there is one. */
  iterating = 0;

  constructor(cluster: Cluster, opts: ResolvedConsumerOptions) {
    this.#cluster = cluster;
    this.#opts = opts;
    this.#retryTimer = new EarliestTimer(cluster.clock, () => this.pump());
    this.#leaderChecks = new LeaderChecks(cluster, opts.requestTimeoutMs, opts.logger, () => this.pump());
    this.#checkTimer = new EarliestTimer(cluster.clock, () => this.pump(), { keepAlive: false });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Every assigned partition. */
  get states(): ReadonlyMap<string, PartitionState> {
    return this.#states;
  }

  /**
   * An error the app must see that is no partition's (the group refused this
   * member): every waiting and later nextBatch() throws it.
   */
  fail(err: RunnelError): void {
    this.#fatal ??= err;
    this.#wake();
  }

  state(topic: string, partition: number): PartitionState | undefined {
    return this.#states.get(keyOf(topic, partition));
  }

  /** The assignment now; partitions left out drop whatever was fetched for them. */
  assign(next: Map<string, PartitionState>): void {
    for (const [key, state] of this.#states) if (!next.has(key)) state.assigned = false;
    this.#states = next;
    this.pump();
  }

  /** Whether data fetched for `state` under `epoch` is still wanted. */
  isCurrent(state: PartitionState, epoch: number): boolean {
    return state.epoch === epoch && state.assigned;
  }

  /**
   * The next non-empty batch for the app, waiting for one, with the state
   * and epoch it was fetched under (the caller checks `isCurrent` again if it
   * hands it out later: a revocation or seek may come in between); null once
   * closed. Throws a partition's error in turn.
   */
  async nextBatch(): Promise<TakenBatch | null> {
    for (;;) {
      if (this.#closed) return null;
      if (this.#fatal !== null) throw this.#fatal;
      const batch = this.#take();
      if (batch !== null) return batch;
      this.pump();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): void {
    this.#closed = true;
    this.#pass.stopped = true;
    this.#retryTimer.cancel();
    this.#checkTimer.cancel();
    this.#wake();
  }

  /** Looks for work (starts to resolve, fetches to send) soon; coalesced. */
  pump(): void {
    this.#pass.request();
  }

  #take(): TakenBatch | null {
    while (this.#ready.length > 0) {
      const entry = this.#ready.shift()!;
      if (entry.token !== null && --entry.token.remaining === 0) {
        this.#buffered.set(entry.token.leader, (this.#buffered.get(entry.token.leader) ?? 1) - 1);
        this.pump();
      }
      const state = entry.state;
      if (!this.isCurrent(state, entry.epoch)) continue;
      if (entry.error !== null) throw entry.error;
      const messages: Message[] = [];
      for (const b of entry.walk!.batches) {
        try {
          decodeMessages(entry.records!, b.position, b.header, state.topic, state.partition, entry.minOffset, messages);
        } catch (err) {
          const error = damagedBatch(state, err, b.header.baseOffset, b.header.baseOffset + b.header.lastOffsetDelta);
          state.stopped = error;
          if (messages.length === 0) throw error;
          // The records before the damaged batch first, then the error, in order.
          this.#ready.unshift({ state, epoch: entry.epoch, token: null, records: null, walk: null, minOffset: 0, highWatermark: -1, error });
          break;
        }
      }
      let epoch = entry.epoch;
      const notDue = this.#opts.delayedDelivery === 'wait' ? firstNotDue(messages, this.#cluster.clock.nowMs()) : null;
      if (notDue !== null) {
        holdUntil(state, messages[notDue.index]!.offset, notDue.dueMs);
        // A damaged batch later in this answer is met again once the partition is fetched from the held record.
        state.stopped = null;
        messages.length = notDue.index;
        epoch = state.epoch;
        this.pump();
      }
      if (messages.length === 0) continue;
      return { batch: { topic: state.topic, partition: state.partition, highWatermark: entry.highWatermark, messages }, state, epoch };
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

  /** A failure for one partition: retried after a backoff if retriable, else queued for the app and the partition stopped. */
  #failed(state: PartitionState, err: unknown): void {
    const e = asRunnelError(err);
    if (e.retriable) this.#retryLater(state, e);
    else this.#deliverError(state, e);
  }

  /** A whole request failed: `#failed` for each partition it asked about that is still wanted. */
  #failedAll(asked: readonly { state: PartitionState; epoch: number }[], err: unknown): void {
    for (const a of asked) if (this.isCurrent(a.state, a.epoch)) this.#failed(a.state, err);
  }

  #retryLater(state: PartitionState, err: RunnelError): void {
    state.retryAtMs = this.#cluster.clock.nowMs() + this.#cluster.backoffMs(state.failures++);
    if (isStaleMetadataError(err)) this.#cluster.invalidate(state.topic);
    this.#opts.logger.warn({ topic: state.topic, partition: state.partition, err: err.message, attempt: state.failures }, 'fetch failed; retrying');
  }

  #doPump(): void {
    if (this.#closed) return;
    const nowMs = this.#cluster.clock.nowMs();
    let nextDueMs = Infinity;
    const toResolve: PartitionState[] = [];
    const byLeader = new Map<number, PartitionState[]>();
    const toValidate = new Map<number, PartitionState[]>();
    const released = new Map<number, PartitionState[]>();
    for (const s of this.#states.values()) {
      if (s.stopped !== null || s.paused || s.inFlight || s.resolving || s.validating) continue;
      const dueMs = Math.max(s.retryAtMs, s.heldUntilMs);
      if (dueMs > nowMs) {
        nextDueMs = Math.min(nextDueMs, dueMs);
        continue;
      }
      if (s.start !== null) {
        toResolve.push(s);
        continue;
      }
      const leader = this.#cluster.cachedLeader(s.topic, s.partition);
      if (leader === NO_SUCH_PARTITION) {
        this.#deliverError(s, new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${s.topic}" has no partition ${s.partition}.`, { retriable: false, topicPartition: { topic: s.topic, partition: s.partition } }));
      } else if (leader === LOOK_UP) {
        this.#lookUp(s.topic);
      } else if (this.#leaderChanged(s)) {
        addTo(toValidate, leader, s);
      } else if (s.heldUntilMs > 0) {
        addTo(released, leader, s);
      } else {
        addTo(byLeader, leader, s);
      }
    }
    if (toResolve.length > 0) void this.#resolveStarts(toResolve);
    for (const [leader, states] of toValidate) void this.#validate(leader, states);
    const bufferLimit = this.iterating === 0 ? 0 : this.#opts.prefetch ? 2 : 1;
    for (const [leader, states] of byLeader) {
      if (this.#fetching.has(leader) || (this.#buffered.get(leader) ?? 0) >= bufferLimit) continue;
      void this.#fetch(leader, states);
    }
    if (this.iterating > 0) for (const [leader, states] of released) void this.#fetch(leader, states, true);
    this.#retryTimer.armAt(nextDueMs, nowMs);
    // After sending: #fetch puts its request on the wire before its first await, so the new ones are watched too.
    let checkDueMs = Infinity;
    for (const f of this.#onTheWire) checkDueMs = Math.min(checkDueMs, this.#watch(f, nowMs));
    this.#checkTimer.armAt(checkDueMs, nowMs);
  }

  /**
   * Takes the partitions whose leader moved off a fetch that waits past
   * maxWaitMs (they are fetched from the new leader at the next pass), and
   * has the leaders of the rest checked. Returns when to look again.
   */
  #watch(f: InFlightFetch, nowMs: number): number {
    let moved = false;
    const waiting = new Set<string>();
    for (const a of f.asked) {
      if (a.abandoned) continue;
      const leader = this.#cluster.cachedLeader(a.state.topic, a.state.partition);
      if (leader >= 0 && leader !== f.leader) {
        a.abandoned = true;
        a.state.inFlight = false;
        moved = true;
        this.#opts.logger.debug({ topic: a.state.topic, partition: a.state.partition, from: f.leader, to: leader }, 'leader moved while a Fetch waited; fetching from the new leader');
      } else {
        waiting.add(a.state.topic);
      }
    }
    if (moved) this.pump();
    let nextMs = Infinity;
    const slowAtMs = f.sentAtMs + this.#opts.maxWaitMs + this.#leaderChecks.intervalMs;
    for (const topic of waiting) nextMs = Math.min(nextMs, this.#leaderChecks.watch(topic, f.leader, slowAtMs, nowMs));
    return nextMs;
  }

  #lookUp(topic: string): void {
    this.#cluster.lookUp(topic).then(
      () => this.pump(),
      (err: unknown) => {
        for (const s of this.#states.values()) {
          if (s.topic !== topic) continue;
          this.#failed(s, err);
        }
        this.pump();
      },
    );
  }

  /** The metadata names a newer leader epoch than the one the fetched records came from: check the position first. */
  #leaderChanged(s: PartitionState): boolean {
    return s.leaderEpoch >= 0 && s.lastFetchedEpoch >= 0 && this.#cluster.cachedLeaderEpoch(s.topic, s.partition) > s.leaderEpoch;
  }

  /** Checks the positions of partitions whose leader changed with their new leader (one request). */
  async #validate(leader: number, states: PartitionState[]): Promise<void> {
    const asks: (ValidationAsk & { epoch: number })[] = states.map((s) => ({
      state: s, epoch: s.epoch, currentLeaderEpoch: this.#cluster.cachedLeaderEpoch(s.topic, s.partition), lastFetchedEpoch: s.lastFetchedEpoch, offset: s.fetchOffset!,
    }));
    for (const s of states) s.validating = true;
    try {
      const results = await validatePositions(this.#cluster, leader, asks);
      if (this.#closed) return;
      for (const a of asks) {
        const s = a.state;
        if (!this.isCurrent(s, a.epoch)) continue;
        const r = results.get(a)!;
        if (r.kind === 'error') {
          this.#failed(s, r.error);
          continue;
        }
        if (r.kind === 'diverged') this.#diverged(s, r.endOffset, r.leaderEpoch);
        s.leaderEpoch = a.currentLeaderEpoch;
        s.failures = 0;
      }
    } catch (err) {
      if (!this.#closed) this.#failedAll(asks, err);
    } finally {
      for (const s of states) s.validating = false;
      this.pump();
    }
  }

  /**
   * The new leader's log ends the last fetched epoch at `endOffset`, before
   * the fetch position: what was fetched from there on is gone. Buffered
   * data is dropped; the app's position moves back only if it had been
   * given such records, and then it is told.
   */
  #diverged(s: PartitionState, endOffset: number, leaderEpoch: number): void {
    const position = s.position ?? s.fetchOffset!;
    const fetchedTo = s.fetchOffset!;
    // Drops every answer fetched under the old position, buffered or in flight, and the app's half-read batch.
    s.epoch++;
    s.lastFetchedEpoch = leaderEpoch;
    if (position <= endOffset) {
      this.#opts.logger.info({ topic: s.topic, partition: s.partition, endOffset, fetchedTo }, 'records fetched past the new leader\'s log end were dropped before the app saw them');
      s.fetchOffset = position;
      return;
    }
    s.position = endOffset;
    s.fetchOffset = endOffset;
    const reason = `the new leader of ${s.topic}-${s.partition} (leader epoch ${this.#cluster.cachedLeaderEpoch(s.topic, s.partition)}) has records only up to offset ${endOffset} for epoch ${leaderEpoch}, but this consumer had been given records up to offset ${position - 1}: those were truncated away (an unclean leader election, or acks=1 records the new leader never had)`;
    this.#opts.logger.warn({ topic: s.topic, partition: s.partition, from: position, to: endOffset }, 'log truncation detected; position reset');
    this.#cluster.events.emit('offset-reset', { topic: s.topic, partition: s.partition, fromOffset: position, toOffset: endOffset, reason });
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
          if (!this.isCurrent(a.state, a.epoch)) continue;
          // No record at or after the timestamp: start at the end, where the next one will be.
          let offset = offsets.get(a.state.partition)!;
          if (offset < 0) offset = latest!.get(a.state.partition)!;
          setStart(a.state, offset);
          a.state.failures = 0;
          this.onStartResolved?.(topic, a.state.partition, offset);
        }
      } catch (err) {
        this.#failedAll(asked.map((a) => ({ state: a.state, epoch: a.epoch })), err);
      } finally {
        for (const s of list) s.resolving = false;
      }
    }));
    this.pump();
  }

  /** `released`: partitions whose held record just came due, asked on a request of their own that does not wait (see the file comment). */
  async #fetch(leader: number, states: PartitionState[], released = false): Promise<void> {
    if (!released) this.#fetching.add(leader);
    for (const s of states) s.heldUntilMs = 0;
    const asked: FetchAsk[] = states.map((s) => ({ state: s, epoch: s.epoch, offset: s.fetchOffset!, leaderEpoch: this.#cluster.cachedLeaderEpoch(s.topic, s.partition), abandoned: false }));
    const inFlight: InFlightFetch = { leader, sentAtMs: this.#cluster.clock.nowMs(), asked };
    const topics = new Map<string, FetchRequest['topics'][number]>();
    for (const a of asked) {
      a.state.inFlight = true;
      let t = topics.get(a.state.topic);
      if (t === undefined) topics.set(a.state.topic, (t = { name: a.state.topic, partitions: [] }));
      t.partitions.push({ partition: a.state.partition, currentLeaderEpoch: a.leaderEpoch, fetchOffset: a.offset, partitionMaxBytes: a.state.fetchMaxBytes });
    }
    const { maxWaitMs, minBytes, maxBytes, requestTimeoutMs } = this.#opts;
    const body: FetchRequest = { replicaId: -1, replicaEpoch: -1, maxWaitMs: released ? 0 : maxWaitMs, minBytes, maxBytes, topics: [...topics.values()] };
    this.#onTheWire.add(inFlight);
    try {
      const res = await this.#cluster.broker(leader).request('Fetch', body, requestTimeoutMs + maxWaitMs);
      if (this.#closed) return;
      this.#handleFetch(leader, res, asked.filter((a) => !a.abandoned));
    } catch (err) {
      if (!this.#closed) this.#failedAll(asked.filter((a) => !a.abandoned), err);
    } finally {
      this.#onTheWire.delete(inFlight);
      // An abandoned partition may be in a fetch to its new leader by now: that one owns its flag.
      for (const a of asked) if (!a.abandoned) a.state.inFlight = false;
      if (!released) this.#fetching.delete(leader);
      this.pump();
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
    if (!this.isCurrent(s, epoch)) return;
    const reason = `Offset ${offset} is out of range for ${s.topic}-${s.partition}${detail}`;
    this.#deliverError(s, new RunnelError('OFFSET_OUT_OF_RANGE', `${reason}; seek to 'earliest', 'latest' or an offset it holds.`, { reason }));
  }

  #handleFetch(leader: number, res: FetchResponse, asked: FetchAsk[]): void {
    if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, `Fetching from broker ${leader}`);
    const byKey = new Map(asked.map((a) => [a.state.key, a]));
    const token: ResponseToken = { leader, remaining: 0 };
    for (const t of res.topics) {
      for (const p of t.partitions) {
        const a = byKey.get(keyOf(t.name, p.partition));
        if (a === undefined || !this.isCurrent(a.state, a.epoch)) continue;
        const s = a.state;
        s.highWatermark = p.highWatermark;
        const error = errorNameOf(p.errorCode);
        if (error === 'OFFSET_OUT_OF_RANGE') {
          void this.#outOfRange(s, a.epoch, a.offset);
          continue;
        }
        if (error !== 'NONE') {
          const err = RunnelError.fromCode(p.errorCode, `Fetching ${s.topic}-${s.partition}`, null, { topicPartition: { topic: s.topic, partition: s.partition } });
          this.#failed(s, err);
          continue;
        }
        s.failures = 0;
        // Served under this epoch: the position is good with this leader.
        if (a.leaderEpoch >= 0) s.leaderEpoch = a.leaderEpoch;
        const records = p.records[0];
        if (records === undefined || records.byteLength === 0) continue;
        let walk: BatchWalk;
        try {
          walk = walkBatches(records);
        } catch (err) {
          this.#deliverError(s, damagedBatch(s, err, a.offset, undefined));
          continue;
        }
        if (walk.batches.length === 0) {
          // The first batch alone is bigger than the limit: ask for all of it next time.
          if (walk.truncatedFirstBatchBytes > s.fetchMaxBytes) s.fetchMaxBytes = walk.truncatedFirstBatchBytes;
          continue;
        }
        s.fetchMaxBytes = this.#opts.partitionMaxBytes;
        s.fetchOffset = walk.nextOffset;
        s.lastFetchedEpoch = walk.batches[walk.batches.length - 1]!.header.partitionLeaderEpoch;
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

/**
 * CORRUPT_MESSAGE for a batch that fails its checks (CRC, lengths): which
 * partition and offsets, and how to get past it. `last` is unknown when the
 * batch's header itself cannot be read (then `first` is where the fetch began).
 */
function damagedBatch(s: PartitionState, err: unknown, first: number, last: number | undefined): RunnelError {
  const name = `${s.topic}-${s.partition}`;
  const what = last === undefined ? `a batch of ${name} at or after offset ${first}` : `the batch of ${name} with offsets ${first} to ${last}`;
  const reason = `${what}, as fetched, is damaged (${(err as Error)?.message ?? String(err)})`;
  const skip = last === undefined ? 'seek past it' : `seek past it (to offset ${last + 1})`;
  return new RunnelError('CORRUPT_MESSAGE', `${reason.charAt(0).toUpperCase()}${reason.slice(1)}; ${skip}, or check the broker's log and its segment files.`, {
    cause: err,
    reason,
    topicPartition: { topic: s.topic, partition: s.partition },
    offsets: last === undefined ? undefined : { first, last },
  });
}

function asRunnelError(err: unknown): RunnelError {
  return err instanceof RunnelError ? err : new RunnelError('UNKNOWN_SERVER_ERROR', (err as Error)?.message ?? String(err), { cause: err });
}
