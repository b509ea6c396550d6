/**
 * `runnel dlq redrive`'s deciding part without a broker (tools/dlq/):
 * which records go where, which are kept and why, and that a purge never
 * passes a record that was not sent back (nor one that was not read).
 */
import t from 'tap';
import type { Message } from '../../client/index.js';
import { deadLetterInfo, originalHeaders } from '../../tools/dlq/dlq-record.js';
import { planRedrive, purgePoints } from '../../tools/dlq/redrive-plan.js';
import type { PartitionRange } from '../../tools/dlq/read-range.js';

function dead(partition: number, offset: number, headers: [string, string | null][]): Message {
  const headerList = headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v)] as const);
  return { topic: 'dlq', partition, offset, timestamp: 1, key: Buffer.from(`k${offset}`), value: Buffer.from(`v${offset}`), headers: Object.fromEntries(headerList), headerList };
}
const from = (topic: string, reason: string, error?: string): [string, string][] => [
  ['runnel.dlq.source.topic', topic], ['runnel.dlq.source.partition', '3'], ['runnel.dlq.source.offset', '41'], ['runnel.dlq.group', 'g'],
  ['runnel.dlq.delivery.count', '5'], ['runnel.dlq.reason', reason], ...(error === undefined ? [] : [['runnel.dlq.error', error] as [string, string]]), ['runnel.dlq.time', '1800000000000'],
];
const range = (partition: number, logStart: number, fromOffset: number, end: number, readTo = end): PartitionRange => ({ partition, logStart, from: fromOffset, end, readTo });

t.test('the dlq headers decode; the original headers keep their order and repeats', async (t) => {
  const m = dead(0, 0, [['trace', 'a'], ...from('orders', 'rejected', 'bad json'), ['trace', 'b'], ['n', null]]);
  t.same(deadLetterInfo(m), { sourceTopic: 'orders', sourcePartition: 3, sourceOffset: 41, group: 'g', deliveryCount: 5, reason: 'rejected', error: 'bad json', timeMs: 1_800_000_000_000 });
  t.same(originalHeaders(m).map(([k, v]) => [k, v?.toString() ?? null]), [['trace', 'a'], ['trace', 'b'], ['n', null]]);
  t.same(deadLetterInfo(dead(0, 1, [['runnel.dlq.delivery.count', 'many']])), { sourceTopic: null, sourcePartition: null, sourceOffset: null, group: null, deliveryCount: null, reason: null, error: null, timeMs: null }, 'missing or unreadable: null');
});

t.test('targets, the reason filter, and records that cannot go anywhere', async (t) => {
  const records = [dead(0, 0, from('orders', 'rejected', 'bad json')), dead(0, 1, from('payments', 'max-delivery-attempts', 'timeout')), dead(0, 2, [['x', '1']])];
  const all = planRedrive(records, {});
  t.same(all.send.map((s) => [s.message.offset, s.target]), [[0, 'orders'], [1, 'payments']]);
  t.same(all.kept.map((k) => k.message.offset), [2]);
  t.match(all.kept[0]!.why, /no source topic.*--to/);
  t.same(planRedrive(records, { to: 'retry' }).send.map((s) => s.target), ['retry', 'retry', 'retry'], '--to sends everything there');
  const byReason = planRedrive(records, { filterReason: 'max-delivery-attempts' });
  t.same(byReason.send.map((s) => s.message.offset), [1]);
  t.same(planRedrive(records, { filterReason: 'json' }).send.map((s) => s.message.offset), [0], 'or text in the last error');
});

t.test('a purge stops at the first record kept, and never covers what was not read', async (t) => {
  const p0 = [0, 1, 2, 3].map((o) => dead(0, o, from('orders', o === 2 ? 'max-delivery-attempts' : 'rejected')));
  const p1 = [5, 6].map((o) => dead(1, o, from('orders', 'rejected')));
  const plan = planRedrive([...p0, ...p1], { filterReason: 'rejected' });
  const points = purgePoints([range(0, 0, 0, 4), range(1, 5, 5, 7), range(2, 0, 0, 0)], plan);
  t.same(points[0], { partition: 0, purgeBefore: 2, keptBecause: points[0]!.keptBecause }, 'partition 0 up to the kept record at 2');
  t.match(points[0]!.keptBecause, /offset 2 was not redriven/);
  t.same(points[1], { partition: 1, purgeBefore: 7, keptBecause: null }, 'partition 1: all of it');
  t.same(points[2], { partition: 2, purgeBefore: null, keptBecause: null }, 'an empty partition: nothing');
  const first = planRedrive([dead(0, 0, from('orders', 'max-delivery-attempts')), dead(0, 1, from('orders', 'rejected'))], { filterReason: 'rejected' });
  t.equal(purgePoints([range(0, 0, 0, 2)], first)[0]!.purgeBefore, null, 'the first record kept: nothing purged');
  const partial = planRedrive([dead(0, 3, from('orders', 'rejected'))], {});
  const above = purgePoints([range(0, 1, 3, 4)], partial)[0]!;
  t.equal(above.purgeBefore, null, '--offsets above the log start: nothing purged');
  t.match(above.keptBecause, /offsets 1 to 2 were not read/);
  t.same(purgePoints([range(0, 0, 0, 10, 2)], planRedrive([dead(0, 0, from('o', 'rejected')), dead(0, 1, from('o', 'rejected'))], {}))[0], { partition: 0, purgeBefore: 2, keptBecause: 'offsets from 2 on were not read' });
});
