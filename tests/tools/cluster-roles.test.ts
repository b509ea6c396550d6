/**
 * The roles as real processes on loopback: `runnel controller` and three
 * `runnel broker`s. An RF 3 topic created through a broker is placed on all
 * three with balanced leaders and ISR = replicas, as Metadata (topic describe
 * --json) shows from any broker; SIGKILL of a broker fences it after the
 * session timeout and its partitions get new leaders with bumped epochs;
 * restarted, it registers again with a larger broker epoch.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcessCluster } from '../support/process-cluster.js';
import { runnel, type Cli } from './run-cli.js';

interface Described {
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[]; leaderEpoch: number }[];
}

t.test('controller + 3 brokers: RF 3 placed and described; SIGKILL fences and moves leaders; restart registers with a larger epoch and catches up into every ISR', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-roles-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = await startProcessCluster(t, { dir, brokers: 3 });
  const { controller, start } = cluster;
  const ports = [1, 2, 3].map((id) => cluster.ports.get(id)!);
  const brokers = [1, 2, 3].map((id) => cluster.brokers.get(id)!);
  const epochOf = (cli: Cli): number => Number(/"event":"registered"[^\n]*"brokerEpoch":(\d+)/.exec(cli.stdout())![1]);

  const created = await runnel(['topic', 'create', 'rf3', '--partitions', '3', '--replication-factor', '3', '-b', `127.0.0.1:${ports[1]}`]);
  t.equal(created.code, 0, `created through broker 2 ${created.stderr}`);
  const describe = async (via: number): Promise<Described> => {
    const out = await runnel(['topic', 'describe', 'rf3', '--json', '-b', `127.0.0.1:${ports[via - 1]}`]);
    t.equal(out.code, 0, `describe via broker ${via} ${out.stderr}`);
    return JSON.parse(out.stdout) as Described;
  };
  const before = await describe(1);
  t.same(before.partitions.map((p) => p.leader).sort(), [1, 2, 3], 'leaders balanced');
  for (const p of before.partitions) {
    t.same([...p.replicas].sort(), [1, 2, 3], `p${p.partition} on all three`);
    t.same(p.isr, p.replicas, `p${p.partition}: ISR = replicas`);
  }
  t.same((await describe(3)).partitions, before.partitions, 'broker 3 describes it alike');

  const firstEpoch = epochOf(brokers[2]!);
  brokers[2]!.child.kill('SIGKILL');
  await brokers[2]!.exited;
  await controller.printed(/"event":"brokerFenced","brokerId":3/, 15_000);
  // Broker 1 learns of the change by its long poll: allow it a moment.
  let after = await describe(1);
  for (let i = 0; i < 20 && after.partitions.some((p) => p.isr.includes(3)); i++) {
    await sleep(250);
    after = await describe(1);
  }
  for (const p of after.partitions) {
    const was = before.partitions.find((q) => q.partition === p.partition)!;
    t.notOk(p.isr.includes(3), `p${p.partition}: broker 3 left the ISR`);
    if (was.leader === 3) {
      t.ok(p.leader === 1 || p.leader === 2, `p${p.partition}: a new leader, ${p.leader}`);
      t.equal(p.leaderEpoch, was.leaderEpoch + 1, `p${p.partition}: leader epoch bumped`);
    }
  }

  // Records broker 3 missed, on every partition, acknowledged by the ISR it is not in.
  for (const partition of [0, 1, 2]) {
    const input = Array.from({ length: 50 }, (_, i) => `p${partition}-${i}`).join('\n') + '\n';
    const sent = await runnel(['produce', 'rf3', '--partition', String(partition), '--acks', 'all', '-b', `127.0.0.1:${ports[0]}`], { input });
    t.equal(sent.code, 0, `50 records to p${partition} while broker 3 is away ${sent.stderr}`);
  }

  const restarted = start(3);
  await restarted.printed(/"event":"listening"/);
  t.ok(epochOf(restarted) > firstEpoch, `registered again with a larger epoch (${epochOf(restarted)} > ${firstEpoch})`);
  // A follower joins the ISR only once it has fetched up to the high watermark: back in every ISR = it caught up from every leader.
  let rejoined = await describe(1);
  for (let i = 0; i < 60 && rejoined.partitions.some((p) => !p.isr.includes(3)); i++) {
    await sleep(250);
    rejoined = await describe(1);
  }
  for (const p of rejoined.partitions) t.ok(p.isr.includes(3), `p${p.partition}: the restarted broker 3 caught up and is back in the ISR (${p.isr.join(',')}, leader ${p.leader})`);
  for (const b of [...brokers.slice(0, 2), restarted, controller]) {
    b.child.kill('SIGTERM');
    t.equal((await b.exited).code, 0, 'clean shutdown');
  }
});
