/**
 * The metrics listener of a real broker process: scrape, do a known amount
 * of work over the wire (one produce of a known batch, one fetch, one
 * failed produce, one offset commit), scrape again, and check that each
 * counter moved by exactly what was done, with the topic labels; the group's
 * lag in records and seconds; /health 200; and with
 * request.log.sample.rate=1 a log line per request with its fields.
 */
import t from 'tap';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { Errors } from '../../../protocol/errors.js';
import { startBrokerProcess } from '../../support/broker-process.js';
import { RawClient } from '../../support/raw-client.js';
import { unusedPort } from '../../support/unused-port.js';
import { getText, parseMetrics, type Samples } from './scrape.js';

const TOPIC = 'metered';

t.test('a scrape before and after known work: counters, topic labels, lag, health and the request log', async (t) => {
  const metricsPort = await unusedPort();
  const broker = await startBrokerProcess({ args: ['--set', `metrics.listen=127.0.0.1:${metricsPort}`, '--set', 'request.log.sample.rate=1', '--set', 'logger.format=json'] });
  t.teardown(() => broker.stop());
  const base = `http://127.0.0.1:${metricsPort}`;
  const scrape = async (): Promise<Samples> => parseMetrics((await getText(`${base}/metrics`)).body);

  const health = await getText(`${base}/health`);
  t.equal(health.status, 200, health.body);
  t.match(JSON.parse(health.body), { status: 'ok', nodeId: 0, reasons: [] });
  t.equal((await getText(`${base}/nowhere`)).status, 404);

  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  const created = await client.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 2, replicationFactor: -1, configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }], timeoutMs: 10_000, validateOnly: false });
  t.equal(created.topics[0]!.errorCode, 0);

  const before = await scrape();
  t.ok(before.has('runnel_nodejs_eventloop_lag_seconds'), 'default process metrics, event-loop lag among them');
  t.equal(before.value('runnel_partitions'), 2);

  // One produce of one batch of three records to partition 0.
  const batch = buildBatch([1, 2, 3].map((i) => ({ key: null, value: Buffer.from(`record-${i}`) })), { nowMs: Date.now() });
  const produced = await client.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records: batch }] }] });
  t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);
  // One produce that fails: a partition the topic does not have.
  const failed = await client.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: TOPIC, partitions: [{ partition: 7, records: batch }] }] });
  t.equal(failed.topics[0]!.partitions[0]!.errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code);
  // One fetch of everything.
  const fetched = await client.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }, 1);
  const fetchedBytes = fetched.topics[0]!.partitions[0]!.records.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  t.equal(fetchedBytes, batch.byteLength, 'the fetch returned the batch');
  // The group consumed one record of partition 0.
  // (FindCoordinator creates __consumer_offsets; its partitions take a moment to load.)
  t.equal((await client.request('FindCoordinator', { keyType: 0, keys: ['billing'] })).coordinators[0]!.errorCode, 0);
  let commitError = -1;
  for (let attempt = 0; attempt < 50 && commitError !== 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const committed = await client.request('OffsetCommit', { groupId: 'billing', memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [{ name: TOPIC, partitions: [{ partition: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    commitError = committed.topics[0]!.partitions[0]!.errorCode;
  }
  t.equal(commitError, 0, 'the offset was committed');

  const after = await scrape();
  const moved = (name: string, labels: Record<string, string> = {}): number => after.value(name, labels) - before.value(name, labels);
  t.equal(moved('runnel_requests_total', { api: 'Produce', error: 'NONE' }), 1, 'one produce succeeded');
  t.equal(moved('runnel_requests_total', { api: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' }), 1, 'one produce failed, counted under its partition error');
  t.equal(moved('runnel_requests_total', { api: 'Fetch', error: 'NONE' }), 1);
  t.equal(moved('runnel_request_duration_seconds_count', { api: 'Produce' }), 2, 'both produces timed');
  t.ok(moved('runnel_request_duration_seconds_sum', { api: 'Produce' }) > 0, 'and took time');
  // A produce request frame: length prefix, header (key, version, correlation id, client id "raw-client"), then the body with the batch.
  t.ok(moved('runnel_request_bytes_total', { api: 'Produce' }) > 2 * batch.byteLength, 'request bytes include both batches');
  t.ok(moved('runnel_response_bytes_total', { api: 'Fetch' }) > batch.byteLength, 'response bytes include the fetched batch');
  t.equal(moved('runnel_topic_records_in_total', { topic: TOPIC }), 3, 'three records in');
  t.equal(moved('runnel_topic_bytes_in_total', { topic: TOPIC }), batch.byteLength, 'the batch\'s bytes in');
  t.equal(moved('runnel_topic_records_out_total', { topic: TOPIC }), 3, 'three records out');
  t.equal(moved('runnel_topic_bytes_out_total', { topic: TOPIC }), batch.byteLength, 'the batch\'s bytes out');
  t.equal(after.value('runnel_consumer_group_lag', { group: 'billing', topic: TOPIC, partition: '0' }), 2, 'two records behind');
  const lagSeconds = after.value('runnel_consumer_group_lag_seconds', { group: 'billing', topic: TOPIC, partition: '0' });
  t.ok(lagSeconds >= 0 && lagSeconds < 60, `lag in seconds from the batch's append time (${lagSeconds})`);
  t.ok(after.value('runnel_open_connections') >= 1, 'the raw client\'s connection is open');
  t.equal(after.value('runnel_under_replicated_partitions'), 0);
  t.equal(after.value('runnel_broker_fenced'), 0);
  t.ok(after.value('runnel_log_flush_duration_seconds_count') >= 0);

  // Every request above has its log line, with its fields.
  const lines = broker.output().split('\n').filter((line) => line.includes('"event":"request"')).map((line) => JSON.parse(line) as Record<string, unknown>);
  const produceLines = lines.filter((line) => line.api === 'Produce');
  t.equal(produceLines.length, 2, 'one line per produce');
  t.match(produceLines[0], { principal: 'User:ANONYMOUS', clientId: 'raw-client', topics: [TOPIC], error: 'NONE', errorCode: 0, apiVersion: 0 });
  t.match(produceLines[1], { error: 'UNKNOWN_TOPIC_OR_PARTITION', errorCode: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
  t.ok(typeof produceLines[0]!.latencyMs === 'number' && typeof produceLines[0]!.bytesIn === 'number' && (produceLines[0]!.bytesOut as number) > 0, 'latency and bytes logged');
  for (const api of ['CreateTopics', 'Fetch', 'OffsetCommit']) t.ok(lines.some((line) => line.api === api), `${api} logged`);
});
