/**
 * The group coordinator's state machine for one partition of
 * `__consumer_offsets`: every group that hashes to it and their committed
 * offsets. Pure: its inputs are requests (with the time and the topics'
 * partition counts they were handled at), clock ticks and records read from
 * the log; its outputs are responses and the records to write. It never
 * reads a clock, the disk or the network, so a test (or the seeded
 * simulation) drives it directly; runtime.ts connects it to a broker.
 *
 * Every change of state is also a record (records.ts) and `replay` of the
 * records a change wrote rebuilds the same state; the runtime answers a
 * request only once its records are replicated. A write that fails leaves
 * this shard ahead of the log: the runtime then throws it away and loads a
 * new one from the log (runtime.ts), so memory never stays ahead.
 *
 * Heartbeat rules (KIP-848, the schema docs of protocol/schemas/
 * consumer-group-heartbeat): epoch 0 joins (a known member id rejoining
 * gives up everything it had), the current epoch stays, -1 leaves, -2 is a
 * static member leaving for a restart (its partitions wait for it until its
 * session times out). A heartbeat with the epoch before the current one is
 * accepted when its answer may have been lost (it owns nothing it was not
 * given); any other epoch is FENCED_MEMBER_EPOCH. Membership, subscription
 * and subscribed-topic partition-count changes bump the group epoch and
 * compute a new target assignment at once; each member then converges to
 * its share (reconcile.ts).
 */
import { Errors, type ErrorName } from '../../protocol/errors.js';
import type {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  DescribedGroup,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from '../../protocol/messages.js';
import { converged, groupState, newGroup, type ConsumerGroup, type Member } from './group.js';
import { commitOffsets, fetchOffsets } from './offset-requests.js';
import { OffsetsStore } from './offsets-store.js';
import { fromTopicPartitions, isSubset, splitTp, toTopicPartitions, tp } from './partition-set.js';
import { groupValue, memberFromValue, memberValue } from './group-records.js';
import { heartbeatProblem } from './heartbeat-validation.js';
import type { CoordinatorRecord } from './records.js';
import { reconcile } from './reconcile.js';
import type { CoordinatorSettings } from './settings.js';
import { DEFAULT_SHARE_SETTINGS } from '../share/settings.js';
import { ShareGroups } from '../share/share-groups.js';
import { computeTargetAssignment, sameTopics, subscribedTopicsOf } from './target-assignment.js';

/** What a request is handled against: the time, who sent it, and every topic's partition count. */
export interface RequestEnv {
  readonly nowMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  readonly topics: ReadonlyMap<string, number>;
}

/** A response, and the records that must be replicated before it is sent; `seq` names the write (0: nothing to write). */
export interface Outcome<R> {
  readonly response: R;
  readonly records: CoordinatorRecord[];
  readonly seq: number;
}

class HeartbeatError extends Error {
  constructor(
    readonly errorName: ErrorName,
    message: string,
  ) {
    super(message);
  }
}

export class GroupShard {
  readonly #settings: CoordinatorSettings;
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #offsets = new OffsetsStore();
  /** The share groups of this partition (broker/share/): one namespace of group ids with the consumer groups. */
  readonly shares: ShareGroups;
  #seq = 0;
  /** Records of the operation in progress, and the groups/members they are for (collected, written at its end). */
  #dirty = new Map<string, { group: boolean; members: Set<string>; removed: Set<string> }>();

  constructor(settings: CoordinatorSettings) {
    this.#settings = settings;
    this.shares = new ShareGroups(settings.share ?? DEFAULT_SHARE_SETTINGS);
  }

  // ---- loading ----

  /** Applies one record read from the log (at load). `nowMs`: the load time, where the timers start; `writtenAtMs`: the record's timestamp. */
  replay(record: CoordinatorRecord, nowMs: number, writtenAtMs?: number): void {
    switch (record.kind) {
      case 'shareGroup':
      case 'shareMember':
      case 'sharePartition':
      case 'shareChunk':
      case 'shareDelayed':
        this.shares.replay(record, nowMs, writtenAtMs);
        return;
      case 'offset':
        this.#offsets.replay(record.groupId, tp(record.topic, record.partition), record.value);
        return;
      case 'group': {
        if (record.value === null) {
          this.#groups.delete(record.groupId);
          return;
        }
        const group = this.#groups.get(record.groupId) ?? newGroup(record.groupId, record.value.assignorName, nowMs);
        group.groupEpoch = record.value.groupEpoch;
        group.assignmentEpoch = record.value.assignmentEpoch;
        group.assignorName = record.value.assignorName;
        group.subscribedTopics = new Map(record.value.subscribedTopics.map((t) => [t.name, t.partitions]));
        this.#groups.set(record.groupId, group);
        return;
      }
      case 'member': {
        const group = this.#groups.get(record.groupId) ?? newGroup(record.groupId, this.#settings.assignors[0]!, nowMs);
        this.#groups.set(record.groupId, group);
        if (record.value === null) {
          group.members.delete(record.memberId);
          if (group.members.size === 0) group.emptySinceMs = nowMs;
          return;
        }
        group.members.set(record.memberId, memberFromValue(record.memberId, record.value, { nowMs, sessionTimeoutMs: this.#settings.sessionTimeoutMs }));
        group.emptySinceMs = -1;
        return;
      }
    }
  }

  /** The live writes up to `seq` are replicated: their offsets become visible to OffsetFetch. */
  durable(seq: number): void {
    this.#offsets.durable(seq);
  }

  // ---- heartbeat ----

  heartbeat(request: ConsumerGroupHeartbeatRequest, env: RequestEnv): Outcome<ConsumerGroupHeartbeatResponse> {
    try {
      const response = this.#heartbeat(request, env);
      return this.#finish(response);
    } catch (error) {
      if (!(error instanceof HeartbeatError)) throw error;
      // A refused heartbeat changes nothing (the checks run before any change).
      this.#dirty.clear();
      return { response: { throttleTimeMs: 0, errorCode: Errors[error.errorName].code, errorMessage: error.message, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null }, records: [], seq: 0 };
    }
  }

  #heartbeat(request: ConsumerGroupHeartbeatRequest, env: RequestEnv): ConsumerGroupHeartbeatResponse {
    const invalid = heartbeatProblem(request, this.#settings.assignors);
    if (invalid !== null) throw new HeartbeatError(invalid.errorName, invalid.message);
    const { groupId, memberId, memberEpoch } = request;
    if (this.shares.has(groupId)) throw new HeartbeatError('INCONSISTENT_GROUP_PROTOCOL', `group ${groupId} is a share group; a consumer group cannot have its id`);
    if (memberEpoch === -1 || memberEpoch === -2) return this.#leave(request, env);

    let group = this.#groups.get(groupId);
    let member = group?.members.get(memberId);
    let joined = false;
    let bump = false;
    if (memberEpoch === 0) {
      if (group === undefined) {
        group = newGroup(groupId, this.#settings.assignors[0]!, env.nowMs);
        this.#groups.set(groupId, group);
        this.#touch(groupId).group = true;
      }
      const replaced = request.instanceId === null ? undefined : this.#byInstance(group, request.instanceId);
      if (replaced !== undefined && replaced.memberId !== memberId) {
        if (replaced.memberEpoch !== -2) throw new HeartbeatError('UNRELEASED_INSTANCE_ID', `static instance id ${request.instanceId} is held by member ${replaced.memberId}, which has not left; it is released when that member leaves (or its session times out)`);
        // A static member back from a restart: it takes over the old member's place and partitions, with no rebalance.
        group.members.delete(replaced.memberId);
        this.#touch(groupId).removed.add(replaced.memberId);
        member = { ...replaced, memberId, memberEpoch: replaced.previousMemberEpoch };
        group.members.set(memberId, member);
      } else if (member === undefined) {
        if (group.members.size >= this.#settings.maxGroupSize) throw new HeartbeatError('GROUP_MAX_SIZE_REACHED', `group ${groupId} has ${group.members.size} members, the most group.consumer.max.size allows`);
        member = this.#newMember(request, env);
        group.members.set(memberId, member);
        group.emptySinceMs = -1;
        bump = true;
      } else {
        // A known member rejoining has given up everything (it was fenced, or lost its state): its partitions are free again.
        member.assigned = new Set();
        member.revoking = new Set();
        member.revocationDeadlineMs = null;
        member.previousMemberEpoch = member.memberEpoch;
        member.memberEpoch = 0;
      }
      // It starts from nothing, and consumes what it is told from the answer on.
      member.owned = new Set([...member.assigned]);
      joined = true;
    } else {
      if (group === undefined || member === undefined) {
        if (group !== undefined && request.instanceId !== null && this.#byInstance(group, request.instanceId) !== undefined) {
          throw new HeartbeatError('FENCED_INSTANCE_ID', `another consumer with static instance id ${request.instanceId} replaced member ${memberId} in group ${groupId}`);
        }
        throw new HeartbeatError('UNKNOWN_MEMBER_ID', `group ${groupId} has no member ${memberId} (it left, or its session timed out); rejoin with epoch 0`);
      }
      if (member.memberEpoch === -2) throw new HeartbeatError('FENCED_MEMBER_EPOCH', `member ${memberId} left group ${groupId} for a restart (epoch -2); rejoin with epoch 0`);
      const owned = request.topicPartitions === null ? member.owned : fromTopicPartitions(request.topicPartitions);
      const current = memberEpoch === member.memberEpoch;
      const lostAnswer = memberEpoch === member.previousMemberEpoch && isSubset(owned, member.assigned);
      if (!current && !lostAnswer) {
        throw new HeartbeatError('FENCED_MEMBER_EPOCH', `member ${memberId} of group ${groupId} sent epoch ${memberEpoch}, its epoch is ${member.memberEpoch}; rejoin with epoch 0, giving up every partition`);
      }
    }

    if (request.topicPartitions !== null) member.owned = fromTopicPartitions(request.topicPartitions);
    member.sessionDeadlineMs = env.nowMs + this.#settings.sessionTimeoutMs;
    const updated = this.#updatedSubscription(member, request, env);
    if (joined || updated !== member) this.#touch(groupId).members.add(memberId);
    if (updated !== member) {
      bump ||= subscriptionDiffers(member, updated);
      group.members.set(memberId, updated);
      member = updated;
    }

    const topics = subscribedTopicsOf(group, env.topics);
    if (bump || !sameTopics(topics, group.subscribedTopics)) this.#bumpEpoch(group, topics);

    const previous = toTopicPartitions(member.assigned);
    const result = reconcile(group, member, env.nowMs);
    if (result.changed) this.#touch(groupId).members.add(memberId);
    const assigned = toTopicPartitions(member.assigned);
    const reported = request.topicPartitions === null ? null : fromTopicPartitions(request.topicPartitions);
    // Told again when it joined, when it changed, or when what it reports differs (it may have missed an answer).
    const tell = joined || result.assignmentChanged || JSON.stringify(previous) !== JSON.stringify(assigned) || (reported !== null && !sameMembers(reported, member.assigned));
    return {
      throttleTimeMs: 0,
      errorCode: Errors.NONE.code,
      errorMessage: null,
      memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: converged(group, member) ? this.#settings.heartbeatIntervalMs : reconcilingIntervalMs(this.#settings.heartbeatIntervalMs),
      assignment: tell ? { topicPartitions: assigned } : null,
    };
  }

  #leave(request: ConsumerGroupHeartbeatRequest, env: RequestEnv): ConsumerGroupHeartbeatResponse {
    const { groupId, memberId, memberEpoch } = request;
    const group = this.#groups.get(groupId);
    const member = group?.members.get(memberId) ?? (group !== undefined && request.instanceId !== null ? this.#byInstance(group, request.instanceId) : undefined);
    if (group === undefined || member === undefined) throw new HeartbeatError('UNKNOWN_MEMBER_ID', `group ${groupId} has no member ${memberId} to leave`);
    if (member.memberId !== memberId) throw new HeartbeatError('FENCED_INSTANCE_ID', `static instance id ${request.instanceId} belongs to member ${member.memberId} now, not ${memberId}`);
    if (memberEpoch === -2) {
      // Kept with its partitions for the session timeout, so a restart within it changes nothing for the others.
      if (member.memberEpoch !== -2) member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = -2;
      member.sessionDeadlineMs = env.nowMs + this.#settings.sessionTimeoutMs;
      this.#touch(groupId).members.add(memberId);
    } else {
      this.#removeMember(group, member, env);
    }
    return { throttleTimeMs: 0, errorCode: Errors.NONE.code, errorMessage: null, memberId, memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  #removeMember(group: ConsumerGroup, member: Member, env: { nowMs: number; topics: ReadonlyMap<string, number> }): void {
    group.members.delete(member.memberId);
    const dirty = this.#touch(group.groupId);
    dirty.removed.add(member.memberId);
    dirty.members.delete(member.memberId);
    if (group.members.size === 0) group.emptySinceMs = env.nowMs;
    this.#bumpEpoch(group, subscribedTopicsOf(group, env.topics));
  }

  #bumpEpoch(group: ConsumerGroup, topics: Map<string, number>): void {
    group.groupEpoch += 1;
    group.subscribedTopics = topics;
    const changed = computeTargetAssignment(group, this.#settings.assignors);
    const dirty = this.#touch(group.groupId);
    dirty.group = true;
    for (const member of changed) dirty.members.add(member.memberId);
  }

  #byInstance(group: ConsumerGroup, instanceId: string): Member | undefined {
    for (const member of group.members.values()) if (member.instanceId === instanceId) return member;
    return undefined;
  }

  #newMember(request: ConsumerGroupHeartbeatRequest, env: RequestEnv): Member {
    return {
      memberId: request.memberId,
      instanceId: request.instanceId,
      rackId: request.rackId,
      clientId: env.clientId,
      clientHost: env.clientHost,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs < 0 ? this.#settings.sessionTimeoutMs : request.rebalanceTimeoutMs,
      subscribedTopicNames: [...(request.subscribedTopicNames ?? [])].sort(),
      subscribedTopicRegex: request.subscribedTopicRegex === '' ? null : request.subscribedTopicRegex,
      serverAssignor: request.serverAssignor,
      memberEpoch: 0,
      previousMemberEpoch: -1,
      assigned: new Set(),
      revoking: new Set(),
      target: new Set(),
      owned: new Set(),
      sessionDeadlineMs: env.nowMs + this.#settings.sessionTimeoutMs,
      revocationDeadlineMs: null,
    };
  }

  /** The member with the request's non-null fields applied (the same object when nothing changed). */
  #updatedSubscription(member: Member, request: ConsumerGroupHeartbeatRequest, env: RequestEnv): Member {
    const next = {
      instanceId: request.instanceId ?? member.instanceId,
      rackId: request.rackId ?? member.rackId,
      clientId: env.clientId,
      clientHost: env.clientHost,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs < 0 ? member.rebalanceTimeoutMs : request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames === null ? member.subscribedTopicNames : [...request.subscribedTopicNames].sort(),
      subscribedTopicRegex: request.subscribedTopicRegex === null ? member.subscribedTopicRegex : request.subscribedTopicRegex === '' ? null : request.subscribedTopicRegex,
      serverAssignor: request.serverAssignor ?? member.serverAssignor,
    };
    const same =
      next.instanceId === member.instanceId &&
      next.rackId === member.rackId &&
      next.clientId === member.clientId &&
      next.clientHost === member.clientHost &&
      next.rebalanceTimeoutMs === member.rebalanceTimeoutMs &&
      next.subscribedTopicNames.join('\u0000') === member.subscribedTopicNames.join('\u0000') &&
      next.subscribedTopicRegex === member.subscribedTopicRegex &&
      next.serverAssignor === member.serverAssignor;
    return same ? member : { ...member, ...next };
  }

  // ---- offsets ----

  commitOffsets(request: OffsetCommitRequest, env: RequestEnv): Outcome<OffsetCommitResponse> {
    if (this.shares.has(request.groupId)) {
      // A share group keeps no offsets: a commit under its id would create a consumer group of the same id.
      const message = `group ${request.groupId} is a share group; it has no committed offsets`;
      const topics = request.topics.map((topic) => ({ name: topic.name, partitions: topic.partitions.map((p) => ({ partition: p.partition, errorCode: Errors.INCONSISTENT_GROUP_PROTOCOL.code, errorMessage: message })) }));
      return { response: { throttleTimeMs: 0, topics }, records: [], seq: 0 };
    }
    const seq = this.#seq + 1;
    const result = commitOffsets({ group: this.#groups.get(request.groupId), offsets: this.#offsets, settings: this.#settings, seq }, request, env);
    if (result.records.length === 0) return { response: result.response, records: [], seq: 0 };
    if (!this.#groups.has(request.groupId)) {
      // A commit creates the (empty) group, as in Kafka: it can be listed, described and deleted.
      this.#groups.set(request.groupId, newGroup(request.groupId, this.#settings.assignors[0]!, env.nowMs));
      this.#touch(request.groupId).group = true;
    }
    this.#seq = seq;
    return { response: result.response, records: [...this.#collect(), ...result.records], seq };
  }

  fetchOffsets(request: OffsetFetchRequest): OffsetFetchResponse {
    return fetchOffsets(this.#groups.get(request.groupId), this.#offsets, request);
  }

  /** Every consumer group's durable committed offsets (what OffsetFetch answers), for the lag metrics. */
  *committedOffsets(): Generator<{ groupId: string; topic: string; partition: number; offset: number }> {
    for (const groupId of this.#offsets.groupIds()) {
      for (const [key, value] of this.#offsets.stable(groupId)) yield { groupId, ...splitTp(key), offset: value.offset };
    }
  }

  // ---- describe, list, delete ----

  describe(groupId: string): DescribedGroup {
    const group = this.#groups.get(groupId);
    if (group === undefined && this.shares.has(groupId)) {
      return { errorCode: Errors.INCONSISTENT_GROUP_PROTOCOL.code, errorMessage: `group ${groupId} is a share group (ShareGroupDescribe)`, groupId, groupState: 'Dead', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [] };
    }
    if (group === undefined) {
      return { errorCode: Errors.GROUP_ID_NOT_FOUND.code, errorMessage: `no group ${groupId}`, groupId, groupState: 'Dead', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [] };
    }
    return {
      errorCode: Errors.NONE.code,
      errorMessage: null,
      groupId,
      groupState: groupState(group),
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.assignorName,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: toTopicPartitions(m.assigned),
        targetAssignment: toTopicPartitions(m.target),
      })),
    };
  }

  list(): { groupId: string; groupState: string; groupType: 'consumer' | 'share' }[] {
    const consumer = [...this.#groups.values()].map((g) => ({ groupId: g.groupId, groupState: groupState(g), groupType: 'consumer' as const }));
    return [...consumer, ...this.shares.list().map((g) => ({ ...g, groupType: 'share' as const }))];
  }

  deleteGroup(groupId: string): Outcome<{ errorName: ErrorName; message: string | null }> {
    if (this.shares.has(groupId)) return this.shares.delete(groupId);
    const group = this.#groups.get(groupId);
    if (group === undefined) return { response: { errorName: 'GROUP_ID_NOT_FOUND', message: `no group ${groupId}` }, records: [], seq: 0 };
    if (group.members.size > 0) return { response: { errorName: 'NON_EMPTY_GROUP', message: `group ${groupId} has ${group.members.size} member(s); stop its consumers first (or wait for their sessions to time out)` }, records: [], seq: 0 };
    const seq = ++this.#seq;
    const records = this.#deleteGroupRecords(group, seq);
    return { response: { errorName: 'NONE', message: null }, records, seq };
  }

  #deleteGroupRecords(group: ConsumerGroup, seq: number): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const key of [...this.#offsets.latest(group.groupId).keys()]) {
      const { topic, partition } = splitTp(key);
      this.#offsets.write(seq, group.groupId, key, null);
      records.push({ kind: 'offset', groupId: group.groupId, topic, partition, value: null });
    }
    this.#groups.delete(group.groupId);
    records.push({ kind: 'group', groupId: group.groupId, value: null });
    return records;
  }

  // ---- time and topic changes ----

  /**
   * What time and metadata do: members whose session ended are removed,
   * members that held on to revoked partitions past their rebalance timeout
   * are removed, and changed partition counts of subscribed topics (or new
   * topics matching a pattern) start a new epoch.
   */
  tick(env: { nowMs: number; topics: ReadonlyMap<string, number> }): Outcome<null> {
    for (const group of [...this.#groups.values()]) {
      for (const member of [...group.members.values()]) {
        const expired = member.sessionDeadlineMs <= env.nowMs;
        const stuck = member.revocationDeadlineMs !== null && member.revocationDeadlineMs <= env.nowMs;
        if (expired || stuck) this.#removeMember(group, member, env);
      }
      if (group.members.size > 0) {
        const topics = subscribedTopicsOf(group, env.topics);
        if (!sameTopics(topics, group.subscribedTopics)) this.#bumpEpoch(group, topics);
      }
    }
    const outcome = this.#finish(null);
    const shares = this.shares.tick(env.nowMs);
    return shares.length === 0 ? outcome : { ...outcome, records: [...outcome.records, ...shares] };
  }

  /**
   * Offsets retention: the offsets of a group without members expire
   * `offsets.retention.minutes` after the later of their commit and the
   * moment the group became empty; the group goes with its last offset.
   */
  expireOffsets(env: { nowMs: number }): Outcome<null> {
    const seq = this.#seq + 1;
    const records: CoordinatorRecord[] = [];
    for (const groupId of [...new Set([...this.#groups.keys(), ...this.#offsets.groupIds()])]) {
      const group = this.#groups.get(groupId);
      if (group !== undefined && group.members.size > 0) continue;
      const since = group?.emptySinceMs ?? 0;
      for (const [key, value] of [...this.#offsets.latest(groupId)]) {
        if (env.nowMs - Math.max(since, value.commitTimestampMs) <= this.#settings.offsetsRetentionMs) continue;
        const { topic, partition } = splitTp(key);
        this.#offsets.write(seq, groupId, key, null);
        records.push({ kind: 'offset', groupId, topic, partition, value: null });
      }
      if (group !== undefined && this.#offsets.latest(groupId).size === 0 && env.nowMs - group.emptySinceMs > this.#settings.offsetsRetentionMs) {
        this.#groups.delete(groupId);
        records.push({ kind: 'group', groupId, value: null });
      }
    }
    if (records.length > 0) this.#seq = seq;
    return { response: null, records, seq: records.length > 0 ? seq : 0 };
  }

  /** Topics that were deleted: their committed offsets go (tombstones), so a topic created again with the name starts clean. */
  topicsDeleted(names: ReadonlySet<string>): Outcome<null> {
    const seq = this.#seq + 1;
    const records: CoordinatorRecord[] = [];
    for (const groupId of [...this.#offsets.groupIds()]) {
      for (const key of [...this.#offsets.latest(groupId).keys()]) {
        const { topic, partition } = splitTp(key);
        if (!names.has(topic)) continue;
        this.#offsets.write(seq, groupId, key, null);
        records.push({ kind: 'offset', groupId, topic, partition, value: null });
      }
    }
    // The sequence number marks offset writes (OffsetsStore's stable offsets) only: share records must not claim one the shard never took.
    const offsetSeq = records.length > 0 ? seq : 0;
    if (offsetSeq > 0) this.#seq = seq;
    records.push(...this.shares.topicsDeleted(names));
    return { response: null, records, seq: offsetSeq };
  }

  /**
   * The wall clock was stepped by `deltaMs`: the deadlines kept in memory
   * only (member sessions, rebalance timeouts, share members' sessions) are
   * durations from when they were set, so they move with it.
   */
  wallClockStepped(deltaMs: number): void {
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) {
        member.sessionDeadlineMs += deltaMs;
        if (member.revocationDeadlineMs !== null) member.revocationDeadlineMs += deltaMs;
      }
    }
    this.shares.wallClockStepped(deltaMs);
  }

  /** The earliest time `tick` has something to do (a session or rebalance deadline), or null. */
  nextDeadlineMs(): number | null {
    let next: number | null = this.shares.nextDeadlineMs();
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) {
        for (const at of [member.sessionDeadlineMs, member.revocationDeadlineMs]) if (at !== null && (next === null || at < next)) next = at;
      }
    }
    return next;
  }

  /** For tests: the group's state (members by id), read-only. */
  group(groupId: string): ConsumerGroup | undefined {
    return this.#groups.get(groupId);
  }

  // ---- records of an operation ----

  #touch(groupId: string): { group: boolean; members: Set<string>; removed: Set<string> } {
    let dirty = this.#dirty.get(groupId);
    if (dirty === undefined) this.#dirty.set(groupId, (dirty = { group: false, members: new Set(), removed: new Set() }));
    return dirty;
  }

  #finish<R>(response: R): Outcome<R> {
    const records = this.#collect();
    return { response, records, seq: records.length > 0 ? ++this.#seq : 0 };
  }

  /** The records for what the operation changed: group records first, so a load sees a group before its members. */
  #collect(): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const [groupId, dirty] of this.#dirty) {
      const group = this.#groups.get(groupId);
      if (group === undefined) continue;
      if (dirty.group) {
        records.push({ kind: 'group', groupId, value: groupValue(group) });
      }
      for (const memberId of dirty.removed) if (!group.members.has(memberId)) records.push({ kind: 'member', groupId, memberId, value: null });
      for (const memberId of dirty.members) {
        const m = group.members.get(memberId);
        if (m === undefined) continue;
        records.push({ kind: 'member', groupId, memberId, value: memberValue(m) });
      }
    }
    this.#dirty.clear();
    return records;
  }
}

function subscriptionDiffers(a: Member, b: Member): boolean {
  return a.subscribedTopicNames.join('\u0000') !== b.subscribedTopicNames.join('\u0000') || a.subscribedTopicRegex !== b.subscribedTopicRegex || a.serverAssignor !== b.serverAssignor;
}

function sameMembers(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && isSubset(a, b);
}

/**
 * How soon a member still converging should come back: five times as often
 * as a settled one. A member waiting for partitions that others are giving
 * up learns they are free only on a heartbeat, so this bounds how long a
 * newcomer waits after the last owner let go; settled members keep the
 * configured pace (their own next heartbeat is what tells them to give up).
 */
function reconcilingIntervalMs(intervalMs: number): number {
  return Math.max(1, Math.floor(intervalMs / 5));
}
