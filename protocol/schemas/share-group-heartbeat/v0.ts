/**
 * ShareGroupHeartbeat (key 76): a member joins, stays in and leaves a share
 * group (a queue: Kafka's KIP-932), all through this one request. Sent to
 * the group's coordinator (FindCoordinator with the group id).
 *
 * Members of a share group do not own partitions: every member may be handed
 * records of every partition of the topics it subscribes to, each record to
 * one member at a time under an acquisition lock (ShareFetch). The
 * assignment names the partitions a member should fetch from.
 *
 * The group's configuration is fixed when the group is created: the first
 * join carries it (`config`, fields left at -1/null take the broker's
 * defaults); a later join whose non-default fields differ from the group's
 * is refused with INVALID_CONFIG naming the setting, so two deployments never
 * silently disagree about, say, the dead-letter topic.
 *
 * Version history:
 * - v0: the first version. Topics are named, not ids.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const shareGroupHeartbeatV0 = {
  request: {
    type: 'record',
    name: 'ShareGroupHeartbeatRequest',
    doc: 'A member\'s state; null fields mean "unchanged since my last heartbeat".',
    fields: [
      { name: 'groupId', type: 'string', doc: 'The share group id (the queue\'s name).' },
      { name: 'memberId', type: 'string', doc: 'The member id: chosen by the client once (22 random characters) and kept for the life of the consumer.' },
      { name: 'memberEpoch', type: 'int', doc: '0 to join; the epoch last received to stay; -1 to leave (its acquired records are released at once, their delivery counts kept).' },
      { name: 'subscribedTopicNames', type: ['null', { type: 'array', items: 'string' }], doc: 'Topic names subscribed to; required when joining, null unchanged afterwards.' },
      {
        name: 'config',
        doc: 'Joining only (null otherwise, and null to accept whatever the group has): the configuration the member expects. Creates the group with it when the group does not exist; otherwise each field that is not -1/null must equal the group\'s, or the join is refused with INVALID_CONFIG.',
        type: [
          'null',
          {
            type: 'record',
            name: 'ShareGroupConfig',
            doc: 'A share group\'s configuration (fixed when it is created).',
            fields: [
              { name: 'visibilityTimeoutMs', type: 'int', doc: 'How long a record handed to a member stays locked to it (the acquisition lock); -1: the broker\'s group.share.record.lock.duration.ms.' },
              { name: 'maxDeliveryAttempts', type: 'int', doc: 'After this many deliveries a record that is released again, or whose lock expires, is rejected (and dead-lettered when the group has a dead-letter topic); -1: the broker\'s group.share.delivery.count.limit.' },
              { name: 'deadLetterTopic', type: ['null', 'string'], doc: 'Where rejected records are copied (with runnel.dlq.* headers); null: the broker default (none), "" explicitly none.' },
              { name: 'ordering', type: ['null', 'string'], doc: '"none" (records of any key in parallel) or "key" (at most one unsettled record per key at a time, in offset order); null: "none".' },
            ],
          },
        ],
      },
    ],
  },
  response: {
    type: 'record',
    name: 'ShareGroupHeartbeatResponse',
    doc: 'The member\'s epoch, its assignment when it changed, and the group\'s configuration when it joined.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, INVALID_REQUEST, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH (rejoin with epoch 0), GROUP_MAX_SIZE_REACHED, INCONSISTENT_GROUP_PROTOCOL (the id belongs to a consumer group), INVALID_CONFIG (the config differs from the group\'s, or is out of range), UNKNOWN_TOPIC_OR_PARTITION (the dead-letter topic does not exist and cannot be created).' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      { name: 'memberId', type: ['null', 'string'], doc: 'The member id (as sent).' },
      { name: 'memberEpoch', type: 'int', doc: 'The member\'s epoch now; ShareFetch and ShareAcknowledge carry it.' },
      { name: 'heartbeatIntervalMs', type: 'int', doc: 'How often the member must heartbeat.' },
      {
        name: 'assignment',
        doc: 'The partitions the member should fetch from (all of them, not a difference); null when unchanged since the last response. Other members may be given the same partitions.',
        type: [
          'null',
          {
            type: 'array',
            items: {
              type: 'record',
              name: 'ShareAssignedTopicPartitions',
              doc: 'Partitions of one topic.',
              fields: [
                { name: 'topic', type: 'string', doc: 'The topic name.' },
                { name: 'partitions', type: { type: 'array', items: 'int' }, doc: 'The partition indexes.' },
              ],
            },
          },
        ],
      },
      {
        name: 'config',
        doc: 'The group\'s configuration, every field resolved (no -1 or null): on a join; null otherwise.',
        type: [
          'null',
          {
            type: 'record',
            name: 'ShareGroupConfigResolved',
            doc: 'A share group\'s configuration as the coordinator applies it.',
            fields: [
              { name: 'visibilityTimeoutMs', type: 'int', doc: 'The acquisition lock, ms.' },
              { name: 'maxDeliveryAttempts', type: 'int', doc: 'Deliveries before a record is rejected.' },
              { name: 'deadLetterTopic', type: 'string', doc: 'The dead-letter topic; "" none.' },
              { name: 'ordering', type: 'string', doc: '"none" or "key".' },
            ],
          },
        ],
      },
    ],
  },
} as const satisfies AvroApiVersion;
