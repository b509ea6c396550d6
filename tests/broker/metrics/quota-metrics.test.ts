/**
 * The throttle metrics by budget (broker/metrics/quota-metrics.ts), without
 * a broker: a series per (kind, user, client id) beside the by-kind totals,
 * dropped once its budget has not been throttled for an hour (on the quota
 * enforcer's sweep, quotas or not), long ids cut in their labels, and at
 * most BUDGET_SERIES_MAX of them, the least recently throttled dropped first,
 * while the by-kind totals keep counting everything. Also the budget the
 * quota manager names: a `<default>` part stands for the client's own
 * value, an absent part is empty.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { BUDGET_IDLE_MS, BUDGET_SERIES_MAX, LABEL_MAX_CHARS, QuotaMetrics, budgetLabel } from '../../../broker/metrics/quota-metrics.js';
import { ClientQuotaEnforcer } from '../../../broker/quota/client-quotas.js';
import type { ClientQuotas } from '../../../broker/metadata/apply-client-quota.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { QuotaManager } from '../../../broker/quota/quota-manager.js';
import type { QuotaBudget, QuotaKind } from '../../../broker/quota/quota-entities.js';
import { parseMetrics } from './scrape.js';

const PER_CLIENT = 'runnel_quota_client_throttled_requests_total';
const PER_CLIENT_MS = 'runnel_quota_client_throttle_time_ms_total';
/** The budget of `clientId` (and `user`) for `kind`, keyed as the quota manager keys it. */
const budget = (clientId: string, user = '', kind: QuotaKind = 'producer_byte_rate'): QuotaBudget => ({ key: `${kind}\u0000${user}\u0000${clientId}`, user, clientId });
const labels = (clientId: string, kind = 'producer_byte_rate', user = '') => ({ kind, user, client_id: clientId });

async function scrape(registry: Registry) {
  return parseMetrics(await registry.metrics());
}

t.test('a series per budget beside the by-kind totals', async (t) => {
  const registry = new Registry();
  const metrics = new QuotaMetrics(registry);
  metrics.throttled('producer_byte_rate', 120, budget('etl', '', 'producer_byte_rate'), 0);
  metrics.throttled('producer_byte_rate', 30, budget('etl', '', 'producer_byte_rate'), 10);
  metrics.throttled('consumer_byte_rate', 50, budget('', 'alice', 'consumer_byte_rate'), 20);
  const m = await scrape(registry);
  t.equal(m.value(PER_CLIENT, labels('etl')), 2);
  t.equal(m.value(PER_CLIENT_MS, labels('etl')), 150);
  t.equal(m.value(PER_CLIENT, labels('', 'consumer_byte_rate', 'alice')), 1, 'a quota by user alone: the client id part is empty');
  t.equal(m.value('runnel_quota_throttled_requests_total', { kind: 'producer_byte_rate' }), 2);
  t.equal(m.value('runnel_quota_throttle_time_ms_total', { kind: 'consumer_byte_rate' }), 50);
});

t.test('a budget not throttled for an hour loses its series; one throttled since keeps it', async (t) => {
  const registry = new Registry();
  const metrics = new QuotaMetrics(registry);
  metrics.throttled('producer_byte_rate', 10, budget('quiet', '', 'producer_byte_rate'), 0);
  metrics.throttled('producer_byte_rate', 10, budget('busy', '', 'producer_byte_rate'), 0);
  metrics.throttled('producer_byte_rate', 10, budget('busy', '', 'producer_byte_rate'), BUDGET_IDLE_MS - 1000);
  metrics.expire(BUDGET_IDLE_MS - 1);
  let m = await scrape(registry);
  t.equal(m.value(PER_CLIENT, labels('quiet')), 1, 'kept within the hour');
  metrics.expire(BUDGET_IDLE_MS + 60_000);
  m = await scrape(registry);
  t.notOk((await registry.metrics()).includes('client_id="quiet"'), 'an hour without a throttle: dropped');
  t.equal(m.value(PER_CLIENT, labels('busy')), 2, 'throttled within the hour: kept, with its count');
  t.equal(m.value('runnel_quota_throttled_requests_total', { kind: 'producer_byte_rate' }), 3, 'the total counts everything');
  metrics.throttled('producer_byte_rate', 10, budget('quiet', '', 'producer_byte_rate'), BUDGET_IDLE_MS + 61_000);
  t.equal((await scrape(registry)).value(PER_CLIENT, labels('quiet')), 1, 'back: a fresh series');
});

t.test('the enforcer expires quiet budgets\' series on its sweep, even once every quota is gone', async (t) => {
  const registry = new Registry();
  const metrics = new QuotaMetrics(registry);
  const clock = new ManualClock();
  let quotas: ClientQuotas = new Map([['q', { entity: { user: null, clientId: 'etl' }, quotas: { producer_byte_rate: 1000 } }]]);
  const enforcer = new ClientQuotaEnforcer({ quotas: () => quotas, clock, meter: metrics });
  const produce = { api: 'Produce' as const, principal: 'User:ANONYMOUS', clientId: 'etl', request: {}, requestBytes: 50_000, responseBytes: 100 };
  t.ok(enforcer.throttleMs(produce) > 0, 'over its quota: throttled');
  t.ok((await registry.metrics()).includes('client_id="etl"'), 'its budget has a series');
  quotas = new Map();
  clock.advance(BUDGET_IDLE_MS + 60_000);
  t.equal(enforcer.throttleMs(produce), 0, 'no quota left: not throttled');
  t.notOk((await registry.metrics()).includes('client_id="etl"'), 'an hour later, with no quota at all, its series is gone');
});

t.test('a long user or client id is cut in its label, with a hash that keeps ids sharing a prefix apart', async (t) => {
  const long = 'x'.repeat(LABEL_MAX_CHARS + 500);
  const a = budgetLabel(`${long}-a`);
  const b = budgetLabel(`${long}-b`);
  t.equal(a.length, LABEL_MAX_CHARS);
  t.not(a, b, 'two long ids sharing a prefix keep apart');
  t.equal(budgetLabel('etl'), 'etl', 'a short one is as it is');
  const registry = new Registry();
  new QuotaMetrics(registry).throttled('request_rate', 1, budget(`${long}-a`, '', 'request_rate'), 0);
  t.ok((await registry.metrics()).includes(`client_id="${a}"`), 'the series carries the cut label');
});

t.test(`at most ${BUDGET_SERIES_MAX} budget series: the least recently throttled goes first`, async (t) => {
  const registry = new Registry();
  const metrics = new QuotaMetrics(registry);
  for (let i = 0; i < BUDGET_SERIES_MAX; i++) metrics.throttled('request_rate', 1, budget(`c${i}`, '', 'request_rate'), i);
  // c0 throttled again: now the most recent; c1 is the least recent.
  metrics.throttled('request_rate', 1, budget('c0', '', 'request_rate'), BUDGET_SERIES_MAX);
  metrics.throttled('request_rate', 1, budget('newcomer', '', 'request_rate'), BUDGET_SERIES_MAX + 1);
  const text = await registry.metrics();
  const series = text.split('\n').filter((l) => l.startsWith(`${PER_CLIENT}{`));
  t.equal(series.length, BUDGET_SERIES_MAX, 'the bound holds');
  t.notOk(text.includes('client_id="c1"'), 'the least recently throttled was dropped');
  t.ok(text.includes('client_id="c0"') && text.includes('client_id="newcomer"'), 'the recent ones are kept');
  t.equal((await scrape(registry)).value('runnel_quota_throttled_requests_total', { kind: 'request_rate' }), BUDGET_SERIES_MAX + 2);
});

t.test('the quota manager names the budget that ran out', async (t) => {
  const heard: [QuotaKind, Omit<QuotaBudget, 'key'>][] = [];
  const hear = (kind: QuotaKind, _ms: number, b: QuotaBudget): void => void heard.push([kind, { user: b.user, clientId: b.clientId }]);
  const manager = new QuotaManager([
    { entity: { user: '<default>', clientId: null }, quotas: { producer_byte_rate: 1000 } },
    { entity: { user: null, clientId: 'etl' }, quotas: { request_rate: 1 } },
  ], { burstMs: 1000 });
  const usage = (user: string, clientId: string) => ({ user, clientId, producedBytes: 5000, fetchedBytes: 0 });
  manager.record(usage('alice', 'app'), 0, hear);
  manager.record(usage('bob', 'etl'), 0, hear);
  manager.record(usage('bob', 'etl'), 0, hear);
  t.same(heard, [
    ['producer_byte_rate', { user: 'alice', clientId: '' }],
    ['producer_byte_rate', { user: 'bob', clientId: '' }],
    ['request_rate', { user: '', clientId: 'etl' }],
    ['producer_byte_rate', { user: 'bob', clientId: '' }],
  ], 'a default user part: each user their own budget; a client id quota alone: no user part');
});
