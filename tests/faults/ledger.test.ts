/**
 * The ledger and the failover timer on synthetic histories: a clean run
 * passes, and each planted violation is flagged, by name, and nothing else.
 */
import t from 'tap';
import { Ledger, summarizeLedger, type DrainedRecord, type LedgerReport } from '../support/ledger.js';
import { FailoverTimer, summarizeFailover } from '../support/failover-timer.js';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; set: (t: number) => void } {
  let time = 0;
  return { now: () => time, set: (t: number) => void (time = t) };
}

/** p0: a0 a1 a2 (producer a), p1: b0 b1 (producer b), each acknowledged at the offset it got; time moves 10 ms a step. */
function cleanRun(): { ledger: Ledger; drained: DrainedRecord[]; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock();
  const ledger = new Ledger(clock.now);
  const drained: DrainedRecord[] = [];
  let time = 0;
  const step = (producer: string, value: string, partition: number, offset: number): void => {
    clock.set((time += 10));
    ledger.sent(producer, value, partition);
    clock.set((time += 10));
    ledger.acked(value, offset);
    drained.push({ partition, offset, value });
  };
  step('a', 'a0', 0, 0);
  step('b', 'b0', 1, 0);
  step('a', 'a1', 0, 1);
  step('b', 'b1', 1, 1);
  step('a', 'a2', 0, 2);
  return { ledger, drained, clock };
}

/** Every count that makes a report fail, by name: a planted bug must raise exactly its own. */
function flagged(report: LedgerReport): Record<string, number> {
  const counts: Record<string, number> = {
    lost: report.lost.count,
    wrongOffset: report.wrongOffset.count,
    wrongPartition: report.wrongPartition.count,
    offsetsNotIncreasing: report.offsetsNotIncreasing.count,
    unknown: report.unknown.count,
    realTimeOrder: report.realTimeOrder.count,
    producerOrder: report.producerOrder.count,
    unsettled: report.unsettled.count,
  };
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

t.test('a clean run passes', async (t) => {
  const { ledger, drained } = cleanRun();
  const report = ledger.check(drained);
  t.ok(report.ok, summarizeLedger(report));
  t.same(flagged(report), {});
  t.match(report, { sent: 5, acked: 5, failed: 0, recordsChecked: 5, partitions: 2, duplicates: { count: 0, extraCopies: 0 } });
  t.match(summarizeLedger(report), /^OK: checked 5 drained records in 2 partition\(s\) against 5 sends/);
});

t.test('lost: an acknowledged value missing from the drain', async (t) => {
  const { ledger, drained } = cleanRun();
  const report = ledger.check(drained.filter((r) => r.value !== 'a1'));
  t.notOk(report.ok);
  t.same(flagged(report), { lost: 1 });
  t.same(report.lost.examples, [{ value: 'a1', partition: 0, offset: 1 }]);
  t.match(summarizeLedger(report), /violation: 1 acknowledged value\(s\) lost/);
});

t.test('lossAllowed (acks=1): loss is reported, not failed', async (t) => {
  const { ledger, drained } = cleanRun();
  const report = ledger.check(drained.filter((r) => r.value !== 'a2'), { lossAllowed: true });
  t.ok(report.ok, 'not a failure');
  t.equal(report.lost.count, 1, 'but counted');
  t.match(summarizeLedger(report), /lost 1, .*loss allowed/);
});

t.test('wrongOffset: the acknowledged offset holds another value, a copy survives elsewhere', async (t) => {
  const { ledger, drained } = cleanRun();
  // a1 was acknowledged at 1; the log has b-something... a truncation put x at 1 and a1's retry copy at 3.
  ledger.sent('c', 'x', 0);
  ledger.failed('x', new Error('DELIVERY_TIMEOUT'));
  const log = drained.map((r) => (r.value === 'a1' ? { ...r, value: 'x' } : r));
  log.push({ partition: 0, offset: 3, value: 'a1' });
  const report = ledger.check(log);
  t.same(flagged(report), { wrongOffset: 1 });
  t.same(report.wrongOffset.examples, [{ value: 'a1', partition: 0, ackedOffset: 1, heldThere: 'x', foundAt: [3] }]);
  t.equal(report.failedButWritten, 1, 'the failed send that was written anyway is counted');
});

t.test('offsetsNotIncreasing: two values at one offset in the drain', async (t) => {
  const { ledger, drained } = cleanRun();
  ledger.sent('c', 'y', 0);
  ledger.failed('y', 'timeout');
  const report = ledger.check([...drained.slice(0, 3), { partition: 0, offset: 1, value: 'y' }, ...drained.slice(3)]);
  t.same(flagged(report), { offsetsNotIncreasing: 1 });
  t.same(report.offsetsNotIncreasing.examples, [{ partition: 0, offset: 1, after: 1, value: 'y' }]);
});

t.test('unknown: a drained value nobody sent', async (t) => {
  const { ledger, drained } = cleanRun();
  const report = ledger.check([...drained, { partition: 1, offset: 2, value: 'ghost' }]);
  t.same(flagged(report), { unknown: 1 });
});

t.test('wrongPartition: a value found in another partition', async (t) => {
  const { ledger, drained } = cleanRun();
  ledger.sent('c', 'z', 1);
  ledger.failed('z', 'timeout');
  const report = ledger.check([...drained, { partition: 0, offset: 3, value: 'z' }]);
  t.same(flagged(report), { wrongPartition: 1 });
  t.same(report.wrongPartition.examples, [{ value: 'z', sentTo: 1, foundIn: 0 }]);
});

t.test('realTimeOrder: acknowledged before another was sent, yet at a higher offset', async (t) => {
  const clock = manualClock();
  const ledger = new Ledger(clock.now);
  clock.set(1);
  ledger.sent('a', 'first', 0);
  clock.set(2);
  ledger.acked('first', 5);
  clock.set(3);
  ledger.sent('b', 'second', 0); // sent after 'first' was acknowledged ...
  clock.set(4);
  ledger.acked('second', 4); // ... but below it
  const report = ledger.check([{ partition: 0, offset: 4, value: 'second' }, { partition: 0, offset: 5, value: 'first' }]);
  t.same(flagged(report), { realTimeOrder: 1 });
  t.same(report.realTimeOrder.examples, [{ partition: 0, first: 'first', firstOffset: 5, then: 'second', thenOffset: 4 }]);

  // Concurrent sends (neither acknowledged before the other was sent) may land in either order.
  const concurrent = new Ledger(clock.now);
  clock.set(10);
  concurrent.sent('a', 'p', 0);
  concurrent.sent('b', 'q', 0);
  clock.set(11);
  concurrent.acked('p', 1);
  concurrent.acked('q', 0);
  t.ok(concurrent.check([{ partition: 0, offset: 0, value: 'q' }, { partition: 0, offset: 1, value: 'p' }]).ok, 'overlapping sends in either order are fine');
});

t.test('producerOrder: one producer\'s later send below its earlier one in a partition', async (t) => {
  const clock = manualClock();
  const ledger = new Ledger(clock.now);
  clock.set(1);
  ledger.sent('a', 'a0', 0);
  ledger.sent('a', 'a1', 0); // both in flight: real time says nothing, send order does
  clock.set(2);
  ledger.acked('a1', 0);
  ledger.acked('a0', 1);
  const report = ledger.check([{ partition: 0, offset: 0, value: 'a1' }, { partition: 0, offset: 1, value: 'a0' }]);
  t.same(flagged(report), { producerOrder: 1 });
});

t.test('duplicates: counted and listed, not a violation', async (t) => {
  const { ledger, drained } = cleanRun();
  // a retry wrote a2 again (its first answer was lost), and b0 twice more.
  const report = ledger.check([
    ...drained,
    { partition: 0, offset: 3, value: 'a2' },
    { partition: 1, offset: 2, value: 'b0' },
    { partition: 1, offset: 3, value: 'b0' },
  ]);
  t.ok(report.ok, summarizeLedger(report));
  t.match(report.duplicates, { count: 2, extraCopies: 3 });
  const listed = report.duplicates.examples.map((d) => [d.value, d.offsets]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
  t.same(listed, [['a2', [2, 3]], ['b0', [0, 2, 3]]]);
  t.match(summarizeLedger(report), /duplicates 2 value\(s\), 3 extra copies/);
});

t.test('unsettled: a send that never succeeded nor failed', async (t) => {
  const { ledger, drained } = cleanRun();
  ledger.sent('a', 'a3', 0);
  const report = ledger.check(drained);
  t.same(flagged(report), { unsettled: 1 });
});

t.test('misuse is refused: a value sent twice, settled twice, or never sent', async (t) => {
  const ledger = new Ledger();
  ledger.sent('a', 'v', 0);
  t.throws(() => ledger.sent('b', 'v', 1), /already sent/);
  ledger.acked('v', 0);
  t.throws(() => ledger.failed('v', 'x'), /settled twice/);
  t.throws(() => ledger.acked('nope', 0), /never registered/);
});

t.test('failover: fault to the first acknowledgement of every affected partition, median and max', async (t) => {
  const clock = manualClock();
  const ledger = new Ledger(clock.now);
  const timer = new FailoverTimer(clock.now, { inFlightGraceMs: 0 });
  const ackAt = (value: string, partition: number, at: number): void => {
    clock.set(at - 1);
    ledger.sent('p', value, partition);
    clock.set(at);
    ledger.acked(value, Number(value.slice(1)));
  };
  ackAt('v0', 0, 50);
  ackAt('v1', 1, 60);
  clock.set(100);
  timer.fault('leader-kill'); // both partitions: p0 back at 300, p1 at 700 -> 600
  ackAt('v2', 0, 300);
  ackAt('v3', 1, 700);
  clock.set(1000);
  timer.fault('leader-kill', { partitions: [0] }); // only p0: back at 1200 -> 200
  ackAt('v4', 0, 1200);
  clock.set(2000);
  timer.fault('stop'); // another kind: not in the leader-kill figures, but it ends the window of the one before
  ackAt('v5', 0, 2100);
  ackAt('v6', 1, 2500);
  clock.set(3000);
  timer.fault('leader-kill', { label: 'never back' }); // nothing after it
  const report = timer.report('leader-kill', ledger.entries());
  t.match(report, { faults: 3, times: [600, 200], medianMs: 400, maxMs: 600 });
  t.same(report.unrecovered, [{ at: 3000, label: 'never back', partitions: [0, 1] }]);
  t.match(summarizeFailover(report), /leader-kill: 3 fault\(s\), 2 recovered, median 400 ms, max 600 ms, 1 NOT recovered/);
  t.match(timer.report('stop', ledger.entries()), { faults: 1, times: [500], medianMs: 500, maxMs: 500 });

  // An acknowledgement only after the next fault does not count for the one before.
  const late = new FailoverTimer(clock.now, { inFlightGraceMs: 0 });
  clock.set(100);
  late.fault('leader-kill', { partitions: [1] });
  clock.set(650);
  late.fault('cut');
  t.same(late.report('leader-kill', ledger.entries()).unrecovered.map((u) => u.partitions), [[1]], 'p1 came back at 700, after the next fault at 650');

  // Answers already on their way when the fault lands are not a recovery.
  const graced = new FailoverTimer(clock.now, { inFlightGraceMs: 100 });
  clock.set(250);
  graced.fault('leader-kill', { partitions: [0] }); // p0 acks at 300 (within the grace) and 1200
  t.same(graced.report('leader-kill', ledger.entries()).times, [950], 'the ack 50 ms after the fault is taken as in flight');
});
