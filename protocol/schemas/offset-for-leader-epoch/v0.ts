/**
 * OffsetForLeaderEpoch (key 23): where a leader epoch ends in the leader's
 * log. A follower asks it for its own latest epoch before it fetches (at
 * start and on becoming follower) and truncates its log to the answer, so a
 * tail written under an older leader and never replicated is dropped
 * instead of diverging (KIP-101/279).
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const offsetForLeaderEpochV0 = {
  request: {
    type: 'record',
    name: 'OffsetForLeaderEpochRequest',
    doc: 'The partitions and the epoch to look up in each.',
    fields: [
      { name: 'replicaId', type: 'int', doc: 'The follower\'s broker id; -1 for a consumer or a tool.' },
      {
        name: 'topics',
        doc: 'One entry per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'OffsetForLeaderEpochTopic',
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
                    name: 'OffsetForLeaderEpochPartition',
                    doc: 'One lookup.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'currentLeaderEpoch',
                        type: 'int',
                        doc: 'The leader epoch the sender believes current, refused if older or newer than the broker\'s; -1: not checked.',
                      },
                      { name: 'leaderEpoch', type: 'int', doc: 'The epoch whose end is wanted (a follower: the epoch of its last batch).' },
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
    name: 'OffsetForLeaderEpochResponse',
    doc: 'One result per requested partition.',
    fields: [
      {
        name: 'topics',
        doc: 'The results, by topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'OffsetForLeaderEpochTopicResult',
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
                    name: 'OffsetForLeaderEpochPartitionResult',
                    doc: 'One result.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'errorCode',
                        type: 'int',
                        doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, ...',
                      },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What went wrong, for a person; null with NONE.' },
                      { name: 'leaderEpoch', type: 'int', doc: 'The largest epoch in the leader\'s log that is <= the one asked for; -1 if none.' },
                      {
                        name: 'endOffset',
                        type: 'long',
                        doc: 'The first offset of the epoch after leaderEpoch, or the log end offset if leaderEpoch is the latest; -1 if none.',
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
