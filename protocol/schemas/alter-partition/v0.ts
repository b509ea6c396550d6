/**
 * AlterPartition (key 56): a partition leader asks the controller to change
 * the partition's ISR (shrink a lagging follower out, expand a caught-up one
 * back in). The request names the state it was built from (leaderEpoch,
 * partitionEpoch); the controller refuses it if that state has moved on, so
 * two decisions never overwrite each other.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const nodeIds = { type: 'array', items: 'int' } as const;

export const alterPartitionV0 = {
  request: {
    type: 'record',
    name: 'AlterPartitionRequest',
    doc: 'The ISR changes a leader asks for.',
    fields: [
      { name: 'brokerId', type: 'int', doc: 'The leader\'s node id.' },
      { name: 'brokerEpoch', type: 'long', doc: 'The leader\'s broker epoch; another one is STALE_BROKER_EPOCH.' },
      {
        name: 'topics',
        doc: 'One entry per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AlterPartitionTopic',
            doc: 'One topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              { name: 'topicId', type: 'string', doc: 'The topic\'s incarnation; a topic deleted and created again is refused.' },
              {
                name: 'partitions',
                doc: 'The partitions to change.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'AlterPartitionPartition',
                    doc: 'One change.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'leaderEpoch', type: 'int', doc: 'The leader epoch the leader holds; an older one is FENCED_LEADER_EPOCH.' },
                      {
                        name: 'partitionEpoch',
                        type: 'int',
                        doc: 'The partition epoch the change was computed from; another one is INVALID_UPDATE_VERSION.',
                      },
                      { name: 'newIsr', type: nodeIds, doc: 'The ISR wanted, the leader included.' },
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
    name: 'AlterPartitionResponse',
    doc: 'The outcome, whole and per partition.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'A whole-request error (NOT_CONTROLLER, STALE_BROKER_EPOCH), else NONE.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What went wrong, for a person; null with NONE.' },
      {
        name: 'topics',
        doc: 'The results, by topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'AlterPartitionTopicResult',
            doc: 'One topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'The results for its partitions.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'AlterPartitionPartitionResult',
                    doc: 'One result.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'errorCode',
                        type: 'int',
                        doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, INELIGIBLE_REPLICA, ...',
                      },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What went wrong, for a person; null with NONE.' },
                      { name: 'leader', type: 'int', doc: 'The partition\'s leader after the request, -1 if none or unknown.' },
                      { name: 'leaderEpoch', type: 'int', doc: 'Its leader epoch after the request, -1 if unknown.' },
                      { name: 'partitionEpoch', type: 'int', doc: 'Its partition epoch after the request, -1 if unknown.' },
                      { name: 'isr', type: nodeIds, doc: 'Its ISR after the request; empty if unknown.' },
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
