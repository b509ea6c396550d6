/**
 * ShareFetch (key 78): a share-group member asks for records and gets them
 * under an acquisition lock (the visibility timeout); it may settle records
 * it was handed earlier in the same request. Sent to the group's
 * coordinator, which keeps every partition's in-flight state (the coordinator
 * reads the records from the partition's leader itself).
 *
 * Each record handed out is acquired by this member alone until it settles
 * it (ShareAcknowledge, or acknowledgements here) or its lock expires; its
 * delivery count was incremented and made durable before the answer left.
 * `records` are whole batches and may hold records that were not acquired
 * (settled, or locked by another member): the member keeps only offsets
 * inside `acquiredRecords`.
 *
 * Version history:
 * - v0: the first version. Topics are named, not ids.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const shareFetchV0 = {
  request: {
    type: 'record',
    name: 'ShareFetchRequest',
    doc: 'Records wanted, and acknowledgements of records handed out before.',
    fields: [
      { name: 'groupId', type: 'string', doc: 'The share group id.' },
      { name: 'memberId', type: 'string', doc: 'The member id.' },
      { name: 'memberEpoch', type: 'int', doc: 'The member\'s epoch, from its last heartbeat.' },
      { name: 'maxWaitMs', type: 'int', doc: 'How long to wait for at least one record to become available (a long poll); 0 answers at once.' },
      { name: 'maxRecords', type: 'int', doc: 'The most records to acquire, over all partitions; 0 acquires none (acknowledgements only).' },
      { name: 'maxBytes', type: 'int', doc: 'A soft bound on the answer\'s record bytes (at least one batch is always sent).' },
      {
        name: 'topics',
        doc: 'The partitions to fetch from (normally the assignment), each with acknowledgements to apply first.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ShareFetchTopic',
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
                    name: 'ShareFetchPartition',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      {
                        name: 'acknowledgements',
                        doc: 'Settlements of records this member holds, applied before anything is acquired.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'ShareAcknowledgement',
                            doc: 'One settlement of a range of offsets, all handed to this member.',
                            fields: [
                              { name: 'firstOffset', type: 'long', doc: 'The first offset.' },
                              { name: 'lastOffset', type: 'long', doc: 'The last offset (inclusive).' },
                              { name: 'type', type: 'int', doc: '1 accept (done, never again); 2 release (deliver again, to any member, after delayMs); 3 reject (never again; dead-lettered when the group has a dead-letter topic); 4 renew (keep the lock, for lockMs from now).' },
                              { name: 'delayMs', type: 'int', doc: 'Release: how long before the records may be delivered again; 0 at once. Ignored otherwise.' },
                              { name: 'lockMs', type: 'int', doc: 'Renew: the new lock, from now; -1 the group\'s visibility timeout. Ignored otherwise.' },
                              { name: 'reason', type: ['null', 'string'], doc: 'Release or reject: why (the last error, carried into the dead-letter record\'s runnel.dlq.error header); null none.' },
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
    name: 'ShareFetchResponse',
    doc: 'The records acquired, per partition, and how the acknowledgements went.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'Errors of the whole request: NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, INVALID_REQUEST, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, GROUP_ID_NOT_FOUND.' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
      { name: 'acquisitionLockTimeoutMs', type: 'int', doc: 'How long the records acquired here stay locked to this member, from when the answer was sent.' },
      {
        name: 'topics',
        doc: 'Per topic, as asked.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ShareFetchTopicResult',
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
                    name: 'ShareFetchPartitionResult',
                    doc: 'One partition.',
                    fields: [
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'errorCode', type: 'int', doc: 'Fetching: NONE, UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER / LEADER_NOT_AVAILABLE (the coordinator could not read the partition now; retried on the next fetch), CORRUPT_SEGMENT.' },
                      { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong; null on success.' },
                      {
                        name: 'failedAcknowledgements',
                        doc: 'Acknowledgements that were not applied (the others were): INVALID_RECORD_STATE when a record is not held by this member any more (its lock expired), INVALID_REQUEST for a bad type or range.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'ShareFailedAcknowledgement',
                            doc: 'A range whose settlement was refused.',
                            fields: [
                              { name: 'firstOffset', type: 'long', doc: 'The first offset.' },
                              { name: 'lastOffset', type: 'long', doc: 'The last offset (inclusive).' },
                              { name: 'errorCode', type: 'int', doc: 'Why.' },
                            ],
                          },
                        },
                      },
                      { name: 'records', type: 'bytes', doc: 'The record batches holding the acquired records, in offset order: an uncompressed batch cut down to the acquired records as log compaction leaves batches (baseOffset, lastOffsetDelta, timestamps and producer fields kept, records byte for byte, recordCount and CRC made anew), a compressed batch whole; empty when none.' },
                      {
                        name: 'acquiredRecords',
                        doc: 'The offsets acquired by this member, in ranges, ascending.',
                        type: {
                          type: 'array',
                          items: {
                            type: 'record',
                            name: 'ShareAcquiredRecords',
                            doc: 'A range of acquired offsets with the same delivery count.',
                            fields: [
                              { name: 'firstOffset', type: 'long', doc: 'The first offset.' },
                              { name: 'lastOffset', type: 'long', doc: 'The last offset (inclusive).' },
                              { name: 'deliveryCount', type: 'int', doc: 'How many times these records have been delivered, this time included (1 the first time).' },
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
