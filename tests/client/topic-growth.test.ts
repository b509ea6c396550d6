/**
 * A send() is checked whole before any of it is buffered, and a running
 * producer sees partitions added to its topic: a call that names a
 * partition the topic does not have writes nothing (not even its valid
 * messages before the bad one); a partition added since the metadata was
 * cached is found by one refresh, within the send's deadline; and without
 * any error to prompt it, cached metadata older than metadataMaxAgeMs is
 * refreshed, so keyed and keyless records spread over the new partitions.
 * Against a scripted broker (exact request counts) and a real one (the
 * admin's createPartitions, records read back).
 */
import t, { type Test } from 'tap';
import { Runnel, partitionForKey } from '../../client/index.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { fakeBroker, metadataAnswer, produceAnswer, type FakeBroker } from './fake-broker.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A key that `partitionForKey` maps to `partition` of `count`. */
function keyFor(partition: number, count: number): string {
  for (let i = 0; ; i++) if (partitionForKey(`k${i}`, count) === partition) return `k${i}`;
}

/** A scripted broker whose topic `t` has `counts.t` partitions (change it to grow the topic), and a client of it. */
async function scripted(t: Test, counts: { t: number }): Promise<{ broker: FakeBroker; runnel: Runnel }> {
  const broker: FakeBroker = await fakeBroker(t, (api, id, body) => {
    if (api === 'Metadata') return metadataAnswer(id, broker.port, counts);
    if (api === 'Produce') return produceAnswer(id, body);
    return null;
  });
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], logger: silent });
  t.teardown(() => runnel.close());
  return { broker, runnel };
}

t.test('a call refused as invalid writes nothing, whichever message is bad and however it is bad', async (t) => {
  const { broker, runnel } = await scripted(t, { t: 2 });
  const producer = runnel.producer({ lingerMs: 0 });
  await producer.partitionsFor('t');
  const metadataBefore = broker.requests('Metadata');

  const badPartition = producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }, { value: 'b', partition: 99 }] });
  await t.rejects(badPartition, { name: 'RunnelError', errorName: 'INVALID_ARGUMENT', message: /message 1: partition 99 is out of range; topic "t" has partitions 0 to 1 .*nothing of this call was sent/ });
  t.equal(broker.requests('Metadata') - metadataBefore, 1, 'refused after one refresh of the topic (the partition might have been added since)');
  const negative = producer.send({ topic: 't', messages: [{ value: 'x' }, { value: 'y', timestamp: -5 }] });
  await t.rejects(negative, { errorName: 'INVALID_ARGUMENT', message: /message 1: timestamp must be a non-negative integer/ });
  await producer.flush();
  t.equal(broker.requests('Produce'), 0, 'nothing of either call was sent: not the valid message before the bad one');

  const picky = runnel.producer({ lingerMs: 0, partitioner: (key) => (key?.toString() === 'bad' ? 7 : 0) });
  await t.rejects(picky.send({ topic: 't', messages: [{ key: 'good', value: '1' }, { key: 'bad', value: '2' }] }), {
    errorName: 'INVALID_ARGUMENT',
    message: /message 1: the partitioner chose partition 7, but topic "t" has partitions 0 to 1; nothing of this call was sent/,
  });
  await picky.flush();
  t.equal(broker.requests('Produce'), 0, 'nor of a call whose partitioner went out of range');
  t.same((await picky.send({ topic: 't', messages: [{ key: 'good', value: '1' }] })).map((m) => m.partition), [0], 'the partitioner is used otherwise');
});

t.test('partitions added to the topic: a send naming one refreshes at once; keys spread over them after metadataMaxAgeMs', async (t) => {
  const counts = { t: 2 };
  const { broker, runnel } = await scripted(t, counts);
  const producer = runnel.producer({ lingerMs: 0, metadataMaxAgeMs: 500 });
  t.same((await producer.send({ topic: 't', messages: [{ value: 'a', partition: 1 }] })).map((m) => m.partition), [1]);

  counts.t = 3;
  const [meta] = await producer.send({ topic: 't', messages: [{ value: 'b', partition: 2 }] });
  t.equal(meta!.partition, 2, 'a partition added after the metadata was cached is found by a refresh');

  counts.t = 4;
  const key = keyFor(3, 4);
  t.not(partitionForKey(key, 3), 3);
  const [early] = await producer.send({ topic: 't', messages: [{ key, value: 'c' }] });
  t.equal(early!.partition, partitionForKey(key, 3), 'within metadataMaxAgeMs the cached count is used');
  const metadataBefore = broker.requests('Metadata');
  await new Promise((resolve) => setTimeout(resolve, 600));
  // The send that finds the metadata old starts a refresh in the background, and goes on with what it has.
  await producer.send({ topic: 't', messages: [{ key, value: 'd' }] });
  const deadline = Date.now() + 5000;
  while (broker.requests('Metadata') === metadataBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(broker.requests('Metadata') - metadataBefore, 1, 'one refresh, once the metadata was older than metadataMaxAgeMs');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const [late] = await producer.send({ topic: 't', messages: [{ key, value: 'e' }] });
  t.equal(late!.partition, 3, 'the key maps over the new count, to a partition the producer had not known');
  t.same((await producer.partitionsFor('t')).map((p) => p.partition), [0, 1, 2, 3]);
});

t.test("a running producer and the admin's createPartitions on a real broker: what the review tried", async (t) => {
  const broker = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => runnel.close());
  const admin = runnel.admin();
  await admin.createTopic({ name: 'grow', partitions: 1 });
  const producer = runnel.producer({ lingerMs: 0, metadataMaxAgeMs: 1000 });
  await producer.send({ topic: 'grow', messages: [{ value: 'warm', partition: 0 }] });

  // A bad call: its first message is valid, the second names a partition the topic does not have.
  await t.rejects(producer.send({ topic: 'grow', messages: [{ value: 'should-not-be-written', partition: 0 }, { value: 'b', partition: 99 }] }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  await producer.flush();
  t.same((await admin.listOffsets('grow')).map((o) => o.latest), [1], 'partition 0 still holds only the first record');

  await admin.createPartitions({ topic: 'grow', count: 3 });
  const [explicit] = await producer.send({ topic: 'grow', messages: [{ value: 'to-2', partition: 2 }] });
  t.equal(explicit!.partition, 2, 'the running producer sends to a partition added after it started');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const seen = new Set<number>();
  for (let i = 0; i < 30 && seen.size < 3; i++) {
    for (const m of await producer.send({ topic: 'grow', messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i}-${j}`, value: 'c' })) })) seen.add(m.partition);
  }
  t.same([...seen].sort(), [0, 1, 2], 'keyed records go to every partition');
  const offsets = await admin.listOffsets('grow');
  t.ok(offsets.every((o) => o.latest > 0), `every partition holds records: ${JSON.stringify(offsets)}`);
});
