/**
 * The share-group state machine of one `__consumer_offsets` partition (it
 * lives in the coordinator's GroupShard next to the consumer groups). Pure,
 * like group-shard.ts: inputs are requests with the time they were handled
 * at, the records of the partitions the runtime read (Candidates) and
 * records replayed from the log; outputs are responses and the records to
 * write. The runtime answers only once those records are replicated, so an
 * acquisition (its delivery count already counted) is durable before the
 * member sees it; a failed write reloads the machine from the log.
 *
 * Membership (ShareGroupHeartbeat): epoch 0 joins (creating the group with
 * its configuration, or checking the configuration against the group's),
 * -1 leaves, anything else must be the member's epoch. A member that leaves
 * or whose session ends has its locks released at once (delivery counts
 * kept). A member's epoch is set when it joins and kept until it rejoins.
 */
import { Errors, type ErrorName } from '../../protocol/errors.js';
import type {
  DescribedShareGroup,
  DescribedSharePartition,
  ShareAcknowledgement,
  ShareGroupHeartbeatRequest,
  ShareGroupHeartbeatResponse,
} from '../../protocol/messages.js';
import { addChange } from '../coordinator/changes.js';
import { splitTp, tp } from '../coordinator/partition-set.js';
import { assignmentOf, windowPolicy, type ShareGroup, type ShareMember } from './group.js';
import { CHUNK_RECORDS, type ShareRecord } from './records.js';
import { configMismatch, resolveConfig, type ShareSettings } from './settings.js';
import { RecordState, ShareWindow, type Acquired, type AckError, type Candidates, type PendingDeadLetter } from './window.js';

export interface ShareOutcome<R> {
  readonly response: R;
  readonly records: ShareRecord[];
  readonly seq: 0;
}

export interface ShareRequestEnv {
  readonly nowMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  readonly topics: ReadonlyMap<string, number>;
}

/** A partition's acknowledgements, and (when fetching) what the runtime read after its window's end. */
export interface SharePartitionInput {
  readonly topic: string;
  readonly partition: number;
  readonly acknowledgements: readonly ShareAcknowledgement[];
  readonly candidates: Candidates | null;
  /** False when the partition's records cannot be read now (no leader, not authorized...): its acknowledgements apply, nothing of it is acquired. */
  readonly readable?: boolean;
}

export interface SharePartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly failed: { firstOffset: number; lastOffset: number; errorName: AckError }[];
  readonly acquired: Acquired[];
}

export type ShareOpResult = { ok: true; partitions: SharePartitionResult[]; lockMs: number } | { ok: false; errorName: ErrorName; message: string };

export interface DeadLetterWork {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly deadLetterTopic: string;
  readonly records: PendingDeadLetter[];
}

class Refusal extends Error {
  constructor(
    readonly errorName: ErrorName,
    message: string,
  ) {
    super(message);
  }
}

export class ShareGroups {
  readonly #settings: ShareSettings;
  readonly #groups = new Map<string, ShareGroup>();
  /** Groups changed by the operation in progress, with the members to write and to tombstone. */
  readonly #dirty = new Map<string, { group: boolean; members: Set<string>; removed: Set<string> }>();
  /** The last tick: due times at or before it have been announced (a waiting fetch retried). */
  #lastTickMs = -Infinity;
  /**
   * The windows (group -> "topic:partition") with dead-letter copies still
   * to make, kept by every write (#finish) so the copier, run after every
   * change, looks at those only: nothing at all when none is pending. A
   * window has some exactly when it counted more rejections than copies (a
   * group with a dead-letter topic rejects every record "pending" first).
   * null: rebuilt at the next look (records were replayed).
   */
  #pendingCopies: Map<string, Set<string>> | null = new Map();
  /** Windows whose lock end or due time came at a tick, not yet taken by the runtime (takeDue). */
  #due = new Map<string, Set<string> | 'group'>();

  constructor(settings: ShareSettings) {
    this.#settings = settings;
  }

  has(groupId: string): boolean {
    return this.#groups.has(groupId);
  }

  group(groupId: string): ShareGroup | undefined {
    return this.#groups.get(groupId);
  }

  // ---- loading ----

  /** Applies one record read back at load (`nowMs`); `writtenAtMs`, its timestamp, restarts the timers it carries (window.ts `restartTimers`). */
  replay(record: ShareRecord, nowMs: number, writtenAtMs?: number): void {
    this.#pendingCopies = null;
    if (record.kind === 'shareGroup') {
      if (record.value === null) {
        this.#groups.delete(record.groupId);
        return;
      }
      const { groupEpoch, ...config } = record.value;
      const group = this.#groups.get(record.groupId);
      if (group === undefined) this.#groups.set(record.groupId, { groupId: record.groupId, groupEpoch, config, members: new Map(), windows: new Map() });
      else Object.assign(group, { groupEpoch, config });
      return;
    }
    const group = this.#groups.get(record.groupId);
    // Records of a group whose own record is gone (deleted) are leftovers compaction has not removed yet.
    if (group === undefined) return;
    const restart = writtenAtMs === undefined ? undefined : { nowMs, writtenAtMs };
    switch (record.kind) {
      case 'shareMember':
        if (record.value === null) group.members.delete(record.memberId);
        else group.members.set(record.memberId, { memberId: record.memberId, ...record.value, sessionDeadlineMs: nowMs + this.#settings.sessionTimeoutMs, told: null });
        return;
      case 'sharePartition':
        if (record.value === null) group.windows.delete(tp(record.topic, record.partition));
        else this.#window(group, record.topic, record.partition).replayBounds(record.value);
        return;
      case 'shareChunk':
        this.#window(group, record.topic, record.partition).replayChunk(record.chunk, record.value?.entries ?? null, restart);
        return;
      case 'shareDelayed':
        this.#window(group, record.topic, record.partition).replayParked(record.offset, record.value, restart);
        return;
    }
  }

  // ---- membership ----

  heartbeat(request: ShareGroupHeartbeatRequest, env: ShareRequestEnv): ShareOutcome<ShareGroupHeartbeatResponse> {
    try {
      return this.#finish(this.#heartbeat(request, env));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.#dirty.clear();
      return { response: { throttleTimeMs: 0, errorCode: Errors[error.errorName].code, errorMessage: error.message, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, config: null }, records: [], seq: 0 };
    }
  }

  #heartbeat(request: ShareGroupHeartbeatRequest, env: ShareRequestEnv): ShareGroupHeartbeatResponse {
    const { groupId, memberId, memberEpoch } = request;
    if (groupId === '') throw new Refusal('INVALID_REQUEST', 'the group id is empty');
    if (memberId === '') throw new Refusal('INVALID_REQUEST', 'the member id is empty: a member chooses one (22 random characters) and keeps it');
    let group = this.#groups.get(groupId);
    if (memberEpoch === -1) {
      const member = group?.members.get(memberId);
      if (group === undefined || member === undefined) throw new Refusal('UNKNOWN_MEMBER_ID', `share group ${groupId} has no member ${memberId} to leave`);
      this.#removeMember(group, member, env.nowMs);
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, config: null };
    }
    let member = group?.members.get(memberId);
    let joined = false;
    if (memberEpoch === 0) {
      if (request.subscribedTopicNames === null || request.subscribedTopicNames.length === 0) throw new Refusal('INVALID_REQUEST', 'a member joining a share group names the topics it subscribes to');
      if (group === undefined) {
        const config = resolveConfig(request.config, this.#settings);
        if ('invalid' in config) throw new Refusal('INVALID_CONFIG', `share group ${groupId}: ${config.invalid}`);
        group = { groupId, groupEpoch: 0, config, members: new Map(), windows: new Map() };
        this.#groups.set(groupId, group);
      } else {
        const mismatch = configMismatch(request.config, group.config);
        if (mismatch !== null) throw new Refusal('INVALID_CONFIG', `share group ${groupId} was created with another configuration: ${mismatch}`);
      }
      if (member === undefined && group.members.size >= this.#settings.maxSize) throw new Refusal('GROUP_MAX_SIZE_REACHED', `share group ${groupId} has ${group.members.size} members, the most group.share.max.size allows`);
      // A member (re)joining starts from nothing: whatever it held under an earlier epoch is released.
      if (member !== undefined) this.#releaseHeldBy(group, memberId, env.nowMs);
      group.groupEpoch += 1;
      member = { memberId, memberEpoch: group.groupEpoch, clientId: env.clientId, clientHost: env.clientHost, subscribedTopicNames: [...request.subscribedTopicNames].sort(), sessionDeadlineMs: 0, told: null };
      group.members.set(memberId, member);
      this.#touch(groupId).group = true;
      this.#touch(groupId).members.add(memberId);
      joined = true;
    } else {
      if (group === undefined || member === undefined) throw new Refusal('UNKNOWN_MEMBER_ID', `share group ${groupId} has no member ${memberId} (it left, or its session timed out); rejoin with epoch 0`);
      if (memberEpoch !== member.memberEpoch) throw new Refusal('FENCED_MEMBER_EPOCH', `member ${memberId} of share group ${groupId} sent epoch ${memberEpoch}, its epoch is ${member.memberEpoch}; rejoin with epoch 0`);
      if (request.subscribedTopicNames !== null) {
        const names = [...request.subscribedTopicNames].sort();
        if (names.join('\u0000') !== member.subscribedTopicNames.join('\u0000')) {
          member.subscribedTopicNames = names;
          group.groupEpoch += 1;
          this.#touch(groupId).group = true;
          this.#touch(groupId).members.add(memberId);
        }
      }
    }
    member.sessionDeadlineMs = env.nowMs + this.#settings.sessionTimeoutMs;
    const assignment = assignmentOf(member, env.topics);
    const told = JSON.stringify(assignment);
    const tell = member.told !== told;
    member.told = told;
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.#settings.heartbeatIntervalMs,
      assignment: tell ? assignment : null,
      config: joined ? { ...group.config } : null,
    };
  }

  #removeMember(group: ShareGroup, member: ShareMember, nowMs: number): void {
    this.#releaseHeldBy(group, member.memberId, nowMs);
    group.members.delete(member.memberId);
    group.groupEpoch += 1;
    const dirty = this.#touch(group.groupId);
    dirty.group = true;
    dirty.members.delete(member.memberId);
    dirty.removed.add(member.memberId);
  }

  #releaseHeldBy(group: ShareGroup, memberId: string, nowMs: number): void {
    const policy = windowPolicy(group, this.#settings);
    for (const window of group.windows.values()) if (window.releaseHeldBy(memberId, nowMs, policy)) this.#touch(group.groupId);
  }

  // ---- fetch and acknowledge ----

  /** The member's request is valid (known member, its epoch): null, or why not. */
  checkMember(groupId: string, memberId: string, memberEpoch: number): { errorName: ErrorName; message: string } | null {
    const group = this.#groups.get(groupId);
    if (group === undefined) return { errorName: 'GROUP_ID_NOT_FOUND', message: `no share group ${groupId}; join it with ShareGroupHeartbeat first` };
    const member = group.members.get(memberId);
    if (member === undefined) return { errorName: 'UNKNOWN_MEMBER_ID', message: `share group ${groupId} has no member ${memberId} (it left, or its session timed out); rejoin` };
    if (member.memberEpoch !== memberEpoch) return { errorName: 'FENCED_MEMBER_EPOCH', message: `member ${memberId} of share group ${groupId} sent epoch ${memberEpoch}, its epoch is ${member.memberEpoch}; rejoin` };
    return null;
  }

  /** Where each partition's window ends and how much it may still take in: what the runtime reads before `fetch`. */
  rooms(groupId: string, partitions: readonly { topic: string; partition: number }[]): { fromOffset: number; records: number }[] {
    const group = this.#groups.get(groupId);
    return partitions.map(({ topic, partition }) => {
      const window = group?.windows.get(tp(topic, partition));
      if (group === undefined || window === undefined) return { fromOffset: -1, records: this.#settings.maxInFlightRecords };
      return window.room(windowPolicy(group, this.#settings));
    });
  }

  /**
   * ShareFetch and ShareAcknowledge: the acknowledgements of every
   * partition first (each range all or nothing), then up to `maxRecords`
   * records acquired over the partitions, in the order given.
   */
  fetch(groupId: string, memberId: string, memberEpoch: number, maxRecords: number, partitions: readonly SharePartitionInput[], nowMs: number): ShareOutcome<ShareOpResult> {
    const refused = this.checkMember(groupId, memberId, memberEpoch);
    if (refused !== null) return { response: { ok: false, ...refused }, records: [], seq: 0 };
    const group = this.#groups.get(groupId)!;
    const policy = windowPolicy(group, this.#settings);
    const results = partitions.map((p) => ({ topic: p.topic, partition: p.partition, failed: [] as SharePartitionResult['failed'], acquired: [] as Acquired[] }));
    partitions.forEach((p, i) => {
      if (p.acknowledgements.length === 0) return;
      // No window: nothing there was ever handed out (and a request naming partitions at random creates no state).
      const window = group.windows.get(tp(p.topic, p.partition));
      for (const ack of p.acknowledgements) {
        const error = window === undefined ? 'INVALID_RECORD_STATE' : window.acknowledge(memberId, ack, nowMs, policy);
        if (error !== null) results[i]!.failed.push({ firstOffset: ack.firstOffset, lastOffset: ack.lastOffset, errorName: error });
      }
      this.#touch(groupId);
    });
    let left = maxRecords;
    partitions.forEach((p, i) => {
      if (left <= 0 || p.readable === false) return;
      const existing = group.windows.get(tp(p.topic, p.partition));
      if (existing === undefined && p.candidates === null) return;
      const window = existing ?? this.#window(group, p.topic, p.partition);
      const acquired = window.acquire(memberId, left, nowMs, policy, p.candidates);
      results[i]!.acquired.push(...acquired);
      left -= acquired.length;
      this.#touch(groupId);
    });
    return this.#finish({ ok: true as const, partitions: results, lockMs: policy.lockMs });
  }

  // ---- dead letters ----

  /**
   * Every rejected record whose dead-letter copy is still to be made, per
   * partition, except the partitions `skip` names (a copy under way). Only
   * windows known to have some are looked at.
   */
  pendingDeadLetters(skip: (groupId: string, topic: string, partition: number) => boolean = () => false): DeadLetterWork[] {
    const out: DeadLetterWork[] = [];
    for (const [groupId, keys] of this.#pending()) {
      const group = this.#groups.get(groupId)!;
      for (const key of keys) {
        const { topic, partition } = splitTp(key);
        if (skip(groupId, topic, partition)) continue;
        const records = group.windows.get(key)!.pendingDeadLetters();
        if (records.length > 0) out.push({ groupId, topic, partition, deadLetterTopic: group.config.deadLetterTopic, records });
      }
    }
    return out;
  }

  /** Whether any window has a dead-letter copy to make (O(1)). */
  hasPendingDeadLetters(): boolean {
    return this.#pending().size > 0;
  }

  #pending(): Map<string, Set<string>> {
    if (this.#pendingCopies === null) {
      this.#pendingCopies = new Map();
      for (const group of this.#groups.values()) this.#notePending(group);
    }
    return this.#pendingCopies;
  }

  /** Brings the group's entries of the pending set up to date with its windows' counts. */
  #notePending(group: ShareGroup): void {
    const pending = this.#pendingCopies;
    if (pending === null) return;
    const keys = new Set<string>();
    if (group.config.deadLetterTopic !== '') for (const [key, window] of group.windows) if (window.rejected > window.deadLettered) keys.add(key);
    if (keys.size > 0 && this.#groups.get(group.groupId) === group) pending.set(group.groupId, keys);
    else pending.delete(group.groupId);
  }

  /** Records acquired for `memberId` that its answer did not carry, given back (ShareWindow.undeliver); how many were. */
  undeliver(groupId: string, memberId: string, topic: string, partition: number, acquired: readonly Acquired[], nowMs: number): ShareOutcome<number> {
    const group = this.#groups.get(groupId);
    const window = group?.windows.get(tp(topic, partition));
    const given = window === undefined ? 0 : window.undeliver(memberId, acquired, nowMs, windowPolicy(group!, this.#settings));
    if (given > 0) this.#touch(groupId);
    return this.#finish(given);
  }

  /** The copies of `offsets` are in the dead-letter topic (replicated): those records are settled. */
  deadLetterCopied(groupId: string, topic: string, partition: number, offsets: readonly number[], nowMs: number): ShareOutcome<number> {
    const group = this.#groups.get(groupId);
    const window = group?.windows.get(tp(topic, partition));
    let done = 0;
    for (const offset of offsets) if (window?.deadLetterCopied(offset, nowMs, windowPolicy(group!, this.#settings)) === true) done++;
    if (done > 0) this.#touch(groupId);
    return this.#finish(done);
  }

  // ---- time ----

  /** Sessions that ended (members removed, their locks released) and locks that ended (records released). */
  tick(nowMs: number): ShareRecord[] {
    for (const group of this.#groups.values()) {
      // Windows where a lock ended or a delay came due since the last tick: their waiting fetches look again (takeDue).
      for (const [key, window] of group.windows) {
        const at = window.nextDeadlineMs(this.#lastTickMs);
        if (at !== null && at <= nowMs) addChange(this.#due, group.groupId, key);
      }
    }
    this.#lastTickMs = nowMs;
    for (const group of this.#groups.values()) {
      for (const member of [...group.members.values()]) if (member.sessionDeadlineMs <= nowMs) this.#removeMember(group, member, nowMs);
      const policy = windowPolicy(group, this.#settings);
      for (const window of group.windows.values()) if (window.expire(nowMs, policy)) this.#touch(group.groupId);
    }
    return this.#finish(null).records;
  }

  /** The windows whose deadlines came by the ticks since the last call, per group (coordinator/changes.ts). */
  takeDue(): Map<string, Set<string> | 'group'> {
    const due = this.#due;
    this.#due = new Map();
    return due;
  }

  /**
   * The wall clock was stepped by `deltaMs`: members' sessions (in memory,
   * durations from their last heartbeat) and record locks (visibility
   * timeouts) move with it; delivery times (`deliver.at`) are instants and stay.
   */
  wallClockStepped(deltaMs: number): void {
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) member.sessionDeadlineMs += deltaMs;
      for (const window of group.windows.values()) if (window.wallClockStepped(deltaMs)) this.#touch(group.groupId);
    }
  }

  /** The earliest session end, lock end or (not yet announced) due time, or null. */
  nextDeadlineMs(): number | null {
    let next: number | null = null;
    const consider = (at: number | null): void => {
      if (at !== null && (next === null || at < next)) next = at;
    };
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) consider(member.sessionDeadlineMs);
      for (const window of group.windows.values()) consider(window.nextDeadlineMs(this.#lastTickMs));
    }
    return next;
  }

  // ---- describe, list, delete ----

  /**
   * ShareGroupDescribe, in one pass over each window's records (members'
   * holdings counted on the way) and one look at each distinct assignment:
   * O(members + records), not members x records.
   */
  describe(groupId: string, nowMs: number, highWatermark: (topic: string, partition: number) => number): DescribedShareGroup {
    const group = this.#groups.get(groupId)!;
    const partitions: DescribedSharePartition[] = [];
    const keys = new Set(group.windows.keys());
    // Members of one subscription were told the same assignment: each distinct one is parsed once.
    const told = new Set<string>();
    for (const member of group.members.values()) if (member.told !== null) told.add(member.told);
    for (const text of told) for (const { topic, partitions: ps } of JSON.parse(text) as { topic: string; partitions: number[] }[]) for (const p of ps) keys.add(tp(topic, p));
    const held = new Map<string, number>();
    for (const key of [...keys].sort()) {
      const { topic, partition } = splitTp(key);
      const window = group.windows.get(key);
      const hw = highWatermark(topic, partition);
      let acquired = 0;
      let available = 0;
      let delayed = 0;
      let inFlight = 0;
      let oldest = -1;
      for (const e of window?.entries() ?? []) {
        if (e.state === RecordState.ACCEPTED || e.state === RecordState.REJECTED) continue;
        inFlight++;
        if (oldest === -1 || e.timestampMs < oldest) oldest = e.timestampMs;
        if (e.state === RecordState.ACQUIRED) {
          acquired++;
          if (e.holder !== null) held.set(e.holder, (held.get(e.holder) ?? 0) + 1);
        } else if (e.state === RecordState.AVAILABLE && e.dueMs > nowMs) delayed++;
        else if (e.state === RecordState.AVAILABLE) available++;
      }
      const end = window?.started === true ? window.endOffset : 0;
      partitions.push({
        topic,
        partition,
        startOffset: window?.started === true ? window.startOffset : 0,
        endOffset: end,
        highWatermark: hw,
        inFlight,
        acquired,
        available: available + Math.max(0, hw - end),
        delayed,
        accepted: window?.accepted ?? 0,
        rejected: window?.rejected ?? 0,
        deadLettered: window?.deadLettered ?? 0,
        oldestUnsettledTimestampMs: oldest,
      });
    }
    return {
      errorCode: 0,
      errorMessage: null,
      groupId,
      groupState: group.members.size === 0 ? 'Empty' : 'Stable',
      groupEpoch: group.groupEpoch,
      config: { ...group.config },
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        acquiredRecords: held.get(m.memberId) ?? 0,
      })),
      partitions,
    };
  }

  list(): { groupId: string; groupState: string }[] {
    return [...this.#groups.values()].map((g) => ({ groupId: g.groupId, groupState: g.members.size === 0 ? 'Empty' : 'Stable' }));
  }

  /** DeleteGroups: a share group without members goes with all its state (tombstones for every key it wrote). */
  delete(groupId: string): ShareOutcome<{ errorName: ErrorName; message: string | null }> {
    const group = this.#groups.get(groupId);
    if (group === undefined) return { response: { errorName: 'GROUP_ID_NOT_FOUND', message: `no group ${groupId}` }, records: [], seq: 0 };
    if (group.members.size > 0) return { response: { errorName: 'NON_EMPTY_GROUP', message: `share group ${groupId} has ${group.members.size} member(s); stop them first (or wait for their sessions to time out)` }, records: [], seq: 0 };
    const records: ShareRecord[] = [];
    for (const [key, window] of group.windows) {
      const { topic, partition } = splitTp(key);
      records.push(...windowTombstones(groupId, topic, partition, window));
    }
    records.push({ kind: 'shareGroup', groupId, value: null });
    this.#groups.delete(groupId);
    this.#pendingCopies?.delete(groupId);
    return { response: { errorName: 'NONE', message: null }, records, seq: 0 };
  }

  /** Topics that were deleted: every group's windows of them go (tombstones), so a topic created again with the name starts clean. */
  topicsDeleted(names: ReadonlySet<string>): ShareRecord[] {
    const records: ShareRecord[] = [];
    for (const group of this.#groups.values()) {
      for (const [key, window] of [...group.windows]) {
        const { topic, partition } = splitTp(key);
        if (!names.has(topic)) continue;
        records.push(...windowTombstones(group.groupId, topic, partition, window));
        group.windows.delete(key);
      }
      this.#notePending(group);
    }
    return records;
  }

  // ---- records of an operation ----

  #window(group: ShareGroup, topic: string, partition: number): ShareWindow {
    const key = tp(topic, partition);
    let window = group.windows.get(key);
    if (window === undefined) group.windows.set(key, (window = new ShareWindow()));
    return window;
  }

  #touch(groupId: string): { group: boolean; members: Set<string>; removed: Set<string> } {
    let dirty = this.#dirty.get(groupId);
    if (dirty === undefined) this.#dirty.set(groupId, (dirty = { group: false, members: new Set(), removed: new Set() }));
    return dirty;
  }

  #finish<R>(response: R): ShareOutcome<R> {
    const records: ShareRecord[] = [];
    for (const [groupId, dirty] of this.#dirty) {
      const group = this.#groups.get(groupId);
      if (group === undefined) continue;
      if (dirty.group) {
        const { groupEpoch, config } = group;
        records.push({ kind: 'shareGroup', groupId, value: { groupEpoch, ...config } });
      }
      for (const memberId of dirty.removed) if (!group.members.has(memberId)) records.push({ kind: 'shareMember', groupId, memberId, value: null });
      for (const memberId of dirty.members) {
        const m = group.members.get(memberId);
        if (m !== undefined) records.push({ kind: 'shareMember', groupId, memberId, value: { memberEpoch: m.memberEpoch, clientId: m.clientId, clientHost: m.clientHost, subscribedTopicNames: [...m.subscribedTopicNames] } });
      }
      for (const [key, window] of group.windows) {
        const { topic, partition } = splitTp(key);
        const { bounds, chunks, parked } = window.flush();
        if (bounds !== null) records.push({ kind: 'sharePartition', groupId, topic, partition, value: bounds });
        for (const { chunk, entries } of chunks) records.push({ kind: 'shareChunk', groupId, topic, partition, chunk, value: entries === null ? null : { entries } });
        for (const { offset, entry } of parked) records.push({ kind: 'shareDelayed', groupId, topic, partition, offset, value: entry });
      }
      this.#notePending(group);
    }
    this.#dirty.clear();
    return { response, records, seq: 0 };
  }
}

/** Tombstones for every key a window wrote that still has a value: its parked records, its chunks, its bounds. */
function windowTombstones(groupId: string, topic: string, partition: number, window: ShareWindow): ShareRecord[] {
  const records: ShareRecord[] = [];
  const chunks = new Set<number>();
  for (const e of window.entries()) {
    if (e.offset < window.startOffset) records.push({ kind: 'shareDelayed', groupId, topic, partition, offset: e.offset, value: null });
    else chunks.add(Math.floor(e.offset / CHUNK_RECORDS));
  }
  for (const chunk of chunks) records.push({ kind: 'shareChunk', groupId, topic, partition, chunk, value: null });
  records.push({ kind: 'sharePartition', groupId, topic, partition, value: null });
  return records;
}
