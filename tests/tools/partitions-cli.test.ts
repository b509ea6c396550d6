/**
 * `runnel partitions` on real processes (a controller and brokers on
 * loopback): a cluster of three grows a fourth broker, which holds nothing
 * until `balance --dry-run` plans moves onto it (JSON in the --plan
 * format) and `reassign` moves a partition there; a throttled move shows in
 * `reassign --status` (adding, removing, ISR, progress) until cancelled;
 * `elect-preferred` makes the new first replica lead; `balance --execute`
 * leaves two replicas on each broker; a bad target is refused per
 * partition with the reason.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcessCluster } from '../support/process-cluster.js';
import { runnel, unusedPort } from './run-cli.js';

interface Described {
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
}

t.test('grow a cluster: balance --dry-run, reassign, --status with a throttle, --cancel, elect-preferred', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-partitions-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = await startProcessCluster(t, { dir, brokers: 3 });
  const bootstrap = `127.0.0.1:${cluster.ports.get(1)}`;
  const cli = (args: string[], input?: string) => runnel([...args, '-b', bootstrap], input === undefined ? {} : { input });
  const describe = async (): Promise<Described> => JSON.parse((await cli(['topic', 'describe', 'grow', '--json'])).stdout) as Described;

  const created = await cli(['topic', 'create', 'grow', '--partitions', '4', '--replication-factor', '2']);
  t.equal(created.code, 0, created.stderr);
  // Two runs, so the log holds at least two batches: a throttled copy may take one batch at once (then pays it back), not the whole log.
  for (const half of [0, 1]) {
    const produced = await cli(['produce', 'grow', '--partition', '1'], Array.from({ length: 100 }, (_, i) => `record-${half * 100 + i}-${'x'.repeat(200)}`).join('\n') + '\n');
    t.equal(produced.code, 0, produced.stderr);
  }

  cluster.ports.set(4, await unusedPort());
  await cluster.start(4).printed(/"event":"listening"/);
  for (let i = 0; i < 40 && !(await cli(['partitions', 'balance', '--json'])).stdout.includes('4'); i++) await sleep(250);

  const dry = await cli(['partitions', 'balance', '--dry-run']);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /Plan: \d+ partitions? to move\./, 'a plan for the new broker');
  t.match(dry.stdout, /BROKER\s+RACK\s+REPLICAS\s+PREFERRED LEADER OF\n(.*\n)*4\s+-\s+0 -> 2\s+0 -> 1/, 'broker 4 goes from 0 to 2 replicas and 1 preferred leadership');
  t.match(dry.stdout, /Dry run: nothing was moved/);
  const planJson = JSON.parse((await cli(['partitions', 'balance', '--dry-run', '--json'])).stdout) as { version: number; partitions: { topic: string; partition: number; replicas: number[] }[] };
  t.equal(planJson.version, 1, 'the --plan file format');
  t.ok(planJson.partitions.length > 0 && planJson.partitions.every((p) => p.topic === 'grow' && p.replicas.length === 2), 'moves of grow, RF kept');
  t.ok(planJson.partitions.some((p) => p.replicas.includes(4)), 'onto broker 4');
  t.same((await describe()).partitions.flatMap((p) => p.replicas).filter((id) => id === 4), [], 'a dry run moves nothing');

  // A move onto 4, slowed to a crawl by the throttle, shows in --status until cancelled.
  const before = (await describe()).partitions[1]!;
  const slowTarget = [4, before.replicas[1]!];
  const slow = await cli(['partitions', 'reassign', '--topic', 'grow', '--partition', '1', '--replicas', slowTarget.join(','), '--throttle', '200']);
  t.equal(slow.code, 0, slow.stderr);
  t.match(slow.stdout, new RegExp(`grow-1: moving to \\[${slowTarget.join(',')}\\]\\nCopies to new replicas are limited to 200 bytes/s`));
  await sleep(1500);
  const status = await cli(['partitions', 'reassign', '--status']);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, new RegExp(`grow\\s+1\\s+${[...slowTarget, before.replicas[0]].join(',')}\\s+4\\s+${before.replicas[0]}\\s+${before.isr.join(',')}\\s+${before.leader}\\s+4: \\d+/200 \\(\\d+%\\)`), `--status: replicas, adding 4, removing ${before.replicas[0]}, ISR, leader, progress in offsets`);
  t.match(status.stdout, /Throttle: 200 bytes\/s for new replicas\./);
  const statusJson = JSON.parse((await cli(['partitions', 'reassign', '--status', '--json'])).stdout) as { throttleBytesPerSecond: number; reassignments: { addingReplicas: number[]; logEndOffsets: Record<string, number | null> }[] };
  t.equal(statusJson.throttleBytesPerSecond, 200);
  t.same(statusJson.reassignments[0]!.addingReplicas, [4]);
  t.equal(statusJson.reassignments[0]!.logEndOffsets[String(before.leader)], 200, 'the leader\'s log end');
  const cancelled = await cli(['partitions', 'reassign', '--cancel', '--topic', 'grow', '--partition', '1']);
  t.equal(cancelled.code, 0, cancelled.stderr);
  t.match(cancelled.stdout, /grow-1: cancelled: back to its original replicas/);
  t.match((await cli(['partitions', 'reassign', '--status'])).stdout, /No reassignment in progress\./);
  t.same([...(await describe()).partitions[1]!.replicas].sort(), [...before.replicas].sort(), 'back on its original replicas');

  // An unthrottled move completes; then the new first replica is made leader.
  const p0 = (await describe()).partitions[0]!;
  const target = [4, p0.replicas[0]!];
  const moved = await cli(['partitions', 'reassign', '--topic', 'grow', '--partition', '0', '--replicas', target.join(',')]);
  t.equal(moved.code, 0, moved.stderr);
  let after = await describe();
  for (let i = 0; i < 60 && after.partitions[0]!.replicas.join(',') !== target.join(','); i++) {
    await sleep(250);
    after = await describe();
  }
  t.same(after.partitions[0]!.replicas, target, 'moved onto 4');
  t.equal(after.partitions[0]!.leader, p0.replicas[0], 'its leader stayed (it is in the target)');
  const elected = await cli(['partitions', 'elect-preferred', '--topic', 'grow', '--partition', '0']);
  t.equal(elected.code, 0, elected.stderr);
  t.match(elected.stdout, /Elected the preferred leader of 1 partition\.\n {2}grow-0: elected/);
  t.equal((await describe()).partitions[0]!.leader, 4, 'broker 4 leads it now');

  // balance --execute applies the plan; afterwards the cluster is balanced.
  const executed = await cli(['partitions', 'balance', '--execute']);
  t.equal(executed.code, 0, executed.stderr);
  t.match(executed.stdout, /Started\. Follow with `runnel partitions reassign --status`/);
  for (let i = 0; i < 60 && !/No reassignment in progress/.test((await cli(['partitions', 'reassign', '--status'])).stdout); i++) await sleep(250);
  const balanced = await cli(['partitions', 'balance', '--dry-run']);
  t.match(balanced.stdout, /^The cluster is balanced: no move needed\./, 'after --execute the plan is empty');
  const perBroker = new Map<number, number>();
  for (const p of (await describe()).partitions) for (const id of p.replicas) perBroker.set(id, (perBroker.get(id) ?? 0) + 1);
  t.same([...perBroker.entries()].sort((a, b) => a[0] - b[0]), [[1, 2], [2, 2], [3, 2], [4, 2]], 'two replicas on each of the four brokers');

  const bad = await cli(['partitions', 'reassign', '--topic', 'grow', '--partition', '2', '--replicas', '4,9']);
  t.equal(bad.code, 1, 'a refused partition fails the command');
  t.match(bad.stdout, /grow-2: INVALID_REPLICA_ASSIGNMENT: the target replicas \[4,9\] name broker\(s\) 9, which are not registered/);
  const planPath = join(dir, 'plan.json');
  writeFileSync(planPath, '{"version":1,"partitions":[{"topic":"grow","partition":"x"}]}');
  const badPlan = await cli(['partitions', 'reassign', '--plan', planPath]);
  t.equal(badPlan.code, 1);
  t.match(badPlan.stderr, /plan\.json: partitions\[0\] is \{"topic":"grow","partition":"x"\}/, 'a bad plan file is refused naming the entry');
});
