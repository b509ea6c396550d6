/**
 * Lost Produce responses on real sockets (tests/support/lossy-proxy.ts): the
 * broker appended each batch, its answer never reached the producer, which
 * retries. With idempotence (the default) every record is in its partition
 * exactly once and in send order; the same run with `idempotent: false`
 * writes duplicates, which shows the faults really hit appended batches.
 * Then the broker is killed (and, in a second round, stopped cleanly) right
 * after a swallowed answer and started again: the retry meets a broker that
 * rebuilt its producer state from the log (or from the snapshot the clean
 * stop wrote), and is still not written twice.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Runnel, type RunnelOptions } from '../../../client/index.js';
import { freshDataDir, startBrokerProcess, type BrokerProcess } from '../../support/broker-process.js';
import { unusedPort } from '../../support/unused-port.js';
import { lossyProxies } from '../../support/lossy-proxy.js';
import { ledgerProblems, readLedger, sendLedger } from './ledger.js';

/** The producer snapshot files in a broker's data directory (one folder per partition). */
function snapshotFiles(dataDir: string): string[] {
  return readdirSync(dataDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => readdirSync(join(dataDir, entry.name)).filter((name) => name.endsWith('.snapshot')).map((name) => `${entry.name}/${name}`));
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const PARTITIONS = 3;
const PER_PARTITION = 150;

let broker: BrokerProcess;
let plain: Runnel;

t.before(async () => {
  broker = await startBrokerProcess();
  plain = new Runnel({ bootstrap: [broker.bootstrap], clientId: 'idem-check', logger: silent, requestTimeoutMs: 10_000 });
  await plain.admin().createTopic({ name: 'lost', partitions: PARTITIONS });
});

t.teardown(async () => {
  await plain.close();
  await broker.stop();
});

const options = (b: BrokerProcess): RunnelOptions => ({ bootstrap: [b.bootstrap], clientId: 'idem', logger: silent, requestTimeoutMs: 10_000, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } });

/** Sends the ledger through proxies that swallow every `dropEvery`-th Produce answer; what each partition holds after. */
async function run(tag: string, idempotent: boolean, dropEvery: number): Promise<{ got: string[][]; dropped: number }> {
  const proxies = lossyProxies();
  let answers = 0;
  proxies.shouldDrop = () => ++answers % dropEvery === 0;
  const runnel = new Runnel(options(broker), { transport: proxies.transport });
  try {
    const producer = runnel.producer({ idempotent, lingerMs: 2 });
    await sendLedger(producer, { topic: 'lost', tag, partitions: PARTITIONS, perPartition: PER_PARTITION, pauseEvery: { records: 2, ms: 3 } });
    await producer.close();
  } finally {
    await runnel.close();
    await proxies.close();
  }
  return { got: await readLedger(plain, { topic: 'lost', tag, partitions: PARTITIONS }), dropped: proxies.dropped.length };
}

t.test('idempotent (the default): lost answers are retried, every record is written once, in send order', async (t) => {
  const { got, dropped } = await run('idem', true, 4);
  t.ok(dropped >= 3, `${dropped} Produce answers were lost`);
  t.same(ledgerProblems(got, { tag: 'idem', perPartition: PER_PARTITION }), [], 'no duplicate, no gap, send order, record by record');
});

t.test('control: the same faults without idempotence write duplicates', async (t) => {
  const { got, dropped } = await run('plain', false, 4);
  t.ok(dropped >= 3, `${dropped} Produce answers were lost`);
  const total = got.reduce((sum, values) => sum + values.length, 0);
  t.ok(total > PARTITIONS * PER_PARTITION, `${total - PARTITIONS * PER_PARTITION} records were written twice`);
});

t.test('a broker killed, or stopped, right after a lost answer rebuilds its producer state from the log or its snapshot: the retry is not written twice', async (t) => {
  const port = await unusedPort();
  const dataDir = freshDataDir();
  let current = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
  t.teardown(() => current.stop());
  const setup = new Runnel(options(current));
  await setup.admin().createTopic({ name: 'restarted', partitions: PARTITIONS });
  await setup.close();
  const proxies = lossyProxies();
  let answers = 0;
  let restart: Promise<void> | null = null;
  // Once per round, right after an answer was swallowed: the batch is in the log, and its producer retries it against a restarted broker.
  proxies.shouldDrop = () => restart === null && ++answers % 12 === 0;
  let round = 0;
  const snapshotsAtStop: string[] = [];
  proxies.onDrop = () => {
    restart = (async () => {
      // Round 0: a crash (the state comes from the log's batch headers); round 1: a clean stop (from the snapshot it writes).
      if (round === 0) await current.kill('SIGKILL');
      else {
        await current.stop();
        snapshotsAtStop.push(...snapshotFiles(dataDir));
      }
      current = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
    })();
  };
  const runnel = new Runnel(options(current), { transport: proxies.transport });
  const tags = ['restart0', 'restart1'];
  let restarts = 0;
  try {
    const producer = runnel.producer({ lingerMs: 2 });
    for (const tag of tags) {
      answers = 0;
      await sendLedger(producer, { topic: 'restarted', tag, partitions: PARTITIONS, perPartition: PER_PARTITION / 3, pauseEvery: { records: 1, ms: 3 } });
      if (restart !== null) {
        await restart;
        restarts++;
        restart = null;
      }
      round++;
    }
    await producer.close();
  } finally {
    await runnel.close();
    await proxies.close();
  }
  t.equal(restarts, 2, `the broker was restarted ${restarts} times, each right after it appended a batch whose answer was lost`);
  t.ok(snapshotsAtStop.length > 0, `the clean stop left producer snapshots (${snapshotsAtStop.join(', ')})`);
  const check = new Runnel(options(current));
  for (const tag of tags) {
    const got = await readLedger(check, { topic: 'restarted', tag, partitions: PARTITIONS });
    t.same(ledgerProblems(got, { tag, perPartition: PER_PARTITION / 3 }), [], `${tag}: no duplicate, no gap, send order, record by record`);
  }
  await check.close();
});
