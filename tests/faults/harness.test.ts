/**
 * The fault-test harness end to end on today's single-node broker: the
 * broker runs in its own network namespace, three SDK producers in the test's
 * namespace send unique values with acks=all to an fsync=always topic while
 * the test cuts the broker off for a bounded time and heals it, and SIGKILLs
 * and restarts it (same data, same address). Every partition is drained and
 * the ledger must find every acknowledged value at its offset, nothing lost.
 * FAULT_CYCLES (default 2) sets how many cut + kill cycles run.
 * Namespaces unusable here = a failure that says why, never a skip.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runnel } from '../../client/index.js';
import { freshDataDir } from '../support/broker-process.js';
import { FailoverTimer, summarizeFailover } from '../support/failover-timer.js';
import { Ledger, summarizeLedger } from '../support/ledger.js';
import { createNetLab, netnsUnavailableReason } from '../support/netns.js';
import { drainTopic } from './drain.js';
import { LabBroker } from './lab-broker.js';
import { startLoad, type Load } from './load.js';

const CYCLES = Number(process.env['FAULT_CYCLES'] ?? 2);
const TOPIC = 'faults';
const PARTITIONS = 3;
const CUT_MS = 3000;
/** Sends that must settle between two faults, so each fault lands on a running load. */
const PROGRESS = 100;
const PROGRESS_TIMEOUT_MS = 60_000;

async function progress(load: Load, what: string): Promise<void> {
  const target = load.settled() + PROGRESS;
  const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
  while (load.settled() < target) {
    if (Date.now() > deadline) throw new Error(`producers settled only ${load.settled()} of ${target} sends within ${PROGRESS_TIMEOUT_MS} ms ${what}`);
    await sleep(50);
  }
}

t.test('acks=all, fsync=always: cut + heal, SIGKILL + restart, nothing acknowledged is lost', async (t) => {
  const reason = await netnsUnavailableReason();
  if (reason !== undefined) {
    t.fail(`network namespaces are not usable here, so the fault tests cannot run: ${reason}`);
    return;
  }
  const lab = await createNetLab({ nodes: ['b1'] });
  t.teardown(() => lab.destroy());
  const broker = new LabBroker({ lab, node: 'b1', port: 9092, dataDir: freshDataDir('runnel-faults-') });
  t.teardown(() => broker.kill('SIGKILL'));
  await broker.start();

  const admin = new Runnel({ bootstrap: [broker.bootstrap] });
  await admin.admin().createTopic({ name: TOPIC, partitions: PARTITIONS, config: { fsync: 'always' } });
  await admin.close();

  const ledger = new Ledger();
  const timer = new FailoverTimer();
  const cutWindows: { from: number; to: number }[] = [];
  const load = startLoad({ bootstrap: [broker.bootstrap], topic: TOPIC, partitions: PARTITIONS, producers: 3, inFlight: 4, acks: 'all', deliveryTimeoutMs: 60_000, ledger });
  try {
    await progress(load, 'before the first fault');
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await lab.isolate('b1');
      const cut = timer.fault('cut', { label: `cycle ${cycle}` }); // in effect from here
      await sleep(CUT_MS);
      await lab.heal('b1');
      cutWindows.push({ from: cut.at, to: performance.now() });
      await progress(load, `after healing the cut of cycle ${cycle}`);

      timer.fault('leader-kill', { label: `cycle ${cycle}` });
      await broker.kill('SIGKILL');
      await broker.start();
      await progress(load, `after the restart of cycle ${cycle}`);
    }
  } finally {
    await load.stop();
  }

  const drained = await drainTopic([broker.bootstrap], TOPIC, 60_000);
  const report = ledger.check(drained);
  const kills = timer.report('leader-kill', ledger.entries());
  const cuts = timer.report('cut', ledger.entries());
  t.comment(summarizeLedger(report));
  t.comment(summarizeFailover(kills));
  t.comment(summarizeFailover(cuts));
  t.ok(report.ok, summarizeLedger(report));
  t.equal(report.lost.count, 0, 'no acknowledged value lost');
  t.equal(report.failed, 0, 'no send failed (the faults are shorter than the delivery timeout)');
  t.ok(report.acked >= PROGRESS * (1 + 2 * CYCLES), `load ran throughout (${report.acked} acknowledged)`);
  t.equal(report.recordsChecked, report.acked + report.duplicates.extraCopies + report.failedButWritten, 'the drain holds exactly the acknowledged values and their duplicates');
  t.equal(kills.times.length, CYCLES, `every kill recovered: ${summarizeFailover(kills)}`);
  t.equal(cuts.times.length, CYCLES, `every cut recovered: ${summarizeFailover(cuts)}`);
  // Past answers already on their way (the timer's grace), nothing is acknowledged while the broker is cut off.
  const duringCuts = ledger.entries().filter((e) => e.ackedAt !== undefined && cutWindows.some((w) => e.ackedAt! > w.from + 100 && e.ackedAt! < w.to));
  t.same(duringCuts.map((e) => e.value), [], 'no acknowledgement while the broker was cut off');
  t.ok(cuts.times.every((ms) => ms >= CUT_MS), `so every cut lasted until healed: ${cuts.times.map(Math.round).join(', ')} ms`);
});
