/**
 * Scripted brokers for the admin's consumer-group calls and lag, on top of
 * fake-broker.ts: `fakeGroupsCluster` starts `brokers` FakeBrokers that
 * share one model of the cluster (topics as partitions of timestamped
 * records, groups with members and committed offsets, each group
 * coordinated by one broker) and answer Metadata, ListOffsets, Fetch,
 * FindCoordinator, ConsumerGroupDescribe, OffsetFetch, OffsetCommit,
 * ListGroups and DeleteGroups as the schemas' docs say a coordinator does:
 * a group request to another broker is NOT_COORDINATOR, a commit from
 * outside a group with members is NON_EMPTY_GROUP, and so on. Tests change
 * the model directly (add records, members, move a coordinator) and can
 * make a coordinator answer a retriable error the next N times.
 */
import type { Test } from 'tap';
import { encodeResponse } from '../../protocol/codec.js';
import { Errors, type ErrorName } from '../../protocol/errors.js';
import { buildBatch, stampBatch } from '../../protocol/batch/index.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type RequestBodies, type ResponseBodies } from '../../protocol/messages.js';
import type { ApiName } from '../../protocol/api-keys.js';
import { fakeBroker, type FakeBroker } from './fake-broker.js';

export interface FakeRecord {
  offset: number;
  timestamp: number;
}

export interface FakePartition {
  /** Records from the log start on; the high watermark is one past the last. */
  records: FakeRecord[];
  /** Set by retention: records before it are gone. */
  logStartOffset: number;
}

export interface FakeMember {
  memberId: string;
  instanceId?: string | null;
  clientId?: string;
  host?: string;
  memberEpoch?: number;
  assignment: { topic: string; partitions: number[] }[];
}

export interface FakeGroup {
  coordinator: number;
  state: string;
  members: FakeMember[];
  /** `topic\0partition` -> committed offset. */
  offsets: Map<string, number>;
}

export interface FakeGroupsCluster {
  brokers: FakeBroker[];
  bootstrap: string;
  topics: Map<string, FakePartition[]>;
  groups: Map<string, FakeGroup>;
  /** Every OffsetCommit received, in order. */
  commits: RequestBodies['OffsetCommit'][];
  /** The coordinator answers `error` to the next `times` group requests (of any API), then answers normally. */
  failNext(error: ErrorName, times: number): void;
  /** `count` records in `topic`-`partition`, timestamped from `firstTimestamp`, `stepMs` apart. */
  append(topic: string, partition: number, count: number, firstTimestamp: number, stepMs?: number): void;
}

const errorCodeOf = (name: ErrorName): number => Errors[name].code;

export const key = (topic: string, partition: number): string => `${topic}\0${partition}`;

export async function fakeGroupsCluster(t: Test, opts: { brokers?: number; topics?: Record<string, number> } = {}): Promise<FakeGroupsCluster> {
  const topics = new Map<string, FakePartition[]>();
  for (const [name, count] of Object.entries(opts.topics ?? {})) topics.set(name, Array.from({ length: count }, () => ({ records: [], logStartOffset: 0 })));
  const groups = new Map<string, FakeGroup>();
  const commits: RequestBodies['OffsetCommit'][] = [];
  let failing: { error: ErrorName; times: number } | null = null;
  const brokers: FakeBroker[] = [];
  const hw = (p: FakePartition): number => (p.records.length === 0 ? p.logStartOffset : p.records[p.records.length - 1]!.offset + 1);

  /** A group request's error for broker `id`: a planted failure, or NOT_COORDINATOR for a group it does not coordinate. */
  const groupError = (id: number, groupId: string): number => {
    if (failing !== null && failing.times > 0) {
      failing.times--;
      return errorCodeOf(failing.error);
    }
    const g = groups.get(groupId);
    // A group nobody coordinates yet belongs to broker 1 (as a hash would place it).
    return (g?.coordinator ?? 1) === id ? 0 : errorCodeOf('NOT_COORDINATOR');
  };

  const answer = (id: number) => (api: ApiName, correlationId: number, raw: unknown): Uint8Array[] | null => {
    const respond = <A extends ApiName>(a: A, body: ResponseBodies[A]): Uint8Array[] => encodeResponse(a, 0, correlationId, body);
    switch (api) {
      case 'Metadata': {
        const req = raw as RequestBodies['Metadata'];
        const names = req.topics ?? [...topics.keys()];
        return respond('Metadata', {
          brokers: brokers.map((b, i) => ({ nodeId: i + 1, host: '127.0.0.1', port: b.port, rack: null })),
          clusterId: 'fake-groups',
          controllerId: 1,
          topics: names.map((name) => {
            const parts = topics.get(name);
            return {
              errorCode: parts === undefined ? errorCodeOf('UNKNOWN_TOPIC_OR_PARTITION') : 0,
              name,
              isInternal: false,
              partitions: (parts ?? []).map((_, partition) => ({ errorCode: 0, partition, leader: 1 + (partition % brokers.length), leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] })),
            };
          }),
        });
      }
      case 'ListOffsets': {
        const req = raw as RequestBodies['ListOffsets'];
        return respond('ListOffsets', {
          topics: req.topics.map((tp) => ({
            name: tp.name,
            partitions: tp.partitions.map((p) => {
              const part = topics.get(tp.name)?.[p.partition];
              if (part === undefined) return { partition: p.partition, errorCode: errorCodeOf('UNKNOWN_TOPIC_OR_PARTITION'), timestamp: -1, offset: -1, leaderEpoch: -1 };
              const offset = p.timestamp === EARLIEST_TIMESTAMP ? part.logStartOffset
                : p.timestamp === LATEST_TIMESTAMP ? hw(part)
                  : part.records.find((r) => r.timestamp >= p.timestamp)?.offset ?? -1;
              return { partition: p.partition, errorCode: 0, timestamp: -1, offset, leaderEpoch: 0 };
            }),
          })),
        });
      }
      case 'Fetch': {
        const req = raw as RequestBodies['Fetch'];
        return respond('Fetch', {
          throttleTimeMs: 0,
          errorCode: 0,
          topics: req.topics.map((tp) => ({
            name: tp.name,
            partitions: tp.partitions.map((p) => {
              const part = topics.get(tp.name)?.[p.partition];
              if (part === undefined) return { partition: p.partition, errorCode: errorCodeOf('UNKNOWN_TOPIC_OR_PARTITION'), leaderEpoch: -1, highWatermark: -1, logStartOffset: -1, records: [] };
              if (p.fetchOffset < part.logStartOffset || p.fetchOffset > hw(part)) return { partition: p.partition, errorCode: errorCodeOf('OFFSET_OUT_OF_RANGE'), leaderEpoch: 0, highWatermark: hw(part), logStartOffset: part.logStartOffset, records: [] };
              // One batch per record, at most 10 of them: enough for the lag's first-record lookup.
              const batches = part.records.filter((r) => r.offset >= p.fetchOffset).slice(0, 10).map((r) => {
                const batch = buildBatch([{ key: null, value: Buffer.from(`r${r.offset}`), timestamp: r.timestamp }], { nowMs: r.timestamp });
                stampBatch(batch, 0, r.offset, 0);
                return batch;
              });
              return { partition: p.partition, errorCode: 0, leaderEpoch: 0, highWatermark: hw(part), logStartOffset: part.logStartOffset, records: batches.length === 0 ? [] : [Buffer.concat(batches)] };
            }),
          })),
        });
      }
      case 'FindCoordinator': {
        const req = raw as RequestBodies['FindCoordinator'];
        return respond('FindCoordinator', {
          throttleTimeMs: 0,
          coordinators: req.keys.map((k) => {
            const node = groups.get(k)?.coordinator ?? 1;
            return { key: k, nodeId: node, host: '127.0.0.1', port: brokers[node - 1]!.port, errorCode: 0, errorMessage: null };
          }),
        });
      }
      case 'ConsumerGroupDescribe': {
        const req = raw as RequestBodies['ConsumerGroupDescribe'];
        return respond('ConsumerGroupDescribe', {
          throttleTimeMs: 0,
          groups: req.groupIds.map((groupId) => {
            const error = groupError(id, groupId);
            const g = groups.get(groupId);
            const base = { errorMessage: null, groupId, groupState: 'Dead', groupEpoch: 0, assignmentEpoch: 0, assignorName: 'uniform', members: [] };
            if (error !== 0) return { ...base, errorCode: error };
            if (g === undefined) return { ...base, errorCode: errorCodeOf('GROUP_ID_NOT_FOUND') };
            return {
              ...base,
              errorCode: 0,
              groupState: g.state,
              groupEpoch: 3,
              assignmentEpoch: 3,
              members: g.members.map((m) => ({
                memberId: m.memberId, instanceId: m.instanceId ?? null, rackId: null, memberEpoch: m.memberEpoch ?? 3, clientId: m.clientId ?? 'app', clientHost: m.host ?? '/127.0.0.1',
                subscribedTopicNames: m.assignment.map((a) => a.topic), subscribedTopicRegex: null, assignment: m.assignment, targetAssignment: m.assignment,
              })),
            };
          }),
        });
      }
      case 'OffsetFetch': {
        const req = raw as RequestBodies['OffsetFetch'];
        const error = groupError(id, req.groupId);
        const g = groups.get(req.groupId);
        const byTopic = new Map<string, ResponseBodies['OffsetFetch']['topics'][number]['partitions']>();
        if (error === 0 && g !== undefined) {
          for (const [k, offset] of g.offsets) {
            const [topic, partition] = k.split('\0') as [string, string];
            byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition: Number(partition), committedOffset: offset, committedLeaderEpoch: -1, metadata: null, commitTimestampMs: 1, errorCode: 0 }]);
          }
        }
        const groupCode = error !== 0 ? error : g === undefined ? errorCodeOf('GROUP_ID_NOT_FOUND') : 0;
        return respond('OffsetFetch', { throttleTimeMs: 0, errorCode: groupCode, errorMessage: null, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) });
      }
      case 'OffsetCommit': {
        const req = raw as RequestBodies['OffsetCommit'];
        commits.push(req);
        const error = groupError(id, req.groupId);
        const g = groups.get(req.groupId);
        const refusal = error !== 0 ? error : req.memberEpoch === -1 && g !== undefined && g.members.length > 0 ? errorCodeOf('NON_EMPTY_GROUP') : 0;
        if (refusal === 0) {
          // A commit from outside creates the group, as Kafka's coordinator does.
          const group = g ?? { coordinator: id, state: 'Empty', members: [], offsets: new Map<string, number>() };
          groups.set(req.groupId, group);
          for (const tp of req.topics) for (const p of tp.partitions) group.offsets.set(key(tp.name, p.partition), p.committedOffset);
        }
        return respond('OffsetCommit', { throttleTimeMs: 0, topics: req.topics.map((tp) => ({ name: tp.name, partitions: tp.partitions.map((p) => ({ partition: p.partition, errorCode: refusal, errorMessage: null })) })) });
      }
      case 'ListGroups': {
        const req = raw as RequestBodies['ListGroups'];
        const mine = [...groups].filter(([, g]) => g.coordinator === id && (req.statesFilter.length === 0 || req.statesFilter.includes(g.state)));
        return respond('ListGroups', { throttleTimeMs: 0, errorCode: 0, groups: mine.map(([groupId, g]) => ({ groupId, groupState: g.state, groupType: 'consumer' })) });
      }
      case 'DeleteGroups': {
        const req = raw as RequestBodies['DeleteGroups'];
        return respond('DeleteGroups', {
          throttleTimeMs: 0,
          results: req.groupsNames.map((groupId) => {
            const error = groupError(id, groupId);
            const g = groups.get(groupId);
            const code = error !== 0 ? error : g === undefined ? errorCodeOf('GROUP_ID_NOT_FOUND') : g.members.length > 0 ? errorCodeOf('NON_EMPTY_GROUP') : 0;
            if (code === 0) groups.delete(groupId);
            return { groupId, errorCode: code, errorMessage: null };
          }),
        });
      }
      default:
        throw new Error(`fake-groups: no answer for ${api}`);
    }
  };

  const count = opts.brokers ?? 1;
  for (let i = 1; i <= count; i++) brokers.push(await fakeBroker(t, answer(i)));
  return {
    brokers,
    bootstrap: `127.0.0.1:${brokers[0]!.port}`,
    topics,
    groups,
    commits,
    failNext(error, times) {
      failing = { error, times };
    },
    append(topic, partition, n, firstTimestamp, stepMs = 1) {
      const part = topics.get(topic)![partition]!;
      const start = hw(part);
      for (let i = 0; i < n; i++) part.records.push({ offset: start + i, timestamp: firstTimestamp + i * stepMs });
    },
  };
}
