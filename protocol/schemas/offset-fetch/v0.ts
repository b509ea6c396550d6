/**
 * OffsetFetch (key 9): a group's committed positions. Sent to the group's
 * coordinator.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const offsetFetchV0 = {
  request: {
    type: 'record',
    name: 'OffsetFetchRequest',
    doc: 'The partitions to read committed offsets of.',
    fields: [
      { name: 'groupId', type: 'string', doc: 'The group id.' },
      { name: 'memberId', type: ['null', 'string'], doc: 'The asking member, checked with memberEpoch; null for a read from outside the group.' },
      { name: 'memberEpoch', type: 'int', doc: 'The asking member\'s epoch; -1 for a read from outside the group.' },
      {
        name: 'topics',
        doc: 'The partitions; null: every partition the group has an offset for.',
        type: [
          'null',
          {
            type: 'array',
            items: {
              type: 'record',
              name: 'OffsetFetchTopic',
              doc: 'One topic.',
              fields: [
                { name: 'name', type: 'string', doc: 'The topic name.' },
                { name: 'partitions', type: { type: 'array', items: 'int' }, doc: 'The partition indexes.' },
              ],
            },
          },
        ],
      },
      { name: 'requireStable', type: 'boolean', doc: 'Answer UNSTABLE_OFFSET_COMMIT for a partition whose commit is still being replicated, instead of its last replicated offset.' },
    ],
  },
  response: {
    type: 'record',
    name: 'OffsetFetchResponse',
    doc: 'The committed offsets.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'A group-level error: NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      {
        name: 'topics',
        doc: 'Per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'OffsetFetchTopicResult',
            doc: 'One topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Per partition.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'OffsetFetchPartitionResult',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'committedOffset', type: 'long', doc: 'The committed offset; -1 when the group has none for this partition.' },
                      { name: 'committedLeaderEpoch', type: 'int', doc: 'The leader epoch committed with it; -1 when unknown.' },
                      { name: 'metadata', type: ['null', 'string'], doc: 'The metadata committed with it; null when none.' },
                      { name: 'commitTimestampMs', type: 'long', doc: 'When the coordinator stored it; -1 when there is no offset.' },
                      { name: 'errorCode', type: 'int', doc: 'NONE, UNSTABLE_OFFSET_COMMIT, UNKNOWN_TOPIC_OR_PARTITION.' },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
