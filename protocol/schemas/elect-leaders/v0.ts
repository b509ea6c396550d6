/**
 * ElectLeaders (key 43): make the preferred replica (the first of the
 * assignment) the leader where it is live and in the ISR, or (unclean)
 * elect any live replica where no leader is left. Sent to any broker, which
 * forwards it to the controller.
 *
 * Version history:
 * - v0: the first version (Kafka's v1 fields: electionType and per-partition errors).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const electLeadersV0 = {
  request: {
    type: 'record',
    name: 'ElectLeadersRequest',
    doc: 'The partitions to elect leaders for.',
    fields: [
      { name: 'electionType', type: 'int', doc: '0: preferred (the first replica, if live and in the ISR); 1: unclean (any live replica, for partitions without a leader).' },
      {
        name: 'topicPartitions',
        doc: 'The partitions; null: every partition.',
        type: [
          'null',
          {
            type: 'array',
            items: {
              type: 'record',
              name: 'ElectLeadersTopic',
              doc: 'A topic and partitions of it.',
              fields: [
                { name: 'topic', type: 'string', doc: 'The topic name.' },
                { name: 'partitions', type: { type: 'array', items: 'int' }, doc: 'The partition indexes.' },
              ],
            },
          },
        ],
      },
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the elections to be recorded.' },
    ],
  },
  response: {
    type: 'record',
    name: 'ElectLeadersResponse',
    doc: 'One result per partition.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'A request-level error, else NONE.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      {
        name: 'replicaElectionResults',
        doc: 'Per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ReplicaElectionResult',
            doc: 'The elections of one topic.',
            fields: [
              { name: 'topic', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitionResult',
                doc: 'Per partition.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'PartitionElectionResult',
                    doc: 'The election of one partition.',
                    fields: [
                      { name: 'partitionId', type: 'int', doc: 'The partition index.' },
                      { name: 'errorCode', type: 'int', doc: 'NONE (elected), ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION.' },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What happened, for a person; null when elected.' },
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
