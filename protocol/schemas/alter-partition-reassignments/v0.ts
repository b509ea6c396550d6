/**
 * AlterPartitionReassignments (key 45): move partitions' replicas to other
 * brokers (Kafka's KIP-455). The controller records each target; the new
 * replicas copy the log and join the ISR, then the old ones leave. A null
 * target cancels the reassignment in progress. Sent to any broker, which
 * forwards it to the controller.
 *
 * Version history:
 * - v0: the first version; Kafka's fields plus `throttleBytesPerSecond`
 *   (Runnel's: the copy rate limit for replicas being added, where Kafka
 *   sets broker configs).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const nodeIds = { type: 'array', items: 'int' } as const;

export const alterPartitionReassignmentsV0 = {
  request: {
    type: 'record',
    name: 'AlterPartitionReassignmentsRequest',
    doc: 'The partitions to move, with their target replicas.',
    fields: [
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the controller to record the reassignments.' },
      { name: 'throttleBytesPerSecond', type: 'long', doc: 'Cluster-wide copy rate limit for replicas being added, applied by leaders: -1 leaves it as it is, 0 removes it.' },
      {
        name: 'topics',
        doc: 'One entry per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ReassignableTopic',
            doc: 'A topic and the partitions of it to move.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'The partitions to move.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'ReassignablePartition',
                    doc: 'One partition and where its replicas should be.',
                    fields: [
                      { name: 'partitionIndex', type: 'int', doc: 'The partition index.' },
                      { name: 'replicas', type: ['null', nodeIds], doc: 'The target replicas, preferred leader first; null cancels the reassignment in progress.' },
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
    name: 'AlterPartitionReassignmentsResponse',
    doc: 'One result per partition asked.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'A request-level error (NOT_CONTROLLER, INVALID_REQUEST, ...), else NONE.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      {
        name: 'responses',
        doc: 'Per topic, in request order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ReassignableTopicResponse',
            doc: 'The outcome for one topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Per partition, in request order.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'ReassignablePartitionResponse',
                    doc: 'The outcome for one partition.',
                    fields: [
                      { name: 'partitionIndex', type: 'int', doc: 'The partition index.' },
                      { name: 'errorCode', type: 'int', doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS, ...' },
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
