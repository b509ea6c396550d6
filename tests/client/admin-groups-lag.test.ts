/**
 * The pure rules behind the admin's group calls: lag in records and seconds
 * (client/lag.ts, the one figure every part reports) and where an offset
 * reset moves a partition (client/admin/reset-plan.ts).
 */
import t from 'tap';
import { lagOf } from '../../client/lag.js';
import { checkResetSpec, plannedOffset, type PartitionBounds } from '../../client/admin/reset-plan.js';

t.test('lag in records: high watermark minus the committed offset, from the log start without one, never below it nor negative', async (t) => {
  const base = { logStartOffset: 10, highWatermark: 50, oldestUnconsumedTimestampMs: null, nowMs: 0 };
  t.equal(lagOf({ ...base, position: 30 }).lag, 20, 'committed 30 of 50');
  t.equal(lagOf({ ...base, position: null }).lag, 40, 'no commit: the whole retained log');
  t.equal(lagOf({ ...base, position: 4 }).lag, 40, 'committed before the log start: deleted records are not lag');
  t.equal(lagOf({ ...base, position: 50 }).lag, 0, 'caught up');
  t.equal(lagOf({ ...base, position: 70 }).lag, 0, 'past the high watermark (a cut log): 0, not negative');
});

t.test('lag in seconds: now minus the oldest unconsumed record\'s timestamp, 0 when caught up', async (t) => {
  const base = { logStartOffset: 0, highWatermark: 50, nowMs: 100_000 };
  t.equal(lagOf({ ...base, position: 40, oldestUnconsumedTimestampMs: 40_000 }).lagSeconds, 60);
  t.equal(lagOf({ ...base, position: 40, oldestUnconsumedTimestampMs: 99_750 }).lagSeconds, 0.25, 'millisecond precision');
  t.equal(lagOf({ ...base, position: 50, oldestUnconsumedTimestampMs: 1 }).lagSeconds, 0, 'caught up: 0 whatever the timestamp');
  t.equal(lagOf({ ...base, position: 40, oldestUnconsumedTimestampMs: 200_000 }).lagSeconds, 0, 'a record from a clock ahead of ours is not negative lag');
});

t.test('offset reset plans', async (t) => {
  const p: PartitionBounds = { topic: 'orders', partition: 1, logStartOffset: 10, highWatermark: 50, currentOffset: 30 };
  t.equal(plannedOffset({ to: 'earliest' }, p), 10);
  t.equal(plannedOffset({ to: 'latest' }, p), 50);
  t.equal(plannedOffset({ to: 'offset', offset: 25 }, p), 25);
  t.equal(plannedOffset({ to: 'offset', offset: 3 }, p), 10, 'below the log start: the log start');
  t.equal(plannedOffset({ to: 'offset', offset: 99 }, p), 50, 'past the end: the high watermark');
  t.equal(plannedOffset({ to: 'datetime', timestampMs: 5 }, { ...p, offsetAtTime: 42 }), 42);
  t.equal(plannedOffset({ to: 'datetime', timestampMs: 5 }, { ...p, offsetAtTime: -1 }), 50, 'no record that recent: the end');
  t.equal(plannedOffset({ shiftBy: -5 }, p), 25);
  t.equal(plannedOffset({ shiftBy: -500 }, p), 10, 'shifted before the start: the start');
  t.equal(plannedOffset({ shiftBy: 500 }, p), 50, 'shifted past the end: the end');
  t.throws(() => plannedOffset({ shiftBy: 1 }, { ...p, currentOffset: null }), /no committed offset there/, 'nothing to shift');
});

t.test('a reset spec given by code is checked', async (t) => {
  for (const bad of [{ to: 'earlist' }, { to: 'offset', offset: -1 }, { shiftBy: 1.5 }, { to: 'datetime', timestampMs: Number.NaN }, null]) {
    t.throws(() => checkResetSpec(bad as never), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' }, JSON.stringify(bad));
  }
  t.doesNotThrow(() => checkResetSpec({ shiftBy: -3 }));
});
