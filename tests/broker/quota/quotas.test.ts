/**
 * Client quotas (broker/quota/): the leaky bucket holds a greedy client
 * that waits out its throttle times to the rate, lets a polite one through
 * untouched; quota entities resolve in Kafka's precedence and share budgets
 * as Kafka's do; the manager takes the longest throttle of the kinds and
 * follows quota changes at run time; the per-address connection rate.
 */
import t from 'tap';
import { ConnectionRateLimiter } from '../../../broker/quota/connection-rate.js';
import { LeakyBucket } from '../../../broker/quota/leaky-bucket.js';
import { DEFAULT_ENTITY as D, QuotaTable, type QuotaEntry } from '../../../broker/quota/quota-entities.js';
import { QuotaManager } from '../../../broker/quota/quota-manager.js';
import { ReassignmentThrottle } from '../../../broker/replication/reassignment-throttle.js';
import { ManualClock } from '../../../broker/world/clock.js';

/** A client sending `bytes` per request as fast as it may (waiting out each throttle) for `durationMs`: the rate it achieved, bytes/s. */
function greedyRate(bucket: LeakyBucket, bytes: number, durationMs: number): number {
  let now = 0;
  let sent = 0;
  for (let requests = 0; now < durationMs && requests < 1_000_000; requests++) {
    sent += bytes;
    now += bucket.record(bytes, now);
  }
  return (sent / now) * 1000;
}

t.test('a greedy client that waits out its throttle times gets the rate over 30 s (plus its one-second burst), whatever its request size', async (t) => {
  // The burst (1 s of the rate) is spent once: over 30 s it adds 1/30 to the average.
  const most = 1_000_000 * (1 + 1 / 30) * 1.01;
  for (const bytes of [100, 16_384, 1_048_576]) {
    const rate = greedyRate(new LeakyBucket(1_000_000, 1000, 0), bytes, 30_000);
    t.ok(rate >= 990_000 && rate <= most, `${bytes} B requests: ${Math.round(rate)} B/s for a quota of 1,000,000 B/s`);
  }
});

t.test('a client under the rate is never throttled; a burst up to burstMs of the rate passes; the throttle is the time to drain back', async (t) => {
  const bucket = new LeakyBucket(1000, 1000, 0);
  let throttled = 0;
  for (let now = 0; now < 10_000; now += 10) throttled += bucket.record(9, now); // 900 B/s
  t.equal(throttled, 0, '90% of the rate: never throttled');
  const burst = new LeakyBucket(1000, 1000, 0);
  t.equal(burst.record(1000, 0), 0, 'one second of the rate at once: held');
  t.equal(burst.record(500, 0), 500, '500 B over: 500 ms at 1,000 B/s');
  t.equal(burst.throttleMs(200), 300, 'and 300 ms after 200 ms');
  t.equal(burst.throttleMs(500), 0);
  burst.setRate(100, 1000, 500);
  t.equal(burst.record(100, 500), 10_000, 'a lower rate at run time: the level carries over (1,100 B in a 100 B bucket drains in 10 s)');
  t.ok(burst.tryAdd(0, 10_500), 'tryAdd holds what fits');
  t.notOk(burst.tryAdd(1, 10_500), 'and refuses what does not, without counting it');
});

t.test('quota entities resolve in Kafka\'s precedence, each kind on its own', async (t) => {
  const entries: QuotaEntry[] = [
    { entity: { user: null, clientId: D }, quotas: { producer_byte_rate: 8 } },
    { entity: { user: null, clientId: 'app' }, quotas: { producer_byte_rate: 7 } },
    { entity: { user: D, clientId: null }, quotas: { producer_byte_rate: 6 } },
    { entity: { user: D, clientId: D }, quotas: { producer_byte_rate: 5 } },
    { entity: { user: D, clientId: 'app' }, quotas: { producer_byte_rate: 4 } },
    { entity: { user: 'alice', clientId: null }, quotas: { producer_byte_rate: 3, request_rate: 30 } },
    { entity: { user: 'alice', clientId: D }, quotas: { producer_byte_rate: 2 } },
    { entity: { user: 'alice', clientId: 'app' }, quotas: { producer_byte_rate: 1 } },
  ];
  const table = new QuotaTable(entries);
  t.equal(table.resolve('producer_byte_rate', 'alice', 'app')?.rate, 1, '1. user + client id');
  t.equal(table.resolve('producer_byte_rate', 'alice', 'other')?.rate, 2, '2. user + default client');
  t.equal(table.resolve('request_rate', 'alice', 'app')?.rate, 30, 'request_rate on its own: 3. user');
  t.equal(table.resolve('producer_byte_rate', 'bob', 'app')?.rate, 4, '4. default user + client id');
  t.equal(table.resolve('producer_byte_rate', 'bob', 'other')?.rate, 5, '5. default user + default client');
  t.equal(table.resolve('consumer_byte_rate', 'bob', 'other'), null, 'no entity sets consumer_byte_rate: no quota');
  const fewer = new QuotaTable(entries.slice(0, 3));
  t.equal(fewer.resolve('producer_byte_rate', 'bob', 'x')?.rate, 6, '6. default user');
  const clientsOnly = new QuotaTable(entries.slice(0, 2));
  t.equal(clientsOnly.resolve('producer_byte_rate', 'bob', 'app')?.rate, 7, '7. client id');
  t.equal(clientsOnly.resolve('producer_byte_rate', 'bob', 'x')?.rate, 8, '8. default client id');

  const alice = new QuotaTable([{ entity: { user: 'alice', clientId: null }, quotas: { producer_byte_rate: 3 } }, { entity: { user: D, clientId: null }, quotas: { producer_byte_rate: 3 } }]);
  t.equal(alice.resolve('producer_byte_rate', 'alice', 'a')?.bucketKey, alice.resolve('producer_byte_rate', 'alice', 'b')?.bucketKey, 'a quota on user alice is shared by all her clients');
  t.not(alice.resolve('producer_byte_rate', 'bob', 'a')?.bucketKey, alice.resolve('producer_byte_rate', 'carol', 'a')?.bucketKey, 'the <default> user gives each user a budget of their own');
  table.set({ entity: { user: 'alice', clientId: 'app' }, quotas: {} });
  t.equal(table.resolve('producer_byte_rate', 'alice', 'app')?.rate, 2, 'an entity set with no quotas is removed');
});

t.test('the manager: the longest throttle of the kinds, quota changes at run time, the cap, and idle buckets swept', async (t) => {
  const manager = new QuotaManager([{ entity: { user: D, clientId: null }, quotas: { producer_byte_rate: 1000, request_rate: 10 } }], { maxThrottleMs: 5000 });
  const usage = { user: 'alice', clientId: 'app', producedBytes: 1500, fetchedBytes: 0 };
  t.equal(manager.record(usage, 0), 500, 'bytes 500 over at 1,000 B/s: 500 ms; requests within');
  for (let i = 0; i < 10; i++) manager.record({ ...usage, producedBytes: 0 }, 0);
  t.equal(manager.record({ ...usage, producedBytes: 0 }, 0), 200, 'the 12th request at once: 2 over at 10/s, 200 ms; bytes still 500 -> the longer');
  t.equal(manager.record({ ...usage, producedBytes: 0, fetchedBytes: 1_000_000 }, 0), 300, 'no consumer quota: fetched bytes cost nothing');
  t.equal(manager.record({ ...usage, producedBytes: 100_000 }, 0), 5000, 'capped at maxThrottleMs');
  manager.setQuotas([]);
  t.equal(manager.record({ ...usage, producedBytes: 100_000 }, 0), 0, 'quotas removed at run time: no throttle');
  t.equal(manager.bucketCount, 2);
  t.equal(manager.sweep(60_000), 1, 'the request budget has drained and goes; the byte debt (about 100 s of it) is kept');
  t.equal(manager.sweep(200_000), 1, 'and goes once drained');
});

t.test('connections per second per address: refused past the rate, admitted again once it allows; refusals do not dig a debt', async (t) => {
  const limiter = new ConnectionRateLimiter(5, new Map([['10.0.0.9', 0]]));
  const admitted = Array.from({ length: 8 }, () => limiter.admit('10.0.0.1', 0)).filter(Boolean).length;
  t.equal(admitted, 5, 'a burst of 8: the first 5 (one second of the rate) admitted');
  t.notOk(limiter.admit('10.0.0.1', 100), '100 ms later: half a connection drained, still refused');
  t.ok(limiter.admit('10.0.0.1', 200), 'after 200 ms one more');
  for (let i = 0; i < 1000; i++) limiter.admit('10.0.0.1', 200);
  t.ok(limiter.admit('10.0.0.1', 400), 'a thousand refused attempts cost nothing: admitted 200 ms later');
  t.ok(limiter.admit('10.0.0.2', 0), 'addresses are separate');
  t.equal(Array.from({ length: 100 }, () => limiter.admit('10.0.0.9', 0)).filter(Boolean).length, 100, 'an override of 0: unlimited');
  t.equal(new ConnectionRateLimiter(0).admit('x', 0), true, 'a rate of 0: unlimited');
  t.equal(limiter.sweep(10_000), 2, 'quiet addresses dropped');
});

t.test('the reassignment throttle on a leaky bucket: starts with no room, one second of the rate at most, debts paid back, a new rate keeps the debt', async (t) => {
  const clock = new ManualClock(0);
  const throttle = new ReassignmentThrottle(clock);
  t.equal(throttle.available(0), Number.POSITIVE_INFINITY, 'rate 0: unlimited');
  t.equal(throttle.available(1000), 0, 'a new rate starts with no room: no burst at once');
  t.equal(throttle.waitMs(1000), 1, 'one byte of room in 1 ms');
  clock.advance(5000);
  t.equal(throttle.available(1000), 1000, 'room for one second of the rate at most');
  throttle.spent(1500); // a whole batch: 500 over
  t.equal(throttle.available(1000), 0);
  t.equal(throttle.waitMs(1000), 501, 'the 500 B debt is paid back before the next byte');
  throttle.available(100);
  t.equal(throttle.waitMs(100), 5010, 'a slower rate keeps the debt: (500 + 1) B at 100 B/s');
});
