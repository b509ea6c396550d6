/**
 * The replica manager: one per broker, the only owner of the partitions this
 * broker hosts, and the one way request handlers reach them
 * (`partitionOrError`).
 *
 * It follows the metadata: `apply(previous, next)` takes each new image (in
 * the embedded mode the controller hands it the store's image after each of
 * its commits; a broker of a cluster will get it from its metadata cache's
 * `onChange`) and carries out on this broker's disk what changed for the
 * partitions whose replicas include this node: logs opened or created and
 * partitions published, settings updated, roles set (leader, or follower of
 * a given leader, at the image's leader epoch), and partitions that are gone
 * (topic deleted, or no longer assigned here) stopped and their logs removed.
 * The diff is taken against the image it last applied, so a caller that
 * skipped versions (a catch-up) still gets a consistent result. Applies run
 * one at a time, in call order.
 *
 * What the handlers see moves in two steps, so nothing is served half made:
 * partitions that are going away are withdrawn before their logs are
 * removed, and new topics or partitions appear only once their logs are open
 * (a log that fails to open is published offline: CORRUPT_SEGMENT or
 * KAFKA_STORAGE_ERROR, not "unknown"). Failures are returned to the caller
 * (the embedded controller undoes a topic creation that one of them broke).
 *
 * Crash safety at start (`start`): after a crash the data directory and the
 * metadata may disagree. Logs of hosted partitions that a crash kept from
 * being created are created; logs of a topic whose deletion was committed
 * but not finished are removed; logs the metadata does not place here are
 * left alone (and not served), with a warning, because deleting data on a
 * guess is worse than serving none. After start, a new partition never
 * adopts a log already on disk (that log was never this topic's): it is
 * served offline with the reason.
 *
 * Roles: a partition this broker leads becomes leader (its epoch recorded
 * at the log end, its followers tracked); one it follows becomes follower
 * and is handed to the replica fetchers (fetcher-manager.ts), which truncate
 * its divergent tail and fetch from the leader. A broker of a cluster
 * (`replication` given) also runs the ISR manager (isr-manager.ts): ISR
 * expansion after follower fetches, shrinking on a timer on the Clock. The
 * embedded single node has neither: every partition has one replica.
 *
 * High watermarks survive a restart (`highWatermarks` given: every broker
 * started by main.ts): read from the data directory's checkpoint at start,
 * each adopted log starts at its checkpointed high watermark (log start when
 * it has none), and the hosted partitions' high watermarks are written back
 * every `replica.high.watermark.checkpoint.interval.ms` and at close
 * (hw-checkpoint.ts says why).
 */
import type { ClientWorld } from '../../client/world.js';
import type { ControllerChannel } from '../cluster/controller-channel.js';
import type { BrokerConfig } from '../config.js';
import { FencedLeaderEpochError, NotLeaderError, UnknownLeaderEpochError, UnknownTopicOrPartitionError } from '../errors.js';
import type { Logger } from '../log.js';
import { EMPTY_IMAGE, type MetadataImage, type TopicImage } from '../metadata/image.js';
import { Partition } from '../partition.js';
import type { LogConfig } from '../storage/log-config.js';
import type { LogManager } from '../storage/log-manager.js';
import { logConfigFor } from '../topic-settings.js';
import { assert } from '../world/assert.js';
import { monotonicMs, type Clock } from '../world/clock.js';
import { ReplicaFetcherManager } from './fetcher-manager.js';
import { checkpointKey, type HighWatermarkCheckpoint } from './hw-checkpoint.js';
import { IsrManager } from './isr-manager.js';
import { SerialQueue } from '../serial-queue.js';

/** What a broker of a cluster adds: the controller, the network it fetches over, its registration epoch. */
export interface ReplicationDeps {
  readonly channel: ControllerChannel;
  /** The client side of the injected world (transport, clock, randomness) for the fetchers' connections. */
  readonly world: ClientWorld;
  brokerEpoch(): number;
  /** The controller called `epoch` stale (an ISR change refused with STALE_BROKER_EPOCH): register again. */
  staleBrokerEpoch(epoch: number): void;
}

/** A partition this broker could not carry a change out for. */
export interface PartitionFailure {
  readonly topic: string;
  readonly partition: number;
  /** open: its log would not open or be created (it is served offline); remove: its log would not go away. */
  readonly action: 'open' | 'remove';
  readonly error: Error;
}

export interface ApplyReport {
  /** The version of the image now applied. */
  readonly version: number;
  readonly failures: readonly PartitionFailure[];
}

/** How a handler wants a partition: as its leader (produce, consume, list offsets) or any replica; -1: epoch not checked; `write`: to append (produce). */
export interface PartitionLookup {
  readonly role?: 'leader' | 'any';
  readonly currentLeaderEpoch?: number;
  /**
   * A produce: 'local' when its answer rests on this leader alone (acks 0
   * or 1), 'replicated' when it waits for the ISR (acks=all). The broker's
   * write fence (broker-lifecycle.ts) may refuse the first and not the
   * second: a deposed leader cannot get an acks=all write acknowledged.
   */
  readonly write?: WriteKind;
}

export type WriteKind = 'local' | 'replicated';

interface HostedTopic {
  readonly topicId: string;
  readonly image: TopicImage;
  readonly config: LogConfig;
  readonly partitions: ReadonlyMap<number, Partition>;
}

export class ReplicaManager {
  readonly #nodeId: number;
  readonly #logs: LogManager;
  readonly #config: BrokerConfig;
  readonly #logger: Logger;
  /** What the handlers see: the last image applied (new topics and partitions only once served). */
  #image: MetadataImage = EMPTY_IMAGE;
  /** The last image applied in full: the base of the next diff. */
  #applied: MetadataImage = EMPTY_IMAGE;
  #hosted = new Map<string, HostedTopic>();
  readonly #queue = new SerialQueue();
  #state: 'new' | 'started' | 'closed' = 'new';
  readonly #clock: Clock | null;
  readonly #fetchers: ReplicaFetcherManager | null = null;
  readonly #isr: IsrManager | null = null;
  #lagTimer: { cancel(): void } | null = null;
  #expiryTimer: { cancel(): void } | null = null;
  readonly #checkpoint: HighWatermarkCheckpoint | null;
  /** What the checkpoint holds (read at start, then as last written): kept for partitions that cannot say theirs (offline). */
  #checkpointed = new Map<string, number>();
  #checkpointTimer: { cancel(): void } | null = null;
  #checkpointing: Promise<void> = Promise.resolve();
  /** Called after each image is applied in full (the group coordinator follows its partitions' leadership this way). */
  readonly #appliedListeners: ((image: MetadataImage) => void)[] = [];
  /** Why this broker takes no writes right now (fenced by its controller), or null; set by its lifecycle. */
  #writeFence: (kind: WriteKind) => string | null = () => null;

  /**
   * `clock`: needed once a partition has followers (leader-side lag times) and for the periodic checkpoint;
   * `replication`: a broker of a cluster; `highWatermarks`: the data directory's checkpoint;
   * `onIsrChanged`: told of each ISR change this broker's leaders got committed (the metrics count them).
   */
  constructor(opts: { nodeId: number; logs: LogManager; config: BrokerConfig; logger: Logger; clock?: Clock; replication?: ReplicationDeps; highWatermarks?: HighWatermarkCheckpoint; onIsrChanged?: (why: 'expand' | 'shrink') => void }) {
    this.#nodeId = opts.nodeId;
    this.#logs = opts.logs;
    this.#config = opts.config;
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? null;
    this.#checkpoint = opts.highWatermarks ?? null;
    const { replication } = opts;
    if (replication !== undefined) {
      assert(this.#clock !== null, 'a replicating broker has a clock', {});
      const { config } = opts;
      this.#fetchers = new ReplicaFetcherManager({
        nodeId: opts.nodeId,
        world: replication.world,
        logger: opts.logger.child({ component: 'replication' }),
        brokerEpoch: () => replication.brokerEpoch(),
        maxWaitMs: config.replicaFetchWaitMaxMs,
        maxBytes: config.replicaFetchMaxBytes,
        partitionMaxBytes: Math.max(1024 * 1024, Math.floor(config.replicaFetchMaxBytes / 10)),
        backoffMs: 100,
        addressOf: (id) => {
          const broker = this.#image.brokers.get(id);
          return broker === undefined ? undefined : { host: broker.host, port: broker.port };
        },
      });
      this.#isr = new IsrManager({
        nodeId: opts.nodeId,
        channel: replication.channel,
        clock: this.#clock,
        logger: opts.logger.child({ component: 'replication' }),
        lagMaxMs: config.replicaLagTimeMaxMs,
        brokerEpoch: () => replication.brokerEpoch(),
        staleBrokerEpoch: (epoch) => replication.staleBrokerEpoch(epoch),
        topicIdOf: (topic) => this.#hosted.get(topic)?.topicId,
        onIsrChanged: opts.onIsrChanged,
      });
    }
  }

  get nodeId(): number {
    return this.#nodeId;
  }

  /** The metadata as this broker serves it. */
  get image(): MetadataImage {
    return this.#image;
  }

  /**
   * Serves `image` for the first time: opens (or creates) every hosted
   * partition's log and reconciles the data directory with the metadata
   * (see the file comment). Resolves with what could not be opened.
   */
  start(image: MetadataImage): Promise<ApplyReport> {
    return this.#serially(async () => {
      assert(this.#state === 'new', 'a replica manager starts once', { state: this.#state });
      if (this.#checkpoint !== null) this.#checkpointed = await this.#checkpoint.read();
      const report = await this.#applyNow(image, { adoptLogsOnDisk: true });
      this.#state = 'started';
      await this.#reconcileStrays(image);
      this.#scheduleLagCheck();
      this.#scheduleCheckpoint();
      this.#scheduleProducerExpiry();
      return report;
    });
  }

  /**
   * Carries out the change from `previous` to `next` for the partitions
   * this broker hosts; never rejects for a partition's failure (it is
   * reported). `previous` is the image the caller delivered last; the diff
   * is taken from the one applied last, the same one unless versions were
   * skipped. An image no newer than the one applied changes nothing.
   */
  apply(previous: MetadataImage, next: MetadataImage): Promise<ApplyReport> {
    return this.#serially(async () => {
      if (this.#state === 'closed') throw new Error('the broker is shutting down: metadata changes are no longer applied');
      assert(this.#state === 'started', 'the replica manager applies changes only after start', { version: next.version });
      if (next.version <= this.#applied.version) return { version: this.#applied.version, failures: [] };
      if (previous.version !== this.#applied.version) {
        this.#logger.info({ event: 'metadataCatchUp', applied: this.#applied.version, previous: previous.version, next: next.version }, `applying metadata version ${next.version} over ${this.#applied.version}`);
      }
      return this.#applyNow(next, { adoptLogsOnDisk: false });
    });
  }

  /**
   * `why` says, when asked, why this broker must refuse appends now (its
   * controller fenced it, or may have: broker-lifecycle.ts), or null. A
   * fenced broker keeps serving reads of what it has (CLUSTER.md).
   */
  /** `listener` runs after every image applied from now on (roles set, logs open). */
  onApplied(listener: (image: MetadataImage) => void): void {
    this.#appliedListeners.push(listener);
  }

  fenceWrites(why: (kind: WriteKind) => string | null): void {
    this.#writeFence = why;
  }

  /** The hosted partition, whatever its role or state; undefined when this broker does not host it. */
  partition(topic: string, index: number): Partition | undefined {
    return this.#hosted.get(topic)?.partitions.get(index);
  }

  /** Every partition this broker hosts, offline ones included (the metrics read them on scrape). */
  *hostedPartitions(): Generator<Partition> {
    for (const topic of this.#hosted.values()) yield* topic.partitions.values();
  }

  /**
   * The one lookup every handler that touches a partition uses: the
   * partition, or the error that says why this broker cannot serve it as
   * asked. In order (Kafka's): not in the metadata (UnknownTopicOrPartition),
   * in the metadata but not hosted here (NotLeader), its log offline
   * (storage's errors: CORRUPT_SEGMENT / KAFKA_STORAGE_ERROR), the request's
   * leader epoch older or newer than ours (FencedLeaderEpoch /
   * UnknownLeaderEpoch), a leader asked of a follower (NotLeader), and a
   * write to a broker that is fenced (NotLeader: its leadership may have
   * moved without its knowing). Synchronous, so a handler's steps stay in
   * arrival order.
   */
  partitionOrError(topic: string, index: number, lookup: PartitionLookup = {}): Partition | Error {
    const partition = this.partition(topic, index);
    if (partition === undefined) {
      const known = this.#image.topics.get(topic);
      if (known === undefined) return new UnknownTopicOrPartitionError(topic, index, `topic ${topic} does not exist`);
      if (!Number.isInteger(index) || index < 0 || index >= known.partitions) {
        return new UnknownTopicOrPartitionError(topic, index, `topic ${topic} has partitions 0 to ${known.partitions - 1}, not ${index}`);
      }
      const { leader } = known.partitionStates[index]!;
      return new NotLeaderError(topic, index, leader, `broker ${this.#nodeId} holds no replica of ${topic}-${index}${leader === -1 ? '' : `; broker ${leader} leads it`}`);
    }
    const offline = partition.whyNotServing();
    if (offline !== null) return offline;
    const asked = lookup.currentLeaderEpoch ?? -1;
    if (asked !== -1 && asked < partition.leaderEpoch) return new FencedLeaderEpochError(topic, index, asked, partition.leaderEpoch);
    if (asked !== -1 && asked > partition.leaderEpoch) return new UnknownLeaderEpochError(topic, index, asked, partition.leaderEpoch);
    if ((lookup.role ?? 'leader') === 'leader' && partition.role !== 'leader') {
      const { leader } = partition;
      return new NotLeaderError(topic, index, leader, `broker ${this.#nodeId} follows ${topic}-${index}${leader === -1 ? ', which has no leader right now' : `; broker ${leader} leads it`}`);
    }
    const fenced = lookup.write === undefined ? null : this.#writeFence(lookup.write);
    if (fenced !== null) return new NotLeaderError(topic, index, -1, `broker ${this.#nodeId} takes no writes: ${fenced}; refresh metadata (another broker may lead ${topic}-${index} now)`);
    return partition;
  }

  /** Which of `indexes` of `topic` have a log in this broker's data directory that it does not host (strays). */
  strayLogs(topic: string, indexes: readonly number[]): number[] {
    const onDisk = new Set([...this.#logs.all(), ...this.#logs.offline()].filter((log) => log.topic === topic).map((log) => log.partition));
    return indexes.filter((index) => onDisk.has(index) && this.partition(topic, index) === undefined);
  }

  /**
   * After follower `replicaId`'s fetch of `partition` at `fetchOffset`: its
   * position moves the high watermark (waking acks=all produces and
   * consumers), and a follower that caught up may join the ISR.
   */
  recordFollowerFetch(partition: Partition, replicaId: number, fetchOffset: number): void {
    assert(this.#clock !== null, 'a broker with followers has a clock', { topic: partition.topic });
    partition.recordFollowerFetch(replicaId, fetchOffset, monotonicMs(this.#clock));
    this.#isr?.maybeExpand(partition);
  }

  /** Waits for the apply in progress; later ones are refused. Fetchers stop; the high watermarks are checkpointed a last time. */
  async close(): Promise<void> {
    const wasStarted = this.#state === 'started';
    this.#state = 'closed';
    this.#lagTimer?.cancel();
    this.#checkpointTimer?.cancel();
    this.#expiryTimer?.cancel();
    await this.#queue.idle();
    await this.#fetchers?.close();
    await this.#checkpointing;
    if (wasStarted) await this.checkpointHighWatermarks();
    // A clean stop: each partition's producer state as a snapshot, so the next start need not scan the whole log for it.
    if (wasStarted) {
      for (const hosted of this.#hosted.values()) {
        for (const partition of hosted.partitions.values()) await partition.writeProducerSnapshot();
      }
    }
  }

  /**
   * Writes every hosted partition's high watermark to the checkpoint (an
   * offline one keeps the value it had), unless nothing changed since the
   * last write. Rejects if the write fails.
   */
  async checkpointHighWatermarks(): Promise<void> {
    const checkpoint = this.#checkpoint;
    if (checkpoint === null) return;
    const entries = new Map<string, number>();
    for (const [topic, hosted] of this.#hosted) {
      for (const [index, partition] of hosted.partitions) {
        const key = checkpointKey(topic, index);
        const known = partition.serving ? partition.highWatermark : this.#checkpointed.get(key);
        if (known !== undefined && known >= 0) entries.set(key, known);
      }
    }
    if (sameEntries(entries, this.#checkpointed)) return;
    await checkpoint.write(entries);
    this.#checkpointed = entries;
  }

  /** Every replica.high.watermark.checkpoint.interval.ms (from the end of the previous write), while started. */
  #scheduleCheckpoint(): void {
    const clock = this.#clock;
    if (this.#checkpoint === null || clock === null || this.#state !== 'started') return;
    this.#checkpointTimer = clock.schedule(this.#config.replicaHighWatermarkCheckpointIntervalMs, () => {
      if (this.#state !== 'started') return;
      this.#checkpointing = this.checkpointHighWatermarks()
        .catch((error: unknown) => this.#logger.error({ event: 'hwCheckpointFailed', err: error }, `could not write the high watermark checkpoint: ${(error as Error).message}; a restart now starts replicated partitions from an older one`))
        .finally(() => this.#scheduleCheckpoint());
    });
  }

  /** Every replica.lag.time.max.ms / 2, ISR followers that lag too long are removed (Kafka's period). */
  #scheduleLagCheck(): void {
    const isr = this.#isr;
    const clock = this.#clock;
    if (isr === null || clock === null || this.#state !== 'started') return;
    this.#lagTimer = clock.schedule(Math.max(1, Math.floor(this.#config.replicaLagTimeMaxMs / 2)), () => {
      if (this.#state !== 'started') return;
      isr.checkLagging([...this.#hosted.values()].flatMap((topic) => [...topic.partitions.values()]));
      this.#scheduleLagCheck();
    });
  }

  /** Every producer.id.expiration.check.interval.ms, each hosted partition forgets the idempotent producers silent for producer.id.expiration.ms. */
  #scheduleProducerExpiry(): void {
    const clock = this.#clock;
    if (clock === null || this.#state !== 'started') return;
    this.#expiryTimer = clock.schedule(this.#config.producerIdExpirationCheckIntervalMs, () => {
      if (this.#state !== 'started') return;
      const nowMs = clock.nowMs();
      let expired = 0;
      for (const hosted of this.#hosted.values()) {
        for (const partition of hosted.partitions.values()) expired += partition.expireProducers(nowMs, this.#config.producerIdExpirationMs);
      }
      if (expired > 0) this.#logger.info({ event: 'producersExpired', expired }, `forgot ${expired} idempotent producer(s) silent for producer.id.expiration.ms (${this.#config.producerIdExpirationMs} ms)`);
      this.#scheduleProducerExpiry();
    });
  }

  #serially<T>(fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(fn);
  }

  async #applyNow(next: MetadataImage, opts: { adoptLogsOnDisk: boolean }): Promise<ApplyReport> {
    const failures: PartitionFailure[] = [];
    const plan = this.#plan(next);
    this.#leaderships = [];

    // Step 1: withdraw what goes away (and publish what changed in place) before touching the disk.
    const removals: { topic: string; index: number }[] = [];
    for (const { name, indexes } of plan.withdrawn) {
      const hosted = this.#hosted.get(name)!;
      const kept = new Map(hosted.partitions);
      for (const index of indexes) {
        const partition = hosted.partitions.get(index)!;
        this.#fetchers?.unfollow(partition);
        partition.markDeleted(movedAway(next, name, hosted.topicId, index));
        kept.delete(index);
        removals.push({ topic: name, index });
      }
      if (kept.size === 0) this.#hosted.delete(name);
      else this.#hosted.set(name, { ...hosted, partitions: kept });
    }
    for (const name of plan.changed) this.#updateInPlace(name, next.topics.get(name)!);
    this.#image = interimImage(this.#image, next, plan.growing);

    for (const { topic, index } of removals) {
      try {
        await this.#logs.remove(topic, index);
      } catch (error) {
        this.#logger.error({ event: 'logRemovalFailed', topic, partition: index, err: error }, `could not remove the log of ${topic}-${index}: ${(error as Error).message}; the next start removes it`);
        failures.push({ topic, partition: index, action: 'remove', error: error as Error });
      }
    }

    // Step 2: open what is new, then publish it with the rest of the image.
    for (const name of plan.growing) {
      const image = next.topics.get(name)!;
      const current = this.#hosted.get(name);
      const config = logConfigFor(this.#config, image.configs);
      const partitions = new Map(current?.partitions ?? []);
      for (let index = 0; index < image.partitions; index++) {
        if (partitions.has(index) || !this.#hosts(image, index)) continue;
        const { partition, error } = await this.#openPartition(name, index, config, opts.adoptLogsOnDisk);
        if (error !== null) failures.push({ topic: name, partition: index, action: 'open', error });
        this.#setRole(partition, image);
        partitions.set(index, partition);
      }
      this.#hosted.set(name, { topicId: image.topicId, image, config, partitions });
    }
    this.#image = next;
    this.#applied = next;
    // New leaders record their epoch at the log end (KIP-279) before the apply is reported done.
    await Promise.all(this.#leaderships.splice(0));
    for (const listener of this.#appliedListeners) listener(next);
    return { version: next.version, failures };
  }

  /** What `next` changes against the image applied last. */
  #plan(next: MetadataImage): { withdrawn: { name: string; indexes: number[] }[]; changed: string[]; growing: string[] } {
    const withdrawn: { name: string; indexes: number[] }[] = [];
    const changed: string[] = [];
    const growing: string[] = [];
    for (const [name, hosted] of this.#hosted) {
      const image = next.topics.get(name);
      // Gone, or deleted and created again under the same name: a different topic.
      const replaced = image === undefined || image.topicId !== hosted.topicId;
      const indexes = [...hosted.partitions.keys()].filter((index) => replaced || !this.#hosts(image, index));
      if (indexes.length > 0) withdrawn.push({ name, indexes });
      if (!replaced && image !== hosted.image) changed.push(name);
    }
    for (const [name, image] of next.topics) {
      const hosted = this.#hosted.get(name);
      const before = hosted?.topicId === image.topicId ? hosted.partitions.size : 0;
      let wanted = 0;
      for (let index = 0; index < image.partitions; index++) if (this.#hosts(image, index)) wanted++;
      if (wanted > before || (hosted !== undefined && hosted.topicId !== image.topicId)) growing.push(name);
    }
    return { withdrawn, changed, growing };
  }

  #hosts(image: TopicImage, index: number): boolean {
    return image.partitionStates[index]?.replicas.includes(this.#nodeId) === true;
  }

  /** Settings and roles of a topic that stays, applied to the partitions it keeps. */
  #updateInPlace(name: string, image: TopicImage): void {
    const hosted = this.#hosted.get(name);
    if (hosted === undefined) return;
    let { config } = hosted;
    if (image.configs !== hosted.image.configs) {
      config = logConfigFor(this.#config, image.configs);
      for (const partition of hosted.partitions.values()) partition.updateConfig(config);
    }
    for (const partition of hosted.partitions.values()) this.#setRole(partition, image);
    this.#hosted.set(name, { ...hosted, image, config });
  }

  /** Leaderships begun during the apply in progress (their epochs being recorded at the log end). */
  #leaderships: Promise<void>[] = [];

  #setRole(partition: Partition, image: TopicImage): void {
    const state = image.partitionStates[partition.index]!;
    const { leader, leaderEpoch, partitionEpoch } = state;
    if (leader === this.#nodeId) {
      if (partition.role === 'leader' && leaderEpoch === partition.leaderEpoch && partitionEpoch <= partition.partitionEpoch) return;
      this.#fetchers?.unfollow(partition);
      const begun = partition.becomeLeader(this.#nodeId, state, this.#clock === null ? 0 : monotonicMs(this.#clock)).catch((error: unknown) => {
        this.#logger.error({ event: 'leaderEpochNotRecorded', topic: partition.topic, partition: partition.index, leaderEpoch, err: error }, `${partition.topic}-${partition.index}: could not record leader epoch ${leaderEpoch} at the log end: ${(error as Error).message}`);
      });
      this.#leaderships.push(begun);
      return;
    }
    if (leaderEpoch === partition.leaderEpoch && leader === partition.leader) return;
    partition.becomeFollower(leader, leaderEpoch, partitionEpoch);
    if (partition.serving) this.#fetchers?.follow(partition, leader, leaderEpoch);
  }

  /** A partition on its log, opened or created; offline (with the error) if that fails. */
  async #openPartition(topic: string, index: number, config: LogConfig, adoptLogsOnDisk: boolean): Promise<{ partition: Partition; error: Error | null }> {
    try {
      if (!adoptLogsOnDisk && this.strayLogs(topic, [index]).length > 0) {
        throw new Error(`a log for ${topic}-${index} was already in the data directory, though the metadata never placed that partition here; it is not served, move it out of the data directory and restart`);
      }
      const existing = this.#logs.get(topic, index);
      if (existing === undefined) return { partition: new Partition(topic, index, await this.#logs.create(topic, index, config), config), error: null };
      // A log from before this start resumes at its checkpointed high watermark; without an entry, at its start (Kafka's rule): only the ISR moves it on.
      const restored = this.#checkpoint === null ? undefined : (this.#checkpointed.get(checkpointKey(topic, index)) ?? 0);
      return { partition: new Partition(topic, index, existing, config, null, restored), error: null };
    } catch (error) {
      // Serve the rest; this partition answers CORRUPT_SEGMENT (damaged files: runnel recover) or KAFKA_STORAGE_ERROR until a restart recovers it.
      this.#logger.error({ topic, partition: index, err: error }, `partition ${topic}-${index} is offline: ${(error as Error).message}`);
      return { partition: new Partition(topic, index, null, config, error as Error), error: error as Error };
    }
  }

  /** Logs on disk that no hosted partition owns: a committed deletion's are removed, others left with a warning. */
  async #reconcileStrays(image: MetadataImage): Promise<void> {
    const strays = new Map<string, number[]>();
    for (const { topic, partition } of [...this.#logs.all(), ...this.#logs.offline()]) {
      if (this.partition(topic, partition) !== undefined) continue;
      const list = strays.get(topic) ?? [];
      list.push(partition);
      strays.set(topic, list);
    }
    for (const [topic, partitions] of strays) {
      if (image.deletedTopics.has(topic) && !image.topics.has(topic)) {
        this.#logger.info({ event: 'deletionFinished', topic, partitions }, `removing logs of deleted topic ${topic} (a crash interrupted its deletion)`);
        for (const partition of partitions) await this.#logs.remove(topic, partition);
      } else {
        this.#logger.warn({ event: 'strayLogs', topic, partitions }, `logs for ${topic} partitions ${partitions.join(',')} are in the data directory but the topic metadata does not place them on this broker; they are not served and were left in place`);
      }
    }
  }
}

/**
 * The image handlers see while new logs are being opened: `next`, except
 * that topics still growing keep their earlier shape (or are absent if new),
 * so no partition is listed before it is served.
 */
function interimImage(current: MetadataImage, next: MetadataImage, growing: readonly string[]): MetadataImage {
  if (growing.length === 0) return next;
  const topics = new Map(next.topics);
  for (const name of growing) {
    const before = current.topics.get(name);
    if (before !== undefined && before.topicId === next.topics.get(name)!.topicId) topics.set(name, before);
    else topics.delete(name);
  }
  // Everything but the growing topics is already next's: brokers above all, whose addresses the followers of the new partitions fetch from.
  return { ...next, version: current.version, topics };
}

/**
 * Why waiters on a partition this broker no longer hosts fail: when the
 * topic lives on (a reassignment moved the partition away), NOT_LEADER_OR_FOLLOWER
 * naming the new leader, so producers retry there; undefined for a deletion.
 */
function movedAway(next: MetadataImage, topic: string, topicId: string, index: number): Error | undefined {
  const image = next.topics.get(topic);
  const state = image?.topicId === topicId ? image.partitionStates[index] : undefined;
  if (state === undefined) return undefined;
  return new NotLeaderError(topic, index, state.leader, `${topic}-${index} moved to brokers [${state.replicas.join(',')}]${state.leader === -1 ? '' : `; broker ${state.leader} leads it`}; the records may or may not have been replicated`);
}

function sameEntries(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}
