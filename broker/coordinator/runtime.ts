/**
 * The group coordinator of one broker: a shard (group-shard.ts) for each
 * `__consumer_offsets` partition this broker leads, connected to the log.
 *
 * Leadership: after each metadata change the replica manager applied
 * (`onImage`), a partition this broker has started leading (or leads at a
 * new leader epoch) gets a fresh shard loaded from its log (loader.ts;
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile), and the shard of a partition it
 * stopped leading is dropped (NOT_COORDINATOR from then on: the client
 * finds the new coordinator).
 *
 * Writes: an operation runs on the shard at once (the event loop runs one at
 * a time, so operations of a shard never interleave), its records are
 * appended to the partition as one batch in the same turn, and its answer is
 * sent only once the high watermark covers them (every in-sync replica has
 * them: acks=all). An answer without records waits for the shard's last
 * write the same way, so nobody is told something the log could still lose.
 * A write that fails or is not replicated within COMMIT_TIMEOUT_MS leaves
 * the shard ahead of its log: the shard is dropped and loaded again from the
 * log (which waits until the log's end is replicated), so memory never
 * stays ahead of the log. While the partition's ISR is below its
 * min.insync.replicas an operation is refused before it changes anything
 * (COORDINATOR_NOT_AVAILABLE), as an acks=all produce would be.
 *
 * Time: session and rebalance deadlines fire `tick` on the injected Clock;
 * offsets retention runs every RETENTION_CHECK_MS.
 */
import { buildBatch } from '../../protocol/batch/index.js';
import { isTopicExists } from '../errors.js';
import type { Logger } from '../log.js';
import type { MetadataImage } from '../metadata/image.js';
import type { Partition } from '../partition.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { monotonicMs, type Clock } from '../world/clock.js';
import type { CreateTopicRequest } from '../controller/controller.js';
import { ChangeListeners, changedBy, type Changed } from './changes.js';
import { GroupShard, type Outcome } from './group-shard.js';
import { loadShard } from './loader.js';
import { OFFSETS_TOPIC, offsetsPartitionFor } from './offsets-topic.js';
import { encodeRecord } from './records.js';
import type { CoordinatorSettings } from './settings.js';

/** How long a write may wait for the in-sync replicas (Kafka's offsets.commit.timeout.ms). */
export const COMMIT_TIMEOUT_MS = 5000;
/** How soon a session or rebalance timeout that could not be applied (the ISR too small) is tried again. */
export const TICK_RETRY_MS = 100;
/** How often expired offsets are looked for (Kafka's offsets.retention.check.interval.ms). */
export const RETENTION_CHECK_MS = 600_000;

export type CoordinatorErrorName = 'NOT_COORDINATOR' | 'COORDINATOR_LOAD_IN_PROGRESS' | 'COORDINATOR_NOT_AVAILABLE' | 'REQUEST_TIMED_OUT';

export class CoordinatorError extends Error {
  constructor(
    readonly errorName: CoordinatorErrorName,
    message: string,
  ) {
    super(message);
  }
}

/** A difference between the wall and monotonic clocks' progress below this is their drift, not a step. */
const WALL_STEP_MIN_MS = 1_000;

interface Slot {
  readonly index: number;
  readonly leaderEpoch: number;
  readonly partition: Partition;
  shard: GroupShard;
  state: 'loading' | 'active' | 'gone';
  /** The end offset of the last batch written: answers wait for the high watermark to pass it. */
  writtenEnd: number;
  timer: { cancel(): void } | null;
  timerAtMs: number;
}

/** What the coordinator needs to create `__consumer_offsets`: the controller's internal-topic creation (through whatever path this broker has). */
export type CreateInternalTopic = (request: CreateTopicRequest) => Promise<void>;

export class GroupCoordinator {
  readonly #replicas: ReplicaManager;
  readonly #settings: CoordinatorSettings;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** The wall and monotonic clocks at the last look (`#now`). */
  #seen: { wallMs: number; monoMs: number } | null = null;
  readonly #createTopic: CreateInternalTopic;
  readonly #topicPartitions: number;
  readonly #replicationFactor: number;
  readonly #slots = new Map<number, Slot>();
  #creating: Promise<void> | null = null;
  #previousTopics: ReadonlyMap<string, unknown> = new Map();
  #retentionTimer: { cancel(): void } | null = null;
  #closed = false;
  #counts: { image: MetadataImage; counts: ReadonlyMap<string, number> } | null = null;
  readonly #changes = new ChangeListeners();
  readonly #closeListeners: (() => void)[] = [];

  constructor(opts: { replicas: ReplicaManager; settings: CoordinatorSettings; clock: Clock; logger: Logger; createTopic: CreateInternalTopic; topicPartitions: number; replicationFactor: number }) {
    this.#replicas = opts.replicas;
    this.#settings = opts.settings;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#createTopic = opts.createTopic;
    this.#topicPartitions = opts.topicPartitions;
    this.#replicationFactor = opts.replicationFactor;
    this.#retentionTimer = this.#clock.schedule(RETENTION_CHECK_MS, () => this.#expireOffsets());
  }

  get image(): MetadataImage {
    return this.#replicas.image;
  }

  /** Partition counts of every topic, as the shard's requests take them: one map per metadata image (pattern matches are cached per map). */
  topicCounts(): ReadonlyMap<string, number> {
    const image = this.#replicas.image;
    if (this.#counts?.image !== image) {
      const counts = new Map<string, number>();
      for (const [name, topic] of image.topics) counts.set(name, topic.partitions);
      this.#counts = { image, counts };
    }
    return this.#counts.counts;
  }

  /** Creates `__consumer_offsets` if it does not exist yet (once, however many ask at the same time). */
  async ensureOffsetsTopic(): Promise<void> {
    if (this.#replicas.image.topics.has(OFFSETS_TOPIC)) return;
    this.#creating ??= (async () => {
      const live = [...this.#replicas.image.brokers.values()].filter((b) => !b.fenced).length;
      const replicationFactor = Math.max(1, Math.min(this.#replicationFactor, live));
      try {
        // min.insync.replicas 2 where there are replicas for it: an acknowledged commit or assignment is then on two
        // brokers, so no single failure (a power loss of the leader with the rest of the ISR gone) loses it. Kafka leaves
        // this topic at the broker default (1) and asks operators to raise it; a queue that loses nothing acknowledged cannot.
        const minInsync = Math.min(2, replicationFactor);
        await this.#createTopic({ name: OFFSETS_TOPIC, partitions: this.#topicPartitions, replicationFactor, configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': String(minInsync) } });
        this.#logger.info({ event: 'offsetsTopicCreated', partitions: this.#topicPartitions, replicationFactor }, `created ${OFFSETS_TOPIC} with ${this.#topicPartitions} partition(s), replication factor ${replicationFactor}`);
      } catch (error) {
        if (!isTopicExists(error)) throw error;
      }
    })().finally(() => {
      this.#creating = null;
    });
    await this.#creating;
  }

  /** The `__consumer_offsets` partition of `groupId`, or null while the topic does not exist. */
  partitionOf(groupId: string): number | null {
    const topic = this.#replicas.image.topics.get(OFFSETS_TOPIC);
    return topic === undefined ? null : offsetsPartitionFor(groupId, topic.partitions);
  }

  /** Follows leadership and topic changes; called after every metadata image the replica manager applied. */
  onImage(image: MetadataImage): void {
    if (this.#closed) return;
    const topic = image.topics.get(OFFSETS_TOPIC);
    for (let index = 0; index < (topic?.partitions ?? 0); index++) {
      const partition = this.#replicas.partition(OFFSETS_TOPIC, index);
      const leading = partition !== undefined && partition.role === 'leader' && partition.serving;
      const slot = this.#slots.get(index);
      if (slot !== undefined && (!leading || slot.leaderEpoch !== partition!.leaderEpoch || slot.partition !== partition)) this.#drop(slot);
      if (leading && this.#slots.get(index) === undefined) this.#load(index, partition!);
    }
    for (const slot of [...this.#slots.values()]) if (topic === undefined || slot.index >= topic.partitions) this.#drop(slot);

    const deleted = new Set([...this.#previousTopics.keys()].filter((name) => !image.topics.has(name)));
    this.#previousTopics = image.topics;
    const topics = this.topicCounts();
    for (const slot of this.#slots.values()) {
      if (slot.state !== 'active') continue;
      if (deleted.size > 0) this.#write(slot, (shard) => shard.topicsDeleted(deleted)).catch(() => undefined);
      // Partition counts or pattern matches may have changed: the shard decides whether a group needs a new epoch.
      this.#write(slot, (shard) => shard.tick({ nowMs: this.#now(), topics })).catch(() => undefined);
    }
  }

  /**
   * Runs `op` on the shard of `groupId` and resolves with its response once
   * its records (and every earlier write of the shard) are replicated;
   * rejects with a CoordinatorError when this broker cannot answer for the group.
   */
  async run<R>(groupId: string, op: (shard: GroupShard, nowMs: number) => Outcome<R>): Promise<R> {
    return this.#write(this.#slotOf(groupId), (shard) => op(shard, this.#now()));
  }

  /** Runs a read-only `read` on the shard of `groupId` (throws a CoordinatorError like `run`). */
  read<R>(groupId: string, read: (shard: GroupShard) => R): R {
    return read(this.#slotOf(groupId).shard);
  }

  /** Every loaded shard (ListGroups), and whether some are still loading. */
  loadedShards(): { shards: GroupShard[]; loading: boolean } {
    const slots = [...this.#slots.values()];
    return { shards: slots.filter((s) => s.state === 'active').map((s) => s.shard), loading: slots.some((s) => s.state === 'loading') };
  }

  /**
   * Calls `listener` after every replicated write that changed something,
   * every clock tick that wrote something or made a delay come due, and
   * every completed load: dead letters still to copy are copied.
   */
  onChange(listener: () => void): () => void {
    return this.#changes.onAny(listener);
  }

  /**
   * Calls `listener` after a change of `groupId` that touched one of
   * `partitions` ("topic:partition"; null: any) or the whole group, and
   * after every load (changes.ts): a share-group fetch waiting for records
   * looks again only when its group's records may have changed.
   */
  onGroupChange(groupId: string, partitions: ReadonlySet<string> | null, listener: () => void): () => void {
    return this.#changes.onGroup(groupId, partitions, listener);
  }

  #changed(changed: Changed): void {
    this.#changes.notify(changed);
  }

  /** Calls `listener` when the coordinator closes (the share groups' connections to other brokers go with it). */
  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  close(): void {
    this.#closed = true;
    this.#changes.clear();
    for (const listener of this.#closeListeners.splice(0)) listener();
    this.#retentionTimer?.cancel();
    for (const slot of [...this.#slots.values()]) this.#drop(slot);
  }

  #slotOf(groupId: string): Slot {
    const index = this.partitionOf(groupId);
    if (index === null) throw new CoordinatorError('COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC} does not exist yet; find the coordinator (FindCoordinator creates it) and retry`);
    const slot = this.#slots.get(index);
    if (slot === undefined) throw new CoordinatorError('NOT_COORDINATOR', `this broker does not lead ${OFFSETS_TOPIC}-${index}, so it does not coordinate group ${groupId}; find the coordinator again`);
    if (slot.state === 'loading') throw new CoordinatorError('COORDINATOR_LOAD_IN_PROGRESS', `this broker is loading the groups of ${OFFSETS_TOPIC}-${index} from its log; retry shortly`);
    return slot;
  }

  #load(index: number, partition: Partition): void {
    const slot: Slot = { index, leaderEpoch: partition.leaderEpoch, partition, shard: new GroupShard(this.#settings), state: 'loading', writtenEnd: 0, timer: null, timerAtMs: Infinity };
    this.#slots.set(index, slot);
    const startedMs = monotonicMs(this.#clock);
    loadShard(partition, slot.shard, () => this.#now(), () => this.#slots.get(index) === slot).then(
      (current) => {
        if (!current) return;
        slot.state = 'active';
        slot.writtenEnd = partition.highWatermark;
        this.#logger.info({ event: 'groupsLoaded', partition: index, leaderEpoch: slot.leaderEpoch, groups: slot.shard.list().length, ms: monotonicMs(this.#clock) - startedMs }, `loaded ${slot.shard.list().length} group(s) of ${OFFSETS_TOPIC}-${index}`);
        this.#schedule(slot);
        this.#changed('all');
      },
      (error: unknown) => {
        if (this.#slots.get(index) !== slot) return;
        this.#logger.warn({ event: 'groupsLoadFailed', partition: index, err: error }, `could not load the groups of ${OFFSETS_TOPIC}-${index}: ${(error as Error).message}; trying again at the next metadata change`);
        this.#drop(slot);
      },
    );
  }

  #drop(slot: Slot): void {
    if (this.#slots.get(slot.index) !== slot) return;
    slot.state = 'gone';
    slot.timer?.cancel();
    this.#slots.delete(slot.index);
  }

  /** The shard of a failed write is ahead of its log: start over from the log if this broker still leads the partition. */
  #reload(slot: Slot, why: unknown): void {
    if (this.#slots.get(slot.index) !== slot) return;
    this.#logger.warn({ event: 'groupsReload', partition: slot.index, err: why }, `a write to ${OFFSETS_TOPIC}-${slot.index} failed (${(why as Error)?.message ?? String(why)}); reloading its groups from the log`);
    this.#drop(slot);
    const partition = this.#replicas.partition(OFFSETS_TOPIC, slot.index);
    if (!this.#closed && partition !== undefined && partition.role === 'leader' && partition.serving) this.#load(slot.index, partition);
  }

  async #write<R>(slot: Slot, op: (shard: GroupShard) => Outcome<R>): Promise<R> {
    if (slot.state !== 'active') throw new CoordinatorError('COORDINATOR_LOAD_IN_PROGRESS', `the groups of ${OFFSETS_TOPIC}-${slot.index} are being loaded; retry shortly`);
    const { isr, config } = slot.partition;
    if (isr.length < config.minInsyncReplicas) {
      // As a produce with acks=all: refused before anything is changed, so neither memory nor the log moves.
      throw new CoordinatorError('COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC}-${slot.index} has ${isr.length} in-sync replica(s), fewer than its min.insync.replicas ${config.minInsyncReplicas}; retry once its replicas are back`);
    }
    const outcome = op(slot.shard);
    if (outcome.records.length > 0) {
      try {
        const batch = buildBatch(outcome.records.map(encodeRecord), { nowMs: this.#now() });
        const append = slot.partition.append(batch);
        append.committed.catch(() => undefined);
        slot.writtenEnd = append.info.lastOffset + 1;
      } catch (error) {
        this.#reload(slot, error);
        throw new CoordinatorError('NOT_COORDINATOR', `the group state could not be written to ${OFFSETS_TOPIC}-${slot.index}: ${(error as Error).message}; find the coordinator again and retry`);
      }
    }
    this.#schedule(slot);
    const end = slot.writtenEnd;
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.#clock.schedule(COMMIT_TIMEOUT_MS, () => resolve('timeout'));
    });
    try {
      const outcomeOfWait = await Promise.race([slot.partition.whenReplicated(end).then(() => 'replicated' as const), timeout]);
      if (outcomeOfWait === 'timeout') {
        this.#reload(slot, new Error(`not replicated within ${COMMIT_TIMEOUT_MS} ms`));
        throw new CoordinatorError('REQUEST_TIMED_OUT', `the group state was written to ${OFFSETS_TOPIC}-${slot.index} but not replicated within ${COMMIT_TIMEOUT_MS} ms; it may or may not take effect, retry`);
      }
    } catch (error) {
      if (error instanceof CoordinatorError) throw error;
      this.#reload(slot, error);
      throw new CoordinatorError('NOT_COORDINATOR', `${OFFSETS_TOPIC}-${slot.index} could not replicate the group state (${(error as Error).message}); find the coordinator again and retry`);
    } finally {
      timer?.cancel();
    }
    if (outcome.seq > 0) slot.shard.durable(outcome.seq);
    // Only writes that changed something: a share fetch that found nothing writes nothing, so waiters never wake each other for ever.
    if (outcome.records.length > 0) this.#changed(changedBy(outcome.records));
    return outcome.response;
  }

  /**
   * The wall clock, for the shards: their deadlines (member sessions,
   * rebalance timeouts) and the times they write (commit times, share locks)
   * are wall-clock instants. The wall clock may be stepped by NTP or an
   * operator; a step of WALL_STEP_MIN_MS or more between two looks (told
   * by the monotonic clock, which is never stepped) moves the in-memory
   * deadlines with it, and share-group record locks (visibility timeouts:
   * durations from the handout), through `wallClockStepped`, so a step
   * forward ends no session or lock early and a step back keeps no dead
   * member on for as long as the step. Delivery times (`deliver.at`) are
   * the producer's instants and stay.
   */
  #now(): number {
    const wallMs = this.#clock.nowMs();
    const monoMs = monotonicMs(this.#clock);
    const seen = this.#seen;
    this.#seen = { wallMs, monoMs };
    if (seen === null) return wallMs;
    const stepMs = wallMs - seen.wallMs - (monoMs - seen.monoMs);
    if (Math.abs(stepMs) < WALL_STEP_MIN_MS) return wallMs;
    this.#logger.warn({ event: 'wallClockStepped', stepMs }, `the wall clock was stepped by ${stepMs} ms; group sessions, rebalance deadlines and share record locks move with it`);
    for (const slot of this.#slots.values()) {
      slot.shard.wallClockStepped(stepMs);
      if (slot.timerAtMs !== Infinity) slot.timerAtMs += stepMs;
    }
    return wallMs;
  }

  /**
   * Sets the slot's timer for the shard's next deadline, not before
   * `notBeforeMs`: a tick that was refused (the ISR below
   * min.insync.replicas) leaves the deadline where it was, and must not
   * fire again at once, for ever.
   */
  #schedule(slot: Slot, notBeforeMs = -Infinity): void {
    if (slot.state !== 'active') return;
    // First: a wall-clock step seen now moves the shard's deadlines, which the delay below is taken from.
    const nowMs = this.#now();
    const deadline = slot.shard.nextDeadlineMs();
    const next = deadline === null ? null : Math.max(deadline, notBeforeMs);
    if (next === null || next >= slot.timerAtMs) return;
    slot.timer?.cancel();
    slot.timerAtMs = next;
    slot.timer = this.#clock.schedule(Math.max(0, next - nowMs), () => {
      slot.timer = null;
      slot.timerAtMs = Infinity;
      if (slot.state !== 'active') return;
      this.#write(slot, (shard) => shard.tick({ nowMs: this.#now(), topics: this.topicCounts() })).then(
        // A tick may write nothing and still matter: a delayed share-group record came due (its records, if any, were announced by the write).
        () => {
          const due = slot.shard.shares.takeDue();
          if (due.size > 0) this.#changed(due);
        },
        (error: unknown) => {
          this.#logger.debug({ partition: slot.index, err: error }, 'a session or rebalance timeout could not be applied');
        },
      );
      this.#schedule(slot, this.#now() + TICK_RETRY_MS);
    });
  }

  #expireOffsets(): void {
    if (this.#closed) return;
    for (const slot of this.#slots.values()) {
      if (slot.state === 'active') this.#write(slot, (shard) => shard.expireOffsets({ nowMs: this.#now() })).catch(() => undefined);
    }
    this.#retentionTimer = this.#clock.schedule(RETENTION_CHECK_MS, () => this.#expireOffsets());
  }
}
