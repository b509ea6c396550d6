/**
 * `runnel groups` on a cluster of real processes (a controller and three
 * brokers): groups live on the coordinators their ids hash to, so `list`
 * must ask every broker to find them all; and when a coordinator's broker
 * is killed, `describe` follows the group to the new leader of its
 * `__consumer_offsets` partition and finds its offsets intact, and `list`
 * shows every group again once the dead broker is fenced.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runnel } from '../../client/index.js';
import { startProcessCluster } from '../support/process-cluster.js';
import { runnel } from './run-cli.js';

const GROUPS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

t.test('list finds the groups of every coordinator; describe follows a group whose coordinator died', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-groups-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = await startProcessCluster(t, { dir, brokers: 3 });
  const all = [1, 2, 3].map((id) => `127.0.0.1:${cluster.ports.get(id)}`).join(',');
  const cli = (args: string[], input?: string) => runnel([...args, '-b', all], input === undefined ? {} : { input });

  const created = await cli(['topic', 'create', 'work', '--partitions', '2', '--replication-factor', '3']);
  t.equal(created.code, 0, created.stderr);
  const produced = await cli(['produce', 'work', '--partition', '0', '--acks', 'all'], 'a\nb\nc\nd\ne\n');
  t.equal(produced.code, 0, produced.stderr);
  for (const [i, group] of GROUPS.entries()) {
    const reset = await cli(['groups', 'reset-offsets', group, '--topic', 'work:0', '--to-offset', String(i % 5), '--execute']);
    t.equal(reset.code, 0, `${group}: ${reset.stderr}`);
  }

  const runnelClient = new Runnel({ bootstrap: all.split(','), retry: { retries: 20, initialBackoffMs: 100, maxBackoffMs: 500 } });
  t.teardown(() => runnelClient.close());
  const admin = runnelClient.admin();
  const coordinators = new Map((await admin.describeGroups(GROUPS)).map((d) => [d.group, d.coordinator]));
  t.ok(new Set(coordinators.values()).size > 1, `the groups are spread over several coordinators (${[...coordinators].join(' ')})`);

  const listed = await cli(['groups', 'list', '--json']);
  t.equal(listed.code, 0, listed.stderr);
  t.same(JSON.parse(listed.stdout), GROUPS.map((group) => ({ group, state: 'Empty', coordinator: coordinators.get(group) })), 'every group, with the broker coordinating it');

  // Kill a coordinator other than broker 1 (the first bootstrap address), and ask the survivors about one of its groups.
  const victim = [...coordinators.values()].find((id) => id !== 1) ?? 2;
  const moved = GROUPS.filter((g) => coordinators.get(g) === victim);
  await cluster.brokers.get(victim)!.child.kill('SIGKILL');
  const survivors = [1, 2, 3].filter((id) => id !== victim).map((id) => `127.0.0.1:${cluster.ports.get(id)}`).join(',');
  interface Report {
    partitions: { currentOffset: number }[];
  }
  let report = null as Report | null;
  for (let i = 0; i < 30 && report === null; i++) {
    const res = await runnel(['groups', 'describe', moved[0]!, '--json', '-b', survivors]);
    if (res.code === 0) report = JSON.parse(res.stdout) as Report;
    else await sleep(500);
  }
  t.ok(report !== null, `describe ${moved[0]} succeeds once its coordinator moved`);
  t.same(report?.partitions.map((p) => p.currentOffset), [GROUPS.indexOf(moved[0]!) % 5], 'with the offset committed before');
  const [after] = await admin.describeGroups([moved[0]!]);
  t.not(after!.coordinator, victim, 'coordinated by a surviving broker');

  // Once the dead broker is fenced, the survivors list every group, the moved ones included.
  let relisted: { group: string; coordinator: number }[] | null = null;
  for (let i = 0; i < 30 && relisted === null; i++) {
    const res = await runnel(['groups', 'list', '--json', '-b', survivors]);
    if (res.code === 0) relisted = JSON.parse(res.stdout) as { group: string; coordinator: number }[];
    else await sleep(500);
  }
  t.same(relisted?.map((g) => g.group), GROUPS, 'every group listed again');
  t.notOk(relisted?.some((g) => g.coordinator === victim), 'none on the dead broker');
});
