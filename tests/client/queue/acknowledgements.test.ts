/**
 * Acknowledgements batched on the wire (client/queue/acknowledgements.ts):
 * ranges of consecutive offsets settled alike, each caller told how its own
 * offset went, a renew replaced by a settlement given before it left, a
 * batch put back after a failed request without losing a newer settlement.
 * Pure: a manual clock, no network.
 */
import t from 'tap';
import { AcknowledgeType } from '../../../protocol/messages.js';
import { Errors } from '../../../protocol/errors.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { Acknowledgements, toRanges, type AckKind } from '../../../client/queue/acknowledgements.js';
import type { RunnelError } from '../../../client/errors.js';

const accept: AckKind = { type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null };
const release = (delayMs: number, reason: string | null = null): AckKind => ({ type: AcknowledgeType.RELEASE, delayMs, lockMs: -1, reason });
const renew: AckKind = { type: AcknowledgeType.RENEW, delayMs: 0, lockMs: -1, reason: null };

function outcome(): { waiter: { resolve(): void; reject(e: RunnelError): void }; result: () => string } {
  let result = 'pending';
  return { waiter: { resolve: () => (result = 'ok'), reject: (e) => (result = e.errorName) }, result: () => result };
}

t.test('toRanges: consecutive offsets settled alike share a range; a gap or any difference starts a new one', async (t) => {
  const acks = [
    ...[0, 1, 2].map((offset) => ({ ...accept, offset })),
    { ...accept, type: AcknowledgeType.REJECT, offset: 3 },
    ...[5, 6].map((offset) => ({ ...accept, offset })),
    { ...release(100), offset: 7 }, { ...release(100), offset: 8 }, { ...release(200), offset: 9 }, { ...release(200, 'x'), offset: 10 },
    { ...renew, offset: 11 }, { ...renew, lockMs: 5000, offset: 12 },
  ];
  t.same(toRanges(acks).map((r) => [r.firstOffset, r.lastOffset, r.type, r.delayMs, r.lockMs, r.reason]), [
    [0, 2, 1, 0, -1, null],
    [3, 3, 3, 0, -1, null],
    [5, 6, 1, 0, -1, null],
    [7, 8, 2, 100, -1, null],
    [9, 9, 2, 200, -1, null],
    [10, 10, 2, 200, -1, 'x'],
    [11, 11, 4, 0, -1, null],
    [12, 12, 4, 0, 5000, null],
  ]);
});

t.test('one flush after the linger; each caller hears its own outcome from the failed ranges', async (t) => {
  const clock = new ManualClock();
  let flushes = 0;
  const acks = new Acknowledgements(clock, 5, () => flushes++);
  const outcomes = [0, 1, 2, 3].map(() => outcome());
  // Added out of order: sent sorted.
  for (const o of [3, 1, 0, 2]) acks.add('t', 0, o, accept, outcomes[o]!.waiter);
  t.equal(clock.nextDueMs(), clock.nowMs() + 5, 'one timer for the batch, at the linger');
  clock.advance(4);
  t.equal(flushes, 0, 'not before the linger');
  clock.advance(1);
  t.equal(flushes, 1);
  t.equal(clock.nextDueMs(), undefined, 'no other timer');
  const batch = acks.take()!;
  t.same(batch.wire(), [{ topic: 't', partitions: [{ partition: 0, acknowledgements: [{ firstOffset: 0, lastOffset: 3, type: 1, delayMs: 0, lockMs: -1, reason: null }] }] }]);
  batch.settle([{ topic: 't', partition: 0, errorCode: 0, errorMessage: null, failed: [{ firstOffset: 1, lastOffset: 2, errorCode: Errors.INVALID_RECORD_STATE.code }] }]);
  t.same(outcomes.map((o) => o.result()), ['ok', 'INVALID_RECORD_STATE', 'INVALID_RECORD_STATE', 'ok']);
  t.equal(acks.take(), null, 'nothing left');
});

t.test('a settlement replaces a renew of the same record not yet sent; both callers hear the settlement\'s outcome', async (t) => {
  const acks = new Acknowledgements(new ManualClock(), 5, () => undefined);
  const r = outcome();
  const a = outcome();
  acks.add('t', 0, 7, renew, r.waiter);
  acks.add('t', 0, 7, accept, a.waiter);
  t.equal(acks.size, 1);
  const batch = acks.take()!;
  t.same(batch.wire()[0]!.partitions[0]!.acknowledgements.map((x) => [x.firstOffset, x.type]), [[7, AcknowledgeType.ACCEPT]], 'one entry, the accept');
  batch.settle([{ topic: 't', partition: 0, errorCode: 0, errorMessage: null, failed: [] }]);
  t.same([r.result(), a.result()], ['ok', 'ok']);
});

t.test('a batch put back after a failed request goes out again; a newer settlement of an offset wins over its renew', async (t) => {
  let flushes = 0;
  const acks = new Acknowledgements(new ManualClock(), 5, () => flushes++);
  const old = outcome();
  acks.add('t', 0, 1, renew, old.waiter);
  acks.add('t', 1, 5, accept, null);
  const lost = acks.take()!;
  const newer = outcome();
  acks.add('t', 0, 1, release(0), newer.waiter);
  acks.putBack(lost);
  t.equal(flushes, 1, 'sent again at once');
  const again = acks.take()!;
  const wire = again.wire()[0]!.partitions.map((p) => [p.partition, p.acknowledgements.map((x) => [x.firstOffset, x.type])]);
  t.same(wire, [[0, [[1, AcknowledgeType.RELEASE]]], [1, [[5, AcknowledgeType.ACCEPT]]]]);
  again.settle([
    { topic: 't', partition: 0, errorCode: 0, errorMessage: null, failed: [] },
    { topic: 't', partition: 1, errorCode: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, errorMessage: 'gone', failed: [] },
  ]);
  t.same([old.result(), newer.result()], ['ok', 'ok']);
});

t.test('a partition the answer does not mention fails its callers rather than leaving them waiting', async (t) => {
  const acks = new Acknowledgements(new ManualClock(), 5, () => undefined);
  const o = outcome();
  acks.add('t', 3, 0, accept, o.waiter);
  acks.take()!.settle([]);
  t.equal(o.result(), 'UNKNOWN_SERVER_ERROR');
});
