/**
 * The usage writer on a manual clock, with the partition it appends to
 * faked: flushes on its interval with what changed (an open minute again,
 * larger), creates `__usage` once, keeps and retries what it could not
 * write (bounded), and writes the open minute on close. And who may write
 * `__usage` with a Produce (usage-writes.ts).
 */
import t from 'tap';
import { silentLogger } from '../../../broker/log.js';
import { MINUTE_MS, UsageMeter } from '../../../broker/metering/usage-meter.js';
import { decodeUsageCounts, decodeUsageKey, type UsageRecord } from '../../../broker/metering/usage-record.js';
import { rollUpUsage } from '../../../broker/metering/usage-rollup.js';
import { isBrokerUsageWrite } from '../../../broker/metering/usage-writes.js';
import { CLOSE_TIMEOUT_MS, USAGE_TOPIC, UsageWriter } from '../../../broker/metering/usage-writer.js';
import type { ShareSource } from '../../../broker/share/sources.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { decodeBatch } from '../../../protocol/batch/index.js';

const T0 = 1_700_000_040_000; // a minute boundary

function rig(opts: { failing?: () => string | null } = {}) {
  const clock = new ManualClock(T0);
  const meter = new UsageMeter(2, 99);
  const written: UsageRecord[] = [];
  const created: string[] = [];
  let exists = false;
  const target = {
    append: async (batch: Uint8Array) => {
      const problem = opts.failing?.() ?? null;
      if (problem !== null) throw new Error(problem);
      for (const r of decodeBatch(batch).records) written.push({ key: decodeUsageKey(r.key!), counts: decodeUsageCounts(r.value!) });
    },
  } as unknown as ShareSource;
  const writer = new UsageWriter({
    meter, brokerId: 2, flushIntervalMs: 1000, retentionMs: 5 * MINUTE_MS, replicationFactor: 3, clock, logger: silentLogger(),
    partitions: () => (exists ? 1 : undefined),
    liveBrokers: () => 2,
    createTopic: async (request) => {
      created.push(`${request.name} rf=${request.replicationFactor} ${JSON.stringify(request.configs)}`);
      exists = true;
    },
    lookup: (topic, index) => (topic === USAGE_TOPIC && index === 0 ? target : new Error(`no ${topic}-${index}`)),
  });
  /** Moves the clock and lets the flush it started finish. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { clock, meter, writer, written, created, advance };
}

t.test('the meter collects what changed since the last collect, copies, and forgets ended minutes', async (t) => {
  const meter = new UsageMeter(1, 5);
  meter.moved('User:a', T0 + 1, 'orders', 10, 1, 0, 0);
  const first = meter.collect(T0 + 2);
  t.same(first.map((r) => r.counts.bytesIn), [10]);
  meter.moved('User:a', T0 + 3, 'orders', 5, 1, 0, 0);
  t.equal(first[0]!.counts.bytesIn, 10, 'a collected value does not move on');
  t.same(meter.collect(T0 + 4).map((r) => r.counts.bytesIn), [15], 'the open minute again, as it stands');
  t.same(meter.collect(T0 + 5), [], 'nothing counted since: nothing collected');
  t.equal(meter.openMinutes, 1);
  t.same(meter.collect(T0 + MINUTE_MS), [], 'an ended minute with nothing new is forgotten without a record');
  t.equal(meter.openMinutes, 0);
});

t.test('the roll-up keeps a minute written by two incarnations of a broker, each once', async (t) => {
  const key = { brokerId: 1, minuteMs: T0, principal: 'User:a', topic: 'orders' };
  const c = (bytesIn: number) => ({ bytesIn, bytesOut: 0, recordsIn: 1, recordsOut: 0, requests: 1 });
  const rows = rollUpUsage([
    { key: { ...key, incarnation: 1 }, counts: c(10) },
    { key: { ...key, incarnation: 1 }, counts: c(30) }, // the open minute written again, larger
    { key: { ...key, incarnation: 2 }, counts: c(7) }, // after a restart within the minute
  ], { sinceMs: T0, untilMs: T0 + MINUTE_MS, by: 'principal' });
  t.same(rows.map((r) => r.counts.bytesIn), [37]);
});

t.test('the writer flushes on its interval, creates __usage once, and writes the open minute on close', async (t) => {
  const { meter, writer, written, created, advance } = rig();
  writer.start();
  meter.moved('User:a', T0 + 10, 'orders', 100, 2, 0, 0);
  meter.request('User:a', T0 + 10, 'orders');
  await advance(1000);
  t.same(created, [`${USAGE_TOPIC} rf=2 {"cleanup.policy":"compact,delete","retention.ms":"300000","min.insync.replicas":"2"}`], 'created on the first write, replicas capped at the live brokers');
  t.same(written.map((r) => [r.key.principal, r.key.topic, r.key.incarnation, r.counts.bytesIn, r.counts.requests]), [['User:a', 'orders', 99, 100, 1]]);
  await advance(1000);
  t.equal(written.length, 1, 'nothing new: nothing written');
  meter.moved('User:b', T0 + 2500, 'audit', 0, 0, 50, 1);
  t.equal(written.length, 1, 'not before the interval');
  await writer.close();
  // The whole minute is written again when anything in it moved: User:a's record repeats its key and value.
  t.same(written.slice(1).map((r) => [r.key.principal, r.counts.bytesIn, r.counts.bytesOut]), [['User:a', 100, 0], ['User:b', 0, 50]], 'close writes the open minute at once');
  t.equal(created.length, 1);
  await advance(5000);
  t.equal(written.length, 3, 'no timer after close');
});

t.test('a failed write keeps its records, newest value per key, and retries at the next flush', async (t) => {
  let problem: string | null = 'leader unreachable';
  const { meter, writer, written, advance } = rig({ failing: () => problem });
  writer.start();
  meter.moved('User:a', T0 + 10, 'orders', 100, 2, 0, 0);
  await advance(1000);
  t.equal(written.length, 0);
  t.equal(writer.pendingRecords, 1);
  meter.moved('User:a', T0 + 1500, 'orders', 1, 1, 0, 0);
  await advance(MINUTE_MS);
  t.equal(writer.pendingRecords, 1, 'the newer value of the same key replaced the older');
  problem = null;
  await advance(1000);
  t.same(written.map((r) => r.counts.bytesIn), [101], 'written once it works, with the latest counts');
  t.equal(writer.pendingRecords, 0);
  await writer.close();
});

t.test('only the inter-broker listener, and there the inter-broker SASL user, may write __usage', async (t) => {
  const sasl = { interBrokerListenerName: 'INTERNAL', interBrokerSasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'broker', passwordFile: '/p' } };
  t.ok(isBrokerUsageWrite(sasl, { listener: 'INTERNAL', usesSasl: true, principal: 'User:broker' }));
  t.notOk(isBrokerUsageWrite(sasl, { listener: 'INTERNAL', usesSasl: true, principal: 'User:alice' }), 'another user on that listener');
  t.notOk(isBrokerUsageWrite(sasl, { listener: 'CLIENTS', usesSasl: true, principal: 'User:broker' }), 'the broker user on a client listener');
  t.ok(isBrokerUsageWrite({ interBrokerListenerName: 'PLAINTEXT', interBrokerSasl: null }, { listener: 'PLAINTEXT', usesSasl: false, principal: 'User:ANONYMOUS' }), 'no authentication: the listener decides');
});

t.test('close waits for the last write at most CLOSE_TIMEOUT_MS: a gone leader does not hold up a shutdown', async (t) => {
  const { clock, meter, writer, written } = rig({ failing: () => null });
  const hung = new Promise<never>(() => undefined);
  (writer as unknown as { flush: () => Promise<void> }).flush = () => hung;
  meter.moved('User:a', T0 + 10, 'orders', 100, 2, 0, 0);
  let closed = false;
  const closing = writer.close().then(() => (closed = true));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.notOk(closed, 'still waiting');
  clock.advance(CLOSE_TIMEOUT_MS);
  await closing;
  t.ok(closed, 'closed once the bound passed');
  t.equal(written.length, 0);
});
