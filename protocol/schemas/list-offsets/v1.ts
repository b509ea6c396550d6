/**
 * ListOffsets (key 2) v1: the earliest or latest offset of partitions, or
 * the first offset at or after a timestamp.
 *
 * Version history:
 * - v0: the first version.
 * - v1: each partition of the request adds `currentLeaderEpoch`, checked as
 *   Fetch v1 checks it (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH), so a
 *   client with stale metadata cannot read offsets from a deposed leader. The
 *   response is as in v0 (it already carried `leaderEpoch`).
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const listOffsetsV1 = {
  request: {
    type: 'record',
    name: 'ListOffsetsRequest',
    doc: 'The partitions and what to look up in each.',
    fields: [
      { name: 'replicaId', type: 'int', doc: '-1 for a consumer; a broker id for a follower.' },
      {
        name: 'topics',
        doc: 'One entry per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ListOffsetsTopic',
            doc: 'One topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'The partitions to look up.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'ListOffsetsPartition',
                    doc: 'One lookup.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'currentLeaderEpoch',
                        type: 'int',
                        default: -1,
                        doc: 'v1: the leader epoch the sender believes current, refused if older or newer than the broker\'s; -1: not checked.',
                      },
                      {
                        name: 'timestamp',
                        type: 'long',
                        doc: '-1: the latest offset (the next one to be written); -2: the earliest; else a time in ms since the epoch.',
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
  response: {
    type: 'record',
    name: 'ListOffsetsResponse',
    doc: 'One result per requested partition.',
    fields: [
      {
        name: 'topics',
        doc: 'The results, by topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ListOffsetsTopicResult',
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
                    name: 'ListOffsetsPartitionResult',
                    doc: 'One result.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'errorCode',
                        type: 'int',
                        doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, ...',
                      },
                      { name: 'timestamp', type: 'long', doc: 'Timestamp of the record found, -1 for earliest/latest or none.' },
                      { name: 'offset', type: 'long', doc: 'The offset; -1 when no record has a timestamp at or after the one asked for.' },
                      { name: 'leaderEpoch', type: 'int', doc: 'Leader epoch of that offset, -1 if unknown.' },
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
