/**
 * ShareAcknowledge (key 79): a share-group member settles records it was
 * handed (accept, release, reject, renew), without fetching more. Sent to
 * the group's coordinator; answered once the settlements are durable (every
 * in-sync replica of the group's state has them).
 *
 * Version history:
 * - v0: the first version. Topics are named, not ids.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const shareAcknowledgeV0 = {
  request: {
    type: 'record',
    name: 'ShareAcknowledgeRequest',
    doc: 'Settlements of records this member holds.',
    fields: [
      { name: 'groupId', type: 'string', doc: 'The share group id.' },
      { name: 'memberId', type: 'string', doc: 'The member id.' },
      { name: 'memberEpoch', type: 'int', doc: 'The member\'s epoch, from its last heartbeat.' },
      {
        name: 'topics',
        doc: 'Per topic.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ShareAcknowledgeTopic',
            doc: 'Partitions of one topic.',
            fields: [
              { name: 'topic', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Its partitions.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'ShareAcknowledgePartition',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'acknowledgements',
                        doc: 'As in ShareFetch.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'ShareAcknowledgeBatch',
                            doc: 'One settlement of a range of offsets, all handed to this member.',
                            fields: [
                              { name: 'firstOffset', type: 'long', doc: 'The first offset.' },
                              { name: 'lastOffset', type: 'long', doc: 'The last offset (inclusive).' },
                              { name: 'type', type: 'int', doc: '1 accept; 2 release; 3 reject; 4 renew (as in ShareFetch).' },
                              { name: 'delayMs', type: 'int', doc: 'Release: how long before the records may be delivered again; 0 at once.' },
                              { name: 'lockMs', type: 'int', doc: 'Renew: the new lock, from now; -1 the group\'s visibility timeout.' },
                              { name: 'reason', type: ['null', 'string'], doc: 'Release or reject: why; null none.' },
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
  response: {
    type: 'record',
    name: 'ShareAcknowledgeResponse',
    doc: 'How the settlements went, per partition.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'Errors of the whole request, as ShareFetch\'s.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      {
        name: 'topics',
        doc: 'Per topic, as asked.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ShareAcknowledgeTopicResult',
            doc: 'Partitions of one topic.',
            fields: [
              { name: 'topic', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Its partitions.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'ShareAcknowledgePartitionResult',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'errorCode', type: 'int', doc: 'NONE or UNKNOWN_TOPIC_OR_PARTITION; refused ranges are listed below.' },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong; null on success.' },
                      {
                        name: 'failedAcknowledgements',
                        doc: 'Acknowledgements that were not applied (the others were), as in ShareFetch.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'ShareAcknowledgeFailure',
                            doc: 'A range whose settlement was refused.',
                            fields: [
                              { name: 'firstOffset', type: 'long', doc: 'The first offset.' },
                              { name: 'lastOffset', type: 'long', doc: 'The last offset (inclusive).' },
                              { name: 'errorCode', type: 'int', doc: 'Why (INVALID_RECORD_STATE, INVALID_REQUEST).' },
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
