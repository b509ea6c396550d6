/**
 * ShareGroupDescribe (key 77): a share group's members, configuration and,
 * per partition, where its records stand (what `runnel queue describe`
 * prints). Sent to the group's coordinator.
 *
 * Per partition, offsets below `startOffset` are all settled; from it to
 * `endOffset` (exclusive) is the in-flight window the coordinator tracks
 * record by record; from `endOffset` to the high watermark nothing has been
 * handed out yet.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const shareGroupDescribeV0 = {
  request: {
    type: 'record',
    name: 'ShareGroupDescribeRequest',
    doc: 'The groups to describe.',
    fields: [{ name: 'groupIds', type: { type: 'array', items: 'string' }, doc: 'The share group ids.' }],
  },
  response: {
    type: 'record',
    name: 'ShareGroupDescribeResponse',
    doc: 'One entry per group asked for.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'groups',
        doc: 'As asked, in order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DescribedShareGroup',
            doc: 'One share group.',
            fields: [
              { name: 'errorCode', type: 'int', doc: 'NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND, INCONSISTENT_GROUP_PROTOCOL (a consumer group has this id).' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong; null on success.' },
              { name: 'groupId', type: 'string', doc: 'The group id.' },
              { name: 'groupState', type: 'string', doc: '"Empty" (no members) or "Stable".' },
              { name: 'groupEpoch', type: 'int', doc: 'Bumped by every membership or subscription change.' },
              {
                name: 'config',
                doc: 'The group\'s configuration.',
                type: {
                  type: 'record',
                  name: 'DescribedShareGroupConfig',
                  doc: 'As ShareGroupHeartbeat resolves it.',
                  fields: [
                    { name: 'visibilityTimeoutMs', type: 'int', doc: 'The acquisition lock, ms.' },
                    { name: 'maxDeliveryAttempts', type: 'int', doc: 'Deliveries before a record is rejected.' },
                    { name: 'deadLetterTopic', type: 'string', doc: 'The dead-letter topic; "" none.' },
                    { name: 'ordering', type: 'string', doc: '"none" or "key".' },
                  ],
                },
              },
              {
                name: 'members',
                doc: 'Its members.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DescribedShareMember',
                    doc: 'One member.',
                    fields: [
                      { name: 'memberId', type: 'string', doc: 'The member id.' },
                      { name: 'memberEpoch', type: 'int', doc: 'Its epoch.' },
                      { name: 'clientId', type: 'string', doc: 'The client id of its connection.' },
                      { name: 'clientHost', type: 'string', doc: 'The address it connected from.' },
                      { name: 'subscribedTopicNames', type: { type: 'array', items: 'string' }, doc: 'Its subscription.' },
                      { name: 'acquiredRecords', type: 'int', doc: 'How many records it holds locked now.' },
                    ],
                  },
                },
              },
              {
                name: 'partitions',
                doc: 'Every partition of the subscribed topics (and any the group still has state for).',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DescribedSharePartition',
                    doc: 'Where one partition\'s records stand for this group.',
                    fields: [
                      { name: 'topic', type: 'string', doc: 'The topic name.' },
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'startOffset', type: 'long', doc: 'Every offset below it is settled.' },
                      { name: 'endOffset', type: 'long', doc: 'The next offset not yet taken into the in-flight window.' },
                      { name: 'highWatermark', type: 'long', doc: 'The partition\'s high watermark (-1 when the coordinator could not learn it).' },
                      { name: 'inFlight', type: 'int', doc: 'Records in the window not yet settled (acquired, available again, or waiting for a delay).' },
                      { name: 'acquired', type: 'int', doc: 'Records locked to a member now.' },
                      { name: 'available', type: 'long', doc: 'Records that could be handed out now: available ones in the window plus every record between endOffset and the high watermark.' },
                      { name: 'delayed', type: 'int', doc: 'Records waiting for their delivery time (a deliver-at header, or a release with a delay).' },
                      { name: 'accepted', type: 'long', doc: 'Records accepted since the group was created.' },
                      { name: 'rejected', type: 'long', doc: 'Records rejected since the group was created (by a member, or after the last delivery attempt).' },
                      { name: 'deadLettered', type: 'long', doc: 'Of those, records copied to the dead-letter topic.' },
                      { name: 'oldestUnsettledTimestampMs', type: 'long', doc: 'The timestamp of the oldest record not settled (in the window or after it, below the high watermark); -1 when every record is settled.' },
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
