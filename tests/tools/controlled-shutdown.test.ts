/**
 * Leaders move without waiting out a broker session, on real processes
 * (`runnel controller` + three `runnel broker`s on loopback) under acks=all
 * load: the session timeout is set to 30 s here, so any leader change seen
 * sooner comes from the two mechanisms under test.
 * - SIGTERM of a leader: controlled shutdown. The broker asks its controller
 *   to move its leaderships and leave every ISR, waits until it has applied
 *   that, and exits 0; the controller never has to fence it for a missed
 *   session.
 * - SIGKILL of a leader: its connection to the controller closes with the
 *   process, and the controller fences it `broker.session.disconnect.timeout.ms`
 *   later (1.5 s here), not at the 30 s session timeout.
 * Afterwards every acknowledged value is read back at its offset, and no
 * send failed.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { drainTopic } from '../faults/drain.js';
import { startLoad } from '../faults/load.js';
import { Ledger, summarizeLedger } from '../support/ledger.js';
import { runnel, spawnCli, unusedPort, type Cli } from './run-cli.js';

interface Described {
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[]; leaderEpoch: number }[];
}

const SETTINGS = [
  ['broker.session.timeout.ms', 30_000],
  ['broker.session.disconnect.timeout.ms', 1500],
  ['broker.heartbeat.interval.ms', 300],
  ['logger.format', 'json'],
].flatMap(([name, value]) => ['--set', `${name}=${value}`]);
/** Far below the 30 s session: a fence seen within this long came from the closed connection. */
const DISCONNECT_FENCE_WITHIN_MS = 15_000;

t.test('SIGTERM moves leaderships before the broker exits; SIGKILL fences at the disconnect timeout; nothing acknowledged lost', async (t) => {
  t.setTimeout(170_000);
  const dir = mkdtempSync(join(tmpdir(), 'runnel-shutdown-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const controllerPort = await unusedPort();
  const controller = spawnCli(t, ['controller', '--node-id', '0', '--listen', `127.0.0.1:${controllerPort}`, '--data', join(dir, 'controller'), ...SETTINGS]);
  await controller.printed(/"event":"listening"/);
  const ports = [await unusedPort(), await unusedPort(), await unusedPort()];
  const bootstrap = ports.map((port) => `127.0.0.1:${port}`);
  const start = (id: number): Cli => spawnCli(t, ['broker', '--node-id', String(id), '--listen', bootstrap[id - 1]!, '--data', join(dir, `b${id}`), '--controller', `127.0.0.1:${controllerPort}`, ...SETTINGS]);
  const brokers = new Map<number, Cli>([1, 2, 3].map((id) => [id, start(id)]));
  for (const b of brokers.values()) await b.printed(/"event":"listening"/);

  const created = await runnel(['topic', 'create', 'cs', '--partitions', '3', '--replication-factor', '3', '--config', 'min.insync.replicas=2', '-b', bootstrap[0]!]);
  t.equal(created.code, 0, `topic created ${created.stderr}`);
  const describe = async (): Promise<Described> => {
    const via = [...brokers.keys()].find((id) => brokers.get(id)!.child.exitCode === null) ?? 1;
    const out = await runnel(['topic', 'describe', 'cs', '--json', '-b', bootstrap[via - 1]!]);
    t.equal(out.code, 0, `describe ${out.stderr}`);
    return JSON.parse(out.stdout) as Described;
  };
  /** Polls describe until `test` holds (bounded); returns the last description. */
  const until = async (test: (d: Described) => boolean, what: string): Promise<Described> => {
    let d = await describe();
    for (let i = 0; i < 120 && !test(d); i++) {
      await sleep(250);
      d = await describe();
    }
    t.ok(test(d), what);
    return d;
  };
  const fullIsr = (d: Described): boolean => d.partitions.every((p) => p.isr.length === 3);
  await until(fullIsr, 'every ISR is full at the start');

  const ledger = new Ledger();
  const load = startLoad({ bootstrap, topic: 'cs', partitions: 3, producers: 2, inFlight: 2, acks: 'all', deliveryTimeoutMs: 60_000, ledger });
  const progress = async (records: number): Promise<void> => {
    const target = load.settled() + records;
    for (let i = 0; i < 600 && load.settled() < target; i++) await sleep(50);
  };
  try {
    await progress(300);

    // SIGTERM: controlled shutdown.
    const before = await describe();
    const termed = before.partitions[0]!.leader;
    brokers.get(termed)!.child.kill('SIGTERM');
    const exit = await brokers.get(termed)!.exited;
    t.equal(exit.code, 0, `broker ${termed} (leader of p0) exited cleanly on SIGTERM`);
    t.match(brokers.get(termed)!.stdout(), /"event":"controlledShutdown"[^\n]*this broker leads nothing/, 'it stopped only once it led nothing');
    t.match(controller.stdout(), new RegExp(`"event":"controlledShutdown","brokerId":${termed}`), 'the controller moved its leaderships on its request');
    const moved = await until((d) => d.partitions.every((p) => p.leader !== termed && !p.isr.includes(termed)), `broker ${termed} leads nothing and is in no ISR`);
    for (const p of before.partitions.filter((q) => q.leader === termed)) {
      const now = moved.partitions[p.partition]!;
      t.ok(p.isr.includes(now.leader), `p${p.partition}: the new leader ${now.leader} was in the ISR`);
      t.equal(now.leaderEpoch, p.leaderEpoch + 1, `p${p.partition}: leader epoch bumped`);
    }
    await progress(200);
    brokers.set(termed, start(termed));
    await brokers.get(termed)!.printed(/"event":"listening"/);
    await until(fullIsr, `broker ${termed} restarted and rejoined every ISR`);
    await progress(200);

    // SIGKILL: the closed connection ends the session early.
    const killed = (await describe()).partitions[1]!.leader;
    brokers.get(killed)!.child.kill('SIGKILL');
    await brokers.get(killed)!.exited;
    await controller.printed(new RegExp(`"event":"brokerFenced","brokerId":${killed},[^\\n]*"disconnected":true`), DISCONNECT_FENCE_WITHIN_MS);
    t.pass(`broker ${killed} (SIGKILL) was fenced for its closed connection, within ${DISCONNECT_FENCE_WITHIN_MS} ms (its session is 30 s)`);
    await until((d) => d.partitions.every((p) => p.leader !== killed), `broker ${killed}'s partitions have new leaders`);
    await progress(200);
    brokers.set(killed, start(killed));
    await brokers.get(killed)!.printed(/"event":"listening"/);
    await until(fullIsr, `broker ${killed} restarted and rejoined every ISR`);
    await progress(200);
  } finally {
    await load.stop();
  }
  t.notMatch(controller.stdout(), new RegExp(`"event":"brokerFenced","brokerId":(${[...brokers.keys()].join("|")}),[^\\n]*"disconnected":false`), 'no broker waited out its session');

  const report = ledger.check(await drainTopic(bootstrap, 'cs', 60_000));
  t.comment(summarizeLedger(report));
  t.ok(report.ok, summarizeLedger(report));
  t.equal(report.lost.count, 0, 'no acknowledged value lost');
  t.equal(report.failed, 0, 'no send failed: producers followed the moved leaders');
  t.ok(report.acked >= 1300, `load ran throughout (${report.acked} acknowledged)`);

  for (const b of [...brokers.values(), controller]) {
    b.child.kill('SIGTERM');
    t.equal((await b.exited).code, 0, 'clean shutdown');
  }
});
