/**
 * DeleteRecords (key 21): moves partitions' log start offset forward, so
 * the records below it can no longer be read and their segments are
 * deleted once wholly below it (how `runnel dlq purge` empties a
 * dead-letter topic). Sent to each partition's leader; answered once every
 * in-sync replica has moved its log start too (or timeoutMs passed).
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const deleteRecordsV0 = {
  request: {
    type: 'record',
    name: 'DeleteRecordsRequest',
    doc: 'Per partition, the offset below which records go.',
    fields: [
      { name: 'timeoutMs', type: 'int', doc: 'How long to wait for the in-sync replicas to follow.' },
      {
        name: 'topics',
        doc: 'Per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DeleteRecordsTopic',
            doc: 'Partitions of one topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Its partitions.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DeleteRecordsPartition',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'offset', type: 'long', doc: 'Records below this offset are deleted; -1 the high watermark (all of them). Above the high watermark: OFFSET_OUT_OF_RANGE.' },
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
    name: 'DeleteRecordsResponse',
    doc: 'Per partition, its log start offset now.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'topics',
        doc: 'As asked.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DeleteRecordsTopicResult',
            doc: 'Partitions of one topic.',
            fields: [
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Its partitions.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'DeleteRecordsPartitionResult',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'lowWatermark', type: 'long', doc: 'The log start offset now (-1 on error).' },
                      { name: 'errorCode', type: 'int', doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE, POLICY_VIOLATION (an internal topic), REQUEST_TIMED_OUT (the leader moved its start; followers had not yet).' },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong; null on success.' },
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
