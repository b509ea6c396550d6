/**
 * A group coordinator for SDK tests, plugged into a FakeCluster (`more`):
 * FindCoordinator, ConsumerGroupHeartbeat, OffsetCommit and OffsetFetch for
 * any number of groups, with KIP-848's rules as the schemas' docs give
 * them, and strict where a client could get them wrong, so tests fail on
 * the client's mistakes:
 *
 * - a member gets a partition only once no other member reports owning it
 *   (`topicPartitions`), and `violations` lists any heartbeat that reports
 *   owning a partition another member also reports owning;
 * - a heartbeat or commit with a wrong epoch is refused (FENCED_MEMBER_EPOCH);
 * - every request is logged in order (`log`), so a test can check that a
 *   revoked partition was committed before it was reported given up.
 *
 * The target assignment is round-robin over the members in join order and
 * the sorted partitions (deterministic: of 4 partitions, the first member
 * keeps 0 and 2 when a second joins); `inject` answers the next requests of an API
 * with an error instead.
 */
import { encodeResponse } from '../../../protocol/codec.js';
import type { ApiName } from '../../../protocol/api-keys.js';
import { Errors, type ErrorName } from '../../../protocol/errors.js';
import type { RequestBodies, ResponseBodies, TopicPartitions } from '../../../protocol/messages.js';
import type { FakeCluster } from '../fake-cluster.js';

const key = (topic: string, partition: number): string => `${topic}-${partition}`;

interface Member {
  id: string;
  instanceId: string | null;
  epoch: number;
  names: string[];
  regex: string;
  /** What it last reported owning. */
  owned: Set<string>;
  /** What it was last handed. */
  handed: Set<string>;
  /** Join order: the target assignment's member order. */
  seq: number;
  /** What it may report owning: what it was handed, until it reports it given up. */
  allowed: Set<string>;
}

interface Group {
  members: Map<string, Member>;
  offsets: Map<string, number>;
}

export interface Logged {
  api: ApiName;
  body: unknown;
}

function code(name: ErrorName): number {
  return Errors[name].code;
}

export class FakeCoordinator {
  readonly groups = new Map<string, Group>();
  readonly log: Logged[] = [];
  readonly violations: string[] = [];
  /** Errors to answer instead, per API, in order (consumed one per request). */
  readonly #injected = new Map<ApiName, ErrorName[]>();
  heartbeatIntervalMs = 100;
  #joins = 0;

  constructor(readonly cluster: FakeCluster, readonly nodeId: number) {
    cluster.more = (_broker, api, correlationId, body, version) => this.#answer(api, correlationId, body, version);
  }

  /** Injected errors not answered yet. */
  pending(api: ApiName): number {
    return this.#injected.get(api)?.length ?? 0;
  }

  inject(api: ApiName, ...errors: ErrorName[]): void {
    this.#injected.set(api, [...(this.#injected.get(api) ?? []), ...errors]);
  }

  group(id: string): Group {
    let g = this.groups.get(id);
    if (g === undefined) this.groups.set(id, (g = { members: new Map(), offsets: new Map() }));
    return g;
  }

  committed(groupId: string, topic: string, partition: number): number | undefined {
    return this.group(groupId).offsets.get(key(topic, partition));
  }

  requests(api: ApiName): unknown[] {
    return this.log.filter((l) => l.api === api).map((l) => l.body);
  }

  #take(api: ApiName): number {
    const list = this.#injected.get(api);
    const name = list?.shift();
    return name === undefined ? 0 : code(name);
  }

  #answer(api: ApiName, correlationId: number, body: unknown, version: number): Uint8Array[] | null {
    this.log.push({ api, body });
    switch (api) {
      case 'FindCoordinator':
        return encodeResponse(api, version, correlationId, findCoordinatorAnswer(this.cluster, this.nodeId, body as RequestBodies['FindCoordinator'], this.#take(api)));
      case 'ConsumerGroupHeartbeat':
        return encodeResponse(api, version, correlationId, this.#heartbeat(body as RequestBodies['ConsumerGroupHeartbeat']));
      case 'OffsetCommit':
        return encodeResponse(api, version, correlationId, this.#commit(body as RequestBodies['OffsetCommit']));
      case 'OffsetFetch':
        return encodeResponse(api, version, correlationId, this.#fetch(body as RequestBodies['OffsetFetch']));
      default:
        return null;
    }
  }

  #heartbeat(req: RequestBodies['ConsumerGroupHeartbeat']): ResponseBodies['ConsumerGroupHeartbeat'] {
    const fail = (errorCode: number): ResponseBodies['ConsumerGroupHeartbeat'] => ({ throttleTimeMs: 0, errorCode, errorMessage: null, memberId: req.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null });
    const injected = this.#take('ConsumerGroupHeartbeat');
    if (injected !== 0) {
      // A fenced member is gone from the group, as the real coordinator removes it.
      if (injected === code('FENCED_MEMBER_EPOCH')) this.group(req.groupId).members.delete(req.memberId);
      return fail(injected);
    }
    const g = this.group(req.groupId);
    let m = g.members.get(req.memberId);
    if (req.memberEpoch === -1 || req.memberEpoch === -2) {
      g.members.delete(req.memberId);
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
    }
    if (req.memberEpoch === 0) {
      m = { id: req.memberId, instanceId: req.instanceId, epoch: 0, names: [], regex: '', owned: new Set(), handed: new Set(), seq: this.#joins++, allowed: new Set() };
      g.members.set(req.memberId, m);
    } else if (m === undefined) {
      return fail(code('UNKNOWN_MEMBER_ID'));
    } else if (m.epoch !== req.memberEpoch) {
      return fail(code('FENCED_MEMBER_EPOCH'));
    }
    if (req.subscribedTopicNames !== null) m.names = req.subscribedTopicNames;
    if (req.subscribedTopicRegex !== null) m.regex = req.subscribedTopicRegex;
    if (req.topicPartitions !== null) {
      m.owned = new Set(req.topicPartitions.flatMap((t) => t.partitions.map((p) => key(t.topic, p))));
      for (const k of m.owned) {
        if (!m.allowed.has(k)) this.violations.push(`${m.id} reports owning ${k}, which it was not given`);
        for (const other of g.members.values()) if (other !== m && other.owned.has(k)) this.violations.push(`${m.id} and ${other.id} both report owning ${k}`);
      }
      m.allowed = new Set([...m.allowed].filter((k) => m!.owned.has(k) || m!.handed.has(k)));
    }
    const target = this.#target(g).get(m.id) ?? new Set<string>();
    // Hand out only partitions no other member still owns (KIP-848's rule).
    const takenByOthers = new Set([...g.members.values()].filter((o) => o !== m).flatMap((o) => [...o.owned, ...o.handed]));
    const next = new Set([...target].filter((k) => !takenByOthers.has(k) || m!.handed.has(k)));
    let assignment: ResponseBodies['ConsumerGroupHeartbeat']['assignment'] = null;
    if (req.memberEpoch === 0 || !sameSet(next, m.handed)) {
      m.handed = next;
      for (const k of next) m.allowed.add(k);
      m.epoch++;
      assignment = { topicPartitions: this.#wire(next) };
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: m.id, memberEpoch: m.epoch, heartbeatIntervalMs: this.heartbeatIntervalMs, assignment };
  }

  /** Round-robin of every subscribed partition over the members subscribed to its topic, sorted. */
  #target(g: Group): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    const members = [...g.members.values()].sort((a, b) => a.seq - b.seq);
    for (const m of members) out.set(m.id, new Set());
    for (const [topic, partitions] of [...this.cluster.topics].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subscribed = members.filter((m) => m.names.includes(topic) || (m.regex !== '' && new RegExp(`^(?:${m.regex})$`).test(topic)));
      partitions.forEach((_, p) => {
        if (subscribed.length > 0) out.get(subscribed[p % subscribed.length]!.id)!.add(key(topic, p));
      });
    }
    return out;
  }

  #wire(set: Set<string>): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const k of set) {
      const i = k.lastIndexOf('-');
      const topic = k.slice(0, i);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(k.slice(i + 1))]);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  #commit(req: RequestBodies['OffsetCommit']): ResponseBodies['OffsetCommit'] {
    const g = this.group(req.groupId);
    const injected = this.#take('OffsetCommit');
    const m = g.members.get(req.memberId);
    let errorCode = injected;
    if (errorCode === 0) {
      if (req.memberEpoch === -1) errorCode = g.members.size > 0 ? code('NON_EMPTY_GROUP') : 0;
      else if (m === undefined) errorCode = code('UNKNOWN_MEMBER_ID');
      else if (req.memberEpoch < m.epoch) errorCode = code('STALE_MEMBER_EPOCH');
      else if (req.memberEpoch > m.epoch) errorCode = code('FENCED_MEMBER_EPOCH');
    }
    if (errorCode === 0) for (const t of req.topics) for (const p of t.partitions) g.offsets.set(key(t.name, p.partition), p.committedOffset);
    return { throttleTimeMs: 0, topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode, errorMessage: null })) })) };
  }

  #fetch(req: RequestBodies['OffsetFetch']): ResponseBodies['OffsetFetch'] {
    const g = this.group(req.groupId);
    const errorCode = this.#take('OffsetFetch');
    return {
      throttleTimeMs: 0, errorCode, errorMessage: null,
      topics: (req.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((partition) => ({ partition, committedOffset: g.offsets.get(key(t.name, partition)) ?? -1, committedLeaderEpoch: -1, metadata: null, commitTimestampMs: -1, errorCode: 0 })),
      })),
    };
  }
}

/** FindCoordinator's answer naming broker `nodeId` of `cluster` for every key, or `errorCode` (non-zero) for each. */
export function findCoordinatorAnswer(cluster: FakeCluster, nodeId: number, req: RequestBodies['FindCoordinator'], errorCode: number): ResponseBodies['FindCoordinator'] {
  const port = cluster.brokers.get(nodeId)!.port;
  const ok = errorCode === 0;
  return {
    throttleTimeMs: 0,
    coordinators: req.keys.map((key) => ({ key, nodeId: ok ? nodeId : -1, host: ok ? '127.0.0.1' : '', port: ok ? port : -1, errorCode, errorMessage: null })),
  };
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
