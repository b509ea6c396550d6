/**
 * The command line when the broker hangs (SIGSTOP: its connections stay
 * open, nothing answers): `runnel consume` and `runnel produce` say so on
 * stderr within seconds, in words that say the broker answers nothing, and
 * consume says how long it was away from the first silence; `runnel
 * produce` warns before its delivery timeout fails it; and `runnel produce`
 * fed without end while the broker hangs keeps its memory bounded, then
 * sends every line once the broker goes on. Real broker processes, paused
 * and resumed by pid; the CLI run as a user runs it.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { errorLines, feedForever, spawnCli as cli } from './run-cli.js';
import { Runnel } from '../../client/index.js';

/** Added to every bound for a loaded 2-core machine (process start-up included). */
const SLACK_MS = 4000;
/** What the CLI takes to call a silent broker hung: a probe after 2.5 s of silence, 2.5 s for its answer (its 5 s connect timeout). */
const HUNG_NOTICE_MS = 5000;

async function brokerWithTopic(t: Test, topic: string): Promise<BrokerProcess> {
  const broker = await startBrokerProcess();
  // A paused broker must be resumed to die by SIGTERM; SIGKILL ends it either way.
  t.teardown(() => broker.kill('SIGKILL'));
  const created = cli(t, ['topic', 'create', topic, '--bootstrap', broker.bootstrap]);
  t.equal((await created.exited).code, 0, created.stderr());
  return broker;
}

/** Waits until the topic's partition 0 holds a record (produce is under way). */
async function recordsLanded(broker: BrokerProcess, topic: string): Promise<void> {
  const client = new Runnel({ bootstrap: [broker.bootstrap] });
  try {
    const deadline = Date.now() + 30_000;
    while ((await client.admin().listOffsets(topic)).every((p) => p.latest === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await client.close();
  }
}

t.test('`runnel consume` on a broker that hangs: a warning within seconds that it answers nothing, and how long it was away', async (t) => {
  const broker = await brokerWithTopic(t, 'stalled');
  const put = cli(t, ['produce', 'stalled', '--bootstrap', broker.bootstrap]);
  put.child.stdin.end('first\n');
  t.equal((await put.exited).code, 0, put.stderr());
  const consume = cli(t, ['consume', 'stalled', '--from-beginning', '--bootstrap', broker.bootstrap]);
  // Reading: it has printed the record and long-polls for the next.
  await consume.printed(/^first$/m);
  await broker.kill('SIGSTOP');
  const stoppedAtMs = Date.now();
  await consume.printed(/warning: cannot reach the broker at 127\.0\.0\.1:\d+ \(connected, but it answers nothing\); still trying/, HUNG_NOTICE_MS + SLACK_MS);
  t.ok(Date.now() - stoppedAtMs <= HUNG_NOTICE_MS + SLACK_MS, `noticed ${Date.now() - stoppedAtMs} ms after the broker stopped (its requests time out after 30 s)`);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 12_000 - (Date.now() - stoppedAtMs))));
  await broker.kill('SIGCONT');
  const awayMs = Date.now() - stoppedAtMs;
  await consume.printed(/reachable again after \d+ s/, 10_000);
  const back = /reachable again after (\d+) s/.exec(consume.stderr())!;
  t.ok(Number(back[1]) * 1000 >= awayMs - 1500, `away ${back[1]} s by its count, ${awayMs} ms by the test's`);
  t.equal(consume.stderr().split('\n').filter((l) => l.includes('cannot reach')).length, 1, 'one warning');
  consume.child.kill('SIGINT');
  t.equal((await consume.exited).code, 0);
});

t.test('`runnel produce` on a broker that hangs warns before --delivery-timeout-ms fails it', async (t) => {
  const broker = await brokerWithTopic(t, 'stalledp');
  const DELIVERY_MS = 15_000;
  const produce = cli(t, ['produce', 'stalledp', '--delivery-timeout-ms', String(DELIVERY_MS), '--bootstrap', broker.bootstrap]);
  feedForever(produce.child, 'hello\n');
  await recordsLanded(broker, 'stalledp');
  await broker.kill('SIGSTOP');
  const stoppedAtMs = Date.now();
  const { code, atMs } = await produce.exited;
  t.equal(code, 1);
  t.ok(atMs - stoppedAtMs <= DELIVERY_MS + SLACK_MS, `exited ${atMs - stoppedAtMs} ms after the broker stopped`);
  const lines = produce.stderr().split('\n').filter(Boolean);
  const warning = lines.findIndex((l) => /^warning: cannot reach the broker at 127\.0\.0\.1:\d+ \(connected, but it answers nothing\); records wait for it up to --delivery-timeout-ms \(15000 ms\)$/.test(l));
  t.ok(warning >= 0, `it warned: ${produce.stderr()}`);
  const errors = errorLines(produce.stderr());
  t.equal(errors.length, 1);
  t.ok(warning < lines.indexOf(errors[0]!), 'the warning came before the error');
  t.match(errors[0], /^error: line \d+ was not sent: delivery timed out after 15000 ms waiting .*: broker 127\.0\.0\.1:\d+ unreachable for \d+ s \(connected, but it answers nothing\)/);
});

/** The command's resident memory and its peak, in MiB (Linux). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

t.test('`runnel produce` fed without end while the broker hangs: memory stays bounded, and every line read is sent once it goes on', async (t) => {
  const broker = await brokerWithTopic(t, 'flood');
  const produce = cli(t, ['produce', 'flood', '--bootstrap', broker.bootstrap]);
  const chunk = 'hi\n'.repeat(1000);
  let fed = 0;
  // Feeds until the command stops taking input (it paused reading) for 2 s, or 12 million lines at most.
  const feedUntilPaused = async (): Promise<void> => {
    for (;;) {
      while (fed < 12_000_000 && produce.child.stdin.write(chunk)) fed += 1000;
      if (fed >= 12_000_000) return;
      fed += 1000;
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        produce.child.stdin.once('drain', () => (clearTimeout(timer), resolve(true)));
      });
      if (!drained) return;
    }
  };
  produce.child.stdin.write(chunk);
  fed += 1000;
  await recordsLanded(broker, 'flood');
  await broker.kill('SIGSTOP');
  await feedUntilPaused();
  const memory = memoryMiB(produce.child.pid!);
  // Its default --max-in-flight-bytes is 16 MiB; counting line text alone let 16 MiB of "hi" lines grow past 1 GiB.
  t.ok(memory.rss < 300, `resident ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB) with ${fed} lines fed, reading paused`);
  t.ok(fed < 12_000_000, `it stopped taking input (${fed} lines)`);

  await broker.kill('SIGCONT');
  produce.child.stdin.end();
  const { code } = await produce.exited;
  t.equal(code, 0, produce.stderr());
  t.match(produce.stderr(), new RegExp(`Sent ${fed} records to flood\\.`), 'every line fed was sent');
});
