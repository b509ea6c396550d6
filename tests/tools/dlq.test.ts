/**
 * `runnel dlq` as a user runs it (the built CLI in a child process) against
 * a real broker process, on dead letters this test writes itself with the
 * header contract (protocol/headers.ts): list finds a topic named with
 * --topic (and refuses one without dead letters), inspect decodes the
 * headers, redrive sends the originals back (own headers only, in order)
 * and purges exactly the run it sent back, --dry-run changes nothing, and
 * purge deletes with DeleteRecords, refusing a plain topic without --force.
 */
import t from 'tap';
import { Runnel, type Message } from '../../client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { linesOf, runnel as cli } from './run-cli.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let broker: BrokerProcess;
let client: Runnel;
let b: string[];

t.before(async () => {
  broker = await startBrokerProcess();
  client = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  b = ['-b', broker.bootstrap];
});

t.teardown(async () => {
  await client?.close();
  await broker?.stop();
});

function deadLetter(i: number, reason: string, error: string | null): { key: string; value: string; partition: number; headers: [string, string][] } {
  const dlq: [string, string][] = [
    ['runnel.dlq.source.topic', 'orders'], ['runnel.dlq.source.partition', '0'], ['runnel.dlq.source.offset', String(100 + i)], ['runnel.dlq.group', 'billing'],
    ['runnel.dlq.delivery.count', '5'], ['runnel.dlq.reason', reason], ...(error === null ? [] : [['runnel.dlq.error', error] as [string, string]]), ['runnel.dlq.time', '1800000000000'],
  ];
  return { key: `k${i}`, value: `order ${i}`, partition: i < 6 ? 0 : 1, headers: [['trace', `t${i}`], ...dlq, ['trace', `u${i}`]] };
}

async function readAll(topic: string, count: number): Promise<Message[]> {
  const consumer = client.consumer({ maxWaitMs: 100 });
  const offsets = await client.admin().listOffsets(topic);
  consumer.assign(offsets.map((o) => ({ topic, partition: o.partition, offset: o.earliest })));
  const out: Message[] = [];
  const timer = setTimeout(() => void consumer.close(), 10_000);
  for await (const m of consumer) {
    out.push(m);
    if (out.length >= count) break;
  }
  clearTimeout(timer);
  await consumer.close();
  return out;
}

t.test('list, inspect, redrive (filtered, dry run, then the rest) and purge', async (t) => {
  const admin = client.admin();
  await admin.createTopic({ name: 'orders', partitions: 1 });
  await admin.createTopic({ name: 'orders-dlq', partitions: 2 });
  await admin.createTopic({ name: 'plain', partitions: 1 });
  const producer = client.producer();
  // Partition 0: rejected, rejected, max attempts, rejected, rejected, rejected; partition 1: rejected x3.
  const reasons: [string, string | null][] = [['rejected', 'bad json'], ['rejected', 'bad json'], ['max-delivery-attempts', 'timeout'], ['rejected', null], ['rejected', 'bad json'], ['rejected', 'bad json'], ['rejected', 'x'], ['rejected', 'y'], ['rejected', 'z']];
  await producer.send({ topic: 'orders-dlq', messages: reasons.map(([reason, error], i) => deadLetter(i, reason, error)) });
  await producer.send({ topic: 'plain', messages: [{ value: 'a' }, { value: 'b' }] });
  await producer.close();

  const none = await cli(['dlq', 'list', ...b]);
  t.equal(none.code, 0, none.stderr);
  t.match(none.stdout, /No dead-letter topics/, 'no share group names one');
  const list = await cli(['dlq', 'list', '--topic', 'orders-dlq', ...b, '--json']);
  t.equal(list.code, 0, list.stderr);
  t.same(JSON.parse(list.stdout), [{ topic: 'orders-dlq', records: 9, partitions: 2, groups: [], deadLettered: null }]);
  const table = await cli(['dlq', 'list', '--topic', 'orders-dlq', ...b]);
  t.same(linesOf(table.stdout).map((l) => l.split(/\s+/)), [['TOPIC', 'RECORDS', 'PARTITIONS', 'GROUPS', 'DEAD-LETTERED'], ['orders-dlq', '9', '2', '-', '-']]);
  const plain = await cli(['dlq', 'list', '--topic', 'plain', ...b]);
  t.equal(plain.code, 1);
  t.match(plain.stderr, /topic plain holds no dead letters/);

  const inspect = await cli(['dlq', 'inspect', 'orders-dlq', '--partition', '0', '--max', '3', ...b, '--json']);
  t.equal(inspect.code, 0, inspect.stderr);
  const records = linesOf(inspect.stdout).map((l) => JSON.parse(l) as { offset: number; key: string; headers: [string, string][]; deadLetter: Record<string, unknown> });
  t.same(records.map((r) => r.offset), [0, 1, 2]);
  t.same(records[2]!.headers, [['trace', 't2'], ['trace', 'u2']], 'own headers only, in order');
  t.same(records[2]!.deadLetter, { sourceTopic: 'orders', sourcePartition: 0, sourceOffset: 102, group: 'billing', deliveryCount: 5, reason: 'max-delivery-attempts', error: 'timeout', timeMs: 1_800_000_000_000 });
  const text = await cli(['dlq', 'inspect', 'orders-dlq', '--max', '1', ...b]);
  t.match(text.stdout, /orders-dlq-0@0 {2}from orders-0@100 {2}group billing {2}deliveries 5\n {2}reason: rejected: bad json\n {2}dead-lettered: 2027-01-15T08:00:00.000Z\n {2}key: k0\n {2}value: order 0\n {2}headers: trace=t0, trace=u0/);

  const dry = await cli(['dlq', 'redrive', 'orders-dlq', '--filter-reason', 'rejected', '--dry-run', ...b]);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /Would redrive 8 records from orders-dlq: 8 to orders\./);
  t.match(dry.stdout, /orders-dlq-0: would purge below 2; kept from there: offset 2 was not redriven/);
  t.match(dry.stdout, /Dry run: nothing was sent or deleted\./);
  t.same((await admin.listOffsets('orders'))[0], { partition: 0, earliest: 0, latest: 0 }, 'a dry run sends nothing');

  const first = await cli(['dlq', 'redrive', 'orders-dlq', '--filter-reason', 'rejected', ...b, '--json']);
  t.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout) as { redriven: unknown[]; kept: { offset: number }[]; purge: { partition: number; purgeBefore: number | null; logStartOffset: number | null }[] };
  t.equal(report.redriven.length, 8);
  t.same(report.kept.map((k) => k.offset), [2]);
  t.same(report.purge.map((p) => [p.partition, p.purgeBefore, p.logStartOffset]), [[0, 2, 2], [1, 3, 3]], 'purged exactly the run sent back');
  t.same((await admin.listOffsets('orders-dlq')).map((o) => [o.earliest, o.latest]), [[2, 6], [3, 3]]);
  const back = await readAll('orders', 8);
  t.same(back.map((m) => m.value?.toString()), ['order 0', 'order 1', 'order 3', 'order 4', 'order 5', 'order 6', 'order 7', 'order 8'], 'the originals, in dead-letter order');
  t.same(back[0]!.headerList.map(([k, v]) => [k, v?.toString()]), [['trace', 't0'], ['trace', 'u0']], 'runnel.dlq.* stripped');
  t.equal(back[0]!.key?.toString(), 'k0');

  const rest = await cli(['dlq', 'redrive', 'orders-dlq', ...b]);
  t.equal(rest.code, 0, rest.stderr);
  t.match(rest.stdout, /Redrove 4 records from orders-dlq: 4 to orders\.\n {2}orders-dlq-0: purged below 6 \(log start now 6\)/);
  t.same((await admin.listOffsets('orders-dlq')).map((o) => o.earliest), [6, 3], 'the dead-letter topic is empty now');

  const refused = await cli(['dlq', 'purge', 'plain', ...b]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /holds no dead letters.*--force/);
  const forced = await cli(['dlq', 'purge', 'plain', '--force', '--before', '1', ...b, '--json']);
  t.equal(forced.code, 0, forced.stderr);
  t.same(JSON.parse(forced.stdout), { topic: 'plain', partitions: [{ partition: 0, deleted: 1, logStartOffset: 1, remaining: 1 }] });
  const all = await cli(['dlq', 'purge', 'plain', '--force', ...b]);
  t.match(all.stdout, /Purged 1 record from plain\./);
  t.same((await admin.listOffsets('plain'))[0], { partition: 0, earliest: 2, latest: 2 });
});
