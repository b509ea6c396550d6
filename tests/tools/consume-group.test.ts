/**
 * `runnel consume --group G` on a real broker: a run commits exactly what it
 * printed, so the next run with the same group carries on from there (a
 * --max-messages cut in the middle of a fetched batch included); two runs
 * at once share the partitions, and when one is killed the other takes its
 * partitions over from the committed offsets once its session times out;
 * --group does not go with --partition.
 */
import t from 'tap';
import { Runnel } from '../../client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { linesOf, runnel, spawnCli } from './run-cli.js';

let broker: BrokerProcess;

t.before(async () => {
  broker = await startBrokerProcess({ args: ['--set', 'group.consumer.heartbeat.interval.ms=200', '--set', 'group.consumer.min.session.timeout.ms=1000', '--set', 'group.consumer.session.timeout.ms=2000'] });
});

t.teardown(async () => {
  await broker?.stop();
});

const cli = (args: string[], input?: string) => runnel([...args, '--bootstrap', broker.bootstrap], input === undefined ? {} : { input });

t.test('runs of one group carry on where the last stopped, nothing repeated or skipped', async (t) => {
  t.equal((await cli(['topic', 'create', 'lines', '--partitions', '1'])).code, 0);
  const values = Array.from({ length: 10 }, (_, i) => `line-${i}`);
  t.equal((await cli(['produce', 'lines'], `${values.join('\n')}\n`)).code, 0);
  const first = await cli(['consume', 'lines', '--group', 'readers', '--from-beginning', '--max-messages', '4']);
  t.equal(first.code, 0, first.stderr);
  t.same(linesOf(first.stdout), values.slice(0, 4));
  // The rest of that fetch was not printed, so not committed: the next run starts at line-4.
  const second = await cli(['consume', 'lines', '--group', 'readers', '--max-messages', '6', '--timeout-ms', '3000']);
  t.equal(second.code, 0, second.stderr);
  t.same(linesOf(second.stdout), values.slice(4));
  const third = await cli(['consume', 'lines', '--group', 'readers', '--timeout-ms', '1500']);
  t.equal(third.code, 0, third.stderr);
  t.same(linesOf(third.stdout), [], 'nothing left for the group');
  const other = await cli(['consume', 'lines', '--group', 'others', '--from-beginning', '--max-messages', '10']);
  t.same(linesOf(other.stdout), values, 'another group reads everything');
  const refused = await cli(['consume', 'lines', '--group', 'readers', '--partition', '0']);
  t.not(refused.code, 0);
  t.match(refused.stderr, /--group.*--partition|--partition.*--group/);
});

t.test('two consumers of one group share the partitions; killed, one leaves its partitions to the other', async (t) => {
  t.equal((await cli(['topic', 'create', 'shared', '--partitions', '4'])).code, 0);
  // --from-beginning: a partition the group has no commit for yet (b may die before its first) is read from its first record.
  const a = spawnCli(t, ['consume', 'shared', '--group', 'pair', '--from-beginning', '--print-partition', '--bootstrap', broker.bootstrap]);
  const b = spawnCli(t, ['consume', 'shared', '--group', 'pair', '--from-beginning', '--print-partition', '--bootstrap', broker.bootstrap]);
  t.teardown(() => {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  });
  // Both joined once each has its two partitions: wait a few heartbeats, then write a record to every partition, repeatedly, until both have printed.
  const deadline = Date.now() + 20_000;
  let round = 0;
  const client = new Runnel({ bootstrap: [broker.bootstrap] });
  t.teardown(() => client.close());
  const producer = client.producer({ lingerMs: 0 });
  while (Date.now() < deadline && (a.stdout() === '' || b.stdout() === '')) {
    await producer.send({ topic: 'shared', messages: [0, 1, 2, 3].map((partition) => ({ value: `round-${round}`, partition })) });
    round++;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  t.not(a.stdout(), '', 'the first printed records');
  t.not(b.stdout(), '', 'the second printed records');
  const partitions = (out: string): Set<string> => new Set(linesOf(out).map((l) => l.split('\t')[0]!));
  const late = (out: string): Set<string> => new Set(linesOf(out).filter((l) => l.endsWith(`round-${round - 1}`)).map((l) => l.split('\t')[0]!));
  t.same([...late(a.stdout())].filter((p) => late(b.stdout()).has(p)), [], `the last round went to disjoint partitions (a: ${[...partitions(a.stdout())]}, b: ${[...partitions(b.stdout())]})`);
  // b dies without leaving: after its session (2 s) the group gives its partitions to a, which reads on from b's last commit.
  b.child.kill('SIGKILL');
  await b.exited;
  await producer.send({ topic: 'shared', messages: [0, 1, 2, 3].map((partition) => ({ value: `after-${partition}`, partition })) });
  const deadlineAfter = Date.now() + 20_000;
  while (Date.now() < deadlineAfter && linesOf(a.stdout()).filter((l) => l.includes('after-')).length < 4) await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(linesOf(a.stdout()).filter((l) => l.includes('after-')).map((l) => l.split('\t')[1]).sort(), ['after-0', 'after-1', 'after-2', 'after-3'], 'the survivor read every partition\'s new record');
  a.child.kill('SIGINT');
  t.equal((await a.exited).code, 0);
});
