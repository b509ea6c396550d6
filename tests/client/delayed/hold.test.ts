/**
 * The consumer's hold on a record not yet due (`delayedDelivery: 'wait'`)
 * against a scripted cluster that records every request: while the record
 * waits, its partition is not fetched at all (no polling: one timer), the
 * other partition is, and at its time it is fetched once from the held
 * offset and handed out.
 */
import t from 'tap';
import { Runnel, type Message } from '../../../client/index.js';
import type { RequestBodies } from '../../../protocol/messages.js';
import { FakeCluster } from '../fake-cluster.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

t.test('a held partition is not fetched until its record is due', async (t) => {
  const cluster = await FakeCluster.start(t, [1], { d: { partitions: 1, replicas: [1] } });
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: { initialBackoffMs: 10, maxBackoffMs: 50 } });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0 });
  const dueAt = Date.now() + 1_500;
  await producer.send({ topic: 'd', messages: [{ value: 'now', partition: 0 }, { value: 'later', partition: 0, deliverAt: dueAt }, { value: 'after', partition: 0 }] });

  const consumer = runnel.consumer({ delayedDelivery: 'wait', maxWaitMs: 50 });
  consumer.assign([{ topic: 'd', partition: 0, offset: 0 }]);
  const got: [Message, number][] = [];
  let heldSince = 0;
  const fetchesOf = (partition: number, fromOffset?: number): number =>
    cluster.requests('Fetch').filter((s) => (s.body as RequestBodies['Fetch']).topics.some((tp) => tp.partitions.some((p) => p.partition === partition && (fromOffset === undefined || p.fetchOffset === fromOffset)))).length;
  let fetchesWhenHeld = 0;
  const timer = setTimeout(() => void consumer.close(), 10_000);
  for await (const m of consumer) {
    got.push([m, Date.now()]);
    if (m.value?.toString() === 'now') {
      heldSince = Date.now();
      fetchesWhenHeld = fetchesOf(0);
    }
    if (got.length === 3) break;
  }
  clearTimeout(timer);
  await consumer.close();
  const order = got.map(([m]) => m.value?.toString());
  t.same(order, ['now', 'later', 'after'], 'in order');
  const later = got.find(([m]) => m.value?.toString() === 'later')!;
  t.ok(later[1] >= dueAt, `'later' handed out at its time (${later[1] - dueAt} ms after)`);
  t.ok(heldSince > 0 && dueAt - heldSince > 500, 'the hold lasted a while');
  // The fetch that brought 'now' may have been followed by one prefetch already on the wire; then none until due.
  t.ok(fetchesOf(0) - fetchesWhenHeld <= 2, `partition 0 fetched ${fetchesOf(0) - fetchesWhenHeld} times after the hold began (the prefetch in flight, then the one at its time)`);
  t.equal(fetchesOf(0, later[0].offset), 1, 'fetched from the held record exactly once');
});
