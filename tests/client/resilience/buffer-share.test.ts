/**
 * The producer's per-broker share of its buffer against scripted brokers
 * (fake-cluster.ts): broker 2 hangs (answers nothing), its share fills, and
 * the call whose next record is for it parks. Calls behind it go on, except
 * into a partition the parked call still has records for: so a record for
 * partition 0 (led by the healthy broker 1) sent after the parked call waits
 * for that call's own partition-0 record, and the log of partition 0 has them
 * in send order. And with a buffer four shares large, far more than the
 * whole buffer's worth of records for the healthy broker are acknowledged
 * while the other hangs.
 */
import t from 'tap';
import { Runnel } from '../../../client/index.js';
import { decodeBatch } from '../../../protocol/batch/index.js';
import { FakeCluster } from '../fake-cluster.js';

const KiB = 1024;
const SHARE = 4 * KiB;

t.test('a parked call holds up only its broker and its own partitions; send order per partition is kept', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { t: { partitions: 2, replicas: [1, 2] } });
  t.equal(cluster.partition('t', 0).leader, 1);
  t.equal(cluster.partition('t', 1).leader, 2);
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, requestTimeoutMs: 20_000 });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 1, lingerMs: 0, batchBytes: KiB, bufferMemoryBytes: 16 * SHARE, maxBufferedBytesPerBroker: SHARE, deliveryTimeoutMs: 30_000 });
  const full: number[] = [];
  producer.on('bulkhead-full', (e) => full.push(e.nodeId ?? -1));
  await producer.partitionsFor('t');
  await producer.send({ topic: 't', messages: [{ value: 'warm-0', partition: 0 }, { value: 'warm-1', partition: 1 }] });

  cluster.brokers.get(2)!.hang();
  const value = (name: string): string => `${name}:${'x'.repeat(KiB - 10)}`;
  // Broker 2's share fills: these are buffered (and sent, unanswered) until it is full.
  const filling = Array.from({ length: 8 }, (_, i) => producer.send({ topic: 't', messages: [{ value: value(`fill${i}`), partition: 1 }] }));
  // Parks at its first record (broker 2 is full), still holding a record for partition 0.
  const parked = producer.send({ topic: 't', messages: [{ value: value('A1'), partition: 1 }, { value: 'A0', partition: 0 }] });
  // Partition 0 is led by healthy broker 1, but A's record for it comes first.
  const behind = producer.send({ topic: 't', messages: [{ value: 'B0', partition: 0 }] });
  let behindDone = false;
  void behind.then(() => (behindDone = true), () => undefined);

  const stats = producer.brokerStats().find((s) => s.nodeId === 2)!;
  t.ok(stats.bufferedBytes >= SHARE && stats.bufferedBytes <= SHARE + 2 * KiB, `broker 2 holds its share and no more (${stats.bufferedBytes} bytes)`);
  t.same(full, [2], 'bulkhead-full announced once for broker 2');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.notOk(behindDone, 'B0 waits behind the parked call that holds a record for its partition');

  cluster.brokers.get(2)!.resume();
  await Promise.all([...filling, parked, behind]);
  const values = cluster.partition('t', 0).log.flatMap((b) => decodeBatch(b.bytes).records.map((r) => Buffer.from(r.value!).toString()));
  t.same(values, ['warm-0', 'A0', 'B0'], 'partition 0 has A0 before B0, as they were sent');
  await producer.close();
});

t.test('calls for the healthy broker are acknowledged while the other one hangs with its share full', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { t: { partitions: 2, replicas: [1, 2] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, requestTimeoutMs: 20_000 });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ acks: 1, lingerMs: 0, batchBytes: KiB, bufferMemoryBytes: 4 * SHARE, maxBufferedBytesPerBroker: SHARE, deliveryTimeoutMs: 30_000 });
  await producer.send({ topic: 't', messages: [{ value: 'warm-0', partition: 0 }, { value: 'warm-1', partition: 1 }] });
  cluster.brokers.get(2)!.hang();
  // Far more than the whole buffer for the hung broker: without the share they would take all of it.
  const stuck = Array.from({ length: 64 }, (_, i) => producer.send({ topic: 't', messages: [{ value: `s${i}:${'x'.repeat(KiB)}`, partition: 1 }] }));
  for (const s of stuck) s.catch(() => undefined);
  const healthy = await Promise.race([
    Promise.all(Array.from({ length: 64 }, (_, i) => producer.send({ topic: 't', messages: [{ value: `h${i}:${'x'.repeat(KiB)}`, partition: 0 }] }))).then(() => 'acknowledged'),
    new Promise((resolve) => setTimeout(() => resolve('stuck'), 5000)),
  ]);
  t.equal(healthy, 'acknowledged', "the healthy broker's 64 KiB went through a 16 KiB buffer while the other broker hung");
  t.ok(producer.brokerStats().find((s) => s.nodeId === 2)!.bufferedBytes <= SHARE + 2 * KiB, "the hung broker held no more than its share");
  cluster.brokers.get(2)!.resume();
  await Promise.all(stuck);
  await producer.close();
});
