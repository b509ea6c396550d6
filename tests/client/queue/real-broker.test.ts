/**
 * Queues end to end on a real broker process (its share-group
 * coordinator): many members on one partition under load, some releasing,
 * one crashing (it stops without settling or leaving, so its locks must
 * run out), every record accepted exactly once and never in two members'
 * hands at once; the last delivery attempt dead-lettered with its
 * runnel.dlq.* headers; a delayed record not handed out early; describe;
 * a member that rides out a broker crash and settles what it held.
 * Bounded waits throughout.
 */
import t, { type Test } from 'tap';
import { Runnel, type Queue, type QueueMessage } from '../../../client/index.js';
import { DELIVER_AT_HEADER, DlqHeader } from '../../../protocol/headers.js';
import { startBrokerProcess, type BrokerProcess } from '../../support/broker-process.js';
import { silent, sleep, until } from './support.js';

const broker: BrokerProcess = await startBrokerProcess();
const runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } });

t.teardown(async () => {
  await runnel.close();
  await broker.stop();
});

const test = (name: string, fn: (t: Test) => Promise<void>): void => void t.test(name, fn);

test('5 members on one partition, some releasing, one crashing: every record accepted exactly once, none in two hands at once', async (t) => {
  await runnel.admin().createTopic({ name: 'work', partitions: 1 });
  const total = 1500;
  const opts = { topic: 'work', group: 'workers', visibilityTimeoutMs: 1500, batchSize: 20, waitMs: 200 };
  const sender = runnel.queue(opts);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) sends.push(sender.send({ key: `k${i % 50}`, value: `r${i}` }));
  await Promise.all(sends);

  const acceptedBy = new Map<string, number>();
  const inHand = new Map<string, Queue>();
  const overlaps: string[] = [];
  let released = 0;
  const work = async (q: Queue, crashAfter: number | null): Promise<void> => {
    let n = 0;
    for await (const m of q) {
      const id = m.value!.toString();
      const holder = inHand.get(id);
      if (holder !== undefined && holder !== q) overlaps.push(`${id} (offset ${m.offset}) handed out while another member held it`);
      inHand.set(id, q);
      if (crashAfter !== null && ++n >= crashAfter) {
        // A crash: no settlement, no leave; its records come back when their locks run out.
        await q.close({ release: false });
        inHand.delete(id);
        return;
      }
      if (m.offset % 11 === 0 && m.deliveryCount === 1) {
        released++;
        inHand.delete(id);
        // Refused when its lock ran out first (a loaded machine): it comes back anyway.
        await m.release().catch(() => undefined);
        continue;
      }
      inHand.delete(id);
      await m.ack().then(() => acceptedBy.set(id, (acceptedBy.get(id) ?? 0) + 1), () => undefined);
    }
  };
  const members = [0, 1, 2, 3, 4].map(() => runnel.queue({ ...opts, group: 'workers' }));
  const loops = members.map((q, i) => work(q, i === 0 ? 30 : null));
  await until('every record accepted', () => acceptedBy.size === total, 60_000);
  await Promise.all(members.map((q) => q.close()));
  await Promise.all(loops);
  await sender.close();
  t.same(overlaps, [], 'no record in two members\' hands at once');
  t.same([...acceptedBy.values()].filter((n) => n !== 1), [], 'each accepted exactly once');
  t.ok(released > 100, `records released and redelivered (${released})`);
  const [d] = await runnel.admin().describeShareGroups(['workers']);
  t.match(d!.partitions, [{ topic: 'work', partition: 0, startOffset: total, accepted: total, rejected: 0, inFlight: 0, acquired: 0 }]);
});

test('the last delivery attempt is dead-lettered with its headers; a delayed record is not handed out early', async (t) => {
  await runnel.admin().createTopic({ name: 'mail', partitions: 1 });
  const q = runnel.queue({ topic: 'mail', group: 'mailers', maxDeliveryAttempts: 2, deadLetterTopic: 'mail-dlq', waitMs: 2000 });
  await q.send({ key: 'u1', value: 'poison', headers: { trace: 'abc' } });
  for (let attempt = 1; attempt <= 2; attempt++) {
    const [m] = await q.receive({ max: 1 });
    t.equal(m?.deliveryCount, attempt);
    await m!.release({ reason: `smtp 550 (attempt ${attempt})` });
  }
  t.same(await q.receive({ waitMs: 300 }), [], 'not delivered a third time');
  const consumer = runnel.consumer({ maxWaitMs: 200 });
  consumer.assign([{ topic: 'mail-dlq', partition: 0, offset: 'earliest' }]);
  let dead: { value: string; headers: Record<string, string> } | null = null;
  for await (const m of consumer) {
    dead = { value: m.value!.toString(), headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v?.toString() ?? ''])) };
    break;
  }
  await consumer.close();
  t.match(dead, {
    value: 'poison',
    headers: { trace: 'abc', [DlqHeader.SOURCE_TOPIC]: 'mail', [DlqHeader.SOURCE_PARTITION]: '0', [DlqHeader.SOURCE_OFFSET]: '0', [DlqHeader.GROUP]: 'mailers', [DlqHeader.DELIVERY_COUNT]: '2', [DlqHeader.REASON]: 'max-delivery-attempts', [DlqHeader.ERROR]: 'smtp 550 (attempt 2)' },
  });

  const sentAt = Date.now();
  await q.send({ value: 'later', deliverAfterMs: 600 });
  const got: QueueMessage[] = [];
  while (got.length === 0 && Date.now() - sentAt < 5000) got.push(...(await q.receive({ waitMs: 2000 })));
  t.same(got.map((m) => m.value!.toString()), ['later']);
  const due = Number(got[0]!.headers[DELIVER_AT_HEADER]!.toString());
  t.ok(Date.now() >= due, 'not before its time');
  await got[0]!.ack();
  await q.close();
});

test('ordering: key: one key\'s records are processed in offset order, one at a time, while keys spread over the members', async (t) => {
  await runnel.admin().createTopic({ name: 'accounts', partitions: 1 });
  const opts = { topic: 'accounts', group: 'ledger', ordering: 'key' as const, batchSize: 10, waitMs: 200 };
  const sender = runnel.queue(opts);
  const total = 300;
  await Promise.all(Array.from({ length: total }, (_, i) => sender.send({ key: `acct-${i % 10}`, value: String(i) })));
  const byKey = new Map<string, number[]>();
  const busy = new Set<string>();
  const clashes: string[] = [];
  const membersOf = new Map<string, Set<number>>();
  let done = 0;
  const members = [0, 1, 2].map(() => runnel.queue(opts));
  const loops = members.map(async (q, i) => {
    for await (const m of q) {
      const key = m.key!.toString();
      if (busy.has(key)) clashes.push(`${key} in two hands at offset ${m.offset}`);
      busy.add(key);
      await sleep(m.offset % 4);
      byKey.set(key, [...(byKey.get(key) ?? []), m.offset]);
      membersOf.set(key, (membersOf.get(key) ?? new Set()).add(i));
      busy.delete(key);
      done++;
    }
  });
  await until('every record processed', () => done >= total, 60_000);
  await Promise.all([...members, sender].map((q) => q.close()));
  await Promise.all(loops);
  t.same(clashes, [], 'never two records of a key at once');
  t.same([...byKey.values()].filter((offsets) => offsets.some((o, i) => i > 0 && o <= offsets[i - 1]!)), [], 'each key in offset order');
  t.equal([...byKey.values()].reduce((n, o) => n + o.length, 0), total);
  t.ok(new Set([...membersOf.values()].flatMap((s) => [...s])).size > 1, 'keys spread over more than one member');
});

test('a member rides out a broker crash: what it held is still its own afterwards (locks rebuilt from the log), nothing is redelivered', async (t) => {
  let own = await startBrokerProcess();
  // Restarted on the port it bound (read back), so the client's bootstrap still reaches it.
  const port = own.port;
  t.teardown(() => own.stop());
  const client = new Runnel({ bootstrap: [own.bootstrap], logger: silent, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } });
  t.teardown(() => client.close());
  await client.admin().createTopic({ name: 'orders', partitions: 1 });
  const q = client.queue({ topic: 'orders', group: 'billing', visibilityTimeoutMs: 60_000, waitMs: 2000 });
  for (let i = 0; i < 6; i++) await q.send(`o${i}`);
  const held = await q.receive({ max: 3 });
  t.same(held.map((m) => [m.offset, m.deliveryCount]), [[0, 1], [1, 1], [2, 1]]);
  await held[0]!.ack();
  await own.kill('SIGKILL');
  // Acks given while the broker is down are retried until it is back; the restarted coordinator rebuilt the locks (holder and deadline) from its log.
  const acks = held.slice(1).map((m) => m.ack());
  own = await startBrokerProcess({ dataDir: own.dataDir, args: ['--port', String(port)] });
  await Promise.all(acks);
  const rest: QueueMessage[] = [];
  for (let tries = 0; rest.length < 3 && tries < 20; tries++) rest.push(...(await q.receive({ max: 10 })));
  t.same(rest.map((m) => [m.offset, m.deliveryCount]), [[3, 1], [4, 1], [5, 1]], 'the records after them, each delivered once');
  await Promise.all(rest.map((m) => m.ack()));
  const [d] = await client.admin().describeShareGroups(['billing']);
  t.match(d!.partitions, [{ startOffset: 6, accepted: 6, rejected: 0, inFlight: 0 }]);
  await q.close();
});
