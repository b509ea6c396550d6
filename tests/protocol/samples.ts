/**
 * Sample bodies of every API, request and response, for the round-trip,
 * truncation and fuzz tests. Each API has a minimal sample (empty arrays,
 * nulls) and a full one (several entries, non-ASCII text, extreme integers),
 * so every field and every branch of every union is on the wire at least once.
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
    { request: { topics: null, allowAutoTopicCreation: false }, response: { brokers: [], clusterId: '', controllerId: -1, topics: [] } },
    {
      request: { topics: ['orders', unicode, ''], allowAutoTopicCreation: true },
      response: {
        brokers: [
          { nodeId: 0, host: '127.0.0.1', port: 9092, rack: null },
          { nodeId: I32_MAX, host: 'broker-2.example', port: 65535, rack: 'rack-b' },
        ],
        clusterId: 'c-1',
        controllerId: 0,
        topics: [
          { errorCode: 3, name: 'missing', partitions: [] },
          {
            errorCode: 0,
            name: 'orders',
            partitions: [
              { errorCode: 0, partition: 0, leader: 0, leaderEpoch: 5, replicas: [0, 1, 2], isr: [0, 2] },
              { errorCode: 5, partition: 1, leader: -1, leaderEpoch: I32_MIN, replicas: [], isr: [] },
            ],
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
          { name: 'orders', partitions: [{ partition: 0, timestamp: -1 }, { partition: 1, timestamp: -2 }, { partition: 2, timestamp: 1_700_000_000_000 }] },
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
              { partition: 1, records: new Uint8Array(0) },
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
      request: { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [] },
      response: { throttleTimeMs: 0, errorCode: 0, topics: [] },
    },
    {
      request: {
        replicaId: 2,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 52428800,
        topics: [
          { name: 'orders', partitions: [{ partition: 0, fetchOffset: LONG_MAX, partitionMaxBytes: 1048576 }, { partition: 3, fetchOffset: 0, partitionMaxBytes: I32_MAX }] },
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
              { partition: 0, errorCode: 0, highWatermark: LONG_MAX, logStartOffset: 0, records: [opaqueBytes(100, 4), opaqueBytes(1, 5), opaqueBytes(4000, 6)] },
              { partition: 1, errorCode: 1, highWatermark: 10, logStartOffset: 5, records: [] },
              { partition: 2, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: [new Uint8Array(0)] },
            ],
          },
          { name: 'other', partitions: [{ partition: 9, errorCode: 0, highWatermark: 1, logStartOffset: 0, records: [opaqueBytes(61, 7)] }] },
        ],
      },
    },
  ],
};
