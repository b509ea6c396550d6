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
import { ProtocolError } from '../../protocol/errors.js';
import type {
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  AlterPartitionRequest,
  AlterPartitionResponse,
  BrokerRegistrationRequest,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from '../../protocol/messages.js';
import type { BrokerConfig } from '../config.js';
import {
  ControllerClosedError,
  InvalidPartitionsError,
  InvalidTopicNameError,
  PartitionStorageError,
  TopicExistsError,
  UnknownSettingError,
  UnknownTopicOrPartitionError,
} from '../errors.js';
import type { Logger } from '../log.js';
import type { AclChange, MetadataChange, MetadataEntry, PartitionChanged, RegisteredListener } from '../metadata/changes.js';
import { isSecurityProtocol } from '../security/listeners.js';
import type { BrokerRegistration, MetadataImage, TopicImage } from '../metadata/image.js';
import type { MetadataStore } from '../metadata/store.js';
import { isInternalTopic, topicNameProblem } from '../metadata/topic-name.js';
import type { HeartbeatAnswer, HeartbeatRequest } from '../cluster/controller-channel.js';
import type { ApplyReport, PartitionFailure } from '../replication/replica-manager.js';
import { isTopicSetting, logConfigFor } from '../topic-settings.js';
import { assert } from '../world/assert.js';
import type { Clock, TimerHandle } from '../world/clock.js';
import type { Rng } from '../world/rng.js';
import { alterPartitionDecision } from './alter-partition.js';
import { BrokerSessions } from './broker-sessions.js';
import { changesForFencing, changesForLeaderless, uncleanElections, type UncleanAllowed } from './election.js';
import { electionsDecision, listReassignments, reassignmentsDecision, throttleCleared } from './partition-requests.js';
import { scramAlterDecision } from '../security/scram-admin.js';
import { createAclsDecision, deleteAclsDecision } from '../acl/acl-admin.js';
import { bindingOfChange } from '../metadata/apply-acl.js';
import { describeBinding } from '../acl/authorizer.js';
import { clientQuotaAlterDecision } from '../quota/quota-admin.js';
import { placeReplicas, type PlacementBroker } from './placement.js';
import { imbalanceElections } from './preferred-leader.js';
import { reassignmentCompletions } from './reassignment.js';
import { SerialQueue } from '../serial-queue.js';

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

/** The largest producer id block one request gets (Kafka hands out 1000 at a time). */
export const MAX_PRODUCER_ID_BLOCK = 1000;

export class Controller {
  readonly #store: MetadataStore;
  readonly #config: BrokerConfig;
  readonly #rng: Rng;
  readonly #logger: Logger;
  readonly #local: LocalReplicas | null;
  readonly #clock: Clock | null;
  readonly #sessions: BrokerSessions | null;
  #sessionCheck: TimerHandle | null = null;
  #imbalanceCheck: TimerHandle | null = null;
  /** Brokers in controlled shutdown: the epoch that asked, and the metadata version it must apply before it may stop. */
  readonly #shuttingDown = new Map<number, { brokerEpoch: number; version: number }>();
  readonly #queue = new SerialQueue();
  #closed = false;

  /**
   * `clock`: where broker sessions run; without one (tests that only manage
   * topics) no broker registers or is fenced. With `local`, the broker in
   * this process (node.id) is never fenced by a missed session: it lives
   * exactly as long as this controller does.
   */
  constructor(opts: { store: MetadataStore; config: BrokerConfig; rng: Rng; logger: Logger; local: LocalReplicas | null; clock?: Clock }) {
    this.#store = opts.store;
    this.#config = opts.config;
    this.#rng = opts.rng;
    this.#logger = opts.logger;
    this.#local = opts.local;
    this.#clock = opts.clock ?? null;
    this.#sessions = opts.clock === undefined ? null : new BrokerSessions(opts.clock, opts.config.brokerSessionTimeoutMs);
    if (this.#sessions !== null) {
      // Brokers the image shows live get a session now: one that died while no controller ran is fenced a timeout later.
      for (const broker of this.#store.image.brokers.values()) if (!broker.fenced && !this.#isLocal(broker.id)) this.#sessions.touch(broker.id, broker.incarnationId);
      this.#scheduleSessionCheck();
      this.#scheduleImbalanceCheck();
      // A move whose last ISR change was committed just before the previous controller stopped completes now
      // (a controller of a cluster; the embedded one's local replica manager is not started yet, and its next ISR change or heartbeat does it).
      if (this.#local === null) this.#serially(() => this.#completeReassignments()).catch((error: unknown) => this.#logger.error({ err: error }, 'could not complete reassignments at start'));
    }
  }

  /** The metadata as committed. */
  get image(): MetadataImage {
    return this.#store.image;
  }

  /**
   * BrokerRegistration: commits the broker's (new) registration, fenced, and
   * resolves with its epoch (the entry's version). Refused when the broker's
   * data belongs to another cluster, or another incarnation of the id holds
   * a live session.
   */
  registerBroker(request: Omit<BrokerRegistrationRequest, 'clusterId'> & { clusterId: string }): Promise<{ brokerEpoch: number }> {
    return this.#serially(async () => {
      const sessions = this.#requireSessions();
      const clusterId = this.#store.image.clusterId;
      if (request.clusterId !== '' && request.clusterId !== clusterId) {
        throw new ProtocolError('INCONSISTENT_CLUSTER_ID', `broker ${request.brokerId} belongs to cluster ${request.clusterId}, this controller runs cluster ${clusterId}; point it at its own controller, or give it an empty data directory`);
      }
      const live = sessions.liveIncarnation(request.brokerId);
      if (live !== null && live !== request.incarnationId) {
        throw new ProtocolError('DUPLICATE_BROKER_REGISTRATION', `broker ${request.brokerId} is registered by another live process (incarnation ${live}); two brokers may not share node id ${request.brokerId}, and a restarted one is accepted once the old session times out (${this.#config.brokerSessionTimeoutMs} ms)`);
      }
      // The old incarnation is not fenced yet (its session ended but the fencing is still queued, or it ended with this controller's restart):
      // fence it in the same commit, moving its leaderships and ISR places, as its session's end would. The new process may have lost what
      // the old one had not fsynced; leading on in the old epoch would let followers truncate committed records to its shorter log.
      const previous = this.#store.image.brokers.get(request.brokerId);
      const fencing = previous !== undefined && !previous.fenced && !this.#isLocal(request.brokerId) ? changesForFencing(this.#store.image, request.brokerId, this.#liveWith(null), this.#unclean) : [];
      // The registration goes last: its version is the broker's epoch.
      const listeners = registeredListeners(request);
      const brokerEpoch = await this.#commitOnly([...fencing, { kind: 'brokerRegistered', brokerId: request.brokerId, incarnationId: request.incarnationId, host: request.host, port: request.port, rack: request.rack, ...(listeners.length === 0 ? {} : { listeners }) }]);
      if (!this.#isLocal(request.brokerId)) sessions.touch(request.brokerId, request.incarnationId);
      this.#logger.info({ event: 'brokerRegistered', brokerId: request.brokerId, brokerEpoch, host: request.host, port: request.port, rack: request.rack }, `broker ${request.brokerId} registered at ${request.host}:${request.port} with epoch ${brokerEpoch}`);
      return { brokerEpoch };
    });
  }

  /**
   * BrokerHeartbeat: keeps the broker's session; unfences it once it has
   * applied the metadata up to its own registration (so it knows what it
   * hosts), and gives partitions without a leader a chance to elect it.
   *
   * With `wantShutDown` (controlled shutdown, as Kafka's): the broker is
   * fenced now, in one commit with its leaderships moving to other ISR
   * members and its removal from ISRs, its session ends, and it is never
   * unfenced again in this epoch. The answer says `shouldShutDown` once the
   * broker has applied that commit, so it stops leading before it stops
   * answering: producers are told NOT_LEADER_OR_FOLLOWER and move, instead
   * of waiting a session timeout on a dead leader.
   */
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatAnswer> {
    return this.#serially(async () => {
      const sessions = this.#requireSessions();
      const broker = this.#currentBroker(request.brokerId, request.brokerEpoch);
      if (request.wantShutDown === true && !this.#isLocal(broker.id)) return this.#shutDown(broker, request.metadataVersion);
      if (this.#shuttingDown.get(broker.id)?.brokerEpoch === broker.epoch) return { fenced: true, shouldShutDown: false };
      if (!this.#isLocal(broker.id)) {
        // A broker fenced for a missed session that heartbeats again is unfenced once caught up, as Kafka's.
        sessions.touch(broker.id, broker.incarnationId);
      }
      if (!broker.fenced) return { fenced: false, shouldShutDown: false };
      if (request.metadataVersion < broker.epoch) return { fenced: true, shouldShutDown: false };
      const unfenced: MetadataChange = { kind: 'brokerUnfenced', brokerId: broker.id, brokerEpoch: broker.epoch };
      const live = this.#liveWith(broker.id);
      const elections = changesForLeaderless(this.#store.image, live, this.#unclean);
      this.#warnUnclean(elections, `broker ${broker.id} is back`);
      await this.#commit([unfenced, ...elections]);
      await this.#completeReassignments();
      this.#logger.info({ event: 'brokerUnfenced', brokerId: broker.id, brokerEpoch: broker.epoch, leadersElected: elections.length }, `broker ${broker.id} is caught up and unfenced${elections.length > 0 ? `; it leads ${elections.length} partition(s) that had no leader` : ''}`);
      return { fenced: false, shouldShutDown: false };
    });
  }

  /**
   * The broker's connection to this controller closed. A killed broker's
   * kernel closes its sockets at once, so the controller need not wait a
   * whole session timeout to move its leaderships: the session now ends
   * `broker.session.disconnect.timeout.ms` from here unless the broker
   * heartbeats again (over a new connection). A paused or cut-off broker
   * closes nothing and is fenced at the session timeout as before.
   */
  connectionLost(brokerId: number, brokerEpoch: number): void {
    const sessions = this.#sessions;
    const graceMs = this.#config.brokerSessionDisconnectTimeoutMs;
    if (sessions === null || graceMs === 0 || this.#isLocal(brokerId)) return;
    const broker = this.#store.image.brokers.get(brokerId);
    if (broker === undefined || broker.epoch !== brokerEpoch || broker.fenced) return;
    if (sessions.expireWithin(brokerId, broker.incarnationId, graceMs)) {
      this.#logger.info({ event: 'brokerDisconnected', brokerId, brokerEpoch, graceMs }, `broker ${brokerId} closed its connection to the controller; it is fenced in ${graceMs} ms unless it heartbeats again`);
    }
  }

  /** Runs in the queue: the controlled-shutdown half of `heartbeat`. */
  async #shutDown(broker: BrokerRegistration, appliedVersion: number): Promise<HeartbeatAnswer> {
    this.#requireSessions().end(broker.id);
    let pending = this.#shuttingDown.get(broker.id);
    if (pending === undefined || pending.brokerEpoch !== broker.epoch) {
      let moved = 0;
      if (!broker.fenced) {
        const partitionChanges = changesForFencing(this.#store.image, broker.id, this.#liveWith(null));
        await this.#commit([{ kind: 'brokerFenced', brokerId: broker.id, brokerEpoch: broker.epoch }, ...partitionChanges]);
        moved = partitionChanges.length;
      }
      pending = { brokerEpoch: broker.epoch, version: this.#store.image.version };
      this.#shuttingDown.set(broker.id, pending);
      this.#logger.info({ event: 'controlledShutdown', brokerId: broker.id, brokerEpoch: broker.epoch, partitionsChanged: moved }, `broker ${broker.id} is shutting down: fenced, ${moved} partition(s) changed leader or ISR`);
    }
    return { fenced: true, shouldShutDown: appliedVersion >= pending.version };
  }

  /** AlterPartition: ISR changes proposed by partition leaders, each checked against the current state (alter-partition.ts). */
  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#serially(async () => {
      this.#currentBroker(request.brokerId, request.brokerEpoch);
      const image = this.#store.image;
      const decision = alterPartitionDecision(image, request);
      if (decision.changes.length > 0) {
        await this.#commit(decision.changes);
        this.#logger.info({ event: 'isrChanged', brokerId: request.brokerId, partitions: decision.changes.map((c) => `${c.name}-${c.partition}:[${c.isr.join(',')}]`) }, `ISR changed for ${decision.changes.length} partition(s) at the request of broker ${request.brokerId}`);
        await this.#completeReassignments();
      }
      return decision.response;
    });
  }

  /**
   * AllocateProducerIds (Kafka's, key 67): the next block of `count`
   * producer ids for the registered broker, committed as a metadata entry
   * before it is answered, so a block is never handed out twice (not after a
   * controller failover either: the next block starts where the committed
   * ones end, metadata/image.ts `nextProducerId`).
   */
  allocateProducerIds(request: { brokerId: number; brokerEpoch: number; count: number }): Promise<{ firstProducerId: number; count: number }> {
    return this.#serially(async () => {
      this.#currentBroker(request.brokerId, request.brokerEpoch);
      const count = Math.max(1, Math.min(request.count, MAX_PRODUCER_ID_BLOCK));
      const firstProducerId = this.#store.image.nextProducerId ?? 0;
      if (firstProducerId + count > Number.MAX_SAFE_INTEGER) throw new ProtocolError('UNKNOWN_SERVER_ERROR', 'the cluster has handed out every producer id');
      await this.#commitOnly([{ kind: 'producerIdsAllocated', brokerId: request.brokerId, brokerEpoch: request.brokerEpoch, firstProducerId, count }]);
      this.#logger.info({ event: 'producerIdsAllocated', brokerId: request.brokerId, firstProducerId, count }, `producer ids ${firstProducerId}..${firstProducerId + count - 1} handed to broker ${request.brokerId}`);
      return { firstProducerId, count };
    });
  }

  /**
   * MetadataChanges: the entries after `afterVersion` (at most
   * `maxEntries`), at once if there are any, else as soon as one is
   * committed or `maxWaitMs` passes (then none).
   */
  async changes(afterVersion: number, opts: { maxWaitMs: number; maxEntries: number; signal?: AbortSignal; broker?: { brokerId: number; brokerEpoch: number } | null }): Promise<{ latestVersion: number; entries: MetadataEntry[] }> {
    // A broker follows as its current registration (a stale one registers again); -1 is a tool that says it is no broker.
    const broker = opts.broker ?? null;
    if (broker !== null && broker.brokerId !== -1) this.#currentBroker(broker.brokerId, broker.brokerEpoch);
    else if (broker !== null && broker.brokerEpoch !== -1) throw new ProtocolError('INVALID_REQUEST', `broker id -1 (a tool) with broker epoch ${broker.brokerEpoch}: a tool sends -1 for both`);
    if (this.#store.image.version <= afterVersion && opts.maxWaitMs > 0 && this.#clock !== null) {
      const wait = new AbortController();
      const timer = this.#clock.schedule(opts.maxWaitMs, () => wait.abort(new Error('maxWaitMs passed')));
      const onAbort = (): void => wait.abort(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await this.#store.waitForVersion(afterVersion, wait.signal);
      } catch (error) {
        if (!wait.signal.aborted || opts.signal?.aborted === true) throw error;
      } finally {
        timer.cancel();
        opts.signal?.removeEventListener('abort', onAbort);
      }
    }
    const entries = this.#store.image.version > afterVersion ? await this.#store.readFrom(afterVersion, opts.maxEntries) : [];
    return { latestVersion: this.#store.image.version, entries };
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
      // Turning unclean election on lets a leaderless partition elect now (Kafka does too), not at the next broker change.
      const after = this.#store.image;
      const topic = after.topics.get(name);
      if (topic === undefined || !this.#unclean(topic)) return;
      const elections = changesForLeaderless({ ...after, topics: new Map([[name, topic]]) }, this.#liveWith(null), this.#unclean);
      if (elections.length === 0) return;
      this.#warnUnclean(elections, `unclean.leader.election.enable was turned on for ${name}`);
      await this.#commit(elections);
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
      const assignments = this.#assign(count - current, image.replicationFactor);
      if (opts.validateOnly === true) return;
      const report = await this.#commit([{ kind: 'partitionsAdded', name, topicId: image.topicId, partitions: count, assignments }]);
      this.#logger.info({ event: 'partitionsAdded', topic: name, from: current, to: count }, `topic ${name} grew from ${current} to ${count} partitions`);
      const failures = failuresOf(report, name);
      if (failures.length > 0) {
        throw new PartitionStorageError(`topic ${name} now has ${count} partitions, but ${describeFailures(failures, 'could not be created')} (offline until the broker restarts and creates it)`);
      }
    });
  }

  /**
   * AlterPartitionReassignments: starts, replaces or (null target) cancels
   * moves of replicas (reassignment.ts), per partition, and sets the
   * reassignment throttle; a move whose targets are all in the ISR already
   * completes at once.
   */
  alterPartitionReassignments(request: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse> {
    return this.#serially(async () => {
      const decision = reassignmentsDecision(this.#store.image, request, this.#liveWith(null));
      if (decision.changes.length > 0) {
        await this.#commit(decision.changes);
        for (const change of decision.changes) {
          if (change.kind === 'partitionChanged') this.#logger.info({ event: 'reassignment', topic: change.name, partition: change.partition, replicas: change.replicas, adding: change.addingReplicas ?? [], removing: change.removingReplicas ?? [] }, `${change.name}-${change.partition}: replicas [${change.replicas.join(',')}]${change.addingReplicas === undefined ? '' : `, adding [${change.addingReplicas.join(',')}], removing [${(change.removingReplicas ?? []).join(',')}]`}`);
          else if (change.kind === 'reassignmentThrottleChanged') this.#logger.info({ event: 'reassignmentThrottle', bytesPerSecond: change.bytesPerSecond }, change.bytesPerSecond === 0 ? 'reassignment throttle removed' : `reassignment throttle set to ${change.bytesPerSecond} bytes/s`);
        }
        // A cancel ends a move as a completion does: the throttle goes with the last one.
        await this.#completeReassignments(request.topics.some((t) => t.partitions.some((p) => p.replicas === null)));
      }
      return decision.response;
    });
  }

  /** ListPartitionReassignments: the moves in progress, from the committed metadata. */
  async listPartitionReassignments(request: ListPartitionReassignmentsRequest): Promise<ListPartitionReassignmentsResponse> {
    return listReassignments(this.#store.image, request);
  }

  /** ElectLeaders: preferred (or unclean) elections on demand, per partition (preferred-leader.ts). */
  electLeaders(request: ElectLeadersRequest): Promise<ElectLeadersResponse> {
    return this.#serially(async () => {
      const decision = electionsDecision(this.#store.image, request, this.#liveWith(null));
      if (decision.changes.length > 0) {
        await this.#commit(decision.changes);
        this.#logger.info({ event: 'leadersElected', electionType: request.electionType, partitions: decision.changes.length }, `${decision.changes.length} partition(s) got their ${request.electionType === 0 ? 'preferred' : 'unclean'} leader on request`);
      }
      return decision.response;
    });
  }

  /** AlterUserScramCredentials: per user, every change or none (security/scram-admin.ts), committed together. */
  alterUserScramCredentials(request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponse> {
    return this.#serially(async () => {
      const decision = scramAlterDecision(this.#store.image, request);
      if (decision.changes.length > 0) {
        await this.#commit(decision.changes);
        const users = [...new Set(decision.changes.map((c) => (c as { user: string }).user))];
        this.#logger.info({ event: 'scramCredentialsChanged', users }, `SCRAM credentials changed for ${users.length} user(s): ${users.join(', ')}`);
      }
      return decision.response;
    });
  }

  /** CreateAcls: per binding (acl/acl-admin.ts); the new ones committed together. */
  createAcls(request: CreateAclsRequest): Promise<CreateAclsResponse> {
    return this.#serially(async () => {
      const decision = createAclsDecision(this.#store.image, request);
      await this.#commitAcls(decision.changes, 'aclsCreated', 'added');
      return decision.response;
    });
  }

  /** DeleteAcls: per filter (acl/acl-admin.ts); every matching binding removed together. */
  deleteAcls(request: DeleteAclsRequest): Promise<DeleteAclsResponse> {
    return this.#serially(async () => {
      const decision = deleteAclsDecision(this.#store.image, request);
      await this.#commitAcls(decision.changes, 'aclsDeleted', 'removed');
      return decision.response;
    });
  }

  async #commitAcls(changes: AclChange[], event: string, verb: string): Promise<void> {
    if (changes.length === 0) return;
    await this.#commit(changes);
    const bindings = changes.map((c) => describeBinding(bindingOfChange(c)));
    this.#logger.info({ event, bindings }, `${changes.length} ACL binding(s) ${verb}: ${bindings.join('; ')}`);
  }

  /** AlterClientQuotas: each entry on its own (quota/quota-admin.ts); those that pass committed together, unless validateOnly. */
  alterClientQuotas(request: AlterClientQuotasRequest): Promise<AlterClientQuotasResponse> {
    return this.#serially(async () => {
      const decision = clientQuotaAlterDecision(this.#store.image, request);
      if (decision.changes.length > 0) {
        await this.#commit(decision.changes);
        const entities = decision.changes.map((c) => ({ user: c.user, clientId: c.clientId, quotas: c.quotas }));
        this.#logger.info({ event: 'clientQuotasChanged', entities }, `client quotas changed for ${entities.length} entit${entities.length === 1 ? 'y' : 'ies'}`);
      }
      return decision.response;
    });
  }

  /** Refuses new changes and waits for those queued. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#sessionCheck?.cancel();
    this.#imbalanceCheck?.cancel();
    await this.#queue.idle();
  }

  #requireSessions(): BrokerSessions {
    if (this.#sessions === null) throw new ProtocolError('NOT_CONTROLLER', 'this node runs no broker sessions');
    return this.#sessions;
  }

  #isLocal(brokerId: number): boolean {
    return this.#local !== null && brokerId === this.#config.nodeId;
  }

  /** The registration `brokerEpoch` names, or STALE_BROKER_EPOCH. */
  #currentBroker(brokerId: number, brokerEpoch: number): BrokerRegistration {
    const broker = this.#store.image.brokers.get(brokerId);
    if (broker === undefined) throw new ProtocolError('STALE_BROKER_EPOCH', `broker ${brokerId} is not registered; register first`);
    if (broker.epoch !== brokerEpoch) throw new ProtocolError('STALE_BROKER_EPOCH', `broker ${brokerId} is registered with epoch ${broker.epoch}, not ${brokerEpoch}; register again`);
    return broker;
  }

  /** A topic's effective unclean.leader.election.enable: its own setting over the broker-wide `log.` default. */
  readonly #unclean: UncleanAllowed = (topic) => {
    try {
      return logConfigFor(this.#config, topic.configs).uncleanLeaderElectionEnable;
    } catch {
      return false; // settings are validated when committed; an unreadable one never allows losing records
    }
  };

  /** Says loudly which elections among `changes` are unclean: acknowledged records may be lost there. */
  #warnUnclean(changes: readonly PartitionChanged[], why: string): void {
    for (const change of uncleanElections(this.#store.image, changes)) {
      this.#logger.warn({ event: 'uncleanLeaderElection', topic: change.name, partition: change.partition, leader: change.leader, leaderEpoch: change.leaderEpoch }, `${change.name}-${change.partition}: no in-sync replica is alive (${why}); broker ${change.leader}, outside the ISR, leads it now (unclean.leader.election.enable=true): records it lacks are lost`);
    }
  }

  /** Who may lead or join an ISR: unfenced brokers, plus `also`, plus (embedded) this node if it never registered. */
  #liveWith(also: number | null): (id: number) => boolean {
    const { brokers } = this.#store.image;
    return (id) => id === also || brokers.get(id)?.fenced === false || (this.#isLocal(id) && !brokers.has(id));
  }

  #scheduleSessionCheck(): void {
    if (this.#closed || this.#clock === null) return;
    const shortest = Math.min(this.#config.brokerSessionTimeoutMs, this.#config.brokerSessionDisconnectTimeoutMs || Infinity);
    const every = Math.max(10, Math.min(250, Math.floor(shortest / 4)));
    this.#sessionCheck = this.#clock.schedule(every, () => {
      const expired = this.#sessions?.takeExpired() ?? [];
      const done = expired.length === 0 ? Promise.resolve() : this.#serially(() => this.#fenceExpired(expired));
      done.catch((error: unknown) => this.#logger.error({ err: error, brokers: expired }, 'could not fence brokers whose session expired; retrying'))
        .finally(() => this.#scheduleSessionCheck());
    });
  }

  /**
   * Runs in the queue: commits the reassignments whose targets are all in
   * the ISR now; when a move ended (here, or `ended` by the caller) and none
   * is left, drops the throttle (one set ahead of any move stays).
   */
  async #completeReassignments(ended = false): Promise<void> {
    const completions = reassignmentCompletions(this.#store.image, this.#liveWith(null));
    if (completions.length > 0) {
      await this.#commit(completions);
      for (const c of completions) this.#logger.info({ event: 'reassignmentCompleted', topic: c.name, partition: c.partition, replicas: c.replicas, leader: c.leader, leaderEpoch: c.leaderEpoch }, `${c.name}-${c.partition}: reassignment complete, replicas [${c.replicas.join(',')}], leader ${c.leader} (epoch ${c.leaderEpoch})`);
    }
    const cleared = completions.length > 0 || ended ? throttleCleared(this.#store.image) : [];
    if (cleared.length > 0) {
      await this.#commit(cleared);
      this.#logger.info({ event: 'reassignmentThrottle', bytesPerSecond: 0 }, 'no reassignment left: reassignment throttle removed');
    }
  }

  /** Every leader.imbalance.check.interval.seconds (auto.leader.rebalance.enable): preferred leaders back where a broker is imbalanced. */
  #scheduleImbalanceCheck(): void {
    if (this.#closed || this.#clock === null || !this.#config.autoLeaderRebalanceEnable) return;
    this.#imbalanceCheck = this.#clock.schedule(this.#config.leaderImbalanceCheckIntervalSeconds * 1000, () => {
      this.#serially(async () => {
        const elections = imbalanceElections(this.#store.image, this.#liveWith(null), this.#config.leaderImbalancePerBrokerPercentage);
        if (elections.length === 0) return;
        await this.#commit(elections);
        this.#logger.info({ event: 'preferredLeadersElected', partitions: elections.map((c) => `${c.name}-${c.partition}:${c.leader}`) }, `leadership moved back to the preferred replica of ${elections.length} partition(s)`);
      })
        .catch((error: unknown) => this.#logger.error({ err: error }, 'the leader imbalance check failed; it runs again at the next interval'))
        .finally(() => this.#scheduleImbalanceCheck());
    });
  }

  /** Runs in the queue: fences each broker whose session expired, moving its leaderships and shrinking ISRs. */
  async #fenceExpired(expired: readonly { brokerId: number; disconnected: boolean }[]): Promise<void> {
    for (const { brokerId: id, disconnected } of expired) {
      const broker = this.#store.image.brokers.get(id);
      if (broker === undefined || broker.fenced) continue;
      const partitionChanges = changesForFencing(this.#store.image, id, this.#liveWith(null), this.#unclean);
      this.#warnUnclean(partitionChanges, `broker ${id} was fenced`);
      await this.#commit([{ kind: 'brokerFenced', brokerId: id, brokerEpoch: broker.epoch }, ...partitionChanges]);
      const leaderless = partitionChanges.filter((c) => c.leader === -1).length;
      this.#logger.warn({ event: 'brokerFenced', brokerId: id, brokerEpoch: broker.epoch, disconnected, partitionsChanged: partitionChanges.length, leaderless }, `broker ${id} ${disconnected ? `closed its connection and did not heartbeat again within ${this.#config.brokerSessionDisconnectTimeoutMs} ms` : `missed its heartbeats for ${this.#config.brokerSessionTimeoutMs} ms`} and is fenced; ${partitionChanges.length} partition(s) changed leader or ISR${leaderless > 0 ? `, ${leaderless} have no leader until a replica in their ISR returns` : ''}`);
    }
  }

  /** Commits `changes` on the version they were checked against; resolves with the last one's version. */
  async #commitOnly(changes: readonly MetadataChange[]): Promise<number> {
    const previous = this.#store.image;
    await this.#store.commit(changes, { expectedVersion: previous.version });
    if (this.#local !== null) await this.#local.apply(previous, this.#store.image);
    return this.#store.image.version;
  }

  #serially<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ControllerClosedError());
    return this.#queue.run(fn);
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
    const assignments = this.#assign(partitions, replicationFactor); // throws INVALID_REPLICATION_FACTOR naming both numbers
    for (const name of Object.keys(request.configs)) {
      if (!isTopicSetting(name)) throw new UnknownSettingError(name);
    }
    logConfigFor(this.#config, request.configs); // throws ConfigError naming the bad setting
    return { kind: 'topicCreated', name: request.name, topicId: this.#newTopicId(), partitions, replicationFactor, configs: { ...request.configs }, assignments };
  }

  /** Replicas for `count` new partitions, placed across the live brokers (placement.ts). */
  #assign(count: number, replicationFactor: number): number[][] {
    const live = this.#liveWith(null);
    const brokers: PlacementBroker[] = [...this.#store.image.brokers.values()].filter((b) => live(b.id)).map((b) => ({ id: b.id, rack: b.rack }));
    // The embedded node before it registered (a log from before brokers registered, or a test without sessions) is live too.
    if (this.#local !== null && !this.#store.image.brokers.has(this.#config.nodeId)) brokers.push({ id: this.#config.nodeId, rack: null });
    return placeReplicas({ brokers, count, replicationFactor, image: this.#store.image });
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

/** What the controller APIs' handlers call: a Controller, or (HA on etcd) whichever runs on this node while it leads. */
export type ControllerApis = Pick<Controller, 'registerBroker' | 'heartbeat' | 'connectionLost' | 'alterPartition' | 'allocateProducerIds' | 'changes' | 'clusterId'>;

/** A registration's listeners (BrokerRegistration v1), checked: each named once, a known security protocol, a real port. */
function registeredListeners(request: Pick<BrokerRegistrationRequest, 'brokerId' | 'listeners'>): RegisteredListener[] {
  const listeners = request.listeners ?? [];
  const names = new Set<string>();
  for (const l of listeners) {
    if (l.name === '' || names.has(l.name)) throw new ProtocolError('INVALID_REQUEST', `broker ${request.brokerId} registered listener "${l.name}" ${l.name === '' ? 'without a name' : 'twice'}`);
    if (!isSecurityProtocol(l.securityProtocol)) throw new ProtocolError('INVALID_REQUEST', `broker ${request.brokerId} registered listener ${l.name} with unknown security protocol "${l.securityProtocol}"`);
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535 || l.host === '') throw new ProtocolError('INVALID_REQUEST', `broker ${request.brokerId} registered listener ${l.name} at "${l.host}:${l.port}", not a host and port`);
    names.add(l.name);
  }
  return listeners.map((l) => ({ name: l.name, securityProtocol: l.securityProtocol, host: l.host, port: l.port }));
}
