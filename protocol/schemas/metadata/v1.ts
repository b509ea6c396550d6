/**
 * Metadata (key 3) v1: the cluster's view for clients and brokers.
 *
 * Version history:
 * - v0: the first version.
 * - v1: the request adds `includeInternal` (internal `__` topics are listed
 *   only when asked for, or named); each topic adds `isInternal`, each
 *   partition `offlineReplicas`. `brokers` lists the registered, unfenced
 *   brokers and `controllerId` is the controller's node id.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

const nodeIds = { type: 'array', items: 'int' } as const;

export const metadataV1 = {
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
      {
        name: 'includeInternal',
        type: 'boolean',
        default: false,
        doc: 'v1: with topics null, list internal topics (names starting "__") too; a topic named in topics is always listed.',
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
        doc: 'Every registered broker that is not fenced.',
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
      { name: 'controllerId', type: 'int', doc: 'The node id of the controller, -1 if none.' },
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
              { name: 'isInternal', type: 'boolean', default: false, doc: 'v1: an internal topic (its name starts with "__").' },
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
                      { name: 'errorCode', type: 'int', doc: 'NONE, or LEADER_NOT_AVAILABLE when it has no leader.' },
                      { name: 'partition', type: 'int', doc: 'The partition index.' },
                      { name: 'leader', type: 'int', doc: 'Broker id of the leader, -1 if none.' },
                      { name: 'leaderEpoch', type: 'int', doc: 'The leader epoch; it grows with every change of leader.' },
                      { name: 'replicas', type: nodeIds, doc: 'Broker ids of every replica, in assignment order.' },
                      { name: 'isr', type: nodeIds, doc: 'Broker ids of the in-sync replicas.' },
                      {
                        name: 'offlineReplicas',
                        type: nodeIds,
                        default: [],
                        doc: 'v1: broker ids of the replicas that are unavailable (broker fenced or not registered).',
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
