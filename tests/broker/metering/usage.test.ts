/**
 * Usage metering's pieces (broker/metering/): the per-minute meter, the
 * `__usage` record codec, and the roll-up `runnel usage` prints.
 */
import t from 'tap';
import { MINUTE_MS, UsageMeter } from '../../../broker/metering/usage-meter.js';
import { decodeUsageCounts, decodeUsageKey, encodeUsageCounts, encodeUsageKey, UsageRecordError, type UsageRecord } from '../../../broker/metering/usage-record.js';
import { rollUpUsage } from '../../../broker/metering/usage-rollup.js';

const T0 = 1_700_000_040_000; // a minute boundary
const counts = (bytesIn: number, bytesOut = 0, requests = 1) => ({ bytesIn, bytesOut, recordsIn: bytesIn > 0 ? 1 : 0, recordsOut: bytesOut > 0 ? 1 : 0, requests });

t.test('the meter counts per principal, topic and minute, and hands over a minute only once it has ended', async (t) => {
  t.equal(T0 % MINUTE_MS, 0);
  const meter = new UsageMeter(3, 7);
  meter.record('User:alice', T0 + 1, [{ topic: 'orders', bytesIn: 100, recordsIn: 2 }, { topic: 'audit', bytesIn: 10, recordsIn: 1 }]);
  meter.record('User:alice', T0 + 2, [{ topic: 'orders', bytesOut: 300, recordsOut: 6 }]);
  meter.record('User:bob', T0 + 3, []);
  meter.record('User:alice', T0 + MINUTE_MS, [{ topic: 'orders', bytesIn: 1 }]);
  t.same(meter.takeEnded(T0 + MINUTE_MS - 1), [], 'the first minute has not ended yet');
  const first = meter.takeEnded(T0 + MINUTE_MS);
  t.same(first, [
    { key: { brokerId: 3, minuteMs: T0, principal: 'User:alice', topic: 'orders', incarnation: 7 }, counts: { bytesIn: 100, bytesOut: 300, recordsIn: 2, recordsOut: 6, requests: 2 } },
    { key: { brokerId: 3, minuteMs: T0, principal: 'User:alice', topic: 'audit', incarnation: 7 }, counts: { bytesIn: 10, bytesOut: 0, recordsIn: 1, recordsOut: 0, requests: 0 } },
    { key: { brokerId: 3, minuteMs: T0, principal: 'User:bob', topic: '', incarnation: 7 }, counts: { bytesIn: 0, bytesOut: 0, recordsIn: 0, recordsOut: 0, requests: 1 } },
  ], 'a request counts once (for its first topic); bytes and records per topic; requests naming no topic under ""');
  t.equal(meter.openMinutes, 1, 'the second minute stays until it ends');
  t.same(meter.takeEnded(T0 + MINUTE_MS), [], 'taken records are forgotten');
  t.equal(meter.takeEnded(T0 + 2 * MINUTE_MS).length, 1);
});

t.test('__usage records round-trip; a foreign version or damaged bytes are a clear error', async (t) => {
  const key = { brokerId: 1, minuteMs: T0, principal: 'User:ünï', topic: 'orders', incarnation: T0 - 5 };
  t.same(decodeUsageKey(encodeUsageKey(key)), key);
  const value = { bytesIn: 2 ** 40, bytesOut: 5, recordsIn: 7, recordsOut: 9, requests: 11 };
  t.same(decodeUsageCounts(encodeUsageCounts(value)), value, 'counts past 2^32 survive');
  const bytes = encodeUsageKey(key);
  bytes[0] = 9;
  t.throws(() => decodeUsageKey(bytes), UsageRecordError);
  t.throws(() => decodeUsageCounts(Buffer.of(1, 0xff)), /does not decode/);
});

t.test('the roll-up: a time range, by principal, topic or both, a record written twice counted once', async (t) => {
  const rec = (brokerId: number, minute: number, principal: string, topic: string, c: ReturnType<typeof counts>): UsageRecord => ({ key: { brokerId, minuteMs: T0 + minute * MINUTE_MS, principal, topic, incarnation: 0 }, counts: c });
  const records = [
    rec(1, 0, 'User:alice', 'orders', counts(100)),
    rec(2, 0, 'User:alice', 'orders', counts(50)),
    rec(1, 0, 'User:alice', 'orders', counts(100)), // the same record again (a retried write)
    rec(1, 1, 'User:bob', 'orders', counts(0, 400)),
    rec(1, 1, 'User:alice', 'audit', counts(5)),
    rec(1, 5, 'User:alice', 'orders', counts(1000)), // outside the range
  ];
  const range = { sinceMs: T0, untilMs: T0 + 5 * MINUTE_MS };
  t.same(rollUpUsage(records, { ...range, by: 'principal' }), [
    { principal: 'User:bob', counts: { bytesIn: 0, bytesOut: 400, recordsIn: 0, recordsOut: 1, requests: 1 } },
    { principal: 'User:alice', counts: { bytesIn: 155, bytesOut: 0, recordsIn: 3, recordsOut: 0, requests: 3 } },
  ], 'by principal, the biggest first; both brokers counted, the duplicate once, minute 5 left out');
  t.same(rollUpUsage(records, { ...range, by: 'topic' }).map((r) => [r.topic, r.counts.bytesIn + r.counts.bytesOut]), [['orders', 550], ['audit', 5]]);
  t.equal(rollUpUsage(records, { ...range, by: 'principal-topic' }).length, 3);
});
