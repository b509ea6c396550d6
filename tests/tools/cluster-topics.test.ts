/**
 * `runnel topic describe` and `topic list --under-replicated` print what
 * the broker answers about replicas, ISR and leader epochs. A scripted
 * broker answers as a cluster would, with partitions whose ISR has shrunk,
 * which no single-node broker can show; the real single-node answer
 * (replicas = ISR = [leader], epoch 0) is checked in cluster.test.ts.
 */
import t from 'tap';
import { ApiKey } from '../../protocol/api-keys.js';
import { apiVersionsTable, encodeResponse } from '../../protocol/codec.js';
import type { PartitionMetadata, RequestBodies } from '../../protocol/messages.js';
import { fakeBroker } from '../client/fake-broker.js';
import { linesOf, runnel } from './run-cli.js';

const p = (partition: number, leader: number, replicas: number[], isr: number[], leaderEpoch: number): PartitionMetadata => ({ errorCode: 0, partition, leader, leaderEpoch, replicas, isr, offlineReplicas: [] });

/** The scripted broker offers one Metadata version (the oldest this build speaks) and answers in it. */
const METADATA_VERSION = apiVersionsTable().find((v) => v.apiKey === ApiKey.Metadata)!.minVersion;
const VERSIONS = apiVersionsTable().map((v) => (v.apiKey === ApiKey.Metadata ? { ...v, maxVersion: METADATA_VERSION } : v));

/** What the scripted cluster holds: `gone` is listed, then deleted before it is described. */
const TOPICS: Record<string, PartitionMetadata[]> = {
  orders: [p(1, 3, [3, 1, 2], [3, 1, 2], 2), p(0, 1, [1, 2, 3], [1, 3], 4)],
  audit: [p(0, 2, [2, 3, 1], [2], 7)],
  healthy: [p(0, 1, [1, 2], [1, 2], 0)],
  gone: [p(0, 1, [1, 2], [1], 0)],
};

t.test('describe and list --under-replicated show replicas, ISR and leader epochs as the broker answers', async (t) => {
  const broker = await fakeBroker(t, (api, id, body) => {
    if (api === 'Metadata') {
      const asked = (body as RequestBodies['Metadata']).topics;
      const topics = (asked ?? Object.keys(TOPICS)).map((name) =>
        TOPICS[name] === undefined || (asked !== null && name === 'gone')
          ? { errorCode: 3, name, isInternal: false, partitions: [] }
          : { errorCode: 0, name, isInternal: false, partitions: TOPICS[name]! },
      );
      const brokers = [1, 2, 3].map((nodeId) => ({ nodeId, host: '127.0.0.1', port: broker.port, rack: null }));
      return encodeResponse('Metadata', METADATA_VERSION, id, { brokers, clusterId: 'scripted', controllerId: 0, topics });
    }
    if (api === 'DescribeConfigs') {
      const results = (body as RequestBodies['DescribeConfigs']).resources.map((r) => ({ type: r.type, name: r.name, errorCode: 0, errorMessage: null, configs: [] }));
      return encodeResponse('DescribeConfigs', 0, id, { results });
    }
    return null;
  }, VERSIONS);
  const bootstrap = `127.0.0.1:${broker.port}`;

  const described = await runnel(['topic', 'describe', 'orders', '-b', bootstrap]);
  t.equal(described.code, 0, described.stderr);
  t.same(linesOf(described.stdout), [
    'Topic: orders\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: ',
    '\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,3\tLeaderEpoch: 4',
    '\tTopic: orders\tPartition: 1\tLeader: 3\tReplicas: 3,1,2\tIsr: 3,1,2\tLeaderEpoch: 2',
  ], 'describe: leader, replicas, ISR and leader epoch per partition, in partition order');
  const json = await runnel(['topic', 'describe', 'orders', '--json', '-b', bootstrap]);
  t.same((JSON.parse(json.stdout) as { partitions: unknown[] }).partitions, [
    { partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 3], leaderEpoch: 4, offlineReplicas: [] },
    { partition: 1, leader: 3, replicas: [3, 1, 2], isr: [3, 1, 2], leaderEpoch: 2, offlineReplicas: [] },
  ], 'describe --json: { partition, leader, replicas, isr, leaderEpoch, offlineReplicas }');

  const under = await runnel(['topic', 'list', '--under-replicated', '-b', bootstrap]);
  t.equal(under.code, 0, under.stderr);
  t.same(linesOf(under.stdout), [
    '\tTopic: audit\tPartition: 0\tLeader: 2\tReplicas: 2,3,1\tIsr: 2\tLeaderEpoch: 7',
    '\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,3\tLeaderEpoch: 4',
  ], 'only the partitions whose ISR is smaller than their replicas, by topic and partition; a topic deleted meanwhile is left out');
  const underJson = await runnel(['topic', 'list', '--under-replicated', '--json', '-b', bootstrap]);
  t.same(JSON.parse(underJson.stdout), [
    { topic: 'audit', partition: 0, leader: 2, replicas: [2, 3, 1], isr: [2], leaderEpoch: 7, offlineReplicas: [] },
    { topic: 'orders', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 3], leaderEpoch: 4, offlineReplicas: [] },
  ], 'list --under-replicated --json');

  const names = await runnel(['topic', 'list', '-b', bootstrap]);
  t.same(linesOf(names.stdout), ['audit', 'gone', 'healthy', 'orders'], 'without the flag, list is still the names');
});
