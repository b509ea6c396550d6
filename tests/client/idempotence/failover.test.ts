/**
 * Lost answers and leader failovers together, on real processes (`runnel
 * controller` and three `runnel broker`s, RF 3, min.insync.replicas 2):
 * whenever a Produce answer is swallowed (tests/support/lossy-proxy.ts) its
 * broker is killed with SIGKILL at once, so the producer retries a batch
 * that every in-sync replica has against a new leader. That leader knows the
 * producer's sequences only if followers keep the producer state as they
 * copy batches (partition.ts): every record must then be in its partition
 * exactly once, in send order. The killed broker is started again before
 * the next round, and catches up as a follower.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runnel } from '../../../client/index.js';
import { lossyProxies } from '../../support/lossy-proxy.js';
import { startProcessCluster } from '../../support/process-cluster.js';
import { ledgerProblems, readLedger, sendLedger } from './ledger.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const PARTITIONS = 3;
const PER_PARTITION = 60;
const ROUNDS = 2;

t.test('an idempotent producer writes every record once, in order, through lost answers each followed by the death of the leader', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-idem-failover-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = await startProcessCluster(t, { dir, brokers: 3 });
  t.teardown(async () => {
    for (const cli of [...cluster.brokers.values(), cluster.controller]) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });
  const bootstrap = [...cluster.ports.values()].map((port) => `127.0.0.1:${port}`);
  const retry = { initialBackoffMs: 50, maxBackoffMs: 500 };
  const check = new Runnel({ bootstrap, logger: silent, retry });
  t.teardown(() => check.close());
  await check.admin().createTopic({ name: 'idem-failover', partitions: PARTITIONS, replicationFactor: 3, config: { 'min.insync.replicas': '2' } });

  const idOf = new Map([...cluster.ports].map(([id, port]) => [`127.0.0.1:${port}`, id]));
  const proxies = lossyProxies();
  let answers = 0;
  let victim: number | null = null;
  proxies.shouldDrop = () => victim === null && ++answers % 10 === 0;
  proxies.onDrop = ({ broker }) => {
    victim = idOf.get(broker)!;
    cluster.brokers.get(victim)!.child.kill('SIGKILL');
  };
  const runnel = new Runnel({ bootstrap, logger: silent, retry, requestTimeoutMs: 5000 }, { transport: proxies.transport });
  const tags = Array.from({ length: ROUNDS }, (_, r) => `round${r}`);
  const killed: number[] = [];
  try {
    const producer = runnel.producer({ lingerMs: 2, deliveryTimeoutMs: 60_000 });
    for (const tag of tags) {
      answers = 0;
      await sendLedger(producer, { topic: 'idem-failover', tag, partitions: PARTITIONS, perPartition: PER_PARTITION, pauseEvery: { records: 1, ms: 5 } });
      if (victim !== null) {
        killed.push(victim);
        // Back before the next round: it rejoins as a follower and catches up from the new leaders.
        const cli = cluster.start(victim);
        await cli.printed(/"event":"listening"/);
        victim = null;
      }
    }
    await producer.close();
  } finally {
    await runnel.close();
    await proxies.close();
  }
  t.equal(killed.length, ROUNDS, `a leader was killed right after a lost answer in every round (brokers ${killed.join(', ')})`);
  for (const tag of tags) {
    const got = await readLedger(check, { topic: 'idem-failover', tag, partitions: PARTITIONS, timeoutMs: 30_000 });
    t.same(ledgerProblems(got, { tag, perPartition: PER_PARTITION }), [], `${tag}: no duplicate, no gap, send order, record by record`);
  }
});
