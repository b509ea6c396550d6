/**
 * Sample bodies of every API, request and response, for the round-trip,
 * truncation and fuzz tests. Each API has a minimal sample (empty arrays,
 * nulls) and a full one (several entries, non-ASCII text, extreme integers),
 * so every field and every branch of every union is on the wire at least once.
 * Samples have the newest version's shape, with fields added by a later
 * version set to something other than their default; `asDecodedAt` says, by
 * hand, what a body reads as when it went over an older version.
 */
import type { ApiName } from '../../protocol/api-keys.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';

export type Samples = { [K in ApiName]: { request: RequestBodies[K]; response: ResponseBodies[K] }[] };

/** Deterministic non-trivial bytes standing in for record batches (opaque to the codecs). */
export function opaqueBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

const I32_MAX = 0x7fffffff;
const I32_MIN = -0x80000000;
const LONG_MAX = Number.MAX_SAFE_INTEGER;
const unicode = 'ünïcødé-名前-🚀';

export const samples: Samples = {
  ApiVersions: [
    { request: { clientSoftwareName: '', clientSoftwareVersion: '' }, response: { errorCode: 0, apiKeys: [] } },
    {
      request: { clientSoftwareName: 'runnel-js', clientSoftwareVersion: `0.1.0-${unicode}` },
      response: {
        errorCode: 35,
        apiKeys: [
          { apiKey: 0, minVersion: 0, maxVersion: 7 },
          { apiKey: 18, minVersion: 0, maxVersion: I32_MAX },
        ],
      },
    },
  ],
  Metadata: [
    { request: { topics: null, allowAutoTopicCreation: false, includeInternal: true }, response: { brokers: [], clusterId: '', controllerId: -1, topics: [] } },
    {
      request: { topics: ['orders', unicode, ''], allowAutoTopicCreation: true, includeInternal: false },
      response: {
        brokers: [
          { nodeId: 0, host: '127.0.0.1', port: 9092, rack: null },
          { nodeId: I32_MAX, host: 'broker-2.example', port: 65535, rack: 'rack-b' },
        ],
        clusterId: 'c-1',
        controllerId: 0,
        topics: [
          { errorCode: 3, name: 'missing', isInternal: false, partitions: [] },
          {
            errorCode: 0,
            name: 'orders',
            isInternal: false,
            partitions: [
              { errorCode: 0, partition: 0, leader: 0, leaderEpoch: 5, replicas: [0, 1, 2], isr: [0, 2], offlineReplicas: [1] },
              { errorCode: 5, partition: 1, leader: -1, leaderEpoch: I32_MIN, replicas: [], isr: [], offlineReplicas: [] },
            ],
          },
          {
            errorCode: 0,
            name: '__metadata',
            isInternal: true,
            partitions: [{ errorCode: 0, partition: 0, leader: I32_MAX, leaderEpoch: I32_MAX, replicas: [I32_MAX, 0], isr: [I32_MAX], offlineReplicas: [0, I32_MIN] }],
          },
        ],
      },
    },
  ],
  CreateTopics: [
    { request: { topics: [], timeoutMs: 0, validateOnly: false }, response: { topics: [] } },
    {
      request: {
        topics: [
          { name: 'orders', partitions: 3, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '86400000' }, { name: 'x', value: unicode }] },
          { name: 'b', partitions: -1, replicationFactor: 0, configs: [] },
        ],
        timeoutMs: 30000,
        validateOnly: true,
      },
      response: {
        topics: [
          { name: 'orders', errorCode: 0, errorMessage: null, partitions: 3, replicationFactor: 1 },
          { name: 'b', errorCode: 37, errorMessage: `partitions must be at least 1, got -1 ${unicode}`, partitions: -1, replicationFactor: 0 },
        ],
      },
    },
  ],
  DeleteTopics: [
    { request: { topics: [], timeoutMs: 0 }, response: { topics: [] } },
    {
      request: { topics: ['a', unicode], timeoutMs: I32_MAX },
      response: { topics: [{ name: 'a', errorCode: 0, errorMessage: null }, { name: unicode, errorCode: 3, errorMessage: 'no such topic' }] },
    },
  ],
  CreatePartitions: [
    { request: { topics: [], timeoutMs: 0, validateOnly: false }, response: { results: [] } },
    {
      request: { topics: [{ name: 'orders', count: 6 }, { name: unicode, count: I32_MAX }, { name: 'neg', count: I32_MIN }], timeoutMs: I32_MAX, validateOnly: true },
      response: {
        results: [
          { name: 'orders', errorCode: 0, errorMessage: null },
          { name: unicode, errorCode: 37, errorMessage: `topic has 3 partitions and cannot shrink ${unicode}` },
        ],
      },
    },
  ],
  DescribeConfigs: [
    { request: { resources: [] }, response: { results: [] } },
    {
      request: {
        resources: [
          { type: 'topic', name: 'orders', configNames: null },
          { type: 'broker', name: '0', configNames: ['retention.ms', 'segment.bytes'] },
          { type: 'topic', name: 'x', configNames: [] },
        ],
      },
      response: {
        results: [
          {
            type: 'topic',
            name: 'orders',
            errorCode: 0,
            errorMessage: null,
            configs: [
              { name: 'retention.ms', value: '86400000', source: 'topic', readOnly: false, sensitive: false },
              { name: 'segment.bytes', value: '1073741824', source: 'default', readOnly: false, sensitive: false },
              { name: 'secret', value: null, source: 'broker', readOnly: true, sensitive: true },
            ],
          },
          { type: 'broker', name: '7', errorCode: 3, errorMessage: 'unknown broker', configs: [] },
        ],
      },
    },
  ],
  AlterConfigs: [
    { request: { resources: [], validateOnly: false }, response: { results: [] } },
    {
      request: {
        resources: [
          { type: 'topic', name: 'orders', configs: [{ name: 'retention.ms', value: '1000' }, { name: 'cleanup.policy', value: null }] },
          { type: 'broker', name: '0', configs: [] },
        ],
        validateOnly: true,
      },
      response: {
        results: [
          { type: 'topic', name: 'orders', errorCode: 0, errorMessage: null },
          { type: 'broker', name: '0', errorCode: 40, errorMessage: `retention.ms: must be a number ${unicode}` },
        ],
      },
    },
  ],
  ListOffsets: [
    { request: { replicaId: -1, topics: [] }, response: { topics: [] } },
    {
      request: {
        replicaId: 3,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, currentLeaderEpoch: 4, timestamp: -1 },
              { partition: 1, currentLeaderEpoch: -1, timestamp: -2 },
              { partition: 2, currentLeaderEpoch: I32_MAX, timestamp: 1_700_000_000_000 },
            ],
          },
          { name: 'empty', partitions: [] },
        ],
      },
      response: {
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, timestamp: -1, offset: LONG_MAX, leaderEpoch: 0 },
              { partition: 1, errorCode: 0, timestamp: -1, offset: 0, leaderEpoch: -1 },
              { partition: 2, errorCode: 6, timestamp: 1_700_000_000_000, offset: -1, leaderEpoch: I32_MAX },
            ],
          },
        ],
      },
    },
  ],
  Produce: [
    { request: { acks: 0, timeoutMs: 0, topics: [] }, response: { throttleTimeMs: 0, topics: [] } },
    {
      request: {
        acks: -1,
        timeoutMs: 30000,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, records: opaqueBytes(200, 1) },
              { partition: 1, records: Buffer.alloc(0) },
              { partition: 2, records: opaqueBytes(3, 2) },
            ],
          },
          { name: unicode, partitions: [{ partition: I32_MAX, records: opaqueBytes(70, 3) }] },
          { name: 'none', partitions: [] },
        ],
      },
      response: {
        throttleTimeMs: 12,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, errorMessage: null, baseOffset: LONG_MAX, logAppendTimeMs: -1, logStartOffset: 0 },
              { partition: 1, errorCode: 10, errorMessage: `batch too large ${unicode}`, baseOffset: -1, logAppendTimeMs: 1_700_000_000_000, logStartOffset: -1 },
            ],
          },
        ],
      },
    },
  ],
  Fetch: [
    {
      request: { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [] },
      response: { throttleTimeMs: 0, errorCode: 0, topics: [] },
    },
    {
      request: {
        replicaId: 2,
        replicaEpoch: LONG_MAX,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 52428800,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, currentLeaderEpoch: 7, fetchOffset: LONG_MAX, partitionMaxBytes: 1048576 },
              { partition: 3, currentLeaderEpoch: I32_MIN, fetchOffset: 0, partitionMaxBytes: I32_MAX },
            ],
          },
          { name: unicode, partitions: [] },
        ],
      },
      response: {
        throttleTimeMs: 5,
        errorCode: 0,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, leaderEpoch: 7, highWatermark: LONG_MAX, logStartOffset: 0, records: [opaqueBytes(100, 4), opaqueBytes(1, 5), opaqueBytes(4000, 6)] },
              { partition: 1, errorCode: 1, leaderEpoch: I32_MAX, highWatermark: 10, logStartOffset: 5, records: [] },
              { partition: 2, errorCode: 74, leaderEpoch: I32_MIN, highWatermark: 0, logStartOffset: 0, records: [new Uint8Array(0)] },
            ],
          },
          { name: 'other', partitions: [{ partition: 9, errorCode: 0, leaderEpoch: -1, highWatermark: 1, logStartOffset: 0, records: [opaqueBytes(61, 7)] }] },
        ],
      },
    },
  ],
  OffsetForLeaderEpoch: [
    { request: { replicaId: -1, topics: [] }, response: { topics: [] } },
    {
      request: {
        replicaId: 2,
        topics: [
          { name: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 3 }, { partition: I32_MAX, currentLeaderEpoch: -1, leaderEpoch: I32_MAX }] },
          { name: unicode, partitions: [] },
        ],
      },
      response: {
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, errorMessage: null, leaderEpoch: 3, endOffset: LONG_MAX },
              { partition: I32_MAX, errorCode: 74, errorMessage: `epoch 4 is older than 5 ${unicode}`, leaderEpoch: -1, endOffset: -1 },
            ],
          },
        ],
      },
    },
  ],
  BrokerRegistration: [
    {
      request: { brokerId: 0, clusterId: '', incarnationId: '', host: '', port: 0, rack: null, listeners: [] },
      response: { errorCode: 0, errorMessage: null, brokerEpoch: 0 },
    },
    {
      request: { brokerId: I32_MAX, clusterId: 'c-1', incarnationId: '6f1c2b1e-0000-4000-8000-000000000001', host: 'broker-2.example', port: 65535, rack: unicode, listeners: [] },
      response: { errorCode: 101, errorMessage: `node 3 is registered and alive ${unicode}`, brokerEpoch: LONG_MAX },
    },
    {
      request: { brokerId: 2, clusterId: 'c-1', incarnationId: 'i', host: '10.0.0.2', port: 9092, rack: null, listeners: [{ name: 'INTERNAL', securityProtocol: 'SASL_SSL', host: '10.0.0.2', port: 9092 }, { name: 'EXTERNAL', securityProtocol: 'SSL', host: `b2.${unicode}`, port: 9093 }] },
      response: { errorCode: 0, errorMessage: null, brokerEpoch: 7 },
    },
  ],
  BrokerHeartbeat: [
    { request: { brokerId: 0, brokerEpoch: 0, metadataVersion: 0, wantShutDown: false }, response: { errorCode: 0, errorMessage: null, fenced: false, shouldShutDown: false } },
    {
      request: { brokerId: I32_MAX, brokerEpoch: LONG_MAX, metadataVersion: -1, wantShutDown: true },
      response: { errorCode: 77, errorMessage: `epoch 3 is not 9 ${unicode}`, fenced: true, shouldShutDown: true },
    },
  ],
  AlterPartition: [
    { request: { brokerId: 0, brokerEpoch: 0, topics: [] }, response: { errorCode: 0, errorMessage: null, topics: [] } },
    {
      request: {
        brokerId: 1,
        brokerEpoch: LONG_MAX,
        topics: [
          {
            name: 'orders',
            topicId: 'b7d1-ü',
            partitions: [
              { partition: 0, leaderEpoch: 5, partitionEpoch: 9, newIsr: [1, 2, 3] },
              { partition: I32_MAX, leaderEpoch: I32_MIN, partitionEpoch: I32_MAX, newIsr: [] },
            ],
          },
          { name: unicode, topicId: '', partitions: [] },
        ],
      },
      response: {
        errorCode: 41,
        errorMessage: `node 1 is not the controller ${unicode}`,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, errorCode: 0, errorMessage: null, leader: 1, leaderEpoch: 5, partitionEpoch: 10, isr: [1, 2, 3] },
              { partition: I32_MAX, errorCode: 95, errorMessage: 'partition epoch 9 is not 10', leader: -1, leaderEpoch: -1, partitionEpoch: -1, isr: [] },
            ],
          },
        ],
      },
    },
  ],
  ElectLeaders: [
    { request: { electionType: 0, topicPartitions: null, timeoutMs: 0 }, response: { errorCode: 0, errorMessage: null, replicaElectionResults: [] } },
    {
      request: { electionType: 1, topicPartitions: [{ topic: 'orders', partitions: [0, I32_MAX] }, { topic: unicode, partitions: [] }], timeoutMs: I32_MAX },
      response: {
        errorCode: 41,
        errorMessage: unicode,
        replicaElectionResults: [{ topic: 'orders', partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null }, { partitionId: I32_MAX, errorCode: 84, errorMessage: 'broker 1 leads already' }] }],
      },
    },
  ],
  AlterPartitionReassignments: [
    { request: { timeoutMs: 0, throttleBytesPerSecond: -1, topics: [] }, response: { errorCode: 0, errorMessage: null, responses: [] } },
    {
      request: { timeoutMs: I32_MAX, throttleBytesPerSecond: LONG_MAX, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [2, 3, 4] }, { partitionIndex: I32_MAX, replicas: null }] }, { name: unicode, partitions: [] }] },
      response: {
        errorCode: 0,
        errorMessage: unicode,
        responses: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, errorMessage: null }, { partitionIndex: I32_MAX, errorCode: 85, errorMessage: 'no reassignment' }] }],
      },
    },
  ],
  ListPartitionReassignments: [
    { request: { timeoutMs: 0, topics: null }, response: { errorCode: 0, errorMessage: null, throttleBytesPerSecond: 0, topics: [] } },
    {
      request: { timeoutMs: I32_MAX, topics: [{ name: 'orders', partitionIndexes: [0, I32_MAX] }, { name: unicode, partitionIndexes: [] }] },
      response: {
        errorCode: 41,
        errorMessage: unicode,
        throttleBytesPerSecond: LONG_MAX,
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [1, 2, 3, 4], addingReplicas: [4], removingReplicas: [1], isr: [1, 2, 3], leader: -1 }] }, { name: unicode, partitions: [] }],
      },
    },
  ],
  MetadataChanges: [
    {
      request: { brokerId: 0, brokerEpoch: -1, afterVersion: 0, maxWaitMs: 0, maxEntries: 0 },
      response: { errorCode: 0, errorMessage: null, clusterId: '', latestVersion: 0, entries: [] },
    },
    {
      request: { brokerId: I32_MAX, brokerEpoch: LONG_MAX, afterVersion: LONG_MAX, maxWaitMs: I32_MAX, maxEntries: 500 },
      response: {
        errorCode: 0,
        errorMessage: unicode,
        clusterId: 'c-1',
        latestVersion: LONG_MAX,
        entries: [
          { schemaVersion: 3, bytes: Buffer.from(opaqueBytes(300, 8)) },
          { schemaVersion: 0, bytes: Buffer.alloc(0) },
          { schemaVersion: I32_MAX, bytes: Buffer.from(opaqueBytes(1, 9)) },
        ],
      },
    },
  ],
  FindCoordinator: [
    { request: { keyType: 0, keys: [] }, response: { throttleTimeMs: 0, coordinators: [] } },
    {
      request: { keyType: I32_MAX, keys: ['orders-app', unicode] },
      response: {
        throttleTimeMs: I32_MAX,
        coordinators: [
          { key: 'orders-app', nodeId: 2, host: '127.0.0.1', port: 9092, errorCode: 0, errorMessage: null },
          { key: unicode, nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: unicode },
        ],
      },
    },
  ],
  ConsumerGroupHeartbeat: [
    {
      request: { groupId: '', memberId: '', memberEpoch: -1, instanceId: null, rackId: null, rebalanceTimeoutMs: -1, subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null },
      response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null },
    },
    {
      request: {
        groupId: unicode,
        memberId: 'b4f3c0de-0000-4000-8000-000000000001',
        memberEpoch: I32_MAX,
        instanceId: 'worker-1',
        rackId: 'rack-a',
        rebalanceTimeoutMs: I32_MAX,
        subscribedTopicNames: ['orders', unicode],
        subscribedTopicRegex: '^orders-.*$',
        serverAssignor: 'uniform',
        topicPartitions: [{ topic: 'orders', partitions: [0, I32_MAX] }, { topic: unicode, partitions: [] }],
      },
      response: {
        throttleTimeMs: I32_MAX,
        errorCode: 110,
        errorMessage: unicode,
        memberId: 'b4f3c0de-0000-4000-8000-000000000001',
        memberEpoch: I32_MIN,
        heartbeatIntervalMs: I32_MAX,
        assignment: { topicPartitions: [{ topic: 'orders', partitions: [1, 2] }, { topic: unicode, partitions: [] }] },
      },
    },
  ],
  ConsumerGroupDescribe: [
    { request: { groupIds: [] }, response: { throttleTimeMs: 0, groups: [] } },
    {
      request: { groupIds: ['g', unicode] },
      response: {
        throttleTimeMs: I32_MAX,
        groups: [
          {
            errorCode: 0,
            errorMessage: null,
            groupId: 'g',
            groupState: 'Reconciling',
            groupEpoch: I32_MAX,
            assignmentEpoch: 7,
            assignorName: 'uniform',
            members: [
              {
                memberId: 'm1',
                instanceId: null,
                rackId: 'r',
                memberEpoch: 6,
                clientId: unicode,
                clientHost: '/127.0.0.1',
                subscribedTopicNames: ['orders'],
                subscribedTopicRegex: null,
                assignment: [{ topic: 'orders', partitions: [0] }],
                targetAssignment: [{ topic: 'orders', partitions: [0, 1] }, { topic: unicode, partitions: [] }],
              },
            ],
          },
          { errorCode: 69, errorMessage: unicode, groupId: unicode, groupState: 'Dead', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [] },
        ],
      },
    },
  ],
  OffsetCommit: [
    { request: { groupId: '', memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [] }, response: { throttleTimeMs: 0, topics: [] } },
    {
      request: {
        groupId: unicode,
        memberId: 'm1',
        memberEpoch: I32_MAX,
        groupInstanceId: 'worker-1',
        topics: [
          { name: 'orders', partitions: [{ partition: 0, committedOffset: LONG_MAX, committedLeaderEpoch: I32_MAX, committedMetadata: unicode }, { partition: I32_MAX, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] },
          { name: unicode, partitions: [] },
        ],
      },
      response: {
        throttleTimeMs: I32_MAX,
        topics: [{ name: 'orders', partitions: [{ partition: 0, errorCode: 0, errorMessage: null }, { partition: I32_MAX, errorCode: 113, errorMessage: unicode }] }],
      },
    },
  ],
  OffsetFetch: [
    { request: { groupId: '', memberId: null, memberEpoch: -1, topics: null, requireStable: false }, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [] } },
    {
      request: { groupId: unicode, memberId: 'm1', memberEpoch: I32_MAX, topics: [{ name: 'orders', partitions: [0, I32_MAX] }, { name: unicode, partitions: [] }], requireStable: true },
      response: {
        throttleTimeMs: I32_MAX,
        errorCode: 0,
        errorMessage: unicode,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, committedOffset: LONG_MAX, committedLeaderEpoch: I32_MAX, metadata: unicode, commitTimestampMs: LONG_MAX, errorCode: 0 },
              { partition: I32_MAX, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, commitTimestampMs: -1, errorCode: 88 },
            ],
          },
        ],
      },
    },
  ],
  ListGroups: [
    { request: { statesFilter: [], typesFilter: [] }, response: { throttleTimeMs: 0, errorCode: 0, groups: [] } },
    {
      request: { statesFilter: ['Stable', unicode], typesFilter: ['consumer'] },
      response: { throttleTimeMs: I32_MAX, errorCode: 14, groups: [{ groupId: unicode, groupState: 'Empty', groupType: 'consumer' }] },
    },
  ],
  DeleteGroups: [
    { request: { groupsNames: [] }, response: { throttleTimeMs: 0, results: [] } },
    {
      request: { groupsNames: ['g', unicode] },
      response: { throttleTimeMs: I32_MAX, results: [{ groupId: 'g', errorCode: 0, errorMessage: null }, { groupId: unicode, errorCode: 68, errorMessage: unicode }] },
    },
  ],
  InitProducerId: [
    { request: { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 }, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, producerId: 0, producerEpoch: 0 } },
    {
      request: { transactionalId: unicode, transactionTimeoutMs: I32_MAX, producerId: LONG_MAX, producerEpoch: 32767 },
      response: { throttleTimeMs: I32_MAX, errorCode: 47, errorMessage: unicode, producerId: -1, producerEpoch: -1 },
    },
  ],
  AllocateProducerIds: [
    { request: { brokerId: 0, brokerEpoch: 1 }, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, producerIdStart: 0, producerIdLen: 1000 } },
    {
      request: { brokerId: I32_MAX, brokerEpoch: LONG_MAX },
      response: { throttleTimeMs: I32_MAX, errorCode: 41, errorMessage: unicode, producerIdStart: -1, producerIdLen: 0 },
    },
  ],
  ShareGroupHeartbeat: [
    {
      request: { groupId: 'q', memberId: 'm', memberEpoch: 0, subscribedTopicNames: ['t'], config: null },
      response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: 'm', memberEpoch: 1, heartbeatIntervalMs: 5000, assignment: null, config: null },
    },
    {
      request: { groupId: unicode, memberId: unicode, memberEpoch: I32_MAX, subscribedTopicNames: null, config: { visibilityTimeoutMs: -1, maxDeliveryAttempts: I32_MAX, deadLetterTopic: unicode, ordering: 'key' } },
      response: {
        throttleTimeMs: I32_MAX,
        errorCode: 40,
        errorMessage: unicode,
        memberId: null,
        memberEpoch: -1,
        heartbeatIntervalMs: 0,
        assignment: [{ topic: unicode, partitions: [0, I32_MAX] }],
        config: { visibilityTimeoutMs: 30000, maxDeliveryAttempts: 5, deadLetterTopic: '', ordering: 'none' },
      },
    },
  ],
  ShareGroupDescribe: [
    { request: { groupIds: [] }, response: { throttleTimeMs: 0, groups: [] } },
    {
      request: { groupIds: ['q', unicode] },
      response: {
        throttleTimeMs: I32_MAX,
        groups: [
          {
            errorCode: 0,
            errorMessage: null,
            groupId: 'q',
            groupState: 'Stable',
            groupEpoch: I32_MAX,
            config: { visibilityTimeoutMs: 30000, maxDeliveryAttempts: 5, deadLetterTopic: 'q-dlq', ordering: 'key' },
            members: [{ memberId: unicode, memberEpoch: 1, clientId: 'c', clientHost: '127.0.0.1', subscribedTopicNames: ['t', unicode], acquiredRecords: I32_MAX }],
            partitions: [
              { topic: 't', partition: 0, startOffset: 0, endOffset: LONG_MAX, highWatermark: -1, inFlight: 0, acquired: I32_MAX, available: LONG_MAX, delayed: 3, accepted: LONG_MAX, rejected: 0, deadLettered: 1, oldestUnsettledTimestampMs: -1 },
            ],
          },
          { errorCode: 69, errorMessage: unicode, groupId: unicode, groupState: 'Empty', groupEpoch: 0, config: { visibilityTimeoutMs: 0, maxDeliveryAttempts: 0, deadLetterTopic: '', ordering: 'none' }, members: [], partitions: [] },
        ],
      },
    },
  ],
  ShareFetch: [
    {
      request: { groupId: 'q', memberId: 'm', memberEpoch: 1, maxWaitMs: 0, maxRecords: 0, maxBytes: 0, topics: [] },
      response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, acquisitionLockTimeoutMs: 30000, topics: [] },
    },
    {
      request: {
        groupId: unicode,
        memberId: unicode,
        memberEpoch: I32_MAX,
        maxWaitMs: I32_MAX,
        maxRecords: I32_MAX,
        maxBytes: I32_MAX,
        topics: [
          {
            topic: unicode,
            partitions: [
              { partition: 0, acknowledgements: [] },
              {
                partition: I32_MAX,
                acknowledgements: [
                  { firstOffset: 0, lastOffset: LONG_MAX, type: 1, delayMs: 0, lockMs: -1, reason: null },
                  { firstOffset: 5, lastOffset: 5, type: 3, delayMs: I32_MAX, lockMs: I32_MAX, reason: unicode },
                ],
              },
            ],
          },
        ],
      },
      response: {
        throttleTimeMs: I32_MAX,
        errorCode: 0,
        errorMessage: unicode,
        acquisitionLockTimeoutMs: I32_MAX,
        topics: [
          {
            topic: unicode,
            partitions: [
              { partition: 0, errorCode: 6, errorMessage: unicode, failedAcknowledgements: [{ firstOffset: 1, lastOffset: LONG_MAX, errorCode: 121 }], records: Buffer.alloc(0), acquiredRecords: [] },
              { partition: I32_MAX, errorCode: 0, errorMessage: null, failedAcknowledgements: [], records: Buffer.from([0, 1, 2, 255]), acquiredRecords: [{ firstOffset: 0, lastOffset: LONG_MAX, deliveryCount: I32_MAX }] },
            ],
          },
        ],
      },
    },
  ],
  ShareAcknowledge: [
    {
      request: { groupId: 'q', memberId: 'm', memberEpoch: 1, topics: [] },
      response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [] },
    },
    {
      request: {
        groupId: unicode,
        memberId: unicode,
        memberEpoch: I32_MAX,
        topics: [{ topic: unicode, partitions: [{ partition: I32_MAX, acknowledgements: [{ firstOffset: 0, lastOffset: LONG_MAX, type: 4, delayMs: 0, lockMs: I32_MAX, reason: unicode }] }] }],
      },
      response: {
        throttleTimeMs: I32_MAX,
        errorCode: 25,
        errorMessage: unicode,
        topics: [{ topic: unicode, partitions: [{ partition: 0, errorCode: 0, errorMessage: null, failedAcknowledgements: [{ firstOffset: 0, lastOffset: 0, errorCode: 42 }] }] }],
      },
    },
  ],
  DeleteRecords: [
    { request: { timeoutMs: 0, topics: [] }, response: { throttleTimeMs: 0, topics: [] } },
    {
      request: { timeoutMs: I32_MAX, topics: [{ name: unicode, partitions: [{ partition: 0, offset: -1 }, { partition: I32_MAX, offset: LONG_MAX }] }] },
      response: { throttleTimeMs: I32_MAX, topics: [{ name: unicode, partitions: [{ partition: 0, lowWatermark: LONG_MAX, errorCode: 0, errorMessage: null }, { partition: 1, lowWatermark: -1, errorCode: 1, errorMessage: unicode }] }] },
    },
  ],
  SaslHandshake: [
    { request: { mechanism: '' }, response: { errorCode: 0, mechanisms: [] } },
    { request: { mechanism: 'SCRAM-SHA-512' }, response: { errorCode: 33, mechanisms: ['SCRAM-SHA-256', unicode] } },
  ],
  SaslAuthenticate: [
    { request: { authBytes: Buffer.alloc(0) }, response: { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 } },
    { request: { authBytes: Buffer.from(`n,,n=${unicode},r=abc`) }, response: { errorCode: 58, errorMessage: unicode, authBytes: Buffer.from(opaqueBytes(64, 3)), sessionLifetimeMs: LONG_MAX } },
  ],
  DescribeUserScramCredentials: [
    { request: { users: null }, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: [] } },
    {
      request: { users: ['alice', unicode] },
      response: { throttleTimeMs: I32_MAX, errorCode: 0, errorMessage: unicode, results: [{ user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }, { mechanism: 2, iterations: I32_MAX }] }, { user: unicode, errorCode: 91, errorMessage: unicode, credentialInfos: [] }] },
    },
  ],
  DescribeClientQuotas: [
    { request: { components: [], strict: false }, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, entries: [] } },
    {
      request: { components: [{ entityType: 'user', matchType: 0, match: unicode }, { entityType: 'client-id', matchType: 1, match: null }], strict: true },
      response: { throttleTimeMs: I32_MAX, errorCode: 42, errorMessage: unicode, entries: [{ entity: [{ entityType: 'user', entityName: unicode }, { entityType: 'client-id', entityName: null }], values: [{ key: 'producer_byte_rate', value: LONG_MAX }, { key: 'request_rate', value: 1 }] }] },
    },
    { request: { components: [{ entityType: 'client-id', matchType: 2, match: null }], strict: false }, response: { throttleTimeMs: 0, errorCode: 42, errorMessage: unicode, entries: null } },
  ],
  AlterClientQuotas: [
    { request: { entries: [], validateOnly: false }, response: { throttleTimeMs: 0, entries: [] } },
    {
      request: { entries: [{ entity: [{ entityType: 'user', entityName: null }, { entityType: 'client-id', entityName: unicode }], ops: [{ key: 'consumer_byte_rate', value: LONG_MAX, remove: false }, { key: 'request_rate', value: 0, remove: true }] }], validateOnly: true },
      response: { throttleTimeMs: I32_MAX, entries: [{ errorCode: 0, errorMessage: null, entity: [{ entityType: 'user', entityName: null }] }, { errorCode: 42, errorMessage: unicode, entity: [{ entityType: 'client-id', entityName: unicode }] }] },
    },
  ],
  AlterUserScramCredentials: [
    { request: { deletions: [], upsertions: [] }, response: { throttleTimeMs: 0, results: [] } },
    {
      request: { deletions: [{ name: unicode, mechanism: 2 }], upsertions: [{ name: 'alice', mechanism: 1, iterations: I32_MAX, salt: Buffer.from(opaqueBytes(16, 4)), saltedPassword: Buffer.from(opaqueBytes(32, 5)) }] },
      response: { throttleTimeMs: I32_MAX, results: [{ user: 'alice', errorCode: 0, errorMessage: null }, { user: unicode, errorCode: 93, errorMessage: unicode }] },
    },
  ],
  DescribeAcls: [
    { request: { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 }, response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources: [] } },
    {
      request: { resourceTypeFilter: 2, resourceNameFilter: unicode, patternTypeFilter: 2, principalFilter: 'User:alice', hostFilter: '*', operation: 3, permissionType: 3 },
      response: { throttleTimeMs: I32_MAX, errorCode: 42, errorMessage: unicode, resources: [{ resourceType: 2, resourceName: unicode, patternType: 4, acls: [{ principal: 'User:alice', host: '*', operation: 3, permissionType: 3 }, { principal: 'User:*', host: '10.0.0.1', operation: 2, permissionType: 2 }] }] },
    },
  ],
  CreateAcls: [
    { request: { creations: [] }, response: { throttleTimeMs: 0, results: [] } },
    {
      request: { creations: [{ resourceType: 4, resourceName: 'runnel-cluster', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 9, permissionType: 2 }, { resourceType: 3, resourceName: unicode, resourcePatternType: 4, principal: 'User:*', host: '10.0.0.1', operation: 12, permissionType: 3 }] },
      response: { throttleTimeMs: I32_MAX, results: [{ errorCode: 0, errorMessage: null }, { errorCode: 42, errorMessage: unicode }] },
    },
  ],
  DeleteAcls: [
    { request: { filters: [] }, response: { throttleTimeMs: 0, filterResults: [] } },
    {
      request: { filters: [{ resourceTypeFilter: 3, resourceNameFilter: unicode, patternTypeFilter: 4, principalFilter: null, hostFilter: '*', operation: 1, permissionType: 2 }] },
      response: { throttleTimeMs: I32_MAX, filterResults: [{ errorCode: 0, errorMessage: null, matchingAcls: [{ errorCode: 0, errorMessage: null, resourceType: 3, resourceName: unicode, patternType: 4, principal: 'User:bob', host: '*', operation: 6, permissionType: 2 }] }, { errorCode: 42, errorMessage: unicode, matchingAcls: [] }] },
    },
  ],
};

/** Replaces the value of each `key` found anywhere in `body` (the fields an older version lacks) by its default. */
function withDefaults<T>(body: T, defaults: Record<string, unknown>): T {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k in defaults ? defaults[k] : walk(v)]));
  };
  return walk(body) as T;
}

/**
 * The fields each API's later versions added, with the default a body sent at
 * an older version reads as (as messages.ts documents them): by version, the
 * fields that version and every older one lack. Field names are unique within
 * each body, so a key names one field.
 */
const ADDED_LATER: { [K in ApiName]?: { [version: number]: { request: Record<string, unknown>; response: Record<string, unknown> } } } = {
  Metadata: { 0: { request: { includeInternal: false }, response: { isInternal: false, offlineReplicas: [] } } },
  ListOffsets: { 0: { request: { currentLeaderEpoch: -1 }, response: {} } },
  Fetch: { 0: { request: { replicaEpoch: -1, currentLeaderEpoch: -1 }, response: { leaderEpoch: -1 } } },
  BrokerHeartbeat: { 0: { request: { wantShutDown: false }, response: { shouldShutDown: false } } },
  BrokerRegistration: { 0: { request: { listeners: [] }, response: {} } },
};

/** What `body` (newest shape) reads as after a trip over `version`: the fields that version lacks, defaulted. */
export function asDecodedAt<K extends ApiName, B>(api: K, version: number, side: 'request' | 'response', body: B): B {
  const added = ADDED_LATER[api]?.[version];
  return added === undefined ? body : withDefaults(body, added[side]);
}
