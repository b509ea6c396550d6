/**
 * The records of a share group in `__consumer_offsets` (next to the
 * consumer groups' kinds in coordinator/records.ts, which encodes them):
 * keyed so that compaction keeps the latest value of each key, and a
 * tombstone removes one.
 *
 * - shareGroup     (groupId): epoch and configuration; tombstone: deleted.
 * - shareMember    (groupId, memberId): epoch and subscription; tombstone: gone.
 * - sharePartition (groupId, topic, partition): the window's bounds and totals.
 * - shareChunk     (groupId, topic, partition, chunk): the window's records
 *   with offsets in [chunk * CHUNK_RECORDS, (chunk + 1) * CHUNK_RECORDS):
 *   state, delivery count, lock holder and absolute deadline, due time, key
 *   hash. A change rewrites only the chunks it touched, so one
 *   acknowledgement costs O(its records + CHUNK_RECORDS), whatever the
 *   window holds; a chunk left empty (all below the start) is a tombstone.
 * - shareDelayed   (groupId, topic, partition, offset): a record parked in
 *   the delay set, out of the window (window.ts), as a chunk keeps it; its
 *   tombstone: settled.
 */
import avro from 'avsc';

export const CHUNK_RECORDS = 32;

export interface ShareGroupValue {
  groupEpoch: number;
  visibilityTimeoutMs: number;
  maxDeliveryAttempts: number;
  deadLetterTopic: string;
  ordering: string;
}

export interface ShareMemberValue {
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
}

export interface SharePartitionValue {
  startOffset: number;
  endOffset: number;
  accepted: number;
  rejected: number;
  deadLettered: number;
}

export interface ShareEntryValue {
  offset: number;
  /** RecordState (window.ts). */
  state: number;
  deliveryCount: number;
  holder: string | null;
  lockUntilMs: number;
  dueMs: number;
  keyHash: number | null;
  timestampMs: number;
  error: string | null;
}

export interface ShareChunkValue {
  entries: ShareEntryValue[];
}

/** A parked record: as in a chunk. */
export type ShareDelayedValue = ShareEntryValue;

export type ShareRecord =
  | { kind: 'shareGroup'; groupId: string; value: ShareGroupValue | null }
  | { kind: 'shareMember'; groupId: string; memberId: string; value: ShareMemberValue | null }
  | { kind: 'sharePartition'; groupId: string; topic: string; partition: number; value: SharePartitionValue | null }
  | { kind: 'shareChunk'; groupId: string; topic: string; partition: number; chunk: number; value: ShareChunkValue | null }
  | { kind: 'shareDelayed'; groupId: string; topic: string; partition: number; offset: number; value: ShareDelayedValue | null };

const partitionKey = [
  { name: 'groupId', type: 'string' },
  { name: 'topic', type: 'string' },
  { name: 'partition', type: 'int' },
];

const entryFields = [
  { name: 'offset', type: 'long' },
  { name: 'state', type: 'int' },
  { name: 'deliveryCount', type: 'int' },
  { name: 'holder', type: ['null', 'string'] },
  { name: 'lockUntilMs', type: 'long' },
  { name: 'dueMs', type: 'long' },
  { name: 'keyHash', type: ['null', 'int'] },
  { name: 'timestampMs', type: 'long' },
  { name: 'error', type: ['null', 'string'] },
];

export const shareKeyTypes = {
  shareGroup: avro.Type.forSchema({ type: 'record', name: 'ShareGroupKey', fields: [{ name: 'groupId', type: 'string' }] }),
  shareMember: avro.Type.forSchema({ type: 'record', name: 'ShareMemberKey', fields: [{ name: 'groupId', type: 'string' }, { name: 'memberId', type: 'string' }] }),
  sharePartition: avro.Type.forSchema({ type: 'record', name: 'SharePartitionKey', fields: partitionKey }),
  shareChunk: avro.Type.forSchema({ type: 'record', name: 'ShareChunkKey', fields: [...partitionKey, { name: 'chunk', type: 'long' }] }),
  shareDelayed: avro.Type.forSchema({ type: 'record', name: 'ShareDelayedKey', fields: [...partitionKey, { name: 'offset', type: 'long' }] }),
};

export const shareValueTypes = {
  shareGroup: avro.Type.forSchema({
    type: 'record',
    name: 'ShareGroupValue',
    fields: [
      { name: 'groupEpoch', type: 'int' },
      { name: 'visibilityTimeoutMs', type: 'int' },
      { name: 'maxDeliveryAttempts', type: 'int' },
      { name: 'deadLetterTopic', type: 'string' },
      { name: 'ordering', type: 'string' },
    ],
  }),
  shareMember: avro.Type.forSchema({
    type: 'record',
    name: 'ShareMemberValue',
    fields: [
      { name: 'memberEpoch', type: 'int' },
      { name: 'clientId', type: 'string' },
      { name: 'clientHost', type: 'string' },
      { name: 'subscribedTopicNames', type: { type: 'array', items: 'string' } },
    ],
  }),
  sharePartition: avro.Type.forSchema({
    type: 'record',
    name: 'SharePartitionValue',
    fields: [
      { name: 'startOffset', type: 'long' },
      { name: 'endOffset', type: 'long' },
      { name: 'accepted', type: 'long' },
      { name: 'rejected', type: 'long' },
      { name: 'deadLettered', type: 'long' },
    ],
  }),
  shareChunk: avro.Type.forSchema({
    type: 'record',
    name: 'ShareChunkValue',
    fields: [
      {
        name: 'entries',
        type: {
          type: 'array',
          items: { type: 'record', name: 'ShareEntry', fields: entryFields },
        },
      },
    ],
  }),
  shareDelayed: avro.Type.forSchema({ type: 'record', name: 'ShareDelayedValue', fields: entryFields }),
};
