/**
 * ListPartitionReassignments (key 46): the reassignments in progress, with
 * each partition's replicas, the replicas being added and removed, ISR and
 * leader (Kafka's fields plus the last two, so a status needs one request).
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const nodeIds = { type: 'array', items: 'int' } as const;

export const listPartitionReassignmentsV0 = {
  request: {
    type: 'record',
    name: 'ListPartitionReassignmentsRequest',
    doc: 'Which partitions to look at.',
    fields: [
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the controller.' },
      {
        name: 'topics',
        doc: 'Topics and partitions to list; null lists every reassignment in progress.',
        type: [
          'null',
          {
            type: 'array',
            items: {
              type: 'record',
              name: 'ListPartitionReassignmentsTopic',
              doc: 'A topic and the partitions of it to look at.',
              fields: [
                { name: 'name', type: 'string', doc: 'The topic name.' },
                { name: 'partitionIndexes', type: nodeIds, doc: 'The partition indexes.' },
              ],
            },
          },
        ],
      },
    ],
  },
  response: {
    type: 'record',
    name: 'ListPartitionReassignmentsResponse',
    doc: 'The reassignments in progress among those asked.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'A request-level error, else NONE.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      { name: 'throttleBytesPerSecond', type: 'long', doc: 'The cluster-wide copy rate limit for replicas being added; 0: none.' },
      {
        name: 'topics',
        doc: 'Topics with a reassignment in progress.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'OngoingTopicReassignment',
            doc: 'A topic and its partitions being moved.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Its partitions being moved.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'OngoingPartitionReassignment',
                    doc: 'One partition being moved.',
                    fields: [
                      { name: 'partitionIndex', type: 'int', doc: 'The partition index.' },
                      { name: 'replicas', type: nodeIds, doc: 'Every replica during the move: the target replicas and those being removed.' },
                      { name: 'addingReplicas', type: nodeIds, doc: 'Target replicas copying the log.' },
                      { name: 'removingReplicas', type: nodeIds, doc: 'Replicas that leave once every target is in the ISR.' },
                      { name: 'isr', type: nodeIds, doc: 'The in-sync replicas now.' },
                      { name: 'leader', type: 'int', doc: 'The leader now, -1 for none.' },
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
