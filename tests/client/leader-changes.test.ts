/**
 * The SDK when partition leaders move, against a scripted cluster
 * (fake-cluster.ts): the producer re-routes to the new leader and keeps each
 * partition's order across retries; the consumer follows the leader with
 * nothing skipped or repeated and sends its leader epoch; metadata that
 * names an older epoch than one already seen is ignored; a position past the
 * new leader's log (an unclean election truncated it) is reset and reported.
 * Every wait is bounded in time.
 */
import t from 'tap';
import { Runnel, type Message, type OffsetResetEvent, type RecordMetadata } from '../../client/index.js';
import { Cluster } from '../../client/metadata.js';
import { systemClock } from '../../client/clock.js';
import { systemClientWorld } from '../../client/world.js';
import { decodeBatch } from '../../protocol/batch/index.js';
import type { RequestBodies } from '../../protocol/messages.js';
import { FakeCluster } from './fake-cluster.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const fastRetry = { initialBackoffMs: 10, maxBackoffMs: 50 };

/** Resolves once `cond()` holds, checking every 10 ms; rejects after `timeoutMs`. */
async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The values in a partition's log, in offset order. */
function logValues(cluster: FakeCluster, topic: string, partition: number): string[] {
  return cluster.partition(topic, partition).log.flatMap((b) => decodeBatch(b.bytes, 0).records.map((r) => Buffer.from(r.value!).toString()));
}

/** Consumes `consumer` in the background into `into` until closed. */
function consumeInto(consumer: AsyncIterable<Message>, into: Message[]): Promise<void> {
  return (async () => {
    for await (const m of consumer) into.push(m);
  })();
}

t.test('a retried batch is not overtaken by a later one to the same partition (maxInFlightRequests 5)', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { o: { partitions: 1, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 'all', lingerMs: 0, maxInFlightRequests: 5, deliveryTimeoutMs: 10_000, requestTimeoutMs: 5000 });
  await producer.send({ topic: 'o', messages: [{ value: 'warm-up' }] });

  // The leader takes requests but answers nothing until resumed; the first Produce it then handles fails.
  const leader = cluster.brokers.get(1)!;
  leader.hang();
  let failedOne = false;
  cluster.inject = (_broker, api) => {
    if (api !== 'Produce' || failedOne) return undefined;
    failedOne = true;
    return 19; // NOT_ENOUGH_REPLICAS: retriable, nothing appended
  };
  const sends: Promise<RecordMetadata[]>[] = [];
  for (let i = 0; i < 5; i++) {
    sends.push(producer.send({ topic: 'o', messages: [{ value: `v${i}` }] }));
    // Each send its own pass, so each could go out in a request of its own.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  leader.resume();
  const results = await Promise.allSettled(sends);
  t.same(results.filter((r) => r.status === 'rejected'), [], 'every send succeeded after the retry');
  t.ok(failedOne, 'one Produce was refused');
  t.same(logValues(cluster, 'o', 0), ['warm-up', 'v0', 'v1', 'v2', 'v3', 'v4'], 'the log holds the sends in send order: the retried one was not overtaken');
});

t.test('NOT_ENOUGH_REPLICAS_AFTER_APPEND is retried (the ISR may grow back); the send then succeeds', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { n: { partitions: 1, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 10_000, requestTimeoutMs: 5000 });
  let refused = 0;
  cluster.inject = (_broker, api) => {
    if (api !== 'Produce' || refused >= 2) return undefined;
    refused += 1;
    return 20; // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  };
  const [meta] = await producer.send({ topic: 'n', messages: [{ value: 'x' }] });
  t.equal(refused, 2, 'two answers NOT_ENOUGH_REPLICAS_AFTER_APPEND');
  t.equal(meta!.offset, 0, 'then acknowledged');
  t.same(logValues(cluster, 'n', 0), ['x']);
});

t.test('leaders move and brokers die mid-produce: every send settles, none fails, order per partition kept', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2, 3], { m: { partitions: 2, replicas: [1, 2, 3] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 'all', lingerMs: 1, maxInFlightRequests: 5, deliveryTimeoutMs: 8000, requestTimeoutMs: 2000 });

  const SENDS = 300;
  const acked: { value: string; meta: RecordMetadata }[] = [];
  const failures: unknown[] = [];
  const inFlight = new Set<Promise<void>>();
  const moves = [
    { at: 60, move: () => { cluster.moveLeader('m', 0, 2); cluster.moveLeader('m', 1, 3); } },
    // Both partitions to broker 1, and the brokers that led them go away: connection loss, then a refresh.
    { at: 160, move: () => { cluster.moveLeader('m', 0, 1); cluster.moveLeader('m', 1, 1); void cluster.brokers.get(2)!.stop(); void cluster.brokers.get(3)!.stop(); } },
  ];
  // A failure ends the sending at once (the test fails then, without waiting out every send's deadline).
  for (let i = 0; i < SENDS && failures.length === 0; i++) {
    while (moves.length > 0 && acked.length >= moves[0]!.at) moves.shift()!.move();
    const value = `p${i % 2}-${i}`;
    const sent: Promise<void> = producer.send({ topic: 'm', messages: [{ value, partition: i % 2 }] }).then(
      (metas) => void acked.push({ value, meta: metas[0]! }),
      (err: unknown) => void failures.push(err),
    ).finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    if (inFlight.size >= 10) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  t.equal(moves.length, 0, 'both leader moves happened while sends were in flight');
  t.same(failures.map((e) => (e as Error).message), [], 'no send failed');
  t.equal(acked.length, SENDS, 'every send was acknowledged');
  t.ok(cluster.requests('Produce').some((s) => s.broker === 2) && cluster.requests('Produce').some((s) => s.broker === 3), 'the producer followed the leaders to brokers 2 and 3');
  for (const p of [0, 1]) {
    const log = logValues(cluster, 'm', p);
    const sent = Array.from({ length: SENDS }, (_, i) => i).filter((i) => i % 2 === p).map((i) => `p${p}-${i}`);
    // Without idempotence a retry may write a copy, but order is kept: the first copies are in send order.
    t.same([...new Set(log)], sent, `partition ${p}: the log holds every send, in send order`);
    const misplaced = acked.filter((a) => a.meta.partition === p && log[a.meta.offset] !== a.value);
    t.same(misplaced, [], `partition ${p}: every acknowledged record is at the offset it was acknowledged with`);
  }
});

t.test('the consumer is fenced by the old leader, resumes at the new one with no skip or repeat, and sends its epoch', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { c: { partitions: 1, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 8000, requestTimeoutMs: 2000 });
  const produce = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i += 5) await producer.send({ topic: 'c', messages: Array.from({ length: 5 }, (_, j) => ({ value: `r${i + j}` })) });
  };
  await produce(0, 30);

  const consumer = runnel.consumer({ maxWaitMs: 20 });
  consumer.assign([{ topic: 'c', partition: 0, offset: 'earliest' }]);
  const got: Message[] = [];
  const consuming = consumeInto(consumer, got);
  await until('the first 30 records', () => got.length >= 30);

  cluster.moveLeader('c', 0, 2);
  await produce(30, 60);
  await until('60 records', () => got.length >= 60);
  await consumer.close();
  await consuming;

  t.same(got.map((m) => m.offset), Array.from({ length: 60 }, (_, i) => i), 'offsets 0..59, each once, in order');
  t.same(got.map((m) => m.value!.toString()), Array.from({ length: 60 }, (_, i) => `r${i}`), 'the values that were written there');
  const fetchEpochs = (broker: number): number[] => [...new Set(cluster.requests('Fetch', broker).flatMap((s) => (s.body as RequestBodies['Fetch']).topics[0]!.partitions.map((p) => p.currentLeaderEpoch)))];
  t.same(fetchEpochs(1), [0], 'fetches to the first leader carried leader epoch 0');
  t.same(fetchEpochs(2), [1], 'fetches to the new leader carried leader epoch 1');
  t.ok(cluster.requests('Fetch', 1).length > 0 && cluster.requests('OffsetForLeaderEpoch', 2).length > 0, 'the position was checked with the new leader before fetching from it');
});

t.test('metadata naming an older leader epoch than one already seen is ignored (KIP-320)', async (t) => {
  const fake = await FakeCluster.start(t, [1, 2], { s: { partitions: 1, replicas: [1, 2] } });
  // Broker 1 will keep answering from before the election: leader 1, epoch 0.
  fake.staleMetadata(1);
  fake.moveLeader('s', 0, 2);
  // The real clock, but one the test can move forward.
  let skewMs = 0;
  const clock = { ...systemClock, nowMs: () => Date.now() + skewMs };
  const cluster = new Cluster({
    world: { ...systemClientWorld, clock },
    bootstrap: [{ host: '127.0.0.1', port: fake.brokers.get(2)!.port }], clientId: 'stale', connectTimeoutMs: 2000, requestTimeoutMs: 2000,
    maxInFlightRequests: 5, maxFrameBytes: 1 << 24, retry: { retries: 2, ...fastRetry }, logger: silent, allowAutoTopicCreation: false, metadataMaxAgeMs: 60_000,
  });
  t.teardown(() => cluster.close());
  await cluster.fetchMetadata(['s']);
  t.equal(cluster.cachedLeader('s', 0), 2, 'learned leader 2 from broker 2');
  t.equal(cluster.cachedLeaderEpoch('s', 0), 1, 'at epoch 1');

  // The next answer comes from broker 1 (the first connected broker), which still says leader 1 at epoch 0.
  await cluster.broker(1).connect();
  const res = await cluster.fetchMetadata(['s']);
  t.equal(res.topics[0]!.partitions[0]!.leaderEpoch, 0, 'broker 1 did answer with the older epoch');
  t.equal(fake.requests('Metadata', 1).length, 1, 'and it was broker 1 that answered');
  t.equal(cluster.cachedLeader('s', 0), 2, 'the cached leader stays 2');
  t.equal(cluster.cachedLeaderEpoch('s', 0), 1, 'the cached epoch stays 1');

  // Forgotten (a refresh), then told only the older epoch: no leader to send to, rather than the deposed one.
  cluster.invalidate();
  await cluster.fetchMetadata(['s']);
  t.not(cluster.cachedLeader('s', 0), 1, 'the deposed leader is not used');
  await t.rejects(cluster.leaderFor('s', 0), { name: 'RunnelError', errorName: 'LEADER_NOT_AVAILABLE' }, 'looking up its leader keeps failing (retriable) while only the older epoch is offered');

  // Still only the older epoch after 10 s: no broker lags an election that long unfenced, so the topic was made again.
  skewMs += 10_000;
  await cluster.fetchMetadata(['s']);
  t.same([cluster.cachedLeader('s', 0), cluster.cachedLeaderEpoch('s', 0)], [1, 0], 'after 10 s of older epochs the answer is believed (a topic made again starts at epoch 0)');

  fake.thaw(1);
  await cluster.fetchMetadata(['s']);
  t.same([cluster.cachedLeader('s', 0), cluster.cachedLeaderEpoch('s', 0)], [2, 1], 'once broker 1 knows the election, leader 2 at epoch 1');
});

t.test('one partition without a leader: the producer and the consumer keep working on the topic\'s others, and that one resumes once it has a leader', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { half: { partitions: 2, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: { ...fastRetry, retries: 3 } });
  t.teardown(() => runnel.close());
  cluster.moveLeader('half', 1, -1);
  const producer = runnel.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 10_000, requestTimeoutMs: 2000 });
  for (let i = 0; i < 5; i++) {
    const [meta] = await producer.send({ topic: 'half', messages: [{ value: `p0-${i}`, partition: 0 }] });
    t.equal(meta!.offset, i, `send ${i} to partition 0 acknowledged while partition 1 has no leader`);
  }
  const waiting = producer.send({ topic: 'half', messages: [{ value: 'p1-0', partition: 1 }] });
  let settled = false;
  void waiting.then(() => (settled = true), () => (settled = true));

  const consumer = runnel.consumer({ maxWaitMs: 20 });
  consumer.assign([{ topic: 'half', partition: 0, offset: 'earliest' }, { topic: 'half', partition: 1, offset: 'earliest' }]);
  const seen: Message[] = [];
  const consuming = consumeInto(consumer, seen);
  await until('partition 0 consumed', () => seen.filter((m) => m.partition === 0).length === 5);
  t.same(seen.filter((m) => m.partition === 0).map((m) => m.value!.toString()), ['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4'], 'the consumer reads partition 0 meanwhile');
  const metadataBefore = cluster.requests('Metadata').length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(settled, 'the send to leaderless partition 1 waits (within its delivery timeout)');
  t.ok(cluster.requests('Metadata').length - metadataBefore < 40, `metadata asked at the retry backoff while waiting, not in a loop (${cluster.requests('Metadata').length - metadataBefore} in 300 ms)`);

  cluster.moveLeader('half', 1, 2);
  const [meta] = await waiting;
  t.same([meta!.partition, meta!.offset], [1, 0], 'once partition 1 has a leader the waiting send goes out');
  await until('partition 1 consumed', () => seen.some((m) => m.partition === 1));
  t.same(seen.filter((m) => m.partition === 1).map((m) => m.value!.toString()), ['p1-0'], 'and the consumer reads it');
  await consumer.close();
  await consuming;
});

t.test('a consumed position that an unclean election truncated away is reset to the new log end and reported', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { u: { partitions: 1, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 1, lingerMs: 0, deliveryTimeoutMs: 8000, requestTimeoutMs: 2000 });
  for (let i = 0; i < 15; i += 5) await producer.send({ topic: 'u', messages: Array.from({ length: 5 }, (_, j) => ({ value: `old${i + j}` })) });

  const consumer = runnel.consumer({ maxWaitMs: 20 });
  const resets: OffsetResetEvent[] = [];
  consumer.on('offset-reset', (e) => resets.push(e));
  consumer.assign([{ topic: 'u', partition: 0, offset: 'earliest' }]);
  const got: Message[] = [];
  const consuming = consumeInto(consumer, got);
  await until('the 15 records of epoch 0', () => got.length >= 15);

  // Broker 2 becomes leader with only offsets 0..9; the records it writes from 10 on are new ones.
  cluster.moveLeader('u', 0, 2, { truncateTo: 10 });
  for (let i = 10; i < 20; i += 5) await producer.send({ topic: 'u', messages: Array.from({ length: 5 }, (_, j) => ({ value: `new${i + j}` })) });
  await until('the records written by the new leader', () => got.some((m) => m.value!.toString() === 'new19'));
  await consumer.close();
  await consuming;

  t.equal(resets.length, 1, 'one offset-reset event');
  t.match(resets[0], { topic: 'u', partition: 0, fromOffset: 15, toOffset: 10 }, 'from the position reached to where the new leader\'s log ends for epoch 0');
  t.match(resets[0]?.reason ?? '', /truncated/, 'the event says why');
  const after = got.slice(15);
  t.same(after.map((m) => [m.offset, m.value!.toString()]), Array.from({ length: 10 }, (_, i) => [10 + i, `new${10 + i}`]), 'then offsets 10.. of the new leader\'s log, none skipped');
});

t.test('admin: describe gives replicas, ISR, leader epoch and offline replicas; listTopics hides internal topics unless asked', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { orders: { partitions: 2, replicas: [1, 2] }, __meta: { partitions: 1, replicas: [1] } });
  cluster.moveLeader('orders', 1, 2);
  cluster.partition('orders', 1).isr = [2];
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const admin = runnel.admin();
  t.same(await admin.listTopics(), ['orders'], 'internal topics are hidden');
  t.same(await admin.listTopics({ includeInternal: true }), ['__meta', 'orders'], 'and listed when asked for');
  t.ok(cluster.requests('Metadata').some((s) => (s.body as RequestBodies['Metadata']).includeInternal), 'the request asked the broker for them');
  cluster.partition('orders', 1).offline = [1];
  const described = await admin.describeTopic('orders');
  t.same(described.partitions, [
    { partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2], leaderEpoch: 0, offlineReplicas: [] },
    { partition: 1, leader: 2, replicas: [2, 1], isr: [2], leaderEpoch: 1, offlineReplicas: [1] },
  ], 'per partition: leader, replicas, ISR, leader epoch, offline replicas');
});

t.test('a leader that stops answering: once metadata names a new leader, the waiting batch goes there without waiting out requestTimeoutMs', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { s: { partitions: 2, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  // requestTimeoutMs 20 s: waiting for the silent leader's answer would outlast every bound below.
  const producer = runnel.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 60_000, requestTimeoutMs: 20_000 });
  await producer.send({ topic: 's', messages: [{ value: 'warm-0', partition: 0 }, { value: 'warm-1', partition: 1 }] });
  t.equal(cluster.partition('s', 0).leader, 1, 'partition 0 starts on broker 1');

  const silentLeader = cluster.brokers.get(1)!;
  silentLeader.hang();
  const metadataBefore = cluster.requests('Metadata').length;
  const producesBefore = silentLeader.requests('Produce');
  const startedMs = Date.now();
  const sent = producer.send({ topic: 's', messages: [{ value: 'a', partition: 0 }] });
  // The silent broker counts what arrives, though it answers nothing: the request has reached it.
  await until('the Produce to reach the silent leader', () => silentLeader.requests('Produce') > producesBefore);
  cluster.moveLeader('s', 0, 2);
  // Bounded well below requestTimeoutMs (20 s): only the leader check can explain an answer in time.
  const [meta] = await Promise.race([sent, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the send waited for the silent leader')), 8000))]);
  const tookMs = Date.now() - startedMs;
  t.equal(meta!.partition, 0);
  t.equal(meta!.offset, 1, 'acknowledged by the new leader at the next offset');
  t.ok(tookMs < 8000, `settled in ${tookMs} ms`);
  const asked = cluster.requests('Metadata').slice(metadataBefore);
  t.ok(asked.length > 0 && asked.every((s) => s.broker === 2), 'the leaders were checked with the broker that still answers, not the silent one');

  silentLeader.resume();
  // The silent leader's late answer (it no longer leads) changes nothing: no second copy, nothing failed.
  const [next] = await producer.send({ topic: 's', messages: [{ value: 'b', partition: 0 }] });
  t.equal(next!.offset, 2);
  t.same(logValues(cluster, 's', 0), ['warm-0', 'a', 'b'], 'the partition holds each record once, in send order');
});

t.test('a leader that stops answering a Fetch: once metadata names a new leader, the consumer reads there without waiting out requestTimeoutMs', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { f: { partitions: 1, replicas: [1, 2] } });
  // Producer and consumer on clients of their own: neither learns the new leader from the other's metadata.
  const writer = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  const reader = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry, requestTimeoutMs: 20_000 });
  t.teardown(() => Promise.all([writer.close(), reader.close()]));
  const producer = writer.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 60_000, requestTimeoutMs: 20_000 });
  await producer.send({ topic: 'f', messages: [{ value: 'r0' }, { value: 'r1' }] });

  const consumer = reader.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'f', partition: 0, offset: 'earliest' }]);
  const got: Message[] = [];
  const consuming = consumeInto(consumer, got);
  await until('the first 2 records', () => got.length >= 2);

  const silentLeader = cluster.brokers.get(1)!;
  const fetchesBefore = silentLeader.requests('Fetch');
  silentLeader.hang();
  // The consumer's next long poll reaches the silent broker; then the leader moves and is written to.
  await until('a Fetch to reach the silent leader', () => silentLeader.requests('Fetch') > fetchesBefore);
  cluster.moveLeader('f', 0, 2);
  await producer.send({ topic: 'f', messages: [{ value: 'r2' }] });
  // Bounded well below requestTimeoutMs (20 s): only the leader check can explain the record arriving in time.
  await until('the record written at the new leader', () => got.length >= 3, 8000);
  await consumer.close();
  await consuming;
  t.same(got.map((m) => [m.offset, m.value!.toString()]), [[0, 'r0'], [1, 'r1'], [2, 'r2']], 'each record once, in order');
  t.ok(cluster.requests('Fetch', 2).length > 0, 'fetched from the new leader');
  silentLeader.resume();
});
