/**
 * The broker end to end, as real processes on OS-picked ports: topics,
 * produce, fetch (long-poll wake-up and expiry), list offsets, configs,
 * restart, and SIGKILL in the middle of fsync=always produces, spoken to with
 * the bare protocol client so every answer is the broker's own.
 */
import t from 'tap';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { CLEAN_SHUTDOWN_FILE } from '../../broker/storage/segment-names.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type FetchResponse, type ProducePartitionResult } from '../../protocol/messages.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { batchesIn, decodeBatch } from '../../protocol/batch/reader.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { decodeResponseBody, decodeResponseHeader, encodeRequest } from '../../protocol/codec.js';
import { FrameReader } from '../../protocol/frame-reader.js';
import { Errors } from '../../protocol/errors.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { RawClient } from '../support/raw-client.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function batchOf(values: string[], timestampMs?: number): Uint8Array {
  return buildBatch(values.map((value) => ({ key: null, value: encoder.encode(value), timestamp: timestampMs })), { nowMs: Date.now() });
}

async function produce(client: RawClient, topic: string, partition: number, values: string[], opts: { acks?: number; timestampMs?: number } = {}): Promise<ProducePartitionResult> {
  const response = await client.request('Produce', {
    acks: opts.acks ?? 1,
    timeoutMs: 10_000,
    topics: [{ name: topic, partitions: [{ partition, records: batchOf(values, opts.timestampMs) }] }],
  });
  return response.topics[0]!.partitions[0]!;
}

function fetchRequest(topic: string, partition: number, fetchOffset: number, opts: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; partitionMaxBytes?: number } = {}) {
  return {
    replicaId: -1,
    replicaEpoch: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 1,
    maxBytes: opts.maxBytes ?? 1024 * 1024,
    topics: [{ name: topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset, partitionMaxBytes: opts.partitionMaxBytes ?? 1024 * 1024 }] }],
  };
}

/** Every record of a fetch response's first partition as [offset, value], skipping records below `fromOffset`. */
function recordsOf(response: FetchResponse, fromOffset = 0): [number, string][] {
  const result: [number, string][] = [];
  for (const chunk of response.topics[0]!.partitions[0]!.records) {
    for (const { position } of batchesIn(chunk)) {
      for (const record of decodeBatch(chunk, position).records) {
        if (record.offset >= fromOffset) result.push([record.offset, decoder.decode(record.value!)]);
      }
    }
  }
  return result;
}

async function fetchAll(client: RawClient, topic: string, partition: number): Promise<[number, string][]> {
  const all: [number, string][] = [];
  let offset = 0;
  for (let round = 0; round < 10_000; round++) {
    const response = await client.request('Fetch', fetchRequest(topic, partition, offset));
    const part = response.topics[0]!.partitions[0]!;
    if (part.errorCode !== 0) throw new Error(`fetch failed with ${part.errorCode}`);
    const records = recordsOf(response, offset);
    if (records.length === 0) break;
    all.push(...records);
    offset = records.at(-1)![0] + 1;
  }
  return all;
}

/** What these helpers need of a tap test. */
interface Teardowns {
  teardown(fn: () => unknown): void;
}

async function withBroker(t: Teardowns, dataDir?: string, args: string[] = []): Promise<{ broker: BrokerProcess; client: RawClient }> {
  const broker = await startBrokerProcess({ dataDir, args });
  t.teardown(() => broker.kill('SIGKILL'));
  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  return { broker, client };
}

t.test('topics, produce, fetch, list offsets and configs against one broker', async (t) => {
  const { broker, client } = await withBroker(t);

  const versions = await client.request('ApiVersions', { clientSoftwareName: 'test', clientSoftwareVersion: '0' });
  t.equal(versions.errorCode, 0);
  const answered = versions.apiKeys.map((k) => k.apiKey);
  const clientApis = ['Produce', 'Fetch', 'ListOffsets', 'Metadata', 'ApiVersions', 'CreateTopics', 'DeleteTopics', 'DescribeConfigs', 'AlterConfigs', 'CreatePartitions'] as const;
  t.same(clientApis.filter((api) => !answered.includes(ApiKey[api])), [], 'every API a client uses is answered');
  t.ok(answered.every((key) => (Object.values(ApiKey) as number[]).includes(key)), 'and only APIs protocol/ knows');

  const created = await client.request('CreateTopics', {
    topics: [
      { name: 'orders', partitions: 2, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '86400000' }] },
      { name: 'bad name', partitions: 1, replicationFactor: 1, configs: [] },
      { name: 'replicated', partitions: 1, replicationFactor: 3, configs: [] },
      { name: 'badconfig', partitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: 'soon' }] },
      { name: 'unknownconfig', partitions: 1, replicationFactor: 1, configs: [{ name: 'retention.mins', value: '1' }] },
      { name: 'nopartitions', partitions: 0, replicationFactor: 1, configs: [] },
      { name: 'defaults', partitions: -1, replicationFactor: -1, configs: [] },
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });
  const byName = new Map(created.topics.map((r) => [r.name, r]));
  t.equal(byName.get('orders')?.errorCode, 0);
  t.equal(byName.get('orders')?.partitions, 2);
  t.equal(byName.get('bad name')?.errorCode, Errors.INVALID_TOPIC_EXCEPTION.code);
  t.match(byName.get('bad name')?.errorMessage, /contains " "/);
  t.equal(byName.get('replicated')?.errorCode, Errors.INVALID_REPLICATION_FACTOR.code);
  t.equal(byName.get('badconfig')?.errorCode, Errors.INVALID_CONFIG.code);
  t.match(byName.get('badconfig')?.errorMessage, /retention\.ms/, 'the bad setting is named');
  t.equal(byName.get('unknownconfig')?.errorCode, Errors.INVALID_CONFIG.code);
  t.equal(byName.get('nopartitions')?.errorCode, Errors.INVALID_PARTITIONS.code);
  t.same([byName.get('defaults')?.errorCode, byName.get('defaults')?.partitions, byName.get('defaults')?.replicationFactor], [0, 1, 1], '-1 takes the broker defaults');

  const again = await client.request('CreateTopics', { topics: [{ name: 'orders', partitions: 1, replicationFactor: 1, configs: [] }, { name: 'dry', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });
  t.equal(again.topics[0]!.errorCode, Errors.TOPIC_ALREADY_EXISTS.code);
  const dry = await client.request('CreateTopics', { topics: [{ name: 'dryrun', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: true });
  t.equal(dry.topics[0]!.errorCode, 0, 'validateOnly validates');

  const metadata = await client.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
  t.same(metadata.topics.map((topic) => topic.name), ['defaults', 'dry', 'orders'], 'validateOnly created nothing');
  t.same(metadata.brokers, [{ nodeId: 0, host: '127.0.0.1', port: broker.port, rack: null }], 'the broker advertises the port it really bound');
  t.ok(metadata.clusterId.length > 10, 'a cluster id');
  t.same(metadata.topics.find((topic) => topic.name === 'orders')!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]), [[0, 0, [0], [0]], [1, 0, [0], [0]]]);
  const missing = await client.request('Metadata', { topics: ['nope', '..'], allowAutoTopicCreation: true, includeInternal: false });
  t.same(missing.topics.map((topic) => topic.errorCode), [Errors.UNKNOWN_TOPIC_OR_PARTITION.code, Errors.INVALID_TOPIC_EXCEPTION.code], 'no auto-creation unless the broker allows it');

  const unknown = await produce(client, 'nope', 0, ['x']);
  t.equal(unknown.errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, 'producing to a missing topic is refused');
  t.match(unknown.errorMessage, /auto\.create\.topics/, 'with what to do about it');
  t.equal((await produce(client, 'orders', 7, ['x'])).errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, 'a partition that does not exist');
  const badAcks = await client.request('Produce', { acks: 2, timeoutMs: 1000, topics: [{ name: 'orders', partitions: [{ partition: 0, records: batchOf(['x']) }] }] });
  t.equal(badAcks.topics[0]!.partitions[0]!.errorCode, Errors.INVALID_REQUIRED_ACKS.code);
  const corrupt = batchOf(['corrupt me']);
  corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff;
  const corruptResult = await client.request('Produce', { acks: 1, timeoutMs: 1000, topics: [{ name: 'orders', partitions: [{ partition: 0, records: corrupt }] }] });
  t.equal(corruptResult.topics[0]!.partitions[0]!.errorCode, Errors.CORRUPT_MESSAGE.code, 'a batch failing its CRC is refused');

  const first = await produce(client, 'orders', 0, ['a', 'b', 'c'], { timestampMs: 1_000_000 });
  t.same([first.errorCode, first.baseOffset, first.logStartOffset, first.logAppendTimeMs], [0, 0, 0, -1], 'offsets from 0; CreateTime topics report no append time');
  const second = await produce(client, 'orders', 0, ['d'], { timestampMs: 2_000_000 });
  t.equal(second.baseOffset, 3);
  await produce(client, 'orders', 0, ['e', 'f'], { timestampMs: 3_000_000 });
  t.same(await fetchAll(client, 'orders', 0), [[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd'], [4, 'e'], [5, 'f']]);

  const middle = recordsOf(await client.request('Fetch', fetchRequest('orders', 0, 4)), 4);
  t.same(middle, [[4, 'e'], [5, 'f']], 'a fetch from inside a batch starts at that batch');
  const atEnd = await client.request('Fetch', fetchRequest('orders', 0, 6));
  t.same([atEnd.topics[0]!.partitions[0]!.errorCode, atEnd.topics[0]!.partitions[0]!.records.length, atEnd.topics[0]!.partitions[0]!.highWatermark], [0, 0, 6], 'the end of the log reads as empty');
  const beyond = await client.request('Fetch', fetchRequest('orders', 0, 99));
  t.equal(beyond.topics[0]!.partitions[0]!.errorCode, Errors.OFFSET_OUT_OF_RANGE.code);
  const tiny = await client.request('Fetch', fetchRequest('orders', 0, 0, { partitionMaxBytes: 1 }));
  t.same(recordsOf(tiny).map(([offset]) => offset), [0, 1, 2], 'a limit below one batch still returns one whole batch');

  const offsets = await client.request('ListOffsets', {
    replicaId: -1,
    topics: [{ name: 'orders', partitions: [
      { partition: 0, currentLeaderEpoch: -1, timestamp: EARLIEST_TIMESTAMP },
      { partition: 0, currentLeaderEpoch: -1, timestamp: LATEST_TIMESTAMP },
      { partition: 0, currentLeaderEpoch: -1, timestamp: 1_500_000 },
      { partition: 0, currentLeaderEpoch: -1, timestamp: 9_000_000 },
      { partition: 1, currentLeaderEpoch: -1, timestamp: LATEST_TIMESTAMP },
      { partition: 5, currentLeaderEpoch: -1, timestamp: LATEST_TIMESTAMP },
    ] }],
  });
  t.same(offsets.topics[0]!.partitions.map((p) => [p.errorCode, p.offset]), [[0, 0], [0, 6], [0, 3], [0, -1], [0, 0], [Errors.UNKNOWN_TOPIC_OR_PARTITION.code, -1]], 'earliest, latest, by time, after every record, empty partition, missing partition');
  t.equal(offsets.topics[0]!.partitions[2]!.timestamp, 2_000_000, 'the timestamp of the record found');

  const described = await client.request('DescribeConfigs', { resources: [{ type: 'topic', name: 'orders', configNames: ['retention.ms', 'segment.bytes'] }, { type: 'topic', name: 'nope', configNames: null }, { type: 'broker', name: '0', configNames: ['port', 'data.dir'] }] });
  t.same(described.results[0]!.configs.map((c) => [c.name, c.value, c.source]).sort(), [['retention.ms', '86400000', 'topic'], ['segment.bytes', String(1024 ** 3), 'default']], 'effective values with their source');
  t.equal(described.results[1]!.errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code);
  t.same(described.results[2]!.configs.map((c) => [c.name, c.value, c.source, c.readOnly]).sort(), [['data.dir', broker.dataDir, 'broker', true], ['port', '0', 'broker', true]], 'broker settings: set by flags, read-only');

  const altered = await client.request('AlterConfigs', { resources: [
    { type: 'topic', name: 'orders', configs: [{ name: 'retention.ms', value: null }, { name: 'message.timestamp.type', value: 'LogAppendTime' }] },
    { type: 'topic', name: 'defaults', configs: [{ name: 'segment.bytes', value: 'big' }] },
    { type: 'broker', name: '0', configs: [{ name: 'port', value: '1' }] },
  ], validateOnly: false });
  t.same(altered.results.map((r) => r.errorCode), [0, Errors.INVALID_CONFIG.code, Errors.INVALID_REQUEST.code]);
  t.match(altered.results[1]!.errorMessage, /segment\.bytes/);
  const after = await client.request('DescribeConfigs', { resources: [{ type: 'topic', name: 'orders', configNames: ['retention.ms', 'message.timestamp.type'] }] });
  t.same(after.results[0]!.configs.map((c) => [c.name, c.source]).sort(), [['message.timestamp.type', 'topic'], ['retention.ms', 'default']], 'null resets a setting to the default');
  const appendTime = await produce(client, 'orders', 1, ['g']);
  t.ok(appendTime.logAppendTimeMs > Date.now() - 60_000, 'LogAppendTime topics report the append time');

  const compacted = await client.request('CreateTopics', {
    topics: [{ name: 'compacted', partitions: 1, replicationFactor: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  t.equal(compacted.topics[0]?.errorCode, 0);
  const keyless = await produce(client, 'compacted', 0, ['no key']);
  t.equal(keyless.errorCode, Errors.INVALID_RECORD.code, 'a keyless record on a compacted topic is refused as INVALID_RECORD');
  t.match(keyless.errorMessage, /no key/);

  const deleted = await client.request('DeleteTopics', { topics: ['defaults', 'nope'], timeoutMs: 5000 });
  t.same(deleted.topics.map((r) => r.errorCode), [0, Errors.UNKNOWN_TOPIC_OR_PARTITION.code]);
  t.notOk(readdirSync(broker.dataDir).some((entry) => entry.startsWith('defaults-')), 'a deleted topic\'s logs are removed');
  t.equal((await produce(client, 'defaults', 0, ['x'])).errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code);

  t.equal(await broker.stop(), 0, 'SIGTERM shuts down cleanly with exit code 0');
  t.match(broker.output(), /"event":"stopped"/);
});

t.test('long-poll fetch: a produce on the same connection wakes it; maxWaitMs expires it', async (t) => {
  const { client } = await withBroker(t);
  await client.request('CreateTopics', { topics: [{ name: 'poll', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });

  const startedMs = Date.now();
  const waiting = client.request('Fetch', fetchRequest('poll', 0, 0, { maxWaitMs: 20_000, minBytes: 1 }));
  // The produce goes behind the parked fetch on the same connection and must not wait for it.
  const produced = await produce(client, 'poll', 0, ['wake up']);
  t.equal(produced.errorCode, 0);
  const woken = await waiting;
  const elapsedMs = Date.now() - startedMs;
  t.same(recordsOf(woken), [[0, 'wake up']], 'the fetch returns the record that woke it');
  t.ok(elapsedMs < 10_000, `woken by the produce, not the timeout (${elapsedMs} ms)`);

  const minBytesWait = client.request('Fetch', fetchRequest('poll', 0, 1, { maxWaitMs: 20_000, minBytes: 400 }));
  await produce(client, 'poll', 0, ['small']);
  await produce(client, 'poll', 0, ['x'.repeat(500)]);
  // Woken by the small record, the fetch would have read it alone: its read would be queued on this
  // connection ahead of the second produce, which is sent only once the first is answered.
  t.same(recordsOf(await minBytesWait), [[1, 'small'], [2, 'x'.repeat(500)]], 'fewer bytes than minBytes do not wake it; enough bytes do');

  const expiryStartMs = Date.now();
  const expired = await client.request('Fetch', fetchRequest('poll', 0, 3, { maxWaitMs: 300 }));
  const waitedMs = Date.now() - expiryStartMs;
  t.same(recordsOf(expired), [], 'nothing new: an empty answer');
  t.ok(waitedMs >= 250 && waitedMs < 10_000, `answered after maxWaitMs (${waitedMs} ms)`);
});

t.test('pipelined big fetches each get exactly their own records while read buffers are recycled', async (t) => {
  // Room for every answer to queue unread (30 of about 1 MiB), so the broker never stops reading for want of it.
  const { broker, client } = await withBroker(t, undefined, ['--set', `max.unflushed.response.bytes=${64 * 1024 * 1024}`]);
  await client.request('CreateTopics', { topics: ['big', 'barrier'].map((name) => ({ name, partitions: 1, replicationFactor: 1, configs: [] })), timeoutMs: 5000, validateOnly: false });
  const valueOf = (offset: number) => `${offset}:`.padEnd(1000, String.fromCharCode(97 + (offset % 26)));
  const perBatch = 100;
  const batches = 40;
  for (let b = 0; b < batches; b++) {
    const values = Array.from({ length: perBatch }, (_, i) => valueOf(b * perBatch + i));
    t.equal((await produce(client, 'big', 0, values)).errorCode, 0);
  }
  // Reads of ~1 MiB go through the recycled buffers. The answers are pipelined on one connection whose
  // client stops reading at the first answer, so they queue in the broker while later reads go on: a buffer
  // taken back before its answer was written would show up as another answer's records here.
  const offsets = Array.from({ length: 30 }, (_, i) => (i * 131) % (batches * perBatch - perBatch));
  const slow = net.connect({ host: broker.host, port: broker.port });
  t.teardown(() => slow.destroy());
  await once(slow, 'connect');
  const early: Buffer[] = [];
  const collect = (chunk: Buffer): void => {
    early.push(chunk);
  };
  slow.on('data', collect);
  slow.write(Buffer.concat(offsets.flatMap((offset, i) => encodeRequest('Fetch', 0, i, 'slow', fetchRequest('big', 0, offset, { maxBytes: 1024 * 1024, partitionMaxBytes: 1024 * 1024 })))));
  // The first answer means the broker has taken in all 30 fetches (one write) and queued their reads in order.
  await once(slow, 'data');
  slow.pause();
  // A produce on the same connection now is applied after those 30 reads: when another connection sees its
  // record, every read is done, and most answers sit unread in the broker.
  const barrierSeen = client.request('Fetch', fetchRequest('barrier', 0, 0, { maxWaitMs: 60_000 }));
  slow.write(Buffer.concat(encodeRequest('Produce', 0, 1000, 'slow', { acks: 1, timeoutMs: 10_000, topics: [{ name: 'barrier', partitions: [{ partition: 0, records: batchOf(['after the reads']) }] }] })));
  t.same(recordsOf(await barrierSeen), [[0, 'after the reads']], 'every read was done before the client read on');
  const readEarly = early.reduce((n, chunk) => n + chunk.length, 0);
  t.ok(readEarly < 8 * 1024 * 1024, `the client had read ${readEarly} bytes of about 30 MiB of answers by then`);
  const answers: FetchResponse[] = new Array(offsets.length);
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const reader = new FrameReader({
      maxFrameBytes: 64 * 1024 * 1024,
      onFrame: (frame) => {
        const { correlationId, bodyOffset } = decodeResponseHeader(frame);
        if (correlationId === 1000) return; // the barrier's produce
        answers[correlationId] = decodeResponseBody('Fetch', 0, frame, bodyOffset);
        if (++received === offsets.length) resolve();
      },
    });
    const push = (chunk: Buffer): void => {
      try {
        reader.push(chunk);
      } catch (error) {
        reject(error);
      }
    };
    slow.off('data', collect);
    for (const chunk of early) push(chunk);
    slow.on('data', push);
    slow.on('error', reject);
    slow.resume();
  });
  let checked = 0;
  const wrong: string[] = [];
  answers.forEach((answer, i) => {
    const records = recordsOf(answer, offsets[i]);
    if (records.length === 0 || records[0]![0] !== offsets[i]) wrong.push(`fetch ${i} at ${offsets[i]} starts at ${records[0]?.[0]}`);
    for (const [offset, value] of records) {
      checked++;
      if (value !== valueOf(offset)) wrong.push(`fetch ${i}: offset ${offset} holds ${value.slice(0, 12)}`);
    }
  });
  t.same(wrong.slice(0, 5), [], 'every answer holds the records at its own offsets');
  t.ok(checked > 30 * 500, `${checked} records checked across the answers (each about 1 MiB)`);
});

t.test('restart keeps topics, settings and data; SIGKILL during fsync=always produces loses no acknowledged record', async (t) => {
  const { broker, client } = await withBroker(t);
  await client.request('CreateTopics', { topics: [
    { name: 'kept', partitions: 3, replicationFactor: 1, configs: [{ name: 'retention.bytes', value: '1000000000' }] },
    { name: 'durable', partitions: 1, replicationFactor: 1, configs: [{ name: 'fsync', value: 'always' }] },
  ], timeoutMs: 5000, validateOnly: false });
  for (let i = 0; i < 5; i++) await produce(client, 'kept', 2, [`k${i}`]);
  client.close();
  t.equal(await broker.stop(), 0);
  for (const partition of [0, 1, 2]) {
    t.ok(readdirSync(join(broker.dataDir, `kept-${partition}`)).includes(CLEAN_SHUTDOWN_FILE), `kept-${partition} was closed with the clean-shutdown marker`);
  }

  const { broker: second, client: client2 } = await withBroker(t, broker.dataDir);
  const metadata = await client2.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
  t.same(metadata.topics.map((topic) => [topic.name, topic.partitions.length]), [['durable', 1], ['kept', 3]], 'topics survive a restart');
  t.same((await fetchAll(client2, 'kept', 2)).map(([, value]) => value), ['k0', 'k1', 'k2', 'k3', 'k4'], 'data survives a restart');
  const configs = await client2.request('DescribeConfigs', { resources: [{ type: 'topic', name: 'kept', configNames: ['retention.bytes'] }] });
  t.same(configs.results[0]!.configs.map((c) => [c.value, c.source]), [['1000000000', 'topic']], 'settings survive a restart');

  // Pipelined acks=1 produces on the fsync=always topic; SIGKILL once enough are acknowledged.
  const acknowledged: { baseOffset: number; value: string }[] = [];
  const inFlightMax = 16;
  let next = 0;
  let killed = false;
  let failure: unknown;
  await new Promise<void>((resolve) => {
    const sendOne = (): void => {
      if (killed) return;
      const value = `v${next++}`;
      produce(client2, 'durable', 0, [value]).then(
        (result) => {
          if (result.errorCode === 0) acknowledged.push({ baseOffset: result.baseOffset, value });
          if (acknowledged.length >= 300 && !killed) {
            killed = true;
            void second.kill('SIGKILL').then(() => resolve());
          } else sendOne();
        },
        (error: unknown) => {
          if (!killed) {
            killed = true;
            failure = error;
            resolve();
          }
        },
      );
    };
    for (let i = 0; i < inFlightMax; i++) sendOne();
  });
  t.equal(failure, undefined, `no produce failed before the kill${failure === undefined ? '' : `; broker output:\n${second.output()}`}`);
  t.ok(acknowledged.length >= 300, `${acknowledged.length} produces acknowledged before the kill`);
  await second.kill('SIGKILL');

  const { client: client3 } = await withBroker(t, broker.dataDir);
  const records = await fetchAll(client3, 'durable', 0);
  const offsetOf = new Map(records.map(([offset, value]) => [value, offset]));
  const missing = acknowledged.filter((a) => offsetOf.get(a.value) !== a.baseOffset);
  t.same(missing, [], 'every acknowledged record is there, at the offset it was acknowledged with');
  t.equal(new Set(records.map(([, value]) => value)).size, records.length, 'each record once');
  t.same(records.map(([offset]) => offset), records.map((_r, i) => i), 'offsets are dense and in order');
});

t.test('auto.create.topics (set through the environment), acks=0, and one broker per data directory', async (t) => {
  const broker = await startBrokerProcess({ env: { RUNNEL_AUTO_CREATE_TOPICS: 'true', RUNNEL_NUM_PARTITIONS: '3', RUNNEL_FETCH_MAX_BYTES: '1024', RUNNEL_LOG_RETENTION_MS: '3600000' } });
  t.teardown(() => broker.kill('SIGKILL'));
  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());

  const produced = await produce(client, 'fresh', 2, ['hello']);
  t.same([produced.errorCode, produced.baseOffset], [0, 0], 'producing to a new topic creates it');
  const metadata = await client.request('Metadata', { topics: ['fresh', 'also-fresh', 'not-asked'], allowAutoTopicCreation: true, includeInternal: false });
  t.same(metadata.topics.map((topic) => [topic.name, topic.errorCode, topic.partitions.length]), [['fresh', 0, 3], ['also-fresh', 0, 3], ['not-asked', 0, 3]], 'with num.partitions partitions; Metadata may create too');
  const described = await client.request('DescribeConfigs', { resources: [{ type: 'topic', name: 'fresh', configNames: ['retention.ms'] }] });
  t.same(described.results[0]!.configs.map((c) => [c.value, c.source]), [['3600000', 'broker']], 'log.retention.ms is the broker-wide default of retention.ms');
  const notAllowed = await client.request('Metadata', { topics: ['unasked'], allowAutoTopicCreation: false, includeInternal: false });
  t.equal(notAllowed.topics[0]!.errorCode, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, 'not when the request does not allow it');
  t.equal((await produce(client, 'bad/name', 0, ['x'])).errorCode, Errors.INVALID_TOPIC_EXCEPTION.code, 'an invalid name is not auto-created');

  client.sendOnly('Produce', { acks: 0, timeoutMs: 1000, topics: [{ name: 'fresh', partitions: [{ partition: 2, records: batchOf(['fire', 'forget']) }] }] });
  let records: [number, string][] = [];
  for (let i = 0; i < 50 && records.length < 3; i++) records = await fetchAll(client, 'fresh', 2);
  t.same(records, [[0, 'hello'], [1, 'fire'], [2, 'forget']], 'acks=0 appends without answering');
  client.sendOnly('Produce', { acks: 0, timeoutMs: 1000, topics: [{ name: 'fresh', partitions: [{ partition: 9, records: batchOf(['lost']) }] }] });
  await client.closed;
  t.pass('a failed acks=0 produce closes the connection, since there is no answer to carry the error');

  const fresh = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => fresh.close());
  await produce(fresh, 'capped', 0, ['x'.repeat(700)]);
  await produce(fresh, 'capped', 0, ['y'.repeat(700)]);
  const capped = await fresh.request('Fetch', fetchRequest('capped', 0, 0, { maxBytes: 1024 * 1024 }));
  t.same(recordsOf(capped).map(([offset]) => offset), [0], 'fetch.max.bytes caps a response below what the consumer asked for');

  await t.rejects(startBrokerProcess({ dataDir: broker.dataDir }), /in use by process/, 'a second broker on the same data directory refuses to start');
  t.equal(await broker.stop(), 0);
});
