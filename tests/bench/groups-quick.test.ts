/**
 * The consumer-group benchmark still runs: a smoke run (one run of each
 * scenario, small counts, a fast heartbeat so it is not mostly waiting)
 * exits 0, every scenario's runs count all their records (a run with
 * records missing prints FAILED RUN), and every figure line has a value.
 * The figures themselves are not judged: that is the bench's reader's job.
 */
import t from 'tap';
import { runBench } from './run-bench.js';

const TIMEOUT_MS = 90_000;

const FIGURES = [
  'join       kept members, largest gap before the join',
  'join       kept members, largest gap from join to stable + window',
  'join       newcomer, subscribe to first record',
  'join       newcomer, subscribe to partitions assigned',
  'join       join to every member holding its share',
  'join       join to coordinator Stable (describeGroups)',
  'join       bench event loop, worst delay in the window',
  'static     other members, largest gap before the restart',
  'static     other members, largest gap from restart to stable + window',
  'static     restarted member, close to first record (incl. the delay)',
  'static     restarted member, subscribe to first record',
  'static     restarted member, close() alone',
  'static     runs in which a partition moved',
  'throughput assigned partitions, no group',
  'throughput group of 3, from stable',
  'throughput group of 3, from subscribe (join included)',
  'throughput group join, subscribe to stable',
  'throughput group / assigned, run by run',
  'throughput assigned, CPU of this process',
  'throughput group of 3, CPU of this process',
];

t.test('bench/groups --quick prints every figure from runs that consumed every record', async (t) => {
  const { code, stdout, stderr } = await runBench('groups', ['--quick', '--heartbeat-ms', '200', '--window-seconds', '0.5'], TIMEOUT_MS);
  t.equal(code, 0, `exit 0; stderr:\n${stderr}`);
  t.match(stdout, /group\.consumer\.heartbeat\.interval\.ms=200 group\.consumer\.session\.timeout\.ms=\d+/, 'the header names the settings passed to the broker');
  t.notMatch(stdout, /FAILED RUN/, 'no run failed or missed records');
  const runLines = stdout.split('\n').filter((l) => /^ {2}(join|static|throughput) run \d+: /.test(l));
  t.equal(runLines.length, 3, 'one run of each scenario');
  for (const line of runLines) t.match(line, /: (\d[\d,]*)\/\1 records, \d+ duplicates, 0 missing/, `every record counted: ${line.slice(0, 60)}`);
  for (const name of FIGURES) {
    const line = stdout.split('\n').find((l) => l.startsWith(name));
    t.match(line ?? '', /\s\d[\d,.]* (ms|rec\/s|%|runs|us\/rec)(\s|$)/, `a value for "${name.trim()}"`);
  }
});
