/**
 * `runnel groups` as a user runs it (the built CLI in a child process),
 * against scripted group brokers (tests/client/fake-groups.ts): the exact
 * `--json` shapes, the tables with totals, the reset plan that changes
 * nothing without --execute, the refusal while members are active, and the
 * one-line errors.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fakeGroupsCluster, key, type FakeGroupsCluster } from '../client/fake-groups.js';
import { linesOf, runnel } from './run-cli.js';
import { inRepo } from '../support/repo-root.js';

const MINUTE = 60_000;
const cliDoc = readFileSync(inRepo('docs', 'CLI.md'), 'utf8');

async function cluster(t: Test): Promise<FakeGroupsCluster> {
  const c = await fakeGroupsCluster(t, { brokers: 2, topics: { orders: 2 } });
  const first = Date.now() - 10 * MINUTE;
  c.append('orders', 0, 10, first, MINUTE);
  c.append('orders', 1, 4, first, MINUTE);
  c.groups.set('billing', {
    coordinator: 2,
    state: 'Stable',
    members: [{ memberId: 'm-1', clientId: 'billing-app', host: '/10.0.0.7', instanceId: 'pod-0', memberEpoch: 4, assignment: [{ topic: 'orders', partitions: [0, 1] }] }],
    offsets: new Map([[key('orders', 0), 7], [key('orders', 1), 4]]),
  });
  c.groups.set('audit', { coordinator: 1, state: 'Empty', members: [], offsets: new Map([[key('orders', 0), 2]]) });
  return c;
}

t.test('groups list and describe print the issue\'s shapes', async (t) => {
  const c = await cluster(t);
  const b = ['-b', c.bootstrap];

  const list = await runnel(['groups', 'list', ...b, '--json']);
  t.equal(list.code, 0, list.stderr);
  t.same(JSON.parse(list.stdout), [{ group: 'audit', state: 'Empty', coordinator: 1 }, { group: 'billing', state: 'Stable', coordinator: 2 }], 'both brokers\' groups');
  const table = await runnel(['groups', 'list', ...b]);
  t.same(linesOf(table.stdout).map((l) => l.split(/\s+/)), [['GROUP', 'STATE', 'COORDINATOR'], ['audit', 'Empty', '1'], ['billing', 'Stable', '2']]);

  const stable = await runnel(['groups', 'list', '--state', 'stable', ...b, '--json']);
  t.same(JSON.parse(stable.stdout), [{ group: 'billing', state: 'Stable', coordinator: 2 }], '--state, in any case');
  const bogus = await runnel(['groups', 'list', '--state', 'running', ...b]);
  t.equal(bogus.code, 1);
  t.match(bogus.stderr, /Give one of Empty, Assigning, Reconciling, Stable\.\n$/);

  const json = await runnel(['groups', 'describe', 'billing', ...b, '--json']);
  t.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { partitions: { lagSeconds: number }[] };
  t.same(Object.keys(report), ['group', 'state', 'members', 'partitions'], 'exactly the issue\'s keys');
  t.same(report.partitions.map((p) => Object.keys(p)), [0, 1].map(() => ['topic', 'partition', 'currentOffset', 'logEndOffset', 'lag', 'lagSeconds', 'member']));
  t.match(report, {
    group: 'billing',
    state: 'Stable',
    members: [{ memberId: 'm-1', instanceId: 'pod-0', clientId: 'billing-app', host: '/10.0.0.7', memberEpoch: 4, assignment: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }] }],
    partitions: [
      { topic: 'orders', partition: 0, currentOffset: 7, logEndOffset: 10, lag: 3, member: 'm-1' },
      { topic: 'orders', partition: 1, currentOffset: 4, logEndOffset: 4, lag: 0, lagSeconds: 0, member: 'm-1' },
    ],
  });
  // Offset 7 was stamped 3 minutes ago (10 minutes back, one a minute).
  t.ok(Math.abs(report.partitions[0]!.lagSeconds - 180) < 30, `lag seconds ${report.partitions[0]!.lagSeconds}`);

  const human = await runnel(['groups', 'describe', 'billing', ...b]);
  t.equal(human.code, 0, human.stderr);
  const lines = linesOf(human.stdout);
  t.match(lines[0], /^Group billing: Stable, 1 member \(assignor uniform, group epoch 3\)$/);
  t.ok(lines.some((l) => /^MEMBER\s+INSTANCE\s+CLIENT-ID\s+HOST\s+EPOCH\s+PARTITIONS$/.test(l)));
  t.ok(lines.some((l) => /^m-1\s+pod-0\s+billing-app\s+\/10\.0\.0\.7\s+4\s+orders-0,orders-1$/.test(l)));
  t.ok(lines.some((l) => /^TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+LAG-SECONDS\s+MEMBER\s+HOST$/.test(l)));
  t.ok(lines.some((l) => /^orders\s+0\s+7\s+10\s+3\s+1\d\d\.\d\s+m-1\s+\/10\.0\.0\.7$/.test(l)), 'a partition line');
  t.ok(lines.some((l) => /^\(total\)\s+3\s+1\d\d\.\d\s*$/.test(l)), 'totals: records summed, the oldest record\'s age');

  const missing = await runnel(['groups', 'describe', 'ghost', ...b]);
  t.equal(missing.code, 1);
  t.equal(missing.stdout, '');
  t.equal(missing.stderr, 'error: group ghost does not exist; see the groups with `runnel groups list`\n');
  t.ok(cliDoc.includes(missing.stderr), 'CLI.md shows that line as printed');
});

t.test('groups reset-offsets shows the plan, changes nothing without --execute, and is refused while members are active', async (t) => {
  const c = await cluster(t);
  const b = ['-b', c.bootstrap];

  const dry = await runnel(['groups', 'reset-offsets', 'audit', '--topic', 'orders', '--to-earliest', '--dry-run', ...b]);
  t.equal(dry.code, 0, dry.stderr);
  t.same(linesOf(dry.stdout).map((l) => l.split(/\s+/)), [
    ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
    ['orders', '0', '2', '0'],
    ['orders', '1', '-', '0'],
    ['Dry', 'run:', 'nothing', 'was', 'changed.', 'Run', 'again', 'with', '--execute', 'to', 'commit', 'these', 'offsets.'],
  ]);
  t.equal(c.commits.length, 0, 'a dry run commits nothing');

  const run = await runnel(['groups', 'reset-offsets', 'audit', '--topic', 'orders:0', '--shift-by', '5', '--execute', '--json', ...b]);
  t.equal(run.code, 0, run.stderr);
  t.same(JSON.parse(run.stdout), { group: 'audit', executed: true, partitions: [{ topic: 'orders', partition: 0, currentOffset: 2, newOffset: 7 }] });
  t.equal(c.groups.get('audit')!.offsets.get(key('orders', 0)), 7);
  t.match(c.commits, [{ memberId: '', memberEpoch: -1 }]);
  const back = await runnel(['groups', 'reset-offsets', 'audit', '--topic', 'orders:0', '--shift-by', '-3', '--execute', '--json', ...b]);
  t.equal(back.code, 0, back.stderr);
  t.match(JSON.parse(back.stdout), { partitions: [{ currentOffset: 7, newOffset: 4 }] }, 'a negative shift, written as the next argument');

  const liveDry = await runnel(['groups', 'reset-offsets', 'billing', '--all-topics', '--to-offset', '1', ...b]);
  t.equal(liveDry.code, 0);
  t.match(liveDry.stderr, /^warning: group billing has 1 active member; --execute is refused until they stop/);

  const commitsBefore = c.commits.length;
  const refused = await runnel(['groups', 'reset-offsets', 'billing', '--all-topics', '--to-offset', '1', '--execute', ...b]);
  t.equal(refused.code, 1);
  t.equal(refused.stdout, '');
  t.match(refused.stderr, /^error: Group "billing" has 1 active member \(m-1 \(billing-app at \/10\.0\.0\.7\)\); its offsets can be reset only while it has none: stop its consumers first \(or wait for their sessions to time out\); see its members with `runnel groups describe billing`\n$/);
  t.ok(cliDoc.includes(refused.stderr), 'CLI.md shows the refusal as printed');
  t.equal(c.commits.length, commitsBefore, 'nothing more was committed');
  t.equal(c.groups.get('billing')!.offsets.get(key('orders', 0)), 7);

  const none = await runnel(['groups', 'reset-offsets', 'audit', '--topic', 'orders', ...b]);
  t.equal(none.code, 1);
  t.match(none.stderr, /^error: give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime ISO or --shift-by N\n$/);
  const two = await runnel(['groups', 'reset-offsets', 'audit', '--all-topics', '--to-latest', '--to-earliest', ...b]);
  t.match(two.stderr, /more than one was given/);
  const both = await runnel(['groups', 'reset-offsets', 'audit', '--all-topics', '--to-latest', '--dry-run', '--execute', ...b]);
  t.equal(both.stderr, 'error: give --dry-run or --execute, not both\n');
  const where = await runnel(['groups', 'reset-offsets', 'audit', '--to-latest', ...b]);
  t.match(where.stderr, /^error: give the partitions to reset: --topic T/);
});

t.test('groups delete reports each group and fails for any it could not delete', async (t) => {
  const c = await cluster(t);
  const b = ['-b', c.bootstrap];
  const res = await runnel(['groups', 'delete', 'audit', 'billing', 'ghost', ...b]);
  t.equal(res.code, 1);
  t.equal(res.stdout, 'Deleted group audit.\n');
  t.same(linesOf(res.stderr), [
    'error: group billing still has members; stop its consumers first (or wait for their sessions to time out), see them with `runnel groups describe billing`',
    'error: group ghost does not exist; see the groups with `runnel groups list`',
  ]);
  t.notOk(c.groups.has('audit'));
  const json = await runnel(['groups', 'delete', 'ghost', '--json', ...b]);
  t.same(JSON.parse(json.stdout), [{ group: 'ghost', error: { name: 'GROUP_ID_NOT_FOUND', message: 'No such group.' } }]);
});
