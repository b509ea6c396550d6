/**
 * OffsetCommit (key 8): store a group's position in partitions. Sent to the
 * group's coordinator; the response comes once the commit is replicated to
 * the in-sync replicas of the group's `__consumer_offsets` partition.
 *
 * A member commits with its current epoch; a commit from a fenced member (an
 * older epoch, or a member the group no longer has) is refused, so a consumer
 * that lost a partition cannot move its offset back. Tools commit as no
 * member (memberEpoch -1), which is allowed only while the group has no
 * members.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const offsetCommitV0 = {
  request: {
    type: 'record',
    name: 'OffsetCommitRequest',
    doc: 'The offsets to commit.',
    fields: [
      { name: 'groupId', type: 'string', doc: 'The group id.' },
      { name: 'memberId', type: 'string', doc: 'The committing member; "" for a commit from outside the group (tools).' },
      { name: 'memberEpoch', type: 'int', doc: 'The member\'s current epoch; -1 for a commit from outside the group.' },
      { name: 'groupInstanceId', type: ['null', 'string'], doc: 'The member\'s static instance id; null for a dynamic member.' },
      {
        name: 'topics',
        doc: 'Per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'OffsetCommitTopic',
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
                    name: 'OffsetCommitPartition',
                    doc: 'One partition\'s position.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'committedOffset', type: 'long', doc: 'The next offset to consume (one past the last processed record).' },
                      { name: 'committedLeaderEpoch', type: 'int', doc: 'The leader epoch of the last processed record, to detect log truncation; -1 when unknown.' },
                      { name: 'committedMetadata', type: ['null', 'string'], doc: 'Any string the application wants stored with the offset (bounded by offset.metadata.max.bytes); null for none.' },
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
  response: {
    type: 'record',
    name: 'OffsetCommitResponse',
    doc: 'One result per partition.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'topics',
        doc: 'Per topic, in the order of the request.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'OffsetCommitTopicResult',
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
                    name: 'OffsetCommitPartitionResult',
                    doc: 'One partition\'s result.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'errorCode', type: 'int', doc: 'NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH, FENCED_MEMBER_EPOCH, NON_EMPTY_GROUP (a commit from outside a group that has members), OFFSET_METADATA_TOO_LARGE, UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT.' },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
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
