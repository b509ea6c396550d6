/**
 * The SDK against a real broker process (port picked by the OS, read back):
 * topic administration, produce/consume round trips with keys, headers and
 * null values across partitions and codecs, acks 0 / 1 / all, starts at
 * earliest / latest / an offset / a timestamp, long-poll delivery of new
 * records, batch iteration and positions, bounded producer memory, close()
 * ending an iteration, and the typed errors an app branches on.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { partitionForKey, Runnel, RunnelError, type Consumer, type Message, type ProducerMessage } from '../../client/index.js';
import { repoUrl } from '../support/repo-root.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

let broker: BrokerProcess;
let runnel: Runnel;

t.before(async () => {
  broker = await startBrokerProcess();
  runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId: 'sdk-it', logger: silent, requestTimeoutMs: 10_000 });
});

t.teardown(async () => {
  await runnel?.close();
  await broker?.stop();
});

/** Takes `n` messages (fewer if `timeoutMs` passes first: the consumer is then closed). */
async function take(consumer: Consumer, n: number, timeoutMs = 15_000): Promise<Message[]> {
  const out: Message[] = [];
  if (n === 0) return out;
  const timer = setTimeout(() => void consumer.close(), timeoutMs);
  try {
    for await (const m of consumer) {
      out.push(m);
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));
const sameBytes = (a: Buffer | null, b: string | Buffer | null | undefined): boolean =>
  a === null || b === null || b === undefined ? a === null && (b === null || b === undefined) : a.equals(Buffer.from(b));

t.test('admin: create, list, describe, configs, delete, and the errors of each', async (t) => {
  const admin = runnel.admin();
  await admin.createTopic({ name: 'adm', partitions: 3, config: { 'retention.ms': '86400000' } });
  t.ok((await admin.listTopics()).includes('adm'));
  const d = await admin.describeTopic('adm');
  t.same(d.partitions.map((p) => p.partition), [0, 1, 2]);
  for (const p of d.partitions) {
    t.ok(p.leader >= 0, 'each partition has a leader');
    t.ok(p.replicas.includes(p.leader));
  }
  t.same(d.configs, { 'retention.ms': '86400000' }, 'describeTopic lists the overrides');
  const retention = (await admin.describeConfigs('adm')).find((c) => c.name === 'retention.ms');
  t.match(retention, { value: '86400000', source: 'topic' });
  await admin.alterConfigs('adm', { 'retention.ms': '1000', 'cleanup.policy': 'delete' });
  t.equal((await admin.describeTopic('adm')).configs['retention.ms'], '1000');
  await admin.alterConfigs('adm', { 'retention.ms': null });
  const reset = (await admin.describeConfigs('adm')).find((c) => c.name === 'retention.ms');
  t.not(reset?.source, 'topic', 'null resets a setting to its default');

  const twice = await admin.createTopic({ name: 'adm' }).catch((e: unknown) => e);
  t.match(twice, { name: 'RunnelError', errorName: 'TOPIC_ALREADY_EXISTS', retriable: false, reason: 'topic adm already exists' });
  t.equal((twice as Error).message, 'TOPIC_ALREADY_EXISTS: Creating topic "adm": topic adm already exists', 'what was done and what went wrong, each said once');
  const bad = await admin.createTopic({ name: 'no spaces/allowed' }).catch((e: unknown) => e);
  t.ok(bad instanceof RunnelError);
  t.match(bad, { errorName: 'INVALID_TOPIC_EXCEPTION', code: 17, retriable: false, message: /contains " "; use only letters, digits/ });

  await admin.createPartitions({ topic: 'adm', count: 5 });
  t.equal((await admin.describeTopic('adm')).partitions.length, 5, 'createPartitions grows the topic to the count given');
  await t.rejects(admin.createPartitions({ topic: 'adm', count: 2 }), { name: 'RunnelError', errorName: 'INVALID_PARTITIONS', retriable: false, message: /cannot shrink/ });
  await t.rejects(admin.createPartitions({ topic: 'missing-topic', count: 2 }), { name: 'RunnelError', errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
  await t.rejects(admin.createTopic({ name: 'zero', partitions: 0 }), { name: 'RunnelError', errorName: 'INVALID_PARTITIONS' });
  await t.rejects(admin.createTopic({ name: 'badcfg', config: { 'retention.ms': 'soon' } }), { name: 'RunnelError', errorName: 'INVALID_CONFIG', message: /retention\.ms/ });
  await t.rejects(admin.alterConfigs('adm', { 'no.such.setting': '1' }), { name: 'RunnelError', errorName: 'INVALID_CONFIG', message: /no\.such\.setting/ });
  await t.rejects(admin.describeTopic('missing-topic'), { name: 'RunnelError', errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });

  await admin.deleteTopic('adm');
  t.notOk((await admin.listTopics()).includes('adm'));
  await t.rejects(admin.deleteTopic('adm'), { name: 'RunnelError', errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
});

t.test('round trip: keys, headers, null values, every codec, across partitions', async (t) => {
  const admin = runnel.admin();
  for (const compression of ['none', 'gzip', 'lz4'] as const) {
    const topic = `rt-${compression}`;
    await admin.createTopic({ name: topic, partitions: 3 });
    const producer = runnel.producer({ compression, lingerMs: 2 });
    const messages: ProducerMessage[] = [];
    for (let i = 0; i < 300; i++) {
      messages.push({
        key: i % 3 === 0 ? null : i % 3 === 1 ? `key-${i % 17}` : Buffer.from([i % 7, 0xff]),
        value: i % 10 === 9 ? null : i % 2 === 0 ? `value-${i}-ü` : Buffer.from(`bytes-${i}`),
        headers: i % 4 === 0 ? { trace: `t-${i}`, bin: Buffer.from([0, 1, 2]) } : undefined,
        timestamp: 1_700_000_000_000 + i,
      });
    }
    const metas = await producer.send({ topic, messages });
    t.equal(metas.length, messages.length, `${compression}: one RecordMetadata per message`);
    const misplaced = metas.filter((m, i) => {
      const key = messages[i]!.key;
      return (key !== null && key !== undefined && m.partition !== partitionForKey(key, 3)) || m.timestamp !== messages[i]!.timestamp;
    });
    t.same(misplaced, [], `${compression}: keyed records go where Kafka would put them, with their timestamps`);
    const perPartition = new Map<number, number[]>();
    for (const m of metas) perPartition.set(m.partition, [...(perPartition.get(m.partition) ?? []), m.offset]);
    for (const [p, offsets] of perPartition) t.same(offsets, offsets.map((_, j) => j), `${compression}: partition ${p} offsets are 0.. in send order`);
    await producer.close();

    const consumer = runnel.consumer({ maxWaitMs: 100, prefetch: compression !== 'gzip' });
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    const got = await take(consumer, messages.length);
    await consumer.close();
    t.equal(got.length, messages.length, `${compression}: everything came back`);
    const byPosition = new Map(got.map((m) => [`${m.partition}/${m.offset}`, m]));
    const wrong: string[] = [];
    metas.forEach((meta, i) => {
      const m = byPosition.get(`${meta.partition}/${meta.offset}`);
      const sent = messages[i]!;
      const key = sent.key ?? null;
      const sentHeaders = sent.headers as Record<string, string | Buffer> | undefined;
      if (m === undefined) wrong.push(`${i}: missing`);
      else if (!sameBytes(m.key, key) || !sameBytes(m.value, sent.value)) wrong.push(`${i}: key or value differs`);
      else if (m.timestamp !== sent.timestamp) wrong.push(`${i}: timestamp ${m.timestamp}`);
      else if (sentHeaders === undefined ? Object.keys(m.headers).length !== 0 : text(m.headers['trace']!) !== sentHeaders['trace'] || !sameBytes(m.headers['bin']!, sentHeaders['bin']!)) wrong.push(`${i}: headers`);
    });
    t.same(wrong, [], `${compression}: every record came back as sent (keys, values, nulls, headers, timestamps)`);
    t.ok(got.every((m) => (m.value === null || Buffer.isBuffer(m.value)) && (m.key === null || Buffer.isBuffer(m.key))), 'keys and values are Buffers or null');
  }
});

t.test('headers as [key, value] pairs: a key may repeat and a value may be null; the consumer has them all, in order', async (t) => {
  const topic = 'header-list';
  await runnel.admin().createTopic({ name: topic });
  const producer = runnel.producer({ lingerMs: 0 });
  const sent: [string, string | Buffer | null][] = [['hop', 'a'], ['hop', Buffer.from('b')], ['gone', null], ['__proto__', 'data'], ['hop', 'c']];
  await producer.send({ topic, messages: [{ value: 'x', headers: sent }, { value: 'y', headers: { only: 'one' } }] });
  await t.rejects(producer.send({ topic, messages: [{ value: 'z', headers: [['k']] as unknown as [string, string][] }] }), { errorName: 'INVALID_ARGUMENT', message: /headers\[0\] must be a \[key, value\] pair/ });
  await producer.close();
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const [withList, withObject] = await take(consumer, 2);
  await consumer.close();
  t.same(withList?.headerList.map(([k, v]) => [k, v?.toString() ?? null]), [['hop', 'a'], ['hop', 'b'], ['gone', null], ['__proto__', 'data'], ['hop', 'c']], 'every header, in order');
  t.equal(withList?.headers['hop']?.toString(), 'c', 'headers: the last value of a repeated key');
  t.equal(withList?.headers['gone'], null);
  t.equal(Object.getPrototypeOf(withList?.headers), Object.prototype, 'a header named __proto__ is data, not the prototype');
  t.equal(Object.getOwnPropertyDescriptor(withList?.headers, '__proto__')?.value?.toString(), 'data');
  t.same(withObject?.headerList.map(([k, v]) => [k, v?.toString()]), [['only', 'one']]);
});

t.test('acks 0, 1 and all all deliver; acks=0 reports no offsets', async (t) => {
  await runnel.admin().createTopic({ name: 'acks', partitions: 1 });
  for (const acks of [0, 1, 'all', -1] as const) {
    const producer = runnel.producer({ acks, lingerMs: 0 });
    const metas = await producer.send({ topic: 'acks', messages: [{ value: `acks=${acks}-a` }, { value: `acks=${acks}-b` }] });
    if (acks === 0) t.same(metas.map((m) => m.offset), [-1, -1], 'acks=0: offsets unknown');
    else t.ok(metas[1]!.offset === metas[0]!.offset + 1 && metas[0]!.offset >= 0, `acks=${acks}: consecutive offsets`);
    await producer.close();
  }
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'acks', partition: 0, offset: 'earliest' }]);
  const got = await take(consumer, 8);
  await consumer.close();
  t.same(got.map((m) => text(m.value)), ['0', '1', 'all', '-1'].flatMap((a) => [`acks=${a}-a`, `acks=${a}-b`]), 'every ack level delivered, in order');
});

t.test('starts: earliest, latest, an offset, a timestamp; seek; batches(); position()', async (t) => {
  const topic = 'starts';
  await runnel.admin().createTopic({ name: topic, partitions: 1 });
  const producer = runnel.producer({ lingerMs: 0 });
  const base = 1_750_000_000_000;
  await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: base + i * 1000 })) });

  const admin = runnel.admin();
  t.same(await admin.listOffsets(topic), [{ partition: 0, earliest: 0, latest: 10 }]);
  t.equal(await admin.offsetForTimestamp(topic, 0, base + 4500), 5);
  t.equal(await admin.offsetForTimestamp(topic, 0, base + 99_000), null, 'nothing that late');

  const c = runnel.consumer({ maxWaitMs: 100 });
  c.assign([{ topic, partition: 0, offset: { timestamp: base + 3000 } }]);
  t.same((await take(c, 2)).map((m) => m.offset), [3, 4], 'a timestamp starts at the first record at or after it');
  t.equal(c.position(topic, 0), 5);
  c.seek(topic, 0, 8);
  t.same((await take(c, 2)).map((m) => text(m.value)), ['m8', 'm9'], 'seek to an offset');
  c.seek(topic, 0, 'earliest');
  const batches: number[][] = [];
  for await (const b of c.batches()) {
    t.equal(b.highWatermark, 10);
    batches.push(b.messages.map((m) => m.offset));
    if (b.messages[b.messages.length - 1]!.offset === 9) break;
  }
  t.same(batches.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'batches() from earliest');
  t.equal(c.position(topic, 0), 10, 'position is after the last record handed out');
  c.seek(topic, 0, { timestamp: base + 60_000 });
  const later = take(c, 1);
  await producer.send({ topic, messages: [{ value: 'after-seek' }] });
  t.same((await later).map((m) => text(m.value)), ['after-seek'], 'a timestamp past the end starts at the end');
  await c.close();

  const latest = runnel.consumer({ maxWaitMs: 200 });
  latest.assign([{ topic, partition: 0 }]);
  const pending = take(latest, 1);
  // The consumer must have resolved 'latest' before the new record lands; wait for its position.
  for (let i = 0; i < 1000 && latest.position(topic, 0) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(latest.position(topic, 0), 11, "'latest' (the default) starts at the end");
  await producer.send({ topic, messages: [{ value: 'fresh' }] });
  t.same((await pending).map((m) => text(m.value)), ['fresh'], 'only new records');
  await latest.close();
  await producer.close();
});

t.test('a long-polling consumer gets new records as they arrive, across topics', async (t) => {
  await runnel.admin().createTopic({ name: 'poll-a', partitions: 2 });
  await runnel.admin().createTopic({ name: 'poll-b', partitions: 1 });
  const consumer = runnel.consumer({ maxWaitMs: 5000 });
  consumer.assign([{ topic: 'poll-a', partition: 0, offset: 0 }, { topic: 'poll-a', partition: 1, offset: 0 }, { topic: 'poll-b', partition: 0, offset: 0 }]);
  const got = take(consumer, 3);
  const producer = runnel.producer({ lingerMs: 0 });
  const sentAt = Date.now();
  await producer.send({ topic: 'poll-b', messages: [{ value: 'b0' }] });
  await new Promise((r) => setTimeout(r, 50));
  await producer.send({ topic: 'poll-a', messages: [{ value: 'a1', partition: 1 }, { value: 'a0', partition: 0 }] });
  const messages = await got;
  t.same(messages.map((m) => text(m.value)).sort(), ['a0', 'a1', 'b0']);
  t.ok(Date.now() - sentAt < 4000, 'delivered well before maxWaitMs ran out');
  await consumer.close();
  await producer.close();
});

t.test('close() ends a waiting iteration; 2 MB goes through a 64 KiB producer buffer', async (t) => {
  await runnel.admin().createTopic({ name: 'mem', partitions: 2 });
  const consumer = runnel.consumer({ maxWaitMs: 1000 });
  consumer.assign([{ topic: 'mem', partition: 0 }]);
  const iteration = (async () => {
    let n = 0;
    for await (const _ of consumer) n++;
    return n;
  })();
  await new Promise((r) => setTimeout(r, 100));
  await consumer.close();
  t.equal(await iteration, 0, 'the loop ended when the consumer closed');

  // That the buffer never holds more than bufferMemoryBytes is checked in units.test.ts, against a broker that
  // withholds its acks; here, against a real one, that sends wait for room rather than fail.
  const producer = runnel.producer({ bufferMemoryBytes: 64 * 1024, batchBytes: 16 * 1024, lingerMs: 50 });
  const value = Buffer.alloc(1000, 'm');
  const sends = Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'mem', messages: Array.from({ length: 100 }, () => ({ value, key: `k${i}` })) }));
  const metas = (await Promise.all(sends)).flat();
  t.equal(metas.length, 2000, '2 MB through a 64 KiB buffer: every send() waited for room and none failed');
  await producer.close();
  const offsets = await runnel.admin().listOffsets('mem');
  t.equal(offsets.reduce((n, p) => n + p.latest, 0), 2000);
});

t.test('an app that leaves its loop without close() can still exit (no long poll kept open)', async (t) => {
  await runnel.admin().createTopic({ name: 'exit', partitions: 1 });
  const p = runnel.producer({ lingerMs: 0 });
  await p.send({ topic: 'exit', messages: [{ value: 'a' }, { value: 'b' }] });
  await p.close();
  const client = repoUrl('dist', 'client', 'index.js');
  const app = `
    import { Runnel } from ${JSON.stringify(client)};
    const r = new Runnel({ bootstrap: [${JSON.stringify(broker.bootstrap)}] });
    const c = r.consumer({ maxWaitMs: 1000 });
    c.assign([{ topic: 'exit', partition: 0, offset: 'earliest' }]);
    for await (const m of c) { console.log(m.value.toString()); break; }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', app], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const started = Date.now();
  const code = await new Promise<number | string | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still running after 15 s');
    }, 15_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  t.equal(code, 0, 'the process ended by itself');
  t.equal(out.trim(), 'a');
  t.comment(`exited ${Date.now() - started} ms after start`);
});

t.test('typed errors: unknown topic, bad partition, out-of-range offset', async (t) => {
  const producer = runnel.producer();
  const started = Date.now();
  const err = await producer.send({ topic: 'does-not-exist', messages: [{ value: 'x' }] }).catch((e: unknown) => e);
  t.ok(err instanceof RunnelError, 'a RunnelError');
  t.match(err, { errorName: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: false, message: /does-not-exist/ });
  t.ok(Date.now() - started < 5000, 'said at once, not after a retry loop');
  await t.rejects(producer.send({ topic: 'bad name!', messages: [{ value: 'x' }] }), { name: 'RunnelError' });
  await producer.close();

  await runnel.admin().createTopic({ name: 'range', partitions: 1 });
  const p2 = runnel.producer({ lingerMs: 0 });
  await p2.send({ topic: 'range', messages: [{ value: 'only' }] });
  await p2.close();
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'range', partition: 0, offset: 50 }]);
  const thrown = await take(consumer, 1).catch((e: unknown) => e);
  t.match(thrown, { name: 'RunnelError', errorName: 'OFFSET_OUT_OF_RANGE', message: /range-0: it holds offsets 0 to 0, so 50 is past its end; seek/ });
  consumer.seek('range', 0, 'earliest');
  t.same((await take(consumer, 1)).map((m) => text(m.value)), ['only'], 'after a seek the partition reads again');
  await consumer.close();

  const missing = runnel.consumer({ maxWaitMs: 100 });
  missing.assign([{ topic: 'nope', partition: 0, offset: 'earliest' }]);
  await t.rejects(take(missing, 1), { name: 'RunnelError', errorName: 'UNKNOWN_TOPIC_OR_PARTITION', message: /nope/ });
  await missing.close();

  await runnel.admin().createTopic({ name: 'small', partitions: 1, config: { 'max.message.bytes': '2000' } });
  const p3 = runnel.producer({ lingerMs: 0 });
  const tooBig = await p3.send({ topic: 'small', messages: [{ value: Buffer.alloc(5000) }] }).catch((e: unknown) => e);
  t.match(tooBig, { name: 'RunnelError', errorName: 'MESSAGE_TOO_LARGE', retriable: false, message: /small-0/ });
  t.equal((await p3.send({ topic: 'small', messages: [{ value: 'fits' }] }))[0]!.offset, 0, 'the producer goes on after a refused batch');
  await p3.close();

  t.throws(() => new Runnel({ bootstrap: ['nohost'] }), { name: 'RunnelError', message: /host:port/ });
  t.throws(() => runnel.producer({ acks: 2 as unknown as 1 }), { name: 'RunnelError', message: /acks/ });
});
