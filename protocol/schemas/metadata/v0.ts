/**
 * Metadata (key 3): the brokers, and for each topic its partitions, leaders
 * and replicas. Clients call it at start, and again after a NOT_LEADER-style
 * or unknown-topic error.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const nodeIds = { type: 'array', items: 'int' } as const;

export const metadataV0 = {
  request: {
    type: 'record',
    name: 'MetadataRequest',
    doc: 'The topics to describe.',
    fields: [
      { name: 'topics', type: ['null', { type: 'array', items: 'string' }], doc: 'Topic names; null asks for every topic.' },
      {
        name: 'allowAutoTopicCreation',
        type: 'boolean',
        doc: 'Create missing topics, if the broker also has auto.create.topics on.',
      },
    ],
  },
  response: {
    type: 'record',
    name: 'MetadataResponse',
    doc: 'The cluster as the broker sees it.',
    fields: [
      {
        name: 'brokers',
        doc: 'Every live broker.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'MetadataBroker',
            doc: 'One broker and where to reach it.',
            fields: [
              { name: 'nodeId', type: 'int', doc: 'The broker id.' },
              { name: 'host', type: 'string', doc: 'Host name or address clients connect to.' },
              { name: 'port', type: 'int', doc: 'TCP port.' },
              { name: 'rack', type: ['null', 'string'], doc: 'Rack id, or null.' },
            ],
          },
        },
      },
      { name: 'clusterId', type: 'string', doc: 'The cluster id.' },
      { name: 'controllerId', type: 'int', doc: 'The broker id of the active controller, -1 if none.' },
      {
        name: 'topics',
        doc: 'One entry per requested topic (or every topic).',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'MetadataTopic',
            doc: 'One topic.',
            fields: [
              { name: 'errorCode', type: 'int', doc: 'NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, ...' },
              { name: 'name', type: 'string', doc: 'The topic name.' },
              {
                name: 'partitions',
                doc: 'Every partition of the topic.',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'MetadataPartition',
                    doc: 'One partition.',
                    fields: [
                      { name: 'errorCode', type: 'int', doc: 'NONE, or LEADER_NOT_AVAILABLE during an election.' },
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'leader', type: 'int', doc: 'Broker id of the leader, -1 if none.' },
                      { name: 'leaderEpoch', type: 'int', doc: 'The leader epoch.' },
                      { name: 'replicas', type: nodeIds, doc: 'Broker ids of every replica.' },
                      { name: 'isr', type: nodeIds, doc: 'Broker ids of the in-sync replicas.' },
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
