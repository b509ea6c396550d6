/**
 * The queue benchmark still runs: a smoke run (one run of each figure,
 * small counts) exits 0, every run accepted every record exactly once (a
 * run with records missing or accepted twice prints FAILED RUN), no delayed
 * record came early, and every figure line has a value. The figures
 * themselves are not judged: that is the bench's reader's job.
 */
import t from 'tap';
import { runBench } from './run-bench.js';

const TIMEOUT_MS = 60_000;

const FIGURES = [
  'throughput assigned consumer, one partition',
  'throughput share group of 1, acked one by one',
  'throughput share group of 1 / assigned, run by run',
  'throughput share group of 4, acked one by one',
  'throughput share group of 4 / assigned, run by run',
  'throughput share group of 4, CPU of this process',
  'ordering   ordering "key", 4 members',
  'ordering   unordered, 4 members',
  'ordering   key / unordered, run by run',
  'delay      lateness p50',
  'delay      lateness p99',
  'delay      lateness max',
];

t.test('bench/queues --quick prints every figure from runs that accepted every record once', async (t) => {
  const { code, stdout, stderr } = await runBench('queues', ['--quick', '--members', '1,4', '--records', '5000', '--delayed', '200', '--delay-seconds', '0.5'], TIMEOUT_MS);
  t.equal(code, 0, `exit 0; stderr:\n${stderr}`);
  t.notMatch(stdout, /FAILED RUN/, 'no run failed, missed records or accepted one twice');
  const runLines = stdout.split('\n').filter((l) => /^ {2}(throughput|ordering|delay) .*run \d+: /.test(l));
  t.equal(runLines.length, 6, 'one run of each: assigned, 1 and 4 members, key, unordered, delay');
  for (const line of runLines) t.match(line, /: (\d[\d,]*)\/\1 records, 0 duplicates, 0 missing/, `every record accepted once: ${line.slice(0, 60)}`);
  t.match(stdout, /records handed out before due \(all runs\)\s+0 records/, 'no delayed record came early');
  for (const name of FIGURES) {
    const line = stdout.split('\n').find((l) => l.startsWith(name));
    t.match(line ?? '', /\s\d[\d,.]* (ms|rec\/s|%|us\/rec)(\s|$)/, `a value for "${name.trim()}"`);
  }
});
