/**
 * A share-group coordinator for SDK and CLI tests, plugged into a
 * FakeCluster (`more`): FindCoordinator, ShareGroupHeartbeat, ShareFetch
 * (long polls included), ShareAcknowledge and ShareGroupDescribe, with the
 * rules the schemas' docs give, strict where a client could get them wrong
 * so tests fail on the client's mistakes:
 *
 * - a record is handed to one member at a time (the SDK must keep only
 *   the acquired offsets of the whole batches it is sent); `violations`
 *   lists any record accepted twice;
 * - an acknowledgement of a record the member does not hold (lock expired,
 *   never acquired, settled) is refused with INVALID_RECORD_STATE, and
 *   ranges in one request must not overlap (INVALID_REQUEST);
 * - a wrong epoch is FENCED_MEMBER_EPOCH, an unknown member
 *   UNKNOWN_MEMBER_ID; a member that leaves (epoch -1) or is `expel`led has
 *   its locks released at once, delivery counts kept;
 * - a group's configuration is fixed by its first join; a later join's set
 *   fields must match (INVALID_CONFIG); an id in `consumerGroups` is
 *   INCONSISTENT_GROUP_PROTOCOL;
 * - records whose runnel.deliver.at is in the future, and releases with a
 *   delay, are not handed out before their time.
 *
 * Locks run on the real clock (Date.now); every request is logged (`log`);
 * `inject` answers the next requests of an API with an error instead;
 * topics in `unreadable` are refused per partition as the broker refuses a
 * topic its principal may not read (TOPIC_AUTHORIZATION_FAILED, their
 * acknowledgements failed with it, other topics served).
 * Ordering by key and dead-letter copies are the real coordinator's
 * business and not modelled (rejections are counted).
 */
import { encodeResponse } from '../../../protocol/codec.js';
import type { ApiName } from '../../../protocol/api-keys.js';
import { Errors, type ErrorName } from '../../../protocol/errors.js';
import { DELIVER_AT_HEADER } from '../../../protocol/headers.js';
import { AcknowledgeType, type RequestBodies, type ResponseBodies, type ShareAcknowledgement, type ShareFailedAcknowledgement, type ShareGroupConfigResolved } from '../../../protocol/messages.js';
import { decodeMessages, walkBatches } from '../../../client/consumer/records.js';
import type { Message } from '../../../client/index.js';
import type { FakeCluster } from '../fake-cluster.js';
import { findCoordinatorAnswer } from '../groups/fake-coordinator.js';

type RecordState = 'available' | 'acquired' | 'accepted' | 'rejected';

export interface ShareRecord {
  state: RecordState;
  deliveryCount: number;
  holder: string | null;
  lockUntilMs: number;
  /** Not handed out before (release delay, deliver-at). */
  availableAtMs: number;
  lastReason: string | null;
}

export interface ShareMember {
  id: string;
  epoch: number;
  topics: string[];
  lastSeenMs: number;
}

export interface ShareGroup {
  config: ShareGroupConfigResolved;
  members: Map<string, ShareMember>;
  epoch: number;
  /** `topic\0partition` -> offset -> state (offsets not here are available, never delivered). */
  records: Map<string, Map<number, ShareRecord>>;
  accepted: number;
  rejected: number;
}

export interface Logged {
  api: ApiName;
  body: unknown;
  atMs: number;
}

const DEFAULTS: ShareGroupConfigResolved = { visibilityTimeoutMs: 30_000, maxDeliveryAttempts: 5, deadLetterTopic: '', ordering: 'none' };

function code(name: ErrorName): number {
  return Errors[name].code;
}

const tpKey = (topic: string, partition: number): string => `${topic}\0${partition}`;

interface Waiting {
  check(): boolean;
}

export class FakeShareCoordinator {
  readonly groups = new Map<string, ShareGroup>();
  readonly consumerGroups = new Set<string>();
  readonly log: Logged[] = [];
  readonly violations: string[] = [];
  /** Every record accepted, as `topic-partition-offset`. */
  readonly accepted = new Set<string>();
  heartbeatIntervalMs = 100;
  /** Joins are not checked against the group's configuration (a broken coordinator). */
  laxConfig = false;
  /** Topics whose partitions ShareFetch and ShareAcknowledge answer TOPIC_AUTHORIZATION_FAILED. */
  readonly unreadable = new Set<string>();
  readonly #injected = new Map<ApiName, ErrorName[]>();
  #waiting = new Set<Waiting>();
  readonly #ticker: ReturnType<typeof setInterval>;

  constructor(readonly cluster: FakeCluster, readonly nodeId: number) {
    const previous = cluster.more;
    cluster.more = (broker, api, correlationId, body, version, reply) => this.#answer(api, correlationId, body, version, reply) ?? previous?.(broker, api, correlationId, body, version, reply) ?? null;
    // Long polls re-check every few ms (a fake may poll; the real coordinator wakes them on events).
    this.#ticker = setInterval(() => this.#wake(), 5);
  }

  stop(): void {
    clearInterval(this.#ticker);
    for (const w of this.#waiting) w.check();
  }

  inject(api: ApiName, ...errors: ErrorName[]): void {
    this.#injected.set(api, [...(this.#injected.get(api) ?? []), ...errors]);
  }

  requests<A extends ApiName>(api: A): RequestBodies[A][] {
    return this.log.filter((l) => l.api === api).map((l) => l.body as RequestBodies[A]);
  }

  /** The coordinator removes `memberId` (a session timeout): its locks are released, its next request fenced. */
  expel(groupId: string, memberId: string): void {
    const g = this.groups.get(groupId);
    if (g?.members.delete(memberId) === true) this.#releaseLocksOf(g, memberId);
  }

  record(groupId: string, topic: string, partition: number, offset: number): ShareRecord | undefined {
    return this.groups.get(groupId)?.records.get(tpKey(topic, partition))?.get(offset);
  }

  #take(api: ApiName): number {
    const name = this.#injected.get(api)?.shift();
    return name === undefined ? 0 : code(name);
  }

  #wake(): void {
    for (const w of [...this.#waiting]) if (w.check()) this.#waiting.delete(w);
  }

  #answer(api: ApiName, correlationId: number, body: unknown, version: number, reply: (chunks: Uint8Array[]) => void): Uint8Array[] | null {
    switch (api) {
      case 'FindCoordinator':
        this.log.push({ api, body, atMs: Date.now() });
        return encodeResponse(api, version, correlationId, findCoordinatorAnswer(this.cluster, this.nodeId, body as RequestBodies['FindCoordinator'], this.#take(api)));
      case 'ShareGroupHeartbeat':
        this.log.push({ api, body, atMs: Date.now() });
        return encodeResponse(api, version, correlationId, this.#heartbeat(body as RequestBodies['ShareGroupHeartbeat']));
      case 'ShareAcknowledge':
        this.log.push({ api, body, atMs: Date.now() });
        return encodeResponse(api, version, correlationId, this.#acknowledge(body as RequestBodies['ShareAcknowledge']));
      case 'ShareGroupDescribe':
        this.log.push({ api, body, atMs: Date.now() });
        return encodeResponse(api, version, correlationId, this.#describe(body as RequestBodies['ShareGroupDescribe']));
      case 'ShareFetch': {
        this.log.push({ api, body, atMs: Date.now() });
        const req = body as RequestBodies['ShareFetch'];
        const first = this.#fetch(req, true);
        const deadline = Date.now() + req.maxWaitMs;
        if (first.done || req.maxWaitMs <= 0) return encodeResponse(api, version, correlationId, first.response);
        this.#waiting.add({
          check: () => {
            const again = this.#fetch({ ...req, topics: req.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, acknowledgements: [] })) })) }, false, first.response);
            if (!again.done && Date.now() < deadline) return false;
            reply(encodeResponse(api, version, correlationId, again.response));
            return true;
          },
        });
        return null;
      }
      default:
        return null;
    }
  }

  #heartbeat(req: RequestBodies['ShareGroupHeartbeat']): ResponseBodies['ShareGroupHeartbeat'] {
    const fail = (errorCode: number, errorMessage: string | null = null): ResponseBodies['ShareGroupHeartbeat'] => ({ throttleTimeMs: 0, errorCode, errorMessage, memberId: req.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, config: null });
    const injected = this.#take('ShareGroupHeartbeat');
    if (injected !== 0) {
      if (injected === code('FENCED_MEMBER_EPOCH') || injected === code('UNKNOWN_MEMBER_ID')) this.expel(req.groupId, req.memberId);
      return fail(injected);
    }
    if (this.consumerGroups.has(req.groupId)) return fail(code('INCONSISTENT_GROUP_PROTOCOL'), `group "${req.groupId}" is a consumer group`);
    let g = this.groups.get(req.groupId);
    if (req.memberEpoch === -1) {
      this.expel(req.groupId, req.memberId);
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: req.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, config: null };
    }
    if (req.memberEpoch === 0) {
      const c = req.config;
      if (g === undefined) {
        g = {
          config: {
            visibilityTimeoutMs: c === null || c.visibilityTimeoutMs === -1 ? DEFAULTS.visibilityTimeoutMs : c.visibilityTimeoutMs,
            maxDeliveryAttempts: c === null || c.maxDeliveryAttempts === -1 ? DEFAULTS.maxDeliveryAttempts : c.maxDeliveryAttempts,
            deadLetterTopic: c?.deadLetterTopic ?? DEFAULTS.deadLetterTopic,
            ordering: c?.ordering ?? DEFAULTS.ordering,
          },
          members: new Map(), epoch: 0, records: new Map(), accepted: 0, rejected: 0,
        };
        this.groups.set(req.groupId, g);
      } else if (c !== null && !this.laxConfig) {
        const differ = (['visibilityTimeoutMs', 'maxDeliveryAttempts'] as const).filter((k) => c[k] !== -1 && c[k] !== g!.config[k]);
        if (c.deadLetterTopic !== null && c.deadLetterTopic !== g.config.deadLetterTopic) differ.push('deadLetterTopic' as never);
        if (c.ordering !== null && c.ordering !== g.config.ordering) differ.push('ordering' as never);
        if (differ.length > 0) return fail(code('INVALID_CONFIG'), `${differ[0]} differs from the group's (${String(g.config[differ[0]!])})`);
      }
      g.epoch++;
      const m: ShareMember = { id: req.memberId, epoch: 1, topics: req.subscribedTopicNames ?? [], lastSeenMs: Date.now() };
      g.members.set(req.memberId, m);
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: m.id, memberEpoch: m.epoch, heartbeatIntervalMs: this.heartbeatIntervalMs, assignment: this.#assignment(m), config: g.config };
    }
    const m = g?.members.get(req.memberId);
    if (g === undefined || m === undefined) return fail(code('UNKNOWN_MEMBER_ID'));
    if (m.epoch !== req.memberEpoch) return fail(code('FENCED_MEMBER_EPOCH'));
    m.lastSeenMs = Date.now();
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: m.id, memberEpoch: m.epoch, heartbeatIntervalMs: this.heartbeatIntervalMs, assignment: null, config: null };
  }

  #assignment(m: ShareMember): { topic: string; partitions: number[] }[] {
    return m.topics.filter((t) => this.cluster.topics.has(t)).map((topic) => ({ topic, partitions: this.cluster.topics.get(topic)!.map((_, p) => p) }));
  }

  /** The member's group, or the error code of the whole request. */
  #member(groupId: string, memberId: string, memberEpoch: number): { g: ShareGroup; m: ShareMember } | number {
    if (this.consumerGroups.has(groupId)) return code('INCONSISTENT_GROUP_PROTOCOL');
    const g = this.groups.get(groupId);
    if (g === undefined) return code('GROUP_ID_NOT_FOUND');
    const m = g.members.get(memberId);
    if (m === undefined) return code('UNKNOWN_MEMBER_ID');
    if (m.epoch !== memberEpoch) return code('FENCED_MEMBER_EPOCH');
    return { g, m };
  }

  #acknowledge(req: RequestBodies['ShareAcknowledge']): ResponseBodies['ShareAcknowledge'] {
    const injected = this.#take('ShareAcknowledge');
    const found = injected !== 0 ? injected : this.#member(req.groupId, req.memberId, req.memberEpoch);
    if (typeof found === 'number') return { throttleTimeMs: 0, errorCode: found, errorMessage: null, topics: [] };
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        if (this.unreadable.has(t.topic)) return { ...this.#unreadable(t.topic, p.acknowledgements), partition: p.partition };
        return { partition: p.partition, errorCode: 0, errorMessage: null, failedAcknowledgements: this.#apply(found.g, found.m, t.topic, p.partition, p.acknowledgements) };
      }),
    }));
    this.#wake();
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics };
  }

  /** A partition of a topic in `unreadable`, as the broker answers it. */
  #unreadable(topic: string, acks: readonly ShareAcknowledgement[]): { errorCode: number; errorMessage: string; failedAcknowledgements: ShareFailedAcknowledgement[]; records: Buffer; acquiredRecords: [] } {
    const refused = code('TOPIC_AUTHORIZATION_FAILED');
    return { errorCode: refused, errorMessage: `User:test is not authorized to read topic "${topic}"; an ACL must allow it (runnel acl add)`, failedAcknowledgements: acks.map((a) => ({ firstOffset: a.firstOffset, lastOffset: a.lastOffset, errorCode: refused })), records: Buffer.alloc(0), acquiredRecords: [] };
  }

  /** Settles ranges the member holds; returns the refused ones. */
  #apply(g: ShareGroup, m: ShareMember, topic: string, partition: number, acks: readonly ShareAcknowledgement[]): ShareFailedAcknowledgement[] {
    const failed: ShareFailedAcknowledgement[] = [];
    const sorted = [...acks].sort((a, b) => a.firstOffset - b.firstOffset);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.firstOffset <= sorted[i - 1]!.lastOffset) return acks.map((a) => ({ firstOffset: a.firstOffset, lastOffset: a.lastOffset, errorCode: code('INVALID_REQUEST') }));
    }
    const records = this.#records(g, topic, partition);
    const now = Date.now();
    for (const a of acks) {
      if (a.lastOffset < a.firstOffset || a.type < 1 || a.type > 4) {
        failed.push({ firstOffset: a.firstOffset, lastOffset: a.lastOffset, errorCode: code('INVALID_REQUEST') });
        continue;
      }
      this.#expireLocks(g, topic, partition);
      const held = (o: number): boolean => {
        const r = records.get(o);
        return r !== undefined && r.state === 'acquired' && r.holder === m.id && r.lockUntilMs > now;
      };
      let allHeld = true;
      for (let o = a.firstOffset; o <= a.lastOffset; o++) if (!held(o)) allHeld = false;
      if (!allHeld) {
        failed.push({ firstOffset: a.firstOffset, lastOffset: a.lastOffset, errorCode: code('INVALID_RECORD_STATE') });
        continue;
      }
      for (let o = a.firstOffset; o <= a.lastOffset; o++) {
        const r = records.get(o)!;
        if (a.type === AcknowledgeType.RENEW) {
          r.lockUntilMs = now + (a.lockMs === -1 ? g.config.visibilityTimeoutMs : a.lockMs);
          continue;
        }
        r.holder = null;
        r.lastReason = a.reason ?? r.lastReason;
        if (a.type === AcknowledgeType.ACCEPT) {
          r.state = 'accepted';
          g.accepted++;
          const id = `${topic}-${partition}-${o}`;
          if (this.accepted.has(id)) this.violations.push(`${id} accepted twice`);
          this.accepted.add(id);
        } else if (a.type === AcknowledgeType.REJECT) {
          r.state = 'rejected';
          g.rejected++;
        } else {
          this.#releaseOne(g, r, now + a.delayMs);
        }
      }
    }
    return failed;
  }

  #releaseOne(g: ShareGroup, r: ShareRecord, availableAtMs: number): void {
    r.holder = null;
    if (r.deliveryCount >= g.config.maxDeliveryAttempts) {
      r.state = 'rejected';
      g.rejected++;
      return;
    }
    r.state = 'available';
    r.availableAtMs = availableAtMs;
  }

  #releaseLocksOf(g: ShareGroup, memberId: string): void {
    for (const records of g.records.values()) for (const r of records.values()) if (r.state === 'acquired' && r.holder === memberId) this.#releaseOne(g, r, 0);
  }

  #expireLocks(g: ShareGroup, topic: string, partition: number): void {
    const now = Date.now();
    for (const r of this.#records(g, topic, partition).values()) if (r.state === 'acquired' && r.lockUntilMs <= now) this.#releaseOne(g, r, 0);
  }

  #records(g: ShareGroup, topic: string, partition: number): Map<number, ShareRecord> {
    let m = g.records.get(tpKey(topic, partition));
    if (m === undefined) g.records.set(tpKey(topic, partition), (m = new Map()));
    return m;
  }

  /**
   * Applies the acknowledgements (first pass only) and acquires up to
   * maxRecords; `done` when something was acquired (or the request failed).
   */
  #fetch(req: RequestBodies['ShareFetch'], firstPass: boolean, earlier?: ResponseBodies['ShareFetch']): { done: boolean; response: ResponseBodies['ShareFetch'] } {
    const injected = firstPass ? this.#take('ShareFetch') : 0;
    const found = injected !== 0 ? injected : this.#member(req.groupId, req.memberId, req.memberEpoch);
    if (typeof found === 'number') return { done: true, response: { throttleTimeMs: 0, errorCode: found, errorMessage: null, acquisitionLockTimeoutMs: 0, topics: [] } };
    const { g, m } = found;
    m.lastSeenMs = Date.now();
    let budget = req.maxRecords;
    let acquiredAny = false;
    const topics = req.topics.map((t, ti) => ({
      topic: t.topic,
      partitions: t.partitions.map((p, pi) => {
        if (this.unreadable.has(t.topic)) return { ...this.#unreadable(t.topic, firstPass ? p.acknowledgements : []), partition: p.partition };
        const failed = firstPass ? this.#apply(g, m, t.topic, p.partition, p.acknowledgements) : earlier!.topics[ti]!.partitions[pi]!.failedAcknowledgements;
        const got = this.#acquire(g, m, t.topic, p.partition, budget);
        budget -= got.count;
        if (got.count > 0) acquiredAny = true;
        return { partition: p.partition, errorCode: 0, errorMessage: null, failedAcknowledgements: failed, records: got.records, acquiredRecords: got.ranges };
      }),
    }));
    if (firstPass) this.#wake();
    // Every topic refused: answered at once, as the broker does.
    const allRefused = req.topics.length > 0 && req.topics.every((t) => this.unreadable.has(t.topic));
    return { done: acquiredAny || allRefused, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, acquisitionLockTimeoutMs: g.config.visibilityTimeoutMs, topics } };
  }

  #acquire(g: ShareGroup, m: ShareMember, topic: string, partition: number, budget: number): { count: number; records: Buffer; ranges: ResponseBodies['ShareFetch']['topics'][number]['partitions'][number]['acquiredRecords'] } {
    const none = { count: 0, records: Buffer.alloc(0), ranges: [] };
    const log = this.cluster.topics.get(topic)?.[partition]?.log;
    if (log === undefined || budget <= 0) return none;
    this.#expireLocks(g, topic, partition);
    const records = this.#records(g, topic, partition);
    const now = Date.now();
    const taken: number[] = [];
    const batches = new Set<Uint8Array>();
    for (const batch of log) {
      if (taken.length >= budget) break;
      let decoded: Message[] | null = null;
      for (let o = batch.baseOffset; o < batch.endOffset && taken.length < budget; o++) {
        let r = records.get(o);
        if (r === undefined) {
          decoded ??= decodeBatch(batch.bytes, topic, partition);
          const at = decoded.find((d) => d.offset === o)?.headers[DELIVER_AT_HEADER];
          r = { state: 'available', deliveryCount: 0, holder: null, lockUntilMs: 0, availableAtMs: at == null ? 0 : Number(at.toString()), lastReason: null };
          records.set(o, r);
        }
        if (r.state !== 'available' || r.availableAtMs > now) continue;
        r.state = 'acquired';
        r.holder = m.id;
        r.deliveryCount++;
        r.lockUntilMs = now + g.config.visibilityTimeoutMs;
        taken.push(o);
        batches.add(batch.bytes);
      }
    }
    if (taken.length === 0) return none;
    const ranges: { firstOffset: number; lastOffset: number; deliveryCount: number }[] = [];
    for (const o of taken) {
      const count = records.get(o)!.deliveryCount;
      const last = ranges.at(-1);
      if (last !== undefined && last.lastOffset + 1 === o && last.deliveryCount === count) last.lastOffset = o;
      else ranges.push({ firstOffset: o, lastOffset: o, deliveryCount: count });
    }
    return { count: taken.length, records: Buffer.concat([...batches]), ranges };
  }

  #describe(req: RequestBodies['ShareGroupDescribe']): ResponseBodies['ShareGroupDescribe'] {
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((groupId) => {
        const g = this.groups.get(groupId);
        const empty = { errorMessage: null, groupId, groupState: 'Dead', groupEpoch: -1, config: DEFAULTS, members: [], partitions: [] };
        if (this.consumerGroups.has(groupId)) return { ...empty, errorCode: code('INCONSISTENT_GROUP_PROTOCOL') };
        if (g === undefined) return { ...empty, errorCode: code('GROUP_ID_NOT_FOUND') };
        const now = Date.now();
        const members = [...g.members.values()].map((m) => ({
          memberId: m.id, memberEpoch: m.epoch, clientId: 'runnel-js', clientHost: '/127.0.0.1', subscribedTopicNames: m.topics,
          acquiredRecords: [...g.records.values()].reduce((n, rs) => n + [...rs.values()].filter((r) => r.state === 'acquired' && r.holder === m.id && r.lockUntilMs > now).length, 0),
        }));
        const topics = [...new Set([...g.members.values()].flatMap((m) => m.topics))].filter((t) => this.cluster.topics.has(t)).sort();
        const partitions = topics.flatMap((topic) => this.cluster.topics.get(topic)!.map((p, partition) => {
          const rs = this.#records(g, topic, partition);
          const hw = p.log.at(-1)?.endOffset ?? 0;
          const unsettled = (o: number): boolean => !['accepted', 'rejected'].includes(rs.get(o)?.state ?? 'available');
          let start = 0;
          while (start < hw && !unsettled(start)) start++;
          const end = Math.max(start, ...[...rs.keys()].map((o) => o + 1));
          const window = [...rs.entries()].filter(([o]) => o >= start);
          const count = (f: (r: ShareRecord) => boolean): number => window.filter(([, r]) => f(r)).length;
          const oldest = start < hw ? (p.log.find((b) => b.endOffset > start) === undefined ? -1 : decodeBatch(p.log.find((b) => b.endOffset > start)!.bytes, topic, partition).find((m) => m.offset >= start)?.timestamp ?? -1) : -1;
          return {
            topic, partition, startOffset: start, endOffset: end, highWatermark: hw,
            inFlight: count((r) => r.state === 'available' || r.state === 'acquired'),
            acquired: count((r) => r.state === 'acquired' && r.lockUntilMs > now),
            available: count((r) => r.state === 'available' && r.availableAtMs <= now) + (hw - end),
            delayed: count((r) => r.state === 'available' && r.availableAtMs > now),
            accepted: [...rs.values()].filter((r) => r.state === 'accepted').length,
            rejected: [...rs.values()].filter((r) => r.state === 'rejected').length,
            deadLettered: 0,
            oldestUnsettledTimestampMs: oldest,
          };
        }));
        return { errorCode: 0, errorMessage: null, groupId, groupState: g.members.size === 0 ? 'Empty' : 'Stable', groupEpoch: g.epoch, config: g.config, members, partitions };
      }),
    };
  }
}

function decodeBatch(bytes: Uint8Array, topic: string, partition: number): Message[] {
  const out: Message[] = [];
  for (const { position, header } of walkBatches(bytes).batches) decodeMessages(bytes, position, header, topic, partition, 0, out);
  return out;
}
