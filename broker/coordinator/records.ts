/**
 * The records of `__consumer_offsets`: a group's state and committed offsets
 * as key/value pairs, so that log compaction keeps the latest value of each
 * key and a tombstone (null value) removes one.
 *
 * Keys, one per thing that changes on its own:
 * - group    (groupId): epochs, assignor, subscribed topics' partition counts;
 *   its tombstone deletes the group.
 * - member   (groupId, memberId): subscription, epochs, assigned, revoking
 *   and target partitions; its tombstone removes the member.
 * - offset   (groupId, topic, partition): a committed offset; its tombstone
 *   removes it (group deleted, topic deleted, retention).
 *
 * Bytes: one byte naming the kind (key) or the schema version (value),
 * then the Avro encoding. The version byte lets a later build add a schema
 * version and still read every value written before (Avro resolution), as
 * the metadata log does (metadata/changes.ts).
 */
import avro from 'avsc';
import type { Schema } from 'avsc';
import { assert } from '../world/assert.js';
import { shareKeyTypes, shareValueTypes, type ShareRecord } from '../share/records.js';
import { EntryWriter } from '../share/entry-writer.js';

export type CoordinatorRecord =
  | { kind: 'group'; groupId: string; value: GroupValue | null }
  | { kind: 'member'; groupId: string; memberId: string; value: MemberValue | null }
  | { kind: 'offset'; groupId: string; topic: string; partition: number; value: OffsetValue | null }
  | ShareRecord;

export interface GroupValue {
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  subscribedTopics: { name: string; partitions: number }[];
}

export interface TopicPartitionsValue {
  topic: string;
  partitions: number[];
}

export interface MemberValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  memberEpoch: number;
  previousMemberEpoch: number;
  assigned: TopicPartitionsValue[];
  revoking: TopicPartitionsValue[];
  target: TopicPartitionsValue[];
}

export interface OffsetValue {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestampMs: number;
}

/** Share groups' kinds (share/records.ts) follow the consumer groups'. */
const KIND = { group: 0, member: 1, offset: 2, shareGroup: 3, shareMember: 4, sharePartition: 5, shareChunk: 6, shareDelayed: 7 } as const;
const VALUE_VERSION = 0;

const topicPartitions: Schema = { type: 'array', items: { type: 'record', name: 'TopicPartitions', fields: [{ name: 'topic', type: 'string' }, { name: 'partitions', type: { type: 'array', items: 'int' } }] } };

const keyTypes = {
  group: avro.Type.forSchema({ type: 'record', name: 'GroupKey', fields: [{ name: 'groupId', type: 'string' }] }),
  member: avro.Type.forSchema({ type: 'record', name: 'MemberKey', fields: [{ name: 'groupId', type: 'string' }, { name: 'memberId', type: 'string' }] }),
  offset: avro.Type.forSchema({ type: 'record', name: 'OffsetKey', fields: [{ name: 'groupId', type: 'string' }, { name: 'topic', type: 'string' }, { name: 'partition', type: 'int' }] }),
  ...shareKeyTypes,
};

const valueTypes = {
  group: avro.Type.forSchema({
    type: 'record',
    name: 'GroupValue',
    fields: [
      { name: 'groupEpoch', type: 'int' },
      { name: 'assignmentEpoch', type: 'int' },
      { name: 'assignorName', type: 'string' },
      { name: 'subscribedTopics', type: { type: 'array', items: { type: 'record', name: 'SubscribedTopic', fields: [{ name: 'name', type: 'string' }, { name: 'partitions', type: 'int' }] } } },
    ],
  }),
  member: avro.Type.forSchema({
    type: 'record',
    name: 'MemberValue',
    fields: [
      { name: 'instanceId', type: ['null', 'string'] },
      { name: 'rackId', type: ['null', 'string'] },
      { name: 'clientId', type: 'string' },
      { name: 'clientHost', type: 'string' },
      { name: 'rebalanceTimeoutMs', type: 'int' },
      { name: 'subscribedTopicNames', type: { type: 'array', items: 'string' } },
      { name: 'subscribedTopicRegex', type: ['null', 'string'] },
      { name: 'serverAssignor', type: ['null', 'string'] },
      { name: 'memberEpoch', type: 'int' },
      { name: 'previousMemberEpoch', type: 'int' },
      { name: 'assigned', type: topicPartitions },
      { name: 'revoking', type: { type: 'array', items: 'TopicPartitions' } },
      { name: 'target', type: { type: 'array', items: 'TopicPartitions' } },
    ],
  }),
  offset: avro.Type.forSchema({
    type: 'record',
    name: 'OffsetValue',
    fields: [
      { name: 'offset', type: 'long' },
      { name: 'leaderEpoch', type: 'int' },
      { name: 'metadata', type: ['null', 'string'] },
      { name: 'commitTimestampMs', type: 'long' },
    ],
  }),
  ...shareValueTypes,
};

const entryWriter = new EntryWriter();

function withPrefix(prefix: number, body: Buffer): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = prefix;
  out.set(body, 1);
  return out;
}

function body(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1);
}

export function encodeRecord(record: CoordinatorRecord): { key: Uint8Array; value: Uint8Array | null } {
  // The share window's records, written for every record acquired and settled, go through a hand-written writer (same bytes).
  if (record.kind === 'shareChunk') {
    const key = entryWriter.windowKey(KIND.shareChunk, record.groupId, record.topic, record.partition, record.chunk);
    return { key, value: record.value === null ? null : entryWriter.chunkValue(VALUE_VERSION, record.value.entries) };
  }
  if (record.kind === 'shareDelayed') {
    const key = entryWriter.windowKey(KIND.shareDelayed, record.groupId, record.topic, record.partition, record.offset);
    return { key, value: record.value === null ? null : entryWriter.entryValue(VALUE_VERSION, record.value) };
  }
  const { kind, value, ...key } = record;
  const keyBytes = withPrefix(KIND[kind], keyTypes[kind].toBuffer(key));
  return { key: keyBytes, value: value === null ? null : withPrefix(VALUE_VERSION, valueTypes[kind].toBuffer(value)) };
}

/** The record a key/value pair of `__consumer_offsets` holds; throws on bytes no version of the schema wrote. */
export function decodeRecord(key: Uint8Array, value: Uint8Array | null): CoordinatorRecord {
  assert(key.byteLength > 0, 'a __consumer_offsets record has a key', {});
  const kind = (Object.keys(KIND) as (keyof typeof KIND)[]).find((name) => KIND[name] === key[0]);
  if (kind === undefined) throw new Error(`unknown __consumer_offsets record kind ${key[0]}`);
  if (value !== null && value[0] !== VALUE_VERSION) throw new Error(`unknown __consumer_offsets ${kind} value version ${value[0]}`);
  const decodedKey = keyTypes[kind].fromBuffer(body(key)) as Record<string, unknown>;
  const decodedValue = value === null ? null : (valueTypes[kind].fromBuffer(body(value)) as unknown);
  // Avro hands back its own record classes; plain objects compare and print simply.
  return { kind, ...plain(decodedKey), value: decodedValue === null ? null : plain(decodedValue) } as CoordinatorRecord;
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
