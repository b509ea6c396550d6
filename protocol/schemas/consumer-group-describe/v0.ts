/**
 * ConsumerGroupDescribe (key 69): the state, members and assignments of
 * groups. Sent to each group's coordinator.
 *
 * Version history:
 * - v0: the first version. Topics are named, not ids.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const consumerGroupDescribeV0 = {
  request: {
    type: 'record',
    name: 'ConsumerGroupDescribeRequest',
    doc: 'The groups to describe.',
    fields: [{ name: 'groupIds', type: { type: 'array', items: 'string' }, doc: 'The group ids.' }],
  },
  response: {
    type: 'record',
    name: 'ConsumerGroupDescribeResponse',
    doc: 'One entry per group asked for.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'groups',
        doc: 'In the order of the request.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DescribedGroup',
            doc: 'One group.',
            fields: [
              { name: 'errorCode', type: 'int', doc: 'NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND, INVALID_GROUP_ID.' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
              { name: 'groupId', type: 'string', doc: 'The group id.' },
              { name: 'groupState', type: 'string', doc: '"Empty" (no members; offsets may remain), "Assigning" (a new target assignment is being computed), "Reconciling" (members are converging to the target), "Stable", or "Dead".' },
              { name: 'groupEpoch', type: 'int', doc: 'Bumped whenever membership or subscriptions change.' },
              { name: 'assignmentEpoch', type: 'int', doc: 'The group epoch the target assignment was computed for.' },
              { name: 'assignorName', type: 'string', doc: 'The assignor that computed the target assignment.' },
              {
                name: 'members',
                doc: 'The members.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DescribedMember',
                    doc: 'One member.',
                    fields: [
                      { name: 'memberId', type: 'string', doc: 'The member id.' },
                      { name: 'instanceId', type: ['null', 'string'], doc: 'Its static instance id; null for a dynamic member.' },
                      { name: 'rackId', type: ['null', 'string'], doc: 'Its rack; null when none.' },
                      { name: 'memberEpoch', type: 'int', doc: 'Its epoch.' },
                      { name: 'clientId', type: 'string', doc: 'The client id of its last heartbeat.' },
                      { name: 'clientHost', type: 'string', doc: 'The address its last heartbeat came from.' },
                      { name: 'subscribedTopicNames', type: { type: 'array', items: 'string' }, doc: 'The topic names it subscribes to.' },
                      { name: 'subscribedTopicRegex', type: ['null', 'string'], doc: 'Its topic pattern; null when none.' },
                      {
                        name: 'assignment',
                        doc: 'What it owns now.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'DescribedTopicPartitions',
                            doc: 'Partitions of one topic.',
                            fields: [
                              { name: 'topic', type: 'string', doc: 'The topic name.' },
                              { name: 'partitions', type: { type: 'array', items: 'int' }, doc: 'The partition indexes.' },
                            ],
                          },
                        },
                      },
                      {
                        name: 'targetAssignment',
                        doc: 'What it is converging to.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'TargetTopicPartitions',
                            doc: 'Partitions of one topic.',
                            fields: [
                              { name: 'topic', type: 'string', doc: 'The topic name.' },
                              { name: 'partitions', type: { type: 'array', items: 'int' }, doc: 'The partition indexes.' },
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
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
