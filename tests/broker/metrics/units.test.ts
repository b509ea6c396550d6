/**
 * The metrics' parts without a broker: the error a request is counted
 * under, the topics a request log line names, records counted from batch
 * headers, the health rules, the counters and their labels, group lag and
 * its read budget, the request log's sampling, and the two settings.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { ATTR_TIMESTAMP_LOG_APPEND, BATCH_OFFSET_ATTRIBUTES, writeI64, BATCH_OFFSET_MAX_TIMESTAMP, BATCH_OFFSET_BASE_OFFSET } from '../../../protocol/batch/header.js';
import { Errors } from '../../../protocol/errors.js';
import { brokerConfig, BrokerConfigError } from '../../../broker/config.js';
import { createLogger } from '../../../broker/log.js';
import { recordsIn } from '../../../broker/metrics/batch-records.js';
import { BrokerMetrics } from '../../../broker/metrics/broker-metrics.js';
import { groupLag } from '../../../broker/metrics/group-lag.js';
import { checkHealth, type HealthSources } from '../../../broker/metrics/health.js';
import { RequestLog } from '../../../broker/metrics/request-log.js';
import type { RequestEvent } from '../../../broker/metrics/request-observer.js';
import { requestTopics, TOPICS_LOGGED_MAX } from '../../../broker/metrics/request-topics.js';
import { responseErrorCode } from '../../../broker/metrics/response-error.js';
import type { Partition } from '../../../broker/partition.js';
import { CorruptLogError, LogOfflineError } from '../../../broker/storage/errors.js';
import { seededRng } from '../../../broker/world/rng.js';
import { parseMetrics } from './scrape.js';

const batchOf = (count: number, nowMs = 1_700_000_000_000): Uint8Array => buildBatch(Array.from({ length: count }, (_v, i) => ({ key: null, value: Buffer.from(`v${i}`) })), { nowMs });

t.test('a request is counted under its top-level error, else its first partition error, else NONE', async (t) => {
  t.equal(responseErrorCode({ errorCode: Errors.INVALID_FETCH_SIZE.code, topics: [] }), Errors.INVALID_FETCH_SIZE.code);
  const partitions = (codes: number[]) => ({ errorCode: 0, topics: [{ name: 'a', partitions: codes.map((errorCode, partition) => ({ partition, errorCode, records: [batchOf(1)] })) }] });
  t.equal(responseErrorCode(partitions([0, 0, 0])), 0);
  t.equal(responseErrorCode(partitions([0, Errors.NOT_LEADER_OR_FOLLOWER.code, Errors.UNKNOWN_TOPIC_OR_PARTITION.code])), Errors.NOT_LEADER_OR_FOLLOWER.code, 'the first failing partition');
  t.equal(responseErrorCode({ coordinators: [{ key: 'g', errorCode: Errors.COORDINATOR_NOT_AVAILABLE.code }] }), Errors.COORDINATOR_NOT_AVAILABLE.code, 'any list of results');
  t.equal(responseErrorCode(null), 0);
  const deep = { topics: [{ partitions: [{ nested: [{ deeper: [{ errorCode: 3 }] }] }] }] };
  t.equal(responseErrorCode(deep), 0, 'no deeper than response -> topics -> partitions');
});

t.test('the request log names the topics a request does, at most TOPICS_LOGGED_MAX', async (t) => {
  t.same(requestTopics({ acks: 1, topics: [{ name: 'a', partitions: [] }, { name: 'b', partitions: [] }, { name: 'a', partitions: [] }] }), ['a', 'b']);
  t.same(requestTopics({ topics: ['m1', 'm2'] }), ['m1', 'm2'], 'Metadata and DeleteTopics name them as strings');
  t.same(requestTopics({ topics: null }), []);
  t.same(requestTopics({ topics: [{ topic: 'q', partitions: [] }] }), ['q'], 'share groups name them `topic`');
  t.same(requestTopics({ subscribedTopicNames: ['s'], topicPartitions: null }), ['s']);
  t.equal(requestTopics({ topics: Array.from({ length: 100 }, (_v, i) => `t${i}`) }).length, TOPICS_LOGGED_MAX);
});

t.test('records out are counted from batch headers, across slices, a torn batch not at all', async (t) => {
  const two = Buffer.concat([batchOf(3), batchOf(2)]);
  t.equal(recordsIn([two, batchOf(4)]), 9);
  t.equal(recordsIn([two.subarray(0, two.byteLength - 5)]), 3, 'the partial second batch is not counted');
  t.equal(recordsIn([]), 0);
});

t.test('health: 503 when not listening, shutting down, fenced, stopped, or the disk failed; a corrupt log alone is not', async (t) => {
  const partition = (topic: string, offlineReason: Error | null) => ({ topic, index: 0, offlineReason, deleted: false }) as unknown as Partition;
  const sources = (over: Partial<HealthSources> = {}): HealthSources => ({
    nodeId: 3,
    listening: () => true,
    shuttingDown: () => false,
    whyFenced: () => null,
    hostedPartitions: () => [],
    failure: () => null,
    ...over,
  });
  t.same(checkHealth(sources()), { status: 200, body: { status: 'ok', nodeId: 3, reasons: [], offlineLogs: [] } });
  t.match(checkHealth(sources({ listening: () => false })), { status: 503, body: { reasons: ['its listener is not up'] } });
  t.match(checkHealth(sources({ listening: () => false, shuttingDown: () => true })), { status: 503, body: { reasons: ['shutting down'] } });
  t.match(checkHealth(sources({ whyFenced: () => 'its controller has it fenced' })), { status: 503, body: { reasons: ['fenced: its controller has it fenced'] } });
  t.match(checkHealth(sources({ failure: () => new Error('boom') })), { status: 503, body: { reasons: [/broken invariant: boom/] } });
  const corrupt = checkHealth(sources({ hostedPartitions: () => [partition('c', new CorruptLogError('/d/0.log', 10, 'bad crc')), partition('ok', null)] }));
  t.match(corrupt, { status: 200, body: { offlineLogs: ['c-0'] } }, 'a corrupt log is listed, the broker still serves');
  const failedDisk = checkHealth(sources({ hostedPartitions: () => [partition('f', new LogOfflineError('/d/f-0', 'fsync failed: EIO'))] }));
  t.match(failedDisk, { status: 503, body: { reasons: [/data directory failed.*f-0/], offlineLogs: ['f-0'] } });
});

t.test('counters and histograms by API, error and topic; unknown APIs share a label; deleted topics are forgotten', async (t) => {
  const metrics = new BrokerMetrics({ defaultMetrics: false });
  const event = (over: Partial<RequestEvent>): RequestEvent => ({ apiKey: 0, api: 'Produce', apiVersion: 0, clientId: 'c', principal: 'User:ANONYMOUS', errorCode: 0, latencySeconds: 0.002, bytesIn: 100, bytesOut: 20, request: undefined, ...over });
  metrics.observe(event({}));
  metrics.observe(event({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, latencySeconds: 0.2 }));
  metrics.observe(event({ apiKey: 900, api: undefined, errorCode: Errors.UNKNOWN_API.code, bytesOut: 0 }));
  metrics.observe(event({ apiKey: 901, api: undefined, errorCode: Errors.UNKNOWN_API.code, bytesOut: 0 }));
  metrics.produced('a', 3, 300);
  metrics.produced('b', 1, 10);
  metrics.consumed('a', 2, 200);
  metrics.replicated('a', 50);
  metrics.isrChanged('shrink');
  metrics.isrChanged('shrink');
  metrics.isrChanged('expand');
  metrics.flushed(0.003);
  let s = parseMetrics(await metrics.scrape());
  t.equal(s.value('runnel_requests_total', { api: 'Produce', error: 'NONE' }), 1);
  t.equal(s.value('runnel_requests_total', { api: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER' }), 1);
  t.equal(s.value('runnel_requests_total', { api: 'unknown', error: 'UNKNOWN_API' }), 2, 'every unknown key under one label');
  t.equal(s.value('runnel_request_duration_seconds_bucket', { api: 'Produce', le: '0.0025' }), 1, 'the fast one in the 2.5 ms bucket');
  t.equal(s.value('runnel_request_duration_seconds_bucket', { api: 'Produce', le: '0.25' }), 2);
  t.equal(s.value('runnel_request_bytes_total', { api: 'Produce' }), 200);
  t.equal(s.value('runnel_response_bytes_total', { api: 'Produce' }), 40);
  t.equal(s.value('runnel_topic_records_in_total', { topic: 'a' }), 3);
  t.equal(s.value('runnel_topic_bytes_in_total', { topic: 'a' }), 300);
  t.equal(s.value('runnel_topic_records_out_total', { topic: 'a' }), 2);
  t.equal(s.value('runnel_topic_bytes_out_total', { topic: 'a' }), 200);
  t.equal(s.value('runnel_topic_replication_bytes_out_total', { topic: 'a' }), 50);
  t.equal(s.value('runnel_isr_shrinks_total'), 2);
  t.equal(s.value('runnel_isr_expands_total'), 1);
  t.equal(s.value('runnel_log_flush_duration_seconds_count'), 1);
  metrics.forgetTopicsOtherThan(new Set(['b']));
  s = parseMetrics(await metrics.scrape());
  t.equal(s.value('runnel_topic_records_in_total', { topic: 'b' }), 1, 'a live topic is kept');
  t.notOk((await metrics.scrape()).includes('topic="a"'), 'a deleted topic\'s series are gone');
});

t.test('group lag: records to the high watermark, seconds from the batch timestamp, reads only within the budget', async (t) => {
  const nowMs = 1_700_000_100_000;
  const appended = batchOf(5, nowMs - 60_000);
  // Under LogAppendTime the broker stamps the append time as the batch's max timestamp.
  appended[BATCH_OFFSET_ATTRIBUTES + 1] = appended[BATCH_OFFSET_ATTRIBUTES + 1]! | ATTR_TIMESTAMP_LOG_APPEND;
  writeI64(appended, BATCH_OFFSET_MAX_TIMESTAMP, nowMs - 30_000);
  let reads = 0;
  // The read finds the batch starting at the offset asked for, as a log would.
  const readAt = async (offset: number) => {
    reads += 1;
    const batch = Buffer.from(appended);
    writeI64(batch, BATCH_OFFSET_BASE_OFFSET, offset);
    return { records: [batch], sizeBytes: batch.byteLength };
  };
  const partition = (highWatermark: number) => ({ serving: true, highWatermark, logStartOffset: 0, read: readAt }) as unknown as Partition;
  const hosted = new Map([['t:0', partition(5)], ['t:1', partition(100)], ['t:2', partition(7)]]);
  const committed = [
    { groupId: 'g', topic: 't', partition: 0, offset: 5 },
    { groupId: 'g', topic: 't', partition: 1, offset: 10 },
    { groupId: 'g', topic: 't', partition: 2, offset: 3 },
    { groupId: 'g', topic: 'elsewhere', partition: 0, offset: 1 },
  ];
  const rows = await groupLag({ committedOffsets: () => committed, partition: (topic, index) => hosted.get(`${topic}:${index}`), nowMs: () => nowMs }, 1);
  t.same(rows.map((r) => [r.partition, r.lag, r.lagSeconds]), [[0, 0, 0], [1, 90, 30], [2, 4, undefined]], 'caught up: 0 s without a read; the most lagging read first (append time 30 s ago); the rest over the budget; a partition not hosted here left out');
  t.equal(reads, 1, 'one read: the budget');
});

t.test('the request log samples with the injected randomness, and logs every field', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const event: RequestEvent = { apiKey: 0, api: 'Produce', apiVersion: 3, clientId: 'shop', principal: 'User:ANONYMOUS', errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, latencySeconds: 0.0123456, bytesIn: 500, bytesOut: 60, request: { topics: [{ name: 'orders', partitions: [] }] } };
  const all = new RequestLog(logger, 1, seededRng(1));
  all.observe(event);
  t.match(lines[0], { event: 'request', component: 'requests', api: 'Produce', apiVersion: 3, principal: 'User:ANONYMOUS', clientId: 'shop', topics: ['orders'], latencyMs: 12.346, errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, error: 'NOT_LEADER_OR_FOLLOWER', bytesIn: 500, bytesOut: 60 });
  lines.length = 0;
  const tenth = new RequestLog(logger, 0.1, seededRng(7));
  for (let i = 0; i < 2000; i++) tenth.observe(event);
  t.ok(lines.length > 120 && lines.length < 280, `about a tenth of 2000 logged (${lines.length})`);
});

t.test('metrics.listen and request.log.sample.rate: parsed, and refused with a reason', async (t) => {
  t.equal(brokerConfig({}).metricsListen, null, 'off by default');
  t.equal(brokerConfig({}).requestLogSampleRate, 0);
  t.same(brokerConfig({ 'metrics.listen': '0.0.0.0:9404' }).metricsListen, { host: '0.0.0.0', port: 9404 });
  t.same(brokerConfig({ 'metrics.listen': '[::1]:0' }).metricsListen, { host: '::1', port: 0 });
  t.throws(() => brokerConfig({ 'metrics.listen': '9404' }), BrokerConfigError);
  t.throws(() => brokerConfig({ 'request.log.sample.rate': '1.5' }), /from 0 to 1/);
  t.equal(brokerConfig({ 'request.log.sample.rate': '0.25' }).requestLogSampleRate, 0.25);
});
