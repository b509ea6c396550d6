/**
 * subscribe() without a group, pause/resume, backpressure and lag, against
 * a fake cluster: every partition of the matching topics, and partitions
 * and topics added later read from their first record. Bounded waits.
 */
import t from 'tap';
import type { Message } from '../../../client/index.js';
import { consumeInto, groupWorld, ids, until } from './support.js';

t.test('names and patterns: every partition, and partitions and matching topics added later from their first record', async (t) => {
  const w = await groupWorld(t, { 'orders-eu': 2, 'orders-us': 1, other: 1 });
  await w.produce('orders-eu', 1);
  const consumer = w.consumer({ metadataMaxAgeMs: 100 });
  // Not from the beginning: the partitions there now start at their end (orders-eu's first records are not read).
  consumer.subscribe({ topics: [/orders-.*/, 'other'] });
  const seen: Message[] = [];
  const loop = consumeInto(consumer, seen);
  await until('the starts resolved', () => consumer.position('orders-eu', 1) === 1 && consumer.position('other', 0) === 0);
  await w.produce('orders-eu', 2);
  await w.produce('other', 1);
  await until('the first records', () => seen.length === 5);
  t.same(ids(seen).sort(), ['orders-eu-0-1', 'orders-eu-0-2', 'orders-eu-1-1', 'orders-eu-1-2', 'other-0-0']);
  // A partition added to a topic and a new topic matching the pattern, with records written before the consumer looks again.
  w.cluster.topics.get('orders-us')!.push({ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], log: [] });
  w.cluster.topics.set('orders-asia', [{ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], log: [] }]);
  w.cluster.topics.set('unrelated', [{ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], log: [] }]);
  await w.produce('orders-us', 1);
  await w.produce('orders-asia', 2);
  await w.produce('unrelated', 1);
  await until('the added partitions read', () => seen.length === 9);
  t.same(ids(seen.slice(5)).sort(), ['orders-asia-0-0', 'orders-asia-0-1', 'orders-us-0-0', 'orders-us-1-0']);
  t.same(consumer.assignment().map((p) => `${p.topic}-${p.partition}`).sort(), ['orders-asia-0', 'orders-eu-0', 'orders-eu-1', 'orders-us-0', 'orders-us-1', 'other-0']);
  const lag = await consumer.lag();
  t.same(lag.map((l) => l.lag), [0, 0, 0, 0, 0, 0], 'caught up');
  await w.produce('other', 3);
  t.equal((await consumer.lag()).find((l) => l.topic === 'other')?.logEndOffset, 4, 'the log end asked of the leader now');
  t.rejects(consumer.commit(), /groupId/, 'no group, no commits');
  t.throws(() => consumer.assign([{ topic: 'other', partition: 0 }]), /either assigns partitions or subscribes/);
  await consumer.close();
  await loop;
});

t.test('without fromBeginning, partitions there at subscribe start at their end', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 3);
  const consumer = w.consumer();
  consumer.subscribe({ topics: ['t'] });
  const seen: Message[] = [];
  const loop = consumeInto(consumer, seen);
  await until('the start resolved', () => consumer.position('t', 0) === 3);
  await w.produce('t', 1);
  await until('the new record', () => seen.length === 1);
  t.same(ids(seen), ['t-0-3']);
  await consumer.close();
  await loop;
});

t.test('pause stops fetching a partition and drops what it buffered; resume carries on from the position', async (t) => {
  const w = await groupWorld(t, { t: 2 });
  await w.produce('t', 2);
  const consumer = w.consumer();
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const seen: Message[] = [];
  const it = consumer[Symbol.asyncIterator]();
  // One message of t-0 taken; then t-0 is paused: the rest of its batch is not handed out.
  let first = (await it.next()).value as Message;
  while (first.partition !== 0) {
    seen.push(first);
    first = (await it.next()).value as Message;
  }
  seen.push(first);
  consumer.pause([{ topic: 't', partition: 0 }]);
  // A fetch sent before the pause may still arrive: count from after it.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const fetchesBefore = w.cluster.requests('Fetch').length;
  await w.produce('t', 1);
  const rest: Message[] = [];
  const loop = (async () => {
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      rest.push(r.value);
    }
  })();
  await until('t-1 read to its end', () => [...seen, ...rest].filter((m) => m.partition === 1).length === 3);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(rest.filter((m) => m.partition === 0), [], 'nothing of the paused partition');
  const asked = w.cluster.requests('Fetch').slice(fetchesBefore).flatMap((s) => (s.body as { topics: { partitions: { partition: number }[] }[] }).topics.flatMap((tp) => tp.partitions.map((p) => p.partition)));
  t.notOk(asked.includes(0), 'the paused partition is not fetched');
  consumer.resume([{ topic: 't', partition: 0 }]);
  await until('t-0 after resume', () => rest.filter((m) => m.partition === 0).length === 2);
  t.same(ids(rest.filter((m) => m.partition === 0)), ['t-0-1', 't-0-2'], 'from the position: nothing skipped, nothing repeated');
  t.throws(() => consumer.pause([{ topic: 'nope', partition: 0 }]), /not assigned/);
  await consumer.close();
  await loop;
});

t.test('backpressure: an app that takes nothing gets at most two fetch answers buffered, however much is written', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 1);
  const consumer = w.consumer({ partitionMaxBytes: 64, maxWaitMs: 10 });
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const it = consumer[Symbol.asyncIterator]();
  await it.next();
  for (let i = 0; i < 20; i++) await w.produce('t', 1);
  // The app holds its message: fetching stops once two answers wait, instead of reading the partition into memory.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const fetches = w.cluster.requests('Fetch').length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(w.cluster.requests('Fetch').length, fetches, 'no fetching while the buffer is full');
  t.ok(fetches <= 4, `${fetches} fetches in all`);
  await consumer.close();
});
