/**
 * ConsumerGroupHeartbeat (key 68): a member joins, stays in and leaves a
 * consumer group, and receives its assignment, all through this one request
 * (the protocol of Kafka's KIP-848). Sent to the group's coordinator.
 *
 * The coordinator computes the group's target assignment; each member
 * converges to its share one heartbeat at a time. A partition moves only
 * after its previous owner has reported (in `topicPartitions`) that it no
 * longer consumes it, so no partition is ever owned by two members at once,
 * and partitions that do not move are never paused.
 *
 * Version history:
 * - v0: the first version. Topics are named, not ids.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const consumerGroupHeartbeatV0 = {
  request: {
    type: 'record',
    name: 'ConsumerGroupHeartbeatRequest',
    doc: 'A member\'s state; null fields mean "unchanged since my last heartbeat".',
    fields: [
      { name: 'groupId', type: 'string', doc: 'The group id.' },
      { name: 'memberId', type: 'string', doc: 'The member id: chosen by the client once (a UUID) and kept for the life of the consumer.' },
      { name: 'memberEpoch', type: 'int', doc: '0 to join; the epoch last received to stay; -1 to leave; -2 for a static member leaving for a restart (keeps its partitions for the session timeout).' },
      { name: 'instanceId', type: ['null', 'string'], doc: 'Static membership: an id stable across restarts of the same consumer; null for a dynamic member.' },
      { name: 'rackId', type: ['null', 'string'], doc: 'The member\'s rack; null when none.' },
      { name: 'rebalanceTimeoutMs', type: 'int', doc: 'How long the member may take to give up a revoked partition before it is removed from the group; -1 unchanged.' },
      { name: 'subscribedTopicNames', type: ['null', { type: 'array', items: 'string' }], doc: 'Topic names subscribed to; null unchanged.' },
      { name: 'subscribedTopicRegex', type: ['null', 'string'], doc: 'A regular expression (JavaScript syntax, matched against the whole topic name) of topics subscribed to, in addition to the names; null unchanged, "" none.' },
      { name: 'serverAssignor', type: ['null', 'string'], doc: 'The assignor the member asks for ("uniform" or "range"); null: the group\'s (or the broker\'s default).' },
      {
        name: 'topicPartitions',
        doc: 'The partitions the member owns now (it has finished with every other); null unchanged. Sent on joining and whenever it changes.',
        type: [
          'null',
          {
            type: 'array',
            items: {
              type: 'record',
              name: 'HeartbeatTopicPartitions',
              doc: 'Partitions of one topic.',
              fields: [
                { name: 'topic', type: 'string', doc: 'The topic name.' },
                { name: 'partitions', type: { type: 'array', items: 'int' }, doc: 'The partition indexes.' },
              ],
            },
          },
        ],
      },
    ],
  },
  response: {
    type: 'record',
    name: 'ConsumerGroupHeartbeatResponse',
    doc: 'The member\'s epoch and, when it changed, its assignment.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, INVALID_REQUEST, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH (rejoin with epoch 0, giving up every partition), UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION, GROUP_MAX_SIZE_REACHED, GROUP_ID_NOT_FOUND.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      { name: 'memberId', type: ['null', 'string'], doc: 'The member id (as sent).' },
      { name: 'memberEpoch', type: 'int', doc: 'The member\'s epoch now; commits must carry it.' },
      { name: 'heartbeatIntervalMs', type: 'int', doc: 'How often the member must heartbeat.' },
      {
        name: 'assignment',
        doc: 'The partitions the member owns from now on (all of them, not a difference); null when unchanged since the last response. It only ever grows by partitions no other member owns.',
        type: [
          'null',
          {
            type: 'record',
            name: 'HeartbeatAssignment',
            doc: 'A member\'s assignment.',
            fields: [
              {
                name: 'topicPartitions',
                doc: 'Per topic.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'AssignedTopicPartitions',
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
        ],
      },
    ],
  },
} as const satisfies AvroApiVersion;
