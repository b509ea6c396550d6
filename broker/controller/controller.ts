/**
 * The controller: the only code that decides topic changes (create, delete,
 * reconfigure, add partitions, auto-create). Each change is validated
 * against the current metadata image and committed to the `MetadataStore`
 * (durable before anything else happens). The controller never owns a
 * partition or a log: every broker's replica manager applies committed
 * changes to the partitions it hosts (replication/replica-manager.ts).
 * Changes run one at a time, so a check and its commit never interleave with
 * another change.
 *
 * In the embedded mode (broker and controller in one process) the
 * controller hands each of its commits to the local replica manager and
 * waits for it before answering, so what it reports done is served: a
 * topic whose logs cannot all be created is undone with a committed deletion
 * and reported failed with the partition and the reason (nothing is
 * reported created that is not served); a committed change whose logs fail
 * afterwards (partitions added, a deletion) is reported with what stands.
 *
 * Internal topics (names starting with `__`, metadata/topic-name.ts) are the
 * broker's own: created through `createInternalTopic`, never by a client's
 * CreateTopics or by auto-creation, and never deleted or grown by a client.
 *
 * Errors are the broker's typed errors (broker/errors.ts) and storage's
 * ConfigError; the handler edge maps them to wire codes.
 */
import type { BrokerConfig } from '../config.js';
import {
  ControllerClosedError,
  InvalidPartitionsError,
  InvalidReplicationFactorError,
  InvalidTopicNameError,
  PartitionStorageError,
  TopicExistsError,
  UnknownSettingError,
  UnknownTopicOrPartitionError,
} from '../errors.js';
import type { Logger } from '../log.js';
import type { MetadataChange } from '../metadata/changes.js';
import type { MetadataImage, TopicImage } from '../metadata/image.js';
import type { MetadataStore } from '../metadata/store.js';
import { isInternalTopic, topicNameProblem } from '../metadata/topic-name.js';
import type { ApplyReport, PartitionFailure } from '../replication/replica-manager.js';
import { isTopicSetting, logConfigFor } from '../topic-settings.js';
import { assert } from '../world/assert.js';
import type { Rng } from '../world/rng.js';

export interface CreateTopicRequest {
  name: string;
  /** -1: the broker's num.partitions. */
  partitions: number;
  /** -1: the default (1). */
  replicationFactor: number;
  configs: Readonly<Record<string, string>>;
}

/**
 * The broker in the controller's own process (the embedded mode): it
 * applies each commit before the controller answers, and says which logs
 * its data directory holds that the metadata does not know.
 */
export interface LocalReplicas {
  apply(previous: MetadataImage, next: MetadataImage): Promise<ApplyReport>;
  strayLogs(topic: string, indexes: readonly number[]): number[];
}

export class Controller {
  readonly #store: MetadataStore;
  readonly #config: BrokerConfig;
  readonly #rng: Rng;
  readonly #logger: Logger;
  readonly #local: LocalReplicas | null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(opts: { store: MetadataStore; config: BrokerConfig; rng: Rng; logger: Logger; local: LocalReplicas | null }) {
    this.#store = opts.store;
    this.#config = opts.config;
    this.#rng = opts.rng;
    this.#logger = opts.logger;
    this.#local = opts.local;
  }

  get clusterId(): string {
    return this.#store.image.clusterId;
  }

  /**
   * Validates and (unless `validateOnly`) creates a topic for a client;
   * resolves with the partition count and replication factor it has (or
   * would have). Internal names are refused.
   */
  createTopic(request: CreateTopicRequest, opts: { validateOnly?: boolean } = {}): Promise<{ partitions: number; replicationFactor: number }> {
    return this.#serially(() => this.#create(request, { validateOnly: opts.validateOnly === true, internal: false }));
  }

  /** Creates one of the broker's internal topics (its name starts with `__`). */
  async createInternalTopic(request: CreateTopicRequest): Promise<void> {
    assert(isInternalTopic(request.name), 'internal topics are named with the internal prefix', { topic: request.name });
    await this.#serially(() => this.#create(request, { validateOnly: false, internal: true }));
  }

  /**
   * Creates `name` with the broker's defaults if `auto.create.topics` is on
   * and it does not exist yet; resolves true once it exists (created now or
   * before), false when auto-creation is off. Concurrent calls for one name
   * create it once.
   */
  async autoCreate(name: string): Promise<boolean> {
    if (!this.#config.autoCreateTopics) return false;
    const problem = topicNameProblem(name);
    if (problem !== null) throw new InvalidTopicNameError(name, problem);
    if (isInternalTopic(name)) throw new InvalidTopicNameError(name, `topic ${name} is an internal topic (its name starts with "__"); the broker creates those itself, auto-creation does not`);
    return this.#serially(async () => {
      if (!this.#store.image.topics.has(name)) await this.#create({ name, partitions: -1, replicationFactor: -1, configs: {} }, { validateOnly: false, internal: false });
      return true;
    });
  }

  deleteTopic(name: string): Promise<void> {
    return this.#serially(async () => {
      const topic = this.#existing(name);
      if (topic.internal) throw new InvalidTopicNameError(name, `topic ${name} is internal to the broker and cannot be deleted`);
      const report = await this.#commit([{ kind: 'topicDeleted', name, topicId: topic.image.topicId }]);
      this.#logger.info({ event: 'topicDeleted', topic: name, topicId: topic.image.topicId }, `deleted topic ${name}`);
      const failures = failuresOf(report, name);
      if (failures.length > 0) {
        throw new PartitionStorageError(`topic ${name} was deleted, but ${describeFailures(failures, 'could not be removed')}; the next start removes what is left`);
      }
    });
  }

  /**
   * Applies incremental changes to a topic's overrides: a value sets the
   * setting, null returns it to the broker default. All or nothing.
   */
  alterTopicConfig(name: string, changes: readonly { name: string; value: string | null }[], opts: { validateOnly?: boolean } = {}): Promise<void> {
    return this.#serially(async () => {
      const { image } = this.#existing(name);
      const overrides: Record<string, string> = { ...image.configs };
      for (const change of changes) {
        if (!isTopicSetting(change.name)) throw new UnknownSettingError(change.name);
        if (change.value === null) delete overrides[change.name];
        else overrides[change.name] = change.value;
      }
      logConfigFor(this.#config, overrides); // throws ConfigError naming the bad setting
      if (opts.validateOnly === true) return;
      await this.#commit([{ kind: 'topicConfigAltered', name, topicId: image.topicId, configs: overrides }]);
      this.#logger.info({ event: 'topicConfigAltered', topic: name, overrides }, `altered settings of topic ${name}`);
    });
  }

  /**
   * Grows a topic to `count` partitions (CreatePartitions). The new count is
   * committed first, then the replicas create the new logs; a crash in
   * between leaves a committed count whose missing logs the next start
   * creates. A log that cannot be created is served offline and reported as
   * the request's error, so nothing is reported added that is not served.
   */
  createPartitions(name: string, count: number, opts: { validateOnly?: boolean } = {}): Promise<void> {
    return this.#serially(async () => {
      const { image, internal } = this.#existing(name);
      if (internal) throw new InvalidTopicNameError(name, `topic ${name} is internal to the broker; its partition count is the broker's to set`);
      const current = image.partitions;
      if (!Number.isInteger(count) || count < current) {
        throw new InvalidPartitionsError(`topic ${name} has ${current} partitions and cannot shrink to ${count}; partitions can only be added`);
      }
      if (count === current) throw new InvalidPartitionsError(`topic ${name} already has ${current} partitions; ask for more than that`);
      if (count > this.#config.maxPartitionsPerTopic) {
        throw new InvalidPartitionsError(`${count} partitions requested; a topic has at most ${this.#config.maxPartitionsPerTopic} (max.partitions.per.topic)`);
      }
      // A log already on disk at a new index was never this topic's (strays are not served): adopting it would serve unknown data.
      const strays = this.#local?.strayLogs(name, range(current, count)) ?? [];
      if (strays.length > 0) {
        throw new InvalidPartitionsError(`the data directory already holds logs for ${strays.map((index) => `${name}-${index}`).join(', ')}, which the topic metadata does not know; move them out of the data directory before adding these partitions`);
      }
      if (opts.validateOnly === true) return;
      const report = await this.#commit([{ kind: 'partitionsAdded', name, topicId: image.topicId, partitions: count, assignments: this.#assign(count - current) }]);
      this.#logger.info({ event: 'partitionsAdded', topic: name, from: current, to: count }, `topic ${name} grew from ${current} to ${count} partitions`);
      const failures = failuresOf(report, name);
      if (failures.length > 0) {
        throw new PartitionStorageError(`topic ${name} now has ${count} partitions, but ${describeFailures(failures, 'could not be created')} (offline until the broker restarts and creates it)`);
      }
    });
  }

  /** Refuses new changes and waits for those queued. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
  }

  #serially<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ControllerClosedError());
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Commits `changes` on the version they were checked against, then has the local broker (if any) apply them. */
  async #commit(changes: readonly MetadataChange[]): Promise<ApplyReport | null> {
    const previous = this.#store.image;
    await this.#store.commit(changes, { expectedVersion: previous.version });
    return this.#local === null ? null : this.#local.apply(previous, this.#store.image);
  }

  /** A live topic, with whether it is internal; throws for a bad name or an unknown topic. */
  #existing(name: string): { image: TopicImage; internal: boolean } {
    const problem = topicNameProblem(name);
    if (problem !== null) throw new InvalidTopicNameError(name, problem);
    const image = this.#store.image.topics.get(name);
    if (image === undefined) throw new UnknownTopicOrPartitionError(name, null, `topic ${name} does not exist`);
    return { image, internal: isInternalTopic(name) };
  }

  /** Runs in the queue. */
  async #create(request: CreateTopicRequest, opts: { validateOnly: boolean; internal: boolean }): Promise<{ partitions: number; replicationFactor: number }> {
    const change = this.#validateCreate(request, opts.internal);
    const created = { partitions: change.partitions, replicationFactor: change.replicationFactor };
    if (opts.validateOnly) return created;
    const report = await this.#commit([change]);
    const failures = failuresOf(report, change.name);
    if (failures.length > 0) await this.#undoCreate(change, failures);
    this.#logger.info({ event: 'topicCreated', topic: change.name, topicId: change.topicId, partitions: change.partitions, overrides: change.configs, internal: opts.internal }, `created topic ${change.name} with ${change.partitions} partition(s)`);
    return created;
  }

  /**
   * A committed topic whose logs could not all be created here: its
   * creation is undone with a committed deletion (which removes the logs
   * made) and the reason thrown. If the undo fails too, the topic stays
   * committed and the next start creates its missing logs (or serves them
   * offline).
   */
  async #undoCreate(change: Extract<MetadataChange, { kind: 'topicCreated' }>, failures: readonly PartitionFailure[]): Promise<never> {
    const first = failures[0]!;
    const reason = `partition ${first.topic}-${first.partition} could not be created: ${first.error.message}`;
    this.#logger.error({ event: 'topicCreationFailed', topic: change.name, partition: first.partition, err: first.error }, `${reason}; undoing the creation of topic ${change.name}`);
    try {
      const report = await this.#commit([{ kind: 'topicDeleted', name: change.name, topicId: change.topicId }]);
      const left = failuresOf(report, change.name);
      if (left.length > 0) this.#logger.error({ topic: change.name, partitions: left.map((f) => f.partition) }, `the creation of topic ${change.name} was undone, but ${describeFailures(left, 'could not be removed')}; the next start removes them`);
    } catch (undoError) {
      this.#logger.error({ topic: change.name, err: undoError }, `could not undo the creation of topic ${change.name}; it is retried at the next start`);
    }
    throw new PartitionStorageError(`${reason}; topic ${change.name} was not created`);
  }

  #validateCreate(request: CreateTopicRequest, internal: boolean): Extract<MetadataChange, { kind: 'topicCreated' }> {
    const problem = topicNameProblem(request.name);
    if (problem !== null) throw new InvalidTopicNameError(request.name, problem);
    if (isInternalTopic(request.name) && !internal) {
      throw new InvalidTopicNameError(request.name, `topic names starting with "__" are reserved for the broker's internal topics; choose another name than ${request.name}`);
    }
    if (this.#store.image.topics.has(request.name)) throw new TopicExistsError(request.name);
    const partitions = request.partitions === -1 ? this.#config.numPartitions : request.partitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > this.#config.maxPartitionsPerTopic) {
      throw new InvalidPartitionsError(`${request.partitions} partitions requested; a topic has 1 to ${this.#config.maxPartitionsPerTopic} (max.partitions.per.topic)`);
    }
    const replicationFactor = request.replicationFactor === -1 ? 1 : request.replicationFactor;
    if (replicationFactor !== 1) {
      throw new InvalidReplicationFactorError(`replication factor ${request.replicationFactor} requested, but this cluster has 1 broker; use 1`);
    }
    for (const name of Object.keys(request.configs)) {
      if (!isTopicSetting(name)) throw new UnknownSettingError(name);
    }
    logConfigFor(this.#config, request.configs); // throws ConfigError naming the bad setting
    return { kind: 'topicCreated', name: request.name, topicId: this.#newTopicId(), partitions, replicationFactor, configs: { ...request.configs }, assignments: this.#assign(partitions) };
  }

  /** Replicas for `count` new partitions: this node, the cluster's one broker (placement across brokers comes with the cluster). */
  #assign(count: number): number[][] {
    return range(0, count).map(() => [this.#config.nodeId]);
  }

  /** 128 random bits as 32 hex digits: unique per topic incarnation. */
  #newTopicId(): string {
    let id = '';
    for (let i = 0; i < 4; i++) id += this.#rng.int(0x1_0000_0000).toString(16).padStart(8, '0');
    return id;
  }
}

function failuresOf(report: ApplyReport | null, topic: string): PartitionFailure[] {
  return report?.failures.filter((failure) => failure.topic === topic) ?? [];
}

function describeFailures(failures: readonly PartitionFailure[], what: string): string {
  return failures.map((f) => `${f.topic}-${f.partition} ${what}: ${f.error.message}`).join('; ');
}

/** The integers from `start` up to, not including, `end`. */
function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}
