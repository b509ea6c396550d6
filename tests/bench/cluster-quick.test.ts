/**
 * The 3-broker benchmark still runs: a smoke run (small counts, one run of
 * each line) exits 0 and prints every line for both sides with a value and
 * the broker CPU, and the goal lines with their ratios. Each run deletes its
 * topic and waits until every broker of its side has removed the files
 * (bench-support.ts dropTopic with each broker's data directory): waiting
 * on a directory that is not a broker's, or for ever, fails here. The
 * figures themselves are not judged: that is the bench's reader's job.
 */
import t from 'tap';
import { runBench } from './run-bench.js';

const TIMEOUT_MS = 120_000;

t.test('bench/cluster --quick prints every line', async (t) => {
  const { code, stdout, stderr } = await runBench('cluster', ['--quick'], TIMEOUT_MS);
  t.equal(code, 0, `exit 0; stderr:\n${stderr}`);
  for (const side of ['single', 'cluster']) {
    for (const what of ['produce acks=1', 'produce acks=all', 'consume']) {
      t.match(stdout, new RegExp(`^${side} +${what}.* [\\d,.]+ rec/s +[\\d,.]+ MB/s.*broker cpu [\\d,.]+ us/rec$`, 'm'), `${side} ${what}`);
    }
  }
  t.match(stdout, /^cluster acks=all \/ single acks=1, 100 B records\/s: [\d,.]+ % \(goal >= 50 %\)$/m, 'the throughput goal line');
  t.match(stdout, /^cluster acks=all p99 @ [\d,]+\/s: [\d,.]+ ms \(goal < 10 ms\)$/m, 'the latency goal line');
});
