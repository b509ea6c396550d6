/**
 * The runnel.deliver.at helpers every sender and reader of delayed records
 * shares (client/delivery-time.ts): option checks, the time an option
 * names, the header's wire form and how a header value is read back.
 */
import t from 'tap';
import { deliverAtHeader, deliverAtMs, deliveryTimeProblem } from '../../../client/delivery-time.js';
import { deliverAtOf, parseDeliverAt } from '../../../protocol/headers.js';
import { DELIVER_AT_HEADER } from '../../../protocol/headers.js';

t.test('deliverAt (Date or ms) and deliverAfterMs name a time; neither names none', async (t) => {
  t.equal(deliverAtMs({ deliverAt: new Date(1_800_000_000_123) }, 5), 1_800_000_000_123);
  t.equal(deliverAtMs({ deliverAt: 1_800_000_000_000 }, 5), 1_800_000_000_000);
  t.equal(deliverAtMs({ deliverAfterMs: 250 }, 1_000), 1_250, 'counted from the send time given');
  t.equal(deliverAtMs({ deliverAfterMs: 0 }, 1_000), 1_000);
  t.equal(deliverAtMs({}, 1_000), undefined);
});

t.test('invalid options are refused with a reason', async (t) => {
  t.equal(deliveryTimeProblem({}), null);
  t.equal(deliveryTimeProblem({ deliverAt: 0 }), null);
  t.equal(deliveryTimeProblem({ deliverAfterMs: 86_400_000 * 7 }), null);
  t.match(deliveryTimeProblem({ deliverAt: 1, deliverAfterMs: 1 }), /not both/);
  t.match(deliveryTimeProblem({ deliverAt: new Date('nonsense') }), /deliverAt must be/);
  t.match(deliveryTimeProblem({ deliverAt: -1 }), /deliverAt must be/);
  t.match(deliveryTimeProblem({ deliverAt: 1.5 }), /deliverAt must be/);
  t.match(deliveryTimeProblem({ deliverAt: '2026-01-01' as unknown as number }), /deliverAt must be/);
  t.match(deliveryTimeProblem({ deliverAfterMs: -5 }), /deliverAfterMs must be/);
  t.match(deliveryTimeProblem({ deliverAfterMs: Infinity }), /deliverAfterMs must be/);
  t.match(deliveryTimeProblem({ deliverAfterMs: 5, headers: { [DELIVER_AT_HEADER]: '7' } }), /header, not both/);
  t.match(deliveryTimeProblem({ deliverAt: 5, headers: [['a', null], [DELIVER_AT_HEADER, '7']] }), /header, not both/);
  t.equal(deliveryTimeProblem({ headers: { [DELIVER_AT_HEADER]: '7' } }), null, 'a header alone is the caller\'s business');
  t.equal(deliveryTimeProblem({ deliverAt: 5, headers: { other: 'x' } }), null);
});

t.test('the header is decimal ms in UTF-8 and reads back; unreadable values mean "no delay"', async (t) => {
  const h = deliverAtHeader(1_800_000_000_123);
  t.equal(h.key, 'runnel.deliver.at');
  t.equal(Buffer.from(h.value!).toString('utf8'), '1800000000123');
  t.equal(parseDeliverAt(h.value), 1_800_000_000_123);
  t.equal(parseDeliverAt('42'), 42);
  t.equal(parseDeliverAt('0'), 0);
  for (const bad of [null, undefined, '', ' 42', '4.2', '-1', '1e9', 'soon', '99999999999999999']) t.equal(parseDeliverAt(bad), undefined, `${String(bad)} is no time`);
  t.equal(deliverAtOf(undefined), undefined);
  t.equal(deliverAtOf([{ key: 'x', value: Buffer.from('1') }]), undefined);
  t.equal(deliverAtOf([deliverAtHeader(5), { key: 'x', value: null }, deliverAtHeader(9)]), 9, 'the last one wins, as Message.headers shows');
});
