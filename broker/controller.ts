/**
 * The controller of the embedded single-node cluster: it owns the topic
 * metadata (through a `MetadataStore`) and the partitions this broker serves,
 * and is the only code that creates, deletes or reconfigures a topic.
 *
 * Every change is validated against the current image, committed to the
 * metadata store (durable before anything else happens), and only then
 * applied: logs created or removed, partitions published to the request
 * handlers or withdrawn. Changes run one at a time, so a check and its commit
 * never interleave with another change.
 *
 * Crash safety rests on that order. At start-up `open` reconciles the logs on
 * disk with the image: partitions of a live topic that a crash kept from
 * being created are created; logs of a topic whose deletion was committed but
 * not finished are removed; logs of topics the metadata never knew are left
 * alone (and not served), with a warning, because deleting data on a guess is
 * worse than serving none.
 */
import { ProtocolError } from '../protocol/errors.js';
import type { BrokerConfig } from './config.js';
import type { Logger } from './log.js';
import type { MetadataChange } from './metadata/changes.js';
import type { TopicImage } from './metadata/image.js';
import type { MetadataStore } from './metadata/store.js';
import { topicNameProblem } from './metadata/topic-name.js';
import { Partition } from './partition.js';
import { parseLogConfig, TOPIC_CONFIG_DEFS, type LogConfig } from './storage/log-config.js';
import type { LogManager } from './storage/log-manager.js';
import type { Rng } from './world/rng.js';

export interface Topic {
  readonly name: string;
  readonly topicId: string;
  /** The topic's own overrides; broker defaults (`log.*`) fill in the rest. */
  readonly overrides: Readonly<Record<string, string>>;
  readonly config: LogConfig;
  readonly partitions: readonly Partition[];
}

export interface CreateTopicRequest {
  name: string;
  /** -1: the broker's num.partitions. */
  partitions: number;
  /** -1: the default (1). */
  replicationFactor: number;
  configs: Readonly<Record<string, string>>;
}

/** Where a topic setting's effective value comes from. */
export type SettingSource = 'topic' | 'broker' | 'default';

export interface DescribedSetting {
  name: string;
  value: string;
  source: SettingSource;
}

const topicDefs = new Map(TOPIC_CONFIG_DEFS.map((def) => [def.name, def]));

export class Controller {
  readonly #store: MetadataStore;
  readonly #logs: LogManager;
  readonly #config: BrokerConfig;
  readonly #rng: Rng;
  readonly #logger: Logger;
  readonly #topics = new Map<string, Topic>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Auto-creations in progress, so concurrent producers to a new topic share one. */
  readonly #autoCreating = new Map<string, Promise<Topic>>();

  private constructor(store: MetadataStore, logs: LogManager, config: BrokerConfig, rng: Rng, logger: Logger) {
    this.#store = store;
    this.#logs = logs;
    this.#config = config;
    this.#rng = rng;
    this.#logger = logger;
  }

  /** The effective log settings for a topic with these overrides (broker defaults below them). */
  static logConfigFor(config: BrokerConfig, overrides: Readonly<Record<string, string>>): LogConfig {
    return parseLogConfig({ ...config.topicDefaults, ...overrides });
  }

  static async open(opts: { store: MetadataStore; logs: LogManager; config: BrokerConfig; rng: Rng; logger: Logger }): Promise<Controller> {
    const controller = new Controller(opts.store, opts.logs, opts.config, opts.rng, opts.logger);
    await controller.#reconcile();
    return controller;
  }

  get clusterId(): string {
    return this.#store.image.clusterId;
  }

  topic(name: string): Topic | undefined {
    return this.#topics.get(name);
  }

  topics(): IterableIterator<Topic> {
    return this.#topics.values();
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.#topics.get(topic)?.partitions[index];
  }

  /**
   * Validates and (unless `validateOnly`) creates a topic; resolves with the
   * partition count and replication factor it has (or would have). Throws
   * ProtocolError or storage's ConfigError.
   */
  createTopic(request: CreateTopicRequest, opts: { validateOnly?: boolean } = {}): Promise<{ partitions: number; replicationFactor: number }> {
    return this.#serially(async () => {
      const change = this.#validateCreate(request);
      const created = { partitions: change.partitions, replicationFactor: change.replicationFactor };
      if (opts.validateOnly === true) return created;
      await this.#store.commit([change], { expectedVersion: this.#store.image.version });
      const topic = await this.#publishCreated(this.#store.image.topics.get(request.name)!);
      this.#logger.info({ event: 'topicCreated', topic: topic.name, topicId: topic.topicId, partitions: topic.partitions.length, overrides: topic.overrides }, `created topic ${topic.name} with ${topic.partitions.length} partition(s)`);
      return created;
    });
  }

  /** The topic, created with the broker's defaults if `auto.create.topics` is on; undefined otherwise. */
  async autoCreate(name: string): Promise<Topic | undefined> {
    const existing = this.#topics.get(name);
    if (existing !== undefined) return existing;
    if (!this.#config.autoCreateTopics) return undefined;
    const problem = topicNameProblem(name);
    if (problem !== null) throw new ProtocolError('INVALID_TOPIC_EXCEPTION', problem);
    let pending = this.#autoCreating.get(name);
    if (pending === undefined) {
      pending = (async () => {
        try {
          await this.createTopic({ name, partitions: -1, replicationFactor: -1, configs: {} });
          return this.#topics.get(name)!;
        } catch (error) {
          // Someone created it meanwhile: that is what we wanted.
          const created = this.#topics.get(name);
          if (created !== undefined) return created;
          throw error;
        } finally {
          this.#autoCreating.delete(name);
        }
      })();
      this.#autoCreating.set(name, pending);
    }
    return pending;
  }

  deleteTopic(name: string): Promise<void> {
    return this.#serially(async () => {
      const problem = topicNameProblem(name);
      if (problem !== null) throw new ProtocolError('INVALID_TOPIC_EXCEPTION', problem);
      const topic = this.#topics.get(name);
      if (topic === undefined) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      // Withdraw first, so no request starts on it while the deletion commits.
      this.#topics.delete(name);
      try {
        await this.#store.commit([{ kind: 'topicDeleted', name, topicId: topic.topicId }], { expectedVersion: this.#store.image.version });
      } catch (error) {
        this.#topics.set(name, topic);
        throw error;
      }
      for (const partition of topic.partitions) partition.markDeleted();
      await this.#removeLogs(name, topic.partitions.length);
      this.#logger.info({ event: 'topicDeleted', topic: name, topicId: topic.topicId }, `deleted topic ${name}`);
    });
  }

  /**
   * Applies incremental changes to a topic's overrides: a value sets the
   * setting, null returns it to the broker default. All or nothing.
   */
  alterTopicConfig(name: string, changes: readonly { name: string; value: string | null }[], opts: { validateOnly?: boolean } = {}): Promise<void> {
    return this.#serially(async () => {
      const topic = this.#topics.get(name);
      if (topic === undefined) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      const overrides: Record<string, string> = { ...topic.overrides };
      for (const change of changes) {
        if (!topicDefs.has(change.name)) throw new ProtocolError('INVALID_CONFIG', `unknown topic setting ${change.name}`);
        if (change.value === null) delete overrides[change.name];
        else overrides[change.name] = change.value;
      }
      const config = Controller.logConfigFor(this.#config, overrides);
      if (opts.validateOnly === true) return;
      await this.#store.commit([{ kind: 'topicConfigAltered', name, topicId: topic.topicId, configs: overrides }], { expectedVersion: this.#store.image.version });
      for (const partition of topic.partitions) partition.updateConfig(config);
      this.#topics.set(name, { ...topic, overrides, config });
      this.#logger.info({ event: 'topicConfigAltered', topic: name, overrides }, `altered settings of topic ${name}`);
    });
  }

  /**
   * Grows a topic to `count` partitions (CreatePartitions). The new count is
   * committed first, then the new logs are created and served; a crash in
   * between leaves a committed count whose missing logs the next start
   * creates (`#reconcile` publishes every partition the image names). A log
   * that cannot be created is served offline and reported as the request's
   * error, so nothing is reported added that is not served.
   */
  createPartitions(name: string, count: number, opts: { validateOnly?: boolean } = {}): Promise<void> {
    return this.#serially(async () => {
      const problem = topicNameProblem(name);
      if (problem !== null) throw new ProtocolError('INVALID_TOPIC_EXCEPTION', problem);
      const topic = this.#topics.get(name);
      if (topic === undefined) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      const current = topic.partitions.length;
      if (!Number.isInteger(count) || count < current) {
        throw new ProtocolError('INVALID_PARTITIONS', `topic ${name} has ${current} partitions and cannot shrink to ${count}; partitions can only be added`);
      }
      if (count === current) throw new ProtocolError('INVALID_PARTITIONS', `topic ${name} already has ${current} partitions; ask for more than that`);
      if (count > this.#config.maxPartitionsPerTopic) {
        throw new ProtocolError('INVALID_PARTITIONS', `${count} partitions requested; a topic has at most ${this.#config.maxPartitionsPerTopic} (max.partitions.per.topic)`);
      }
      // A log already on disk at a new index was never this topic's (strays are not served): adopting it would serve unknown data.
      const onDisk = new Set([...this.#logs.all(), ...this.#logs.offline()].filter((log) => log.topic === name).map((log) => log.partition));
      const strays = range(current, count).filter((index) => onDisk.has(index));
      if (strays.length > 0) {
        throw new ProtocolError('INVALID_PARTITIONS', `the data directory already holds logs for ${strays.map((index) => `${name}-${index}`).join(', ')}, which the topic metadata does not know; move them out of the data directory before adding these partitions`);
      }
      if (opts.validateOnly === true) return;
      await this.#store.commit([{ kind: 'partitionsAdded', name, topicId: topic.topicId, partitions: count, assignments: range(current, count).map(() => [this.#config.nodeId]) }], { expectedVersion: this.#store.image.version });
      const added: Partition[] = [];
      const failures: string[] = [];
      for (const index of range(current, count)) {
        const { partition, error } = await this.#openPartition(name, index, topic.config);
        if (error !== null) failures.push(`${name}-${index} could not be created: ${error.message}`);
        added.push(partition);
      }
      this.#topics.set(name, { ...topic, partitions: [...topic.partitions, ...added] });
      this.#logger.info({ event: 'partitionsAdded', topic: name, from: current, to: count }, `topic ${name} grew from ${current} to ${count} partitions`);
      if (failures.length > 0) {
        throw new ProtocolError('KAFKA_STORAGE_ERROR', `topic ${name} now has ${count} partitions, but ${failures.join('; ')} (offline until the broker restarts and creates it)`);
      }
    });
  }

  /** Every topic setting with its effective value and where it comes from. */
  describeTopicConfig(topic: Topic): DescribedSetting[] {
    return TOPIC_CONFIG_DEFS.map((def) => {
      const own = topic.overrides[def.name];
      if (own !== undefined) return { name: def.name, value: own, source: 'topic' };
      const brokerDefault = this.#config.topicDefaults[def.name];
      if (brokerDefault !== undefined) return { name: def.name, value: brokerDefault, source: 'broker' };
      return { name: def.name, value: def.defaultValue, source: 'default' };
    });
  }

  /** Refuses new changes and waits for those queued. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
  }

  #serially<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ProtocolError('LEADER_NOT_AVAILABLE', 'the broker is shutting down'));
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #validateCreate(request: CreateTopicRequest): Extract<MetadataChange, { kind: 'topicCreated' }> {
    const problem = topicNameProblem(request.name);
    if (problem !== null) throw new ProtocolError('INVALID_TOPIC_EXCEPTION', problem);
    if (this.#topics.has(request.name) || this.#store.image.topics.has(request.name)) {
      throw new ProtocolError('TOPIC_ALREADY_EXISTS', `topic ${request.name} already exists`);
    }
    const partitions = request.partitions === -1 ? this.#config.numPartitions : request.partitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > this.#config.maxPartitionsPerTopic) {
      throw new ProtocolError('INVALID_PARTITIONS', `${request.partitions} partitions requested; a topic has 1 to ${this.#config.maxPartitionsPerTopic} (max.partitions.per.topic)`);
    }
    const replicationFactor = request.replicationFactor === -1 ? 1 : request.replicationFactor;
    if (replicationFactor !== 1) {
      throw new ProtocolError('INVALID_REPLICATION_FACTOR', `replication factor ${request.replicationFactor} requested, but this cluster has 1 broker; use 1`);
    }
    for (const name of Object.keys(request.configs)) {
      if (!topicDefs.has(name)) throw new ProtocolError('INVALID_CONFIG', `unknown topic setting ${name}`);
    }
    Controller.logConfigFor(this.#config, request.configs); // throws ConfigError naming the bad setting
    return { kind: 'topicCreated', name: request.name, topicId: this.#newTopicId(), partitions, replicationFactor, configs: { ...request.configs }, assignments: range(0, partitions).map(() => [this.#config.nodeId]) };
  }

  /** 128 random bits as 32 hex digits: unique per topic incarnation. */
  #newTopicId(): string {
    let id = '';
    for (let i = 0; i < 4; i++) id += this.#rng.int(0x1_0000_0000).toString(16).padStart(8, '0');
    return id;
  }

  /** Opens (or creates) the logs of a committed topic and starts serving it. */
  async #publish(image: TopicImage): Promise<Topic> {
    const config = Controller.logConfigFor(this.#config, image.configs);
    const partitions: Partition[] = [];
    for (let index = 0; index < image.partitions; index++) partitions.push((await this.#openPartition(image.name, index, config)).partition);
    const topic: Topic = { name: image.name, topicId: image.topicId, overrides: { ...image.configs }, config, partitions };
    this.#topics.set(topic.name, topic);
    return topic;
  }

  /** A partition on its log, opened or created; offline if that fails. */
  async #openPartition(topic: string, index: number, config: LogConfig): Promise<{ partition: Partition; error: Error | null }> {
    try {
      const log = this.#logs.get(topic, index) ?? (await this.#logs.create(topic, index, config));
      return { partition: new Partition(topic, index, log, config), error: null };
    } catch (error) {
      // Serve the rest; this partition answers CORRUPT_SEGMENT (damaged files: runnel recover) or KAFKA_STORAGE_ERROR until a restart recovers it.
      this.#logger.error({ topic, partition: index, err: error }, `partition ${topic}-${index} is offline: ${(error as Error).message}`);
      return { partition: new Partition(topic, index, null, config, error as Error), error: error as Error };
    }
  }

  /**
   * Creates the logs of a topic just committed. Nothing is reported created
   * that is not served: if one partition's log cannot be created (EMFILE, a
   * full or failing disk), the logs made so far are removed, the creation is
   * undone with a committed deletion, and the reason is thrown.
   */
  async #publishCreated(image: TopicImage): Promise<Topic> {
    const config = Controller.logConfigFor(this.#config, image.configs);
    const partitions: Partition[] = [];
    for (let index = 0; index < image.partitions; index++) {
      try {
        partitions.push(new Partition(image.name, index, await this.#logs.create(image.name, index, config), config));
      } catch (error) {
        const reason = `partition ${image.name}-${index} could not be created: ${(error as Error).message}`;
        this.#logger.error({ event: 'topicCreationFailed', topic: image.name, partition: index, err: error }, `${reason}; undoing the creation of topic ${image.name}`);
        try {
          await this.#removeLogs(image.name, index);
          await this.#store.commit([{ kind: 'topicDeleted', name: image.name, topicId: image.topicId }], { expectedVersion: this.#store.image.version });
        } catch (undoError) {
          // Committed but not served: the next start creates the missing partitions (or serves them offline).
          this.#logger.error({ topic: image.name, err: undoError }, `could not undo the creation of topic ${image.name}; it is retried at the next start`);
        }
        throw new ProtocolError('KAFKA_STORAGE_ERROR', `${reason}; topic ${image.name} was not created`);
      }
    }
    const topic: Topic = { name: image.name, topicId: image.topicId, overrides: { ...image.configs }, config, partitions };
    this.#topics.set(topic.name, topic);
    return topic;
  }

  async #removeLogs(name: string, partitionCount: number): Promise<void> {
    for (let index = 0; index < partitionCount; index++) {
      if (this.#logs.get(name, index) !== undefined) await this.#logs.remove(name, index);
    }
  }

  async #reconcile(): Promise<void> {
    const { image } = this.#store;
    for (const topicImage of image.topics.values()) await this.#publish(topicImage);
    const strays = new Map<string, number[]>();
    for (const { topic, partition } of [...this.#logs.all(), ...this.#logs.offline()]) {
      const live = image.topics.get(topic);
      if (live !== undefined && partition < live.partitions) continue;
      const list = strays.get(topic) ?? [];
      list.push(partition);
      strays.set(topic, list);
    }
    for (const [topic, partitions] of strays) {
      if (image.deletedTopics.has(topic) && !image.topics.has(topic)) {
        this.#logger.info({ event: 'deletionFinished', topic, partitions }, `removing logs of deleted topic ${topic} (a crash interrupted its deletion)`);
        for (const partition of partitions) await this.#logs.remove(topic, partition);
      } else {
        this.#logger.warn({ event: 'strayLogs', topic, partitions }, `logs for ${topic} partitions ${partitions.join(',')} are in the data directory but not in the topic metadata; they are not served and were left in place`);
      }
    }
  }
}

/** The integers from `start` up to, not including, `end`. */
function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}
