/**
 * `runnel topic list --internal`: the broker's internal topics (names
 * starting with `__`) are listed only when asked for, also with
 * `--under-replicated`. The CLI runs as a user runs it (built code) against
 * a scripted cluster (tests/client/fake-cluster.ts) that has one.
 */
import t from 'tap';
import { FakeCluster } from '../client/fake-cluster.js';
import { runnel } from './run-cli.js';

t.test('internal topics are hidden from topic list unless --internal', async (t) => {
  const cluster = await FakeCluster.start(t, [1, 2], { orders: { partitions: 1, replicas: [1, 2] }, __offsets: { partitions: 2, replicas: [1, 2] } });
  const bootstrap = ['--bootstrap', cluster.bootstrap.join(',')];
  const plain = await runnel(['topic', 'list', '--json', ...bootstrap]);
  t.equal(plain.code, 0, plain.stderr);
  t.same(JSON.parse(plain.stdout), ['orders'], 'without --internal: only the clients\' topics');
  const all = await runnel(['topic', 'list', '--internal', '--json', ...bootstrap]);
  t.equal(all.code, 0, all.stderr);
  t.same(JSON.parse(all.stdout), ['__offsets', 'orders'], 'with --internal: __offsets too');

  cluster.partition('__offsets', 1).isr = [cluster.partition('__offsets', 1).leader];
  const hidden = await runnel(['topic', 'list', '--under-replicated', '--json', ...bootstrap]);
  t.same(JSON.parse(hidden.stdout), [], '--under-replicated alone leaves internal topics out');
  const shown = await runnel(['topic', 'list', '--under-replicated', '--internal', '--json', ...bootstrap]);
  t.same((JSON.parse(shown.stdout) as { topic: string; partition: number }[]).map((p) => [p.topic, p.partition]), [['__offsets', 1]], 'with --internal its under-replicated partition is listed');
});
