/**
 * SDK pieces that need no broker: the key -> partition hash (checked against
 * the vectors of Kafka's own UtilsTest, so keys land where Kafka puts them),
 * sticky partitioning, the accumulator's linger / size / memory rules, the
 * backoff policy, and the connection against a scripted fake broker
 * (version negotiation, pipelining with matched correlation ids, the
 * in-flight bound, a request timeout that resets the connection, acks=0,
 * error frames, reconnect after the broker drops the socket).
 */
import t from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { ApiKey } from '../../protocol/api-keys.js';
import { encodeResponse } from '../../protocol/codec.js';
import { encodeErrorResponse } from '../../protocol/error-response.js';
import { BatchFormatError, buildBatch, decodeBatch, sealBatchCrc, type RecordInput } from '../../protocol/batch/index.js';
import type { ResponseBodies } from '../../protocol/messages.js';
import { murmur2, partitionForKey, StickyPartitions } from '../../client/producer/partitioner.js';
import { Accumulator } from '../../client/producer/accumulator.js';
import { SendCall } from '../../client/producer/send-call.js';
import { backoffMs } from '../../client/backoff.js';
import { Connection } from '../../client/connection.js';
import { RunnelError } from '../../client/errors.js';
import { Runnel, type Message, type RecordMetadata } from '../../client/index.js';
import { fakeBroker, v0Versions } from './fake-broker.js';
import { decodeMessages, walkBatches } from '../../client/consumer/records.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

t.test('murmur2 matches Kafka (UtilsTest.testMurmur2 and librdkafka vectors)', async (t) => {
  // clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
    // Utils.murmur2 as quoted by Akka's Murmur2Spec (every tail length 1..5)
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ];
  for (const [key, expected] of vectors) t.equal(murmur2(Buffer.from(key)), expected, `murmur2("${key}")`);
});

t.test('partitionForKey is (murmur2 & 0x7fffffff) % n, stable, for strings and bytes alike', async (t) => {
  t.equal(partitionForKey('21', 1000), (-973932308 & 0x7fffffff) % 1000);
  t.equal(partitionForKey('foobar', 7), (-790332482 & 0x7fffffff) % 7);
  t.equal(partitionForKey(Buffer.from('foobar'), 7), partitionForKey('foobar', 7));
  t.equal(partitionForKey('ü€', 13), partitionForKey(Buffer.from('ü€', 'utf8'), 13), 'strings hash as UTF-8');
  const counts = new Array<number>(8).fill(0);
  for (let i = 0; i < 8000; i++) counts[partitionForKey(`key-${i}`, 8)]!++;
  for (const c of counts) t.ok(c > 800 && c < 1200, `keys spread evenly (${c} of 8000 on one of 8)`);
  t.throws(() => partitionForKey('x', 0), RangeError);
});

t.test('sticky partitions: keyless records stay put until their batch closes, then move', async (t) => {
  let r = 0;
  const randoms = [0.5, 0.0, 0.99];
  const all = (): boolean => true;
  const sticky = new StickyPartitions(() => randoms[r++ % randoms.length]!);
  const first = sticky.partition('t', 4, all);
  t.equal(first, 2);
  t.equal(sticky.partition('t', 4, all), first, 'same partition while the batch is open');
  sticky.batchClosed('t', 3, 4, all);
  t.equal(sticky.partition('t', 4, all), first, 'a batch closing elsewhere changes nothing');
  sticky.batchClosed('t', first, 4, all);
  const second = sticky.partition('t', 4, all);
  t.not(second, first, 'moves to another partition');
  sticky.batchClosed('t', second, 4, all);
  t.not(sticky.partition('t', 4, all), second);
  const single = new StickyPartitions(Math.random);
  single.partition('one', 1, all);
  single.batchClosed('one', 0, 1, all);
  t.equal(single.partition('one', 1, all), 0, 'one partition: nowhere else to go');
});

t.test('sticky partitions pick only partitions with a leader while any has one', async (t) => {
  let r = 0;
  const randoms = [0.1, 0.6, 0.3, 0.9, 0.0, 0.75];
  const sticky = new StickyPartitions(() => randoms[r++ % randoms.length]!);
  const led = new Set([1, 3]);
  const hasLeader = (p: number): boolean => led.has(p);
  const picks = new Set<number>();
  for (let i = 0; i < 12; i++) {
    const p = sticky.partition('t', 4, hasLeader);
    picks.add(p);
    sticky.batchClosed('t', p, 4, hasLeader);
  }
  t.same([...picks].sort(), [1, 3], 'never a leaderless partition');
  led.delete(sticky.partition('t', 4, hasLeader));
  t.same([sticky.partition('t', 4, hasLeader)], [...led], 'the sticky partition losing its leader moves the next record to one that has one');
  led.clear();
  t.ok(sticky.partition('t', 4, hasLeader) < 4, 'with no leader anywhere, any partition (the send waits for one)');
});

t.test('backoff doubles from initial to max with ±20% jitter', async (t) => {
  const policy = { initialBackoffMs: 100, maxBackoffMs: 1000 };
  t.equal(backoffMs(policy, 0, () => 0.5), 100);
  t.equal(backoffMs(policy, 1, () => 0.5), 200);
  t.equal(backoffMs(policy, 3, () => 0.5), 800);
  t.equal(backoffMs(policy, 4, () => 0.5), 1000, 'capped');
  t.equal(backoffMs(policy, 50, () => 0.5), 1000, 'huge attempt counts stay capped');
  t.equal(backoffMs(policy, 0, () => 0), 80);
  t.equal(backoffMs(policy, 0, () => 1), 120);
});

function record(value: string, key: string | null = null) {
  return { key: key === null ? null : Buffer.from(key), value: Buffer.from(value) };
}

t.test('accumulator: a batch is sealed when the next record would pass batchBytes', async (t) => {
  const sealed: string[] = [];
  const acc = new Accumulator({ batchBytes: 1024, lingerMs: 1000, bufferMemoryBytes: 1 << 20, codec: 'none', onSealed: (topic, p) => sealed.push(`${topic}-${p}`) });
  const q = acc.queue('t', 0);
  const call = new SendCall('t', new Array(30).fill({ value: 'x' }), 1000);
  let sealedAt = -1;
  for (let i = 0; i < 30; i++) {
    if (acc.append(q, call, i, record('v'.repeat(100)), 124, 1000) && sealedAt < 0) sealedAt = i;
  }
  t.ok(sealedAt > 0 && sealedAt < 10, `sealed after ${sealedAt} records of ~110 bytes`);
  t.ok(q.sealed.length >= 3, 'several batches sealed');
  for (const b of q.sealed) t.ok(b.bytes!.byteLength <= 1024, `sealed batch of ${b.bytes!.byteLength} bytes within batchBytes`);
  t.same(sealed.slice(0, 1), ['t-0'], 'the sticky partitioner hears about each seal');
  t.ok(acc.isReady(q, 1000), 'a sealed batch is ready without waiting for linger');
  // drain respects maxBytes but always takes one batch
  const one = acc.drain(q, 1, 1000);
  t.equal(one.length, 1);
  const rest = acc.drain(q, 1 << 20, 1000);
  t.ok(rest.length >= 2);
  t.not(q.open, null, 'the young open batch stays behind');
  // records keep their order across batches: offsets follow from the base offset
  let base = 100;
  for (const b of [...one, ...rest]) {
    b.complete(base, -1);
    base += b.recordCount;
    acc.release(b);
  }
  const decoded = decodeBatch(one[0]!.bytes!).records;
  t.equal(decoded[0]!.value!.length, 100);
});

t.test('accumulator: an open batch becomes ready when it has lingered, or at once when forced', async (t) => {
  const acc = new Accumulator({ batchBytes: 64 * 1024, lingerMs: 5, bufferMemoryBytes: 1 << 20, codec: 'lz4' });
  const q = acc.queue('t', 1);
  const call = new SendCall('t', [{ value: 'a' }, { value: 'b' }], 10_000);
  acc.append(q, call, 0, record('a'), 30, 10_000);
  acc.append(q, call, 1, record('b'), 30, 10_002);
  t.notOk(acc.isReady(q, 10_004), 'not ready before lingerMs from its first record');
  t.equal(acc.dueMs(q), 10_005);
  t.ok(acc.isReady(q, 10_005), 'ready once lingered');
  acc.forceDepth++;
  t.ok(acc.isReady(q, 10_000), 'flush makes it ready now');
  acc.forceDepth--;
  q.muted = true;
  t.notOk(acc.isReady(q, 20_000), 'a partition with a request in flight waits (ordering)');
  q.muted = false;
  const [batch] = acc.drain(q, 1 << 20, 10_005);
  t.equal(batch!.recordCount, 2);
  t.same(decodeBatch(batch!.bytes!).records.map((r) => Buffer.from(r.value!).toString()), ['a', 'b'], 'lz4 batch decodes');
  acc.requeue(q, [batch!], 10_100);
  t.notOk(acc.isReady(q, 10_050), 'a requeued batch waits out its backoff');
  t.ok(acc.isReady(q, 10_100));
  t.equal(q.sealed[0], batch, 'and goes first');
  batch!.complete(7, -1);
  acc.release(batch!);
  t.same((await call.promise).map((m) => m.offset), [7, 8], 'offset = base offset + index');
});

t.test('accumulator: memory is bounded, and waiters wake when batches are acknowledged', async (t) => {
  const acc = new Accumulator({ batchBytes: 1024, lingerMs: 0, bufferMemoryBytes: 4096, codec: 'none' });
  const q = acc.queue('t', 0);
  const call = new SendCall('t', new Array(100).fill({ value: 'x' }), 0);
  let appended = 0;
  while (acc.hasRoom) acc.append(q, call, appended++, record('v'.repeat(200)), 224, 0);
  t.ok(appended >= 15 && appended <= 20, `stopped at the limit after ${appended} records of ~210 bytes`);
  t.ok(acc.bufferedBytes >= 4096 && acc.bufferedBytes < 4096 + 300, `buffered ${acc.bufferedBytes} bytes, one record past the limit at most`);
  let woke = false;
  const waiting = acc.waitForRoom().then(() => {
    woke = true;
  });
  t.ok(acc.memoryPressure, 'a waiter makes open batches ready');
  t.ok(acc.isReady(q, 0));
  const batches = acc.drain(q, 1 << 20, 0);
  await Promise.resolve();
  t.notOk(woke, 'draining alone frees nothing: sent is not acknowledged');
  let flushed = false;
  const flushing = acc.waitForAllCurrent().then(() => {
    flushed = true;
  });
  for (const b of batches) {
    b.complete(0, -1);
    acc.release(b);
  }
  await waiting;
  await flushing;
  t.ok(woke && flushed, 'acknowledgement frees memory and finishes the flush');
  t.equal(acc.bufferedBytes, 0);
  t.notOk(call.settled, 'the call still waits for the records it has not appended');
});

t.test('accumulator: a released full-size batch\'s buffer is built in again, never one still in flight', async (t) => {
  const batchBytes = 8192;
  const acc = new Accumulator({ batchBytes, lingerMs: 1000, bufferMemoryBytes: 1 << 20, codec: 'none' });
  const q = acc.queue('t', 0);
  const call = new SendCall('t', new Array(400).fill({ value: 'x' }), 0);
  const valueOf = (i: number) => `record-${i}-`.padEnd(200, String.fromCharCode(97 + (i % 26)));
  let next = 0;
  const appendUntilSealed = (batches: number) => {
    while (q.sealed.length < batches) acc.append(q, call, next, record(valueOf(next++)), 224 + 12, 0);
  };
  appendUntilSealed(3);
  const inFlight = acc.drain(q, 1 << 20, 0);
  t.ok(inFlight.length >= 3, 'full-size batches sealed and drained');
  const buffers = new Set(inFlight.map((b) => b.bytes!.buffer));
  t.equal(buffers.size, inFlight.length, 'each batch in a buffer of its own');
  // Acknowledge all but the last; it stays in flight while new batches are filled.
  const acked = inFlight.slice(0, -1);
  const still = inFlight.at(-1)!;
  let offset = 0;
  for (const b of acked) {
    b.complete(offset, -1);
    offset += b.recordCount;
    acc.release(b);
  }
  appendUntilSealed(3);
  const sealedNow = q.sealed.map((b) => b.bytes!.buffer);
  t.ok(acked.some((b) => sealedNow.includes(b.bytes!.buffer)), 'an acknowledged full-size batch\'s buffer was taken again');
  t.notOk(sealedNow.includes(still.bytes!.buffer), 'no new batch shares a buffer with the one still in flight');
  // The batch still in flight is intact: every record decodes to what was appended.
  let index = offset;
  for (const r of decodeBatch(still.bytes!).records) t.equal(Buffer.from(r.value!).toString(), valueOf(index++), `record ${index - 1} intact`);
  t.ok(index > offset, 'it has records');
});

function connection(port: number, over: Partial<ConstructorParameters<typeof Connection>[0]> = {}): Connection {
  return new Connection({
    host: '127.0.0.1', port, clientId: 'unit', connectTimeoutMs: 2000, requestTimeoutMs: 2000, maxInFlightRequests: 5,
    maxFrameBytes: 1 << 24, reconnect: { initialBackoffMs: 20, maxBackoffMs: 100 }, logger: silent, ...over,
  });
}

const metadata = (correlationId: number, clusterId: string): Uint8Array[] =>
  encodeResponse('Metadata', 0, correlationId, { brokers: [], clusterId, controllerId: 1, topics: [] });

t.test('connection: versions are negotiated; an API the broker lacks is UNSUPPORTED_VERSION', async (t) => {
  const table = v0Versions().filter((v) => v.apiKey !== ApiKey.Fetch);
  const broker = await fakeBroker(t, (_api, id) => metadata(id, 'c1'), table);
  const conn = connection(broker.port);
  t.teardown(() => conn.close());
  await conn.connect();
  t.equal(conn.versionOf('Metadata'), 0);
  t.equal(conn.versionOf('Fetch'), undefined);
  await t.rejects(conn.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1, topics: [] }), { name: 'RunnelError', errorName: 'UNSUPPORTED_VERSION' });
  t.equal((await conn.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false })).clusterId, 'c1');
});

t.test('connection: pipelined requests are matched by correlation id, within the in-flight bound', async (t) => {
  const held: { id: number; socket: net.Socket; tag: string }[] = [];
  let maxUnanswered = 0;
  const broker = await fakeBroker(t, (_api, id, body, socket) => {
    held.push({ id, socket, tag: (body as { topics: string[] }).topics[0]! });
    maxUnanswered = Math.max(maxUnanswered, held.length);
    if (held.length === 3) {
      // Answer in reverse order.
      for (const h of held.splice(0).reverse()) for (const c of metadata(h.id, h.tag)) h.socket.write(c);
    }
    return null;
  });
  const conn = connection(broker.port, { maxInFlightRequests: 3 });
  t.teardown(() => conn.close());
  const tags = ['a', 'b', 'c', 'd', 'e', 'f'];
  const answers = await Promise.all(tags.map((tag) => conn.request('Metadata', { topics: [tag], allowAutoTopicCreation: false, includeInternal: false })));
  t.same(answers.map((a) => a.clusterId), tags, 'each caller got its own answer');
  t.equal(maxUnanswered, 3, 'never more than maxInFlightRequests unanswered');
});

t.test('connection: a timed-out request fails REQUEST_TIMED_OUT, resets the socket, and the next one reconnects', async (t) => {
  let silentOnce = true;
  const broker = await fakeBroker(t, (_api, id) => {
    if (silentOnce) {
      silentOnce = false;
      return null;
    }
    return metadata(id, 'again');
  });
  const conn = connection(broker.port, { requestTimeoutMs: 200 });
  t.teardown(() => conn.close());
  const started = Date.now();
  await t.rejects(conn.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false }), { name: 'RunnelError', errorName: 'REQUEST_TIMED_OUT', retriable: true });
  t.ok(Date.now() - started >= 190, 'waited for the timeout');
  t.notOk(conn.isConnected, 'the connection was reset');
  t.equal((await conn.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false })).clusterId, 'again');
  t.equal(broker.connections(), 2, 'reconnected');
});

t.test('connection: requests in flight when the broker drops the socket fail retriably; then it reconnects', async (t) => {
  const broker = await fakeBroker(t, (_api, id, body, socket) => {
    if ((body as { topics: string[] }).topics[0] === 'drop') {
      socket.destroy();
      return null;
    }
    return metadata(id, 'ok');
  });
  const conn = connection(broker.port);
  t.teardown(() => conn.close());
  const dropped = conn.request('Metadata', { topics: ['drop'], allowAutoTopicCreation: false, includeInternal: false });
  await t.rejects(dropped, { name: 'RunnelError', errorName: 'NETWORK_EXCEPTION', retriable: true });
  t.equal((await conn.request('Metadata', { topics: ['x'], allowAutoTopicCreation: false, includeInternal: false })).clusterId, 'ok');
});

t.test('connection: error frames become typed errors; acks=0 produce resolves without a response', async (t) => {
  let produced = 0;
  const broker = await fakeBroker(t, (api, id) => {
    if (api === 'Produce') {
      produced++;
      return null;
    }
    return encodeErrorResponse(id, 42, 'the body did not decode');
  });
  const conn = connection(broker.port);
  t.teardown(() => conn.close());
  const err = await conn.request('DeleteTopics', { topics: ['x'], timeoutMs: 1000 }).catch((e: unknown) => e);
  t.ok(err instanceof RunnelError);
  t.match(err, { name: 'RunnelError', errorName: 'INVALID_REQUEST', code: 42, retriable: false, message: /the body did not decode/ });
  await conn.sendOnly('Produce', { acks: 0, timeoutMs: 1000, topics: [] });
  await conn.sendOnly('Produce', { acks: 0, timeoutMs: 1000, topics: [] });
  t.equal(conn.inFlightCount, 0, 'nothing waits for an answer');
  const done = await conn.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false }).then(() => true, () => true);
  t.ok(done);
  t.equal(produced, 2, 'the broker got both');
});

t.test('connection: nothing listening is CONNECTION_FAILED (retriable), with the address', async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  const conn = connection(port);
  t.teardown(() => conn.close());
  await t.rejects(conn.connect(), { name: 'RunnelError', errorName: 'CONNECTION_FAILED', retriable: true, message: new RegExp(`127.0.0.1:${port}`) });
  const started = Date.now();
  await t.rejects(conn.connect(), { name: 'RunnelError', errorName: 'CONNECTION_FAILED' });
  t.ok(Date.now() - started >= 15, 'the second attempt waited out a backoff');
});

t.test('producer against a fake broker: acks, offsets per message in order, retriable errors retried', async (t) => {
  const produceCalls: { partition: number; records: number }[] = [];
  let failNext = 1;
  const broker = await fakeBroker(t, (api, id, body) => {
    if (api === 'Metadata') {
      return encodeResponse('Metadata', 0, id, {
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: brokerPort, rack: null }], clusterId: 'fake', controllerId: 1,
        topics: [{ errorCode: 0, name: 'orders', isInternal: false, partitions: [0, 1].map((partition) => ({ errorCode: 0, partition, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] })) }],
      });
    }
    if (api === 'Produce') {
      const req = body as { topics: { name: string; partitions: { partition: number; records: Uint8Array }[] }[] };
      const topics: ResponseBodies['Produce']['topics'] = req.topics.map((tp) => ({
        name: tp.name,
        partitions: tp.partitions.map((p) => {
          const count = decodeBatch(p.records).records.length;
          produceCalls.push({ partition: p.partition, records: count });
          if (failNext > 0) {
            failNext--;
            return { partition: p.partition, errorCode: 6, errorMessage: 'moved', baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
          }
          return { partition: p.partition, errorCode: 0, errorMessage: null, baseOffset: 1000 * (p.partition + 1), logAppendTimeMs: -1, logStartOffset: 0 };
        }),
      }));
      return encodeResponse('Produce', 0, id, { throttleTimeMs: 0, topics });
    }
    return null;
  });
  const brokerPort = broker.port;
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${brokerPort}`], retry: { initialBackoffMs: 5, maxBackoffMs: 20 }, logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0 });
  const metas: RecordMetadata[] = await producer.send({
    topic: 'orders',
    messages: [{ value: 'a', partition: 1 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1, timestamp: 42 }],
  });
  t.same(metas.map((m) => [m.partition, m.offset]), [[1, 2000], [0, 1000], [1, 2001]], 'one RecordMetadata per message, in order');
  t.equal(metas[2]!.timestamp, 42);
  t.ok(produceCalls.length >= 3, 'NOT_LEADER_OR_FOLLOWER was retried');
  await t.rejects(producer.send({ topic: 'orders', messages: [{ value: 'x', partition: 5 }] }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT', message: /partition 5/ });
  await t.rejects(producer.send({ topic: 'orders', messages: [{ value: 42 as unknown as string }] }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  await producer.close();
  await t.rejects(producer.send({ topic: 'orders', messages: [{ value: 'late' }] }), { name: 'RunnelError', errorName: 'CLIENT_CLOSED' });
});

t.test("the consumer's record decoder agrees with protocol's decodeBatch and refuses damaged batches", async (t) => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (const codec of ['none', 'gzip', 'lz4'] as const) {
    const records: RecordInput[] = Array.from({ length: 200 }, (_, i) => ({
      key: rand(4) === 0 ? null : Buffer.from(`k${rand(1000)}`),
      value: rand(5) === 0 ? null : Buffer.alloc(rand(300), 65 + (i % 26)),
      headers: rand(3) === 0 ? [{ key: 'h€', value: Buffer.from([i & 0xff]) }, { key: 'n', value: null }] : undefined,
      timestamp: 1_700_000_000_000 + rand(100_000),
    }));
    const batch = Buffer.from(buildBatch(records, { codec, nowMs: 0 }));
    batch.writeBigInt64BE(500n, 0);
    const walk = walkBatches(batch);
    t.equal(walk.batches.length, 1);
    t.equal(walk.nextOffset, 700);
    const out: Message[] = [];
    decodeMessages(batch, 0, walk.batches[0]!.header, 'top', 3, 550, out);
    const reference = decodeBatch(batch).records.filter((r) => r.offset >= 550);
    t.equal(out.length, 150, `${codec}: records below minOffset skipped`);
    const differ = out.filter((m, i) => {
      const r = reference[i]!;
      const same = (a: Buffer | null, b: Uint8Array | null): boolean => (a === null || b === null ? a === b : a.equals(b));
      return m.offset !== r.offset || m.timestamp !== r.timestamp || !same(m.key, r.key) || !same(m.value, r.value) || m.topic !== 'top' || m.partition !== 3 ||
        Object.keys(m.headers).length !== r.headers.length || r.headers.some((h) => !same(m.headers[h.key] ?? null, h.value));
    });
    t.same(differ.map((m) => m.offset), [], `${codec}: every record decodes as decodeBatch reads it`);
    t.ok(out.every((m) => m.value === null || Buffer.isBuffer(m.value)), 'values are Buffers');
    const upTo: Message[] = [];
    decodeMessages(batch, 0, walk.batches[0]!.header, 'top', 3, 550, upTo, 600);
    t.same(upTo.map((m) => m.offset), out.filter((m) => m.offset <= 600).map((m) => m.offset), `${codec}: decoding stops after maxOffset`);
    const past: Message[] = [];
    decodeMessages(batch, 0, walk.batches[0]!.header, 'top', 3, 0, past, 499);
    t.equal(past.length, 0, `${codec}: a batch starting after maxOffset gives nothing`);
    // Damage: a flipped bit fails the CRC; a cut batch is not a whole batch.
    const flipped = Buffer.from(batch);
    flipped[flipped.length - 3]! ^= 0x10;
    t.throws(() => decodeMessages(flipped, 0, walk.batches[0]!.header, 'top', 3, 0, []), BatchFormatError);
    const cut = walkBatches(batch.subarray(0, batch.length - 1));
    t.equal(cut.batches.length, 0, 'a trailing partial batch is left for the next fetch');
    t.equal(cut.truncatedFirstBatchBytes, batch.length, 'and its full size is known');
  }
  // A record count that lies about the bytes is refused before any allocation.
  const small = Buffer.from(buildBatch([{ key: null, value: Buffer.from('x') }], { nowMs: 0 }));
  small.writeInt32BE(1_000_000, 57);
  sealBatchCrc(small, 0, small.length);
  t.throws(() => decodeMessages(small, 0, walkBatches(small).batches[0]!.header, 't', 0, 0, []), { name: 'BatchFormatError', message: /recordCount/ });
});

t.test('producer backpressure: with nothing acknowledged, no more than bufferMemoryBytes is taken in', async (t) => {
  const held: (() => void)[] = [];
  let receivedBytes = 0;
  let nextOffset = 0;
  let acknowledging = false;
  let firstProduce!: () => void;
  const firstProduceArrived = new Promise<void>((resolve) => {
    firstProduce = resolve;
  });
  const broker = await fakeBroker(t, (api, id, body, socket) => {
    if (api === 'Metadata') {
      return encodeResponse('Metadata', 0, id, {
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }], clusterId: 'fake', controllerId: 1,
        topics: [{ errorCode: 0, name: 'bp', isInternal: false, partitions: [{ errorCode: 0, partition: 0, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] }] }],
      });
    }
    const req = body as { topics: { name: string; partitions: { partition: number; records: Uint8Array }[] }[] };
    const records = req.topics[0]!.partitions[0]!.records;
    receivedBytes += records.byteLength;
    const count = walkBatches(records).batches.reduce((n, b) => n + b.header.recordCount, 0);
    const baseOffset = nextOffset;
    nextOffset += count;
    const answer = encodeResponse('Produce', 0, id, { throttleTimeMs: 0, topics: [{ name: 'bp', partitions: [{ partition: 0, errorCode: 0, errorMessage: null, baseOffset, logAppendTimeMs: -1, logStartOffset: 0 }] }] });
    firstProduce();
    if (acknowledging) return answer;
    held.push(() => {
      for (const c of answer) socket.write(c);
    });
    return null;
  });
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ bufferMemoryBytes: 64 * 1024, batchBytes: 16 * 1024, lingerMs: 0 });
  const value = Buffer.alloc(1000, 'b');
  const sends = Array.from({ length: 10 }, () => producer.send({ topic: 'bp', messages: Array.from({ length: 100 }, () => ({ value })) }));
  let settled = 0;
  for (const s of sends) void s.then(() => settled++);
  // One partition has one request in flight at a time, and that request carries every batch ready when it
  // left (up to 4 MiB): all the producer took in, since it appends synchronously until its buffer is full. So
  // the first request is the whole of what it holds, and nothing more can leave until it is acknowledged.
  await firstProduceArrived;
  t.equal(held.length, 1, 'one request in flight for the partition');
  t.ok(receivedBytes <= 64 * 1024 + 17 * 1024, `sent ${receivedBytes} bytes of 1 MB while nothing was acknowledged`);
  t.equal(settled, 0, 'and no send resolved');
  // Acknowledge from now on: everything goes through, in order.
  acknowledging = true;
  for (const release of held.splice(0)) release();
  const metas = (await Promise.all(sends)).flat();
  t.equal(metas.length, 1000);
  t.ok(metas.every((m, i) => m.offset === i), 'offsets follow send order');
  t.ok(receivedBytes >= 1000 * 1000, 'all of it reached the broker in the end');
});
