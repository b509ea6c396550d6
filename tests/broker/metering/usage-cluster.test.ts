/**
 * Usage metering on a cluster (in one process, on a manual clock): records
 * produced to two partitions led by different brokers, replicated to the
 * other (acks=all), and one partition consumed. Each leader meters what it
 * took and sent; followers' replication is not anyone's usage; and both
 * brokers' counts reach `__usage`, which only one of them leads: the other
 * writes with a Produce to the leader over the inter-broker listener.
 */
import t from 'tap';
import { MINUTE_MS } from '../../../broker/metering/usage-meter.js';
import { decodeUsageCounts, decodeUsageKey, type UsageRecord } from '../../../broker/metering/usage-record.js';
import { rollUpUsage } from '../../../broker/metering/usage-rollup.js';
import { USAGE_TOPIC } from '../../../broker/metering/usage-writer.js';
import { buildBatch, decodeBatch } from '../../../protocol/batch/index.js';
import { startInProcessCluster } from '../../support/in-process-cluster.js';

const SETTINGS = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  'auto.leader.rebalance.enable': 'false',
  'usage.flush.interval.ms': 500,
  'usage.topic.replication.factor': 2,
};

t.test('leaders meter what clients produced and fetched, never replication, and every broker\'s counts reach __usage', async (t) => {
  const cluster = await startInProcessCluster(t, { seed: 7, brokers: 2, settings: SETTINGS });
  const { world } = cluster;
  const b1 = cluster.clientOf('b1');
  const created = await world.settle(b1.request('CreateTopics', { topics: [{ name: 'rep', partitions: 2, replicationFactor: 2, configs: [] }], timeoutMs: 10_000, validateOnly: false }));
  t.equal(created.topics[0]!.errorCode, 0);
  const metadata = await world.settle(b1.request('Metadata', { topics: ['rep'], allowAutoTopicCreation: false, includeInternal: false }));
  const leaders = metadata.topics[0]!.partitions.slice().sort((a, b) => a.partition - b.partition).map((p) => p.leader);
  t.same([...new Set(leaders)].sort(), [1, 2], `each broker leads a partition (${leaders.join(',')})`);
  const batches = [3, 5].map((n, p) => buildBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`p${p}-${i}`) })), { nowMs: world.clock.nowMs() }));
  for (const [partition, leader] of leaders.entries()) {
    const produced = await world.settle(cluster.clientOf(`b${leader}`).request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: 'rep', partitions: [{ partition, records: batches[partition]! }] }] }));
    t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0, `partition ${partition} replicated to both`);
  }
  const fetched = await world.settle(cluster.clientOf(`b${leaders[0]}`).request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ name: 'rep', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }));
  t.equal(fetched.topics[0]!.partitions[0]!.records.reduce((sum, s) => sum + s.byteLength, 0), batches[0]!.byteLength, 'a consumer read partition 0');
  // Followers keep fetching all along; a few flushes go by.
  await world.run(3000, 5);

  const usage = await world.settle(b1.request('Metadata', { topics: [USAGE_TOPIC], allowAutoTopicCreation: false, includeInternal: true }));
  const usageLeader = usage.topics[0]!.partitions[0]!.leader;
  const read = await world.settle(cluster.clientOf(`b${usageLeader}`).request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ name: USAGE_TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }));
  const records: UsageRecord[] = [];
  for (const slice of read.topics[0]!.partitions[0]!.records) {
    for (let pos = 0; pos < slice.byteLength;) {
      const { header, records: decoded } = decodeBatch(slice, pos);
      for (const r of decoded) records.push({ key: decodeUsageKey(r.key!), counts: decodeUsageCounts(r.value!) });
      pos += header.sizeBytes;
    }
  }
  t.same([...new Set(records.map((r) => r.key.brokerId))].sort(), [1, 2], `both brokers wrote to __usage (led by broker ${usageLeader})`);
  const now = world.clock.nowMs();
  const [rep] = rollUpUsage(records, { sinceMs: now - 10 * MINUTE_MS, untilMs: now + MINUTE_MS, by: 'topic' }).filter((row) => row.topic === 'rep');
  t.same(rep?.counts && { bytesIn: rep.counts.bytesIn, recordsIn: rep.counts.recordsIn, bytesOut: rep.counts.bytesOut, recordsOut: rep.counts.recordsOut }, {
    bytesIn: batches[0]!.byteLength + batches[1]!.byteLength,
    recordsIn: 8,
    bytesOut: batches[0]!.byteLength,
    recordsOut: 3,
  }, 'in: both partitions, at their leaders; out: the consumer\'s read only, not the followers\'');
});
