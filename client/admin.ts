/**
 * Topic administration over CreateTopics, CreatePartitions, DeleteTopics,
 * Metadata, DescribeConfigs, AlterConfigs and ListOffsets, and consumer groups
 * (admin/groups.ts) with their lag (lag.ts). Every call retries what is
 * retriable (a broker restarting, a leader moving) within the client's retry
 * budget and turns a per-topic or per-partition error into a RunnelError that
 * names the topic.
 */
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type TopicMetadata } from '../protocol/messages.js';
import { errorNameOf } from '../protocol/errors.js';
import { RunnelError, clientClosed, invalidArgument } from './errors.js';
import type { Cluster } from './metadata.js';
import { listOffsets, offsetsForTimestamps } from './offsets.js';
import type { AclBinding, AclBindingFilter, Admin, DescribedConfig, OngoingReassignment, PartitionMove, PartitionOutcome, TopicDescription } from './types.js';
import type { CommittedOffset, GroupDescription, GroupListing, GroupOutcome, GroupPartitionLag, OffsetResetResult, OffsetResetSpec, PartitionLag } from './admin/group-types.js';
import { deleteGroups, describeGroup, groupLag, listGroupOffsets, listGroups, resetGroupOffsets } from './admin/groups.js';
import { describeShareGroup, type ShareGroupDescription } from './admin/share-groups.js';
import { partitionLags } from './lag.js';
import { deleteRecords } from './admin/delete-records.js';
import { deleteScramUser, describeScramUsers, scramMechanism, upsertScramUser, type ScramUser } from './admin/scram-users.js';
import { createAcls, deleteAcls, describeAcls } from './admin/acls.js';
import { alterClientQuotas, describeClientQuotas, type ClientQuotaAlteration, type ClientQuotaDescription, type ClientQuotaEntity } from './admin/client-quotas.js';
import { deadLetterTopics, type DeadLetterTopicUse } from './admin/dead-letters.js';

export class RunnelAdmin implements Admin {
  readonly #cluster: Cluster;
  readonly #timeoutMs: number;
  readonly #onClosed: () => void;

  constructor(cluster: Cluster, timeoutMs: number, onClosed: () => void) {
    this.#cluster = cluster;
    this.#timeoutMs = timeoutMs;
    this.#onClosed = onClosed;
  }

  #retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    if (this.#cluster.closed) return Promise.reject(clientClosed('The admin client'));
    return this.#cluster.withRetries(what, attempt);
  }

  async createTopic(t: { name: string; partitions?: number; replicationFactor?: number; config?: Record<string, string> }): Promise<void> {
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string') throw invalidArgument('createTopic takes { name, partitions?, replicationFactor?, config? }');
    const configs = Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value: String(value) }));
    const topic = { name: t.name, partitions: t.partitions ?? 1, replicationFactor: t.replicationFactor ?? 1, configs };
    /** An earlier attempt of this call whose outcome is unknown (its answer was lost, or it timed out): it may have created the topic. */
    let unanswered: RunnelError | null = null;
    await this.#retrying(`creating topic "${t.name}"`, async () => {
      let res;
      try {
        res = await this.#cluster.anyConnection().request('CreateTopics', { topics: [topic], timeoutMs: this.#timeoutMs, validateOnly: false });
      } catch (err) {
        if (err instanceof RunnelError && OUTCOME_UNKNOWN.has(err.errorName)) unanswered = err;
        throw err;
      }
      const r = res.topics.find((x) => x.name === t.name);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's CreateTopics answer left out "${t.name}".`);
      const error = errorNameOf(r.errorCode);
      if (error === 'NONE') return;
      if (error === 'TOPIC_ALREADY_EXISTS' && unanswered !== null) {
        // Not success: another client may have made it, with other settings. Not a plain "exists" either: it may be ours.
        throw new RunnelError('TOPIC_ALREADY_EXISTS', `Topic "${t.name}" exists now, but an earlier attempt of this same createTopic call got no answer (${(unanswered as RunnelError).reason}), so this call may have created it itself, or another client did; describeTopic("${t.name}") shows whether its partitions and settings are the ones asked for.`, { retriable: false });
      }
      if (error === 'REQUEST_TIMED_OUT') unanswered = adminError(r.errorCode, `Creating topic "${t.name}"`, r.errorMessage);
      throw adminError(r.errorCode, `Creating topic "${t.name}"`, r.errorMessage);
    });
    this.#cluster.invalidate(t.name);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.#retrying(`deleting topic "${name}"`, async () => {
      const res = await this.#cluster.anyConnection().request('DeleteTopics', { topics: [name], timeoutMs: this.#timeoutMs });
      const r = res.topics.find((x) => x.name === name);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's DeleteTopics answer left out "${name}".`);
      if (errorNameOf(r.errorCode) !== 'NONE') throw adminError(r.errorCode, `Deleting topic "${name}"`, r.errorMessage);
    });
    this.#cluster.invalidate(name);
  }

  async createPartitions(t: { topic: string; count: number }): Promise<void> {
    if (t === null || typeof t !== 'object' || typeof t.topic !== 'string' || !Number.isInteger(t.count)) throw invalidArgument('createPartitions takes { topic, count }');
    let attempts = 0;
    await this.#retrying(`adding partitions to "${t.topic}"`, async () => {
      attempts++;
      const res = await this.#cluster.anyConnection().request('CreatePartitions', { topics: [{ name: t.topic, count: t.count }], timeoutMs: this.#timeoutMs, validateOnly: false });
      const r = res.results.find((x) => x.name === t.topic);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's CreatePartitions answer left out "${t.topic}".`);
      const error = errorNameOf(r.errorCode);
      if (error === 'NONE') return;
      // A retry after a lost answer finds its own earlier success: the topic already has `count`.
      if (attempts > 1 && error === 'INVALID_PARTITIONS') {
        const now = await this.#topicMetadata(t.topic, `Adding partitions to "${t.topic}"`);
        if (now.partitions.length === t.count) return;
      }
      // A storage error here comes after the new count was committed: trying again cannot help.
      const committed = error === 'KAFKA_STORAGE_ERROR' ? { retriable: false } : undefined;
      throw adminError(r.errorCode, `Adding partitions to "${t.topic}"`, r.errorMessage, committed);
    });
    this.#cluster.invalidate(t.topic);
  }

  async listTopics(opts?: { includeInternal?: boolean }): Promise<string[]> {
    const includeInternal = opts?.includeInternal ?? false;
    const res = await this.#retrying('listing topics', () => this.#cluster.fetchMetadata(null, { includeInternal }));
    // A broker older than Metadata v1 lists internal topics regardless: hide them here too.
    return res.topics.filter((t) => includeInternal || !(t.isInternal || t.name.startsWith('__'))).map((t) => t.name).sort();
  }

  /** One Metadata request for one topic; retrying is the caller's (one budget, not one inside another). */
  async #topicMetadata(name: string, context: string): Promise<TopicMetadata> {
    const res = await this.#cluster.fetchMetadata([name]);
    const t = res.topics.find((x) => x.name === name);
    if (t === undefined) throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" does not exist.`, { retriable: false });
    if (errorNameOf(t.errorCode) !== 'NONE') throw adminError(t.errorCode, context);
    return t;
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const [meta, configs] = await Promise.all([
      this.#retrying(`describing topic "${name}"`, () => this.#topicMetadata(name, `Describing topic "${name}"`)),
      this.describeConfigs(name),
    ]);
    const overrides: Record<string, string> = {};
    for (const c of configs) if (c.source === 'topic' && c.value !== null) overrides[c.name] = c.value;
    return {
      name,
      partitions: [...meta.partitions]
        .sort((a, b) => a.partition - b.partition)
        .map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr, leaderEpoch: p.leaderEpoch, offlineReplicas: p.offlineReplicas })),
      configs: overrides,
    };
  }

  async describeConfigs(topic: string): Promise<DescribedConfig[]> {
    return this.#retrying(`describing the configuration of "${topic}"`, async () => {
      const res = await this.#cluster.anyConnection().request('DescribeConfigs', { resources: [{ type: 'topic', name: topic, configNames: null }] });
      const r = res.results.find((x) => x.name === topic);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's DescribeConfigs answer left out "${topic}".`);
      if (errorNameOf(r.errorCode) !== 'NONE') throw adminError(r.errorCode, `Describing the configuration of "${topic}"`, r.errorMessage);
      return r.configs.map((c) => ({ name: c.name, value: c.value, source: c.source, readOnly: c.readOnly }));
    });
  }

  async alterConfigs(topic: string, config: Record<string, string | null>): Promise<void> {
    if (config === null || typeof config !== 'object') throw invalidArgument('alterConfigs takes (topic, { name: value | null })');
    const configs = Object.entries(config).map(([name, value]) => ({ name, value: value === null ? null : String(value) }));
    await this.#retrying(`altering the configuration of "${topic}"`, async () => {
      const res = await this.#cluster.anyConnection().request('AlterConfigs', { resources: [{ type: 'topic', name: topic, configs }], validateOnly: false });
      const r = res.results.find((x) => x.name === topic);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's AlterConfigs answer left out "${topic}".`);
      if (errorNameOf(r.errorCode) !== 'NONE') throw adminError(r.errorCode, `Altering the configuration of "${topic}"`, r.errorMessage);
    });
  }

  async listOffsets(topic: string): Promise<{ partition: number; earliest: number; latest: number }[]> {
    return this.#retrying(`listing offsets of "${topic}"`, async () => {
      const info = await this.#topicMetadata(topic, `Listing offsets of "${topic}"`);
      const partitions = info.partitions.map((p) => p.partition).sort((a, b) => a - b);
      const [earliest, latest] = await Promise.all([
        listOffsets(this.#cluster, topic, partitions.map((partition) => ({ partition, timestamp: EARLIEST_TIMESTAMP }))),
        listOffsets(this.#cluster, topic, partitions.map((partition) => ({ partition, timestamp: LATEST_TIMESTAMP }))),
      ]);
      return partitions.map((partition) => ({ partition, earliest: earliest.get(partition)!, latest: latest.get(partition)! }));
    });
  }

  async deleteRecords(topic: string, partitions: readonly { partition: number; offset: number }[]): Promise<{ partition: number; lowWatermark: number }[]> {
    if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('deleteRecords() takes a topic name');
    if (!Array.isArray(partitions) || partitions.some((p) => p === null || typeof p !== 'object' || !Number.isInteger(p.partition) || p.partition < 0 || !Number.isSafeInteger(p.offset) || p.offset < -1)) {
      throw invalidArgument('deleteRecords() takes [{ partition, offset }] with a non-negative partition and an offset >= 0 (or -1: everything up to the high watermark)');
    }
    if (new Set(partitions.map((p) => p.partition)).size !== partitions.length) throw invalidArgument('deleteRecords() names each partition once');
    if (partitions.length === 0) return [];
    return this.#retrying(`deleting records of "${topic}"`, () => deleteRecords(this.#cluster, topic, partitions, this.#timeoutMs));
  }

  listDeadLetterTopics(): Promise<DeadLetterTopicUse[]> {
    return this.#open(() => deadLetterTopics(this.#cluster));
  }

  async offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number | null> {
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw invalidArgument(`timestampMs must be a non-negative integer (ms since the epoch), got ${timestampMs}`);
    return this.#retrying(`looking up the offset of ${topic}-${partition} at ${timestampMs}`, async () => {
      const offsets = await offsetsForTimestamps(this.#cluster, topic, [{ partition, timestamp: timestampMs }]);
      const offset = offsets.get(partition)!;
      return offset < 0 ? null : offset;
    });
  }

  async alterPartitionReassignments(moves: readonly PartitionMove[], opts?: { throttleBytesPerSecond?: number }): Promise<PartitionOutcome[]> {
    if (!Array.isArray(moves) || moves.some((m) => m === null || typeof m !== 'object' || typeof m.topic !== 'string' || !Number.isInteger(m.partition) || (m.replicas !== null && !Array.isArray(m.replicas)))) {
      throw invalidArgument('alterPartitionReassignments takes [{ topic, partition, replicas: number[] | null }]');
    }
    const throttle = opts?.throttleBytesPerSecond ?? -1;
    if (!Number.isSafeInteger(throttle) || throttle < -1) throw invalidArgument(`throttleBytesPerSecond must be a whole number of bytes per second (0 removes the throttle), got ${throttle}`);
    const topics = groupByTopic(moves, (m) => ({ partitionIndex: m.partition, replicas: m.replicas === null ? null : [...m.replicas] }));
    const res = await this.#retrying('reassigning partitions', async () => {
      const r = await this.#cluster.anyConnection().request('AlterPartitionReassignments', { timeoutMs: this.#timeoutMs, throttleBytesPerSecond: throttle, topics: topics.map(([name, partitions]) => ({ name, partitions })) });
      if (errorNameOf(r.errorCode) !== 'NONE') throw adminError(r.errorCode, 'Reassigning partitions', r.errorMessage);
      return r;
    });
    // Answered per topic in request order, partitions in request order: matched by position (a partition named twice gets both answers).
    return topics.flatMap(([name, partitions], i) => {
      const answered = res.responses[i]?.name === name ? res.responses[i]!.partitions : [];
      return partitions.map((p, j) => outcomeOf({ topic: name, partition: p.partitionIndex }, answered[j]?.partitionIndex === p.partitionIndex ? answered[j] : undefined));
    });
  }

  async listPartitionReassignments(opts?: { partitions?: readonly { topic: string; partition: number }[]; progress?: boolean }): Promise<{ throttleBytesPerSecond: number; reassignments: OngoingReassignment[] }> {
    const topics = opts?.partitions === undefined ? null : groupByTopic(opts.partitions, (p) => p.partition).map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const res = await this.#retrying('listing partition reassignments', async () => {
      const r = await this.#cluster.anyConnection().request('ListPartitionReassignments', { timeoutMs: this.#timeoutMs, topics });
      if (errorNameOf(r.errorCode) !== 'NONE') throw adminError(r.errorCode, 'Listing partition reassignments', r.errorMessage);
      return r;
    });
    const reassignments: OngoingReassignment[] = res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas, isr: p.isr, leader: p.leader })));
    if (opts?.progress === true && reassignments.length > 0) {
      await this.#cluster.fetchMetadata(null); // every broker's address
      await Promise.all(reassignments.map(async (r) => {
        const ends = await Promise.all(r.replicas.map((id) => this.#replicaLogEnd(id, r.topic, r.partition)));
        r.logEndOffsets = Object.fromEntries(r.replicas.map((id, i) => [id, ends[i]!]));
      }));
    }
    return { throttleBytesPerSecond: res.throttleBytesPerSecond, reassignments };
  }

  /** Broker `id`'s own log end for the partition (OffsetForLeaderEpoch as Kafka's debugging replica, -2), or null if it cannot say. */
  async #replicaLogEnd(id: number, topic: string, partition: number): Promise<number | null> {
    try {
      const res = await this.#cluster.broker(id).request('OffsetForLeaderEpoch', { replicaId: -2, topics: [{ name: topic, partitions: [{ partition, currentLeaderEpoch: -1, leaderEpoch: -1 }] }] });
      const p = res.topics[0]?.partitions[0];
      return p === undefined || errorNameOf(p.errorCode) !== 'NONE' ? null : p.endOffset;
    } catch {
      return null; // a broker that is down has no progress to report; the move waits for it
    }
  }

  async describeCluster(): Promise<{ controllerId: number; brokers: { id: number; host: string; port: number; rack: string | null }[] }> {
    const res = await this.#retrying('describing the cluster', () => this.#cluster.fetchMetadata([]));
    return { controllerId: res.controllerId, brokers: res.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.id - b.id) };
  }

  async electLeaders(opts?: { type?: 'preferred' | 'unclean'; partitions?: readonly { topic: string; partition: number }[] }): Promise<PartitionOutcome[]> {
    const type = opts?.type ?? 'preferred';
    if (type !== 'preferred' && type !== 'unclean') throw invalidArgument(`electLeaders type must be "preferred" or "unclean", got ${String(type)}`);
    const topicPartitions = opts?.partitions === undefined ? null : groupByTopic(opts.partitions, (p) => p.partition).map(([topic, partitions]) => ({ topic, partitions }));
    const res = await this.#retrying('electing leaders', async () => {
      const r = await this.#cluster.anyConnection().request('ElectLeaders', { electionType: type === 'preferred' ? 0 : 1, topicPartitions, timeoutMs: this.#timeoutMs });
      if (errorNameOf(r.errorCode) !== 'NONE') throw adminError(r.errorCode, 'Electing leaders', r.errorMessage);
      return r;
    });
    const outcomes = res.replicaElectionResults.flatMap((t) => t.partitionResult.map((p) => outcomeOf({ topic: t.topic, partition: p.partitionId }, { errorCode: p.errorCode, errorMessage: p.errorMessage })));
    for (const topic of new Set(outcomes.map((o) => o.topic))) this.#cluster.invalidate(topic);
    return outcomes;
  }

  listGroups(opts?: { states?: readonly string[] }): Promise<GroupListing[]> {
    return this.#open(() => listGroups(this.#cluster, opts?.states ?? []));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    if (!Array.isArray(groupIds)) throw invalidArgument('describeGroups takes a list of group ids');
    return this.#open(() => Promise.all(groupIds.map((g) => describeGroup(this.#cluster, g))));
  }

  async describeShareGroups(groupIds: readonly string[]): Promise<ShareGroupDescription[]> {
    if (!Array.isArray(groupIds)) throw invalidArgument('describeShareGroups takes a list of group ids');
    return this.#open(() => Promise.all(groupIds.map((g) => describeShareGroup(this.#cluster, g))));
  }

  listGroupOffsets(groupId: string, opts?: { topics?: readonly string[] }): Promise<CommittedOffset[]> {
    return this.#open(() => listGroupOffsets(this.#cluster, groupId, opts?.topics));
  }

  async lag(positions: readonly { topic: string; partition: number; position: number | null }[]): Promise<PartitionLag[]> {
    if (!Array.isArray(positions)) throw invalidArgument('lag takes [{ topic, partition, position: number | null }]');
    return this.#open(() => partitionLags(this.#cluster, positions));
  }

  groupLag(groupId: string): Promise<{ description: GroupDescription; partitions: GroupPartitionLag[] }> {
    return this.#open(() => groupLag(this.#cluster, groupId));
  }

  resetGroupOffsets(groupId: string, opts: { topics: readonly { topic: string; partitions?: readonly number[] }[] | 'all'; spec: OffsetResetSpec; execute?: boolean }): Promise<OffsetResetResult> {
    return this.#open(() => resetGroupOffsets(this.#cluster, groupId, opts));
  }

  deleteGroups(groupIds: readonly string[]): Promise<GroupOutcome[]> {
    return this.#open(() => deleteGroups(this.#cluster, groupIds));
  }

  /** Creates or replaces a SCRAM user (salted here: the password never leaves the client). Default mechanisms: both. */
  upsertScramUser(name: string, password: string, opts?: { mechanisms?: readonly string[]; iterations?: number }): Promise<void> {
    if (typeof name !== 'string' || name === '') throw invalidArgument('upsertScramUser takes a user name');
    if (typeof password !== 'string' || password === '') throw invalidArgument('upsertScramUser takes a non-empty password');
    const mechanisms = (opts?.mechanisms ?? ['SCRAM-SHA-256', 'SCRAM-SHA-512']).map(scramMechanism);
    return this.#retrying(`setting SCRAM user ${name}`, () => upsertScramUser(this.#cluster, name, password, mechanisms, opts?.iterations));
  }

  /** Deletes a SCRAM user's credentials (every mechanism it has, by default). */
  deleteScramUser(name: string, opts?: { mechanisms?: readonly string[] }): Promise<void> {
    const mechanisms = opts?.mechanisms?.map(scramMechanism);
    return this.#retrying(`deleting SCRAM user ${name}`, () => deleteScramUser(this.#cluster, name, mechanisms));
  }

  /** SCRAM users and their mechanisms (never salts or keys); every user when `names` is absent. */
  describeScramUsers(names?: readonly string[]): Promise<ScramUser[]> {
    return this.#retrying('describing SCRAM users', () => describeScramUsers(this.#cluster, names));
  }

  createAcls(bindings: readonly AclBinding[]): Promise<void> {
    return this.#retrying('adding ACLs', () => createAcls(this.#cluster, bindings));
  }

  describeAcls(filter?: AclBindingFilter): Promise<AclBinding[]> {
    return this.#retrying('describing ACLs', () => describeAcls(this.#cluster, filter));
  }

  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[]> {
    return this.#retrying('removing ACLs', () => deleteAcls(this.#cluster, filters));
  }

  /** Sets or removes client quotas (admin/client-quotas.ts); `validateOnly`: checked by the controller, nothing changed. Throws the first entity's error. */
  alterClientQuotas(alterations: readonly ClientQuotaAlteration[], opts?: { validateOnly?: boolean }): Promise<void> {
    return this.#retrying('altering client quotas', () => alterClientQuotas(this.#cluster, alterations, opts?.validateOnly ?? false));
  }

  /** Client quotas of the entities matching `filter` (every entity by default). */
  describeClientQuotas(filter?: ClientQuotaEntity & { strict?: boolean }): Promise<ClientQuotaDescription[]> {
    return this.#retrying('describing client quotas', () => describeClientQuotas(this.#cluster, filter));
  }

  /** A call that retries inside (one budget per request it makes), refused once the admin is closed. */
  async #open<T>(call: () => Promise<T>): Promise<T> {
    if (this.#cluster.closed) throw clientClosed('The admin client');
    return call();
  }

  async close(): Promise<void> {
    await this.#cluster.close();
    this.#onClosed();
  }
}

/** Items grouped by their topic, in first-seen order. */
function groupByTopic<T extends { topic: string }, U>(items: readonly T[], each: (item: T) => U): [string, U[]][] {
  const groups = new Map<string, U[]>();
  for (const item of items) groups.set(item.topic, [...(groups.get(item.topic) ?? []), each(item)]);
  return [...groups];
}

function outcomeOf(at: { topic: string; partition: number }, result: { errorCode: number; errorMessage: string | null } | undefined): PartitionOutcome {
  if (result === undefined) return { topic: at.topic, partition: at.partition, error: { name: 'UNKNOWN_SERVER_ERROR', message: `the broker's answer left out ${at.topic}-${at.partition}` } };
  const name = errorNameOf(result.errorCode);
  return { topic: at.topic, partition: at.partition, error: name === 'NONE' ? null : { name, message: result.errorMessage ?? name } };
}

/** Errors after which a request may or may not have been carried out: the answer never came. */
const OUTCOME_UNKNOWN: ReadonlySet<string> = new Set(['NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT']);

/**
 * A per-topic error from an admin API. UNKNOWN_TOPIC_OR_PARTITION is
 * retriable on the data path (a topic being created, a leader moving) but
 * final here: retrying a delete or a describe of a topic that is not there
 * would only make the caller wait for the same answer.
 */
function adminError(code: number, context: string, brokerMessage?: string | null, options?: { retriable?: boolean }): RunnelError {
  return RunnelError.fromCode(code, context, brokerMessage, options ?? (errorNameOf(code) === 'UNKNOWN_TOPIC_OR_PARTITION' ? { retriable: false } : undefined));
}
