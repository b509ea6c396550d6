/**
 * etcd itself goes away (SIGKILL of the one etcd server) under acks=all load
 * on three real brokers of a cluster on etcd, then comes back on the same
 * data:
 * - producing (acks=all) to and consuming from existing partitions go on,
 *   past every broker's write lease too: an acks=all write needs the ISR,
 *   which a deposed leader cannot reach, so the lease does not bound it
 *   (docs/ARCHITECTURE.md, "The controller on etcd");
 * - a CreateTopics fails, with an error that names the metadata store and
 *   etcd, not a bare timeout;
 * - once etcd is back, a controller is (re)elected, topics can be created,
 *   and every acknowledged value is read back.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runnel } from '../../client/index.js';
import { drainTopic } from '../faults/drain.js';
import { startLoad } from '../faults/load.js';
import { LEASE_MS, SESSION_MS, startEtcdCluster, within, checkAndStop } from '../support/etcd-cluster.js';
import { Ledger } from '../support/ledger.js';
import { runnel } from './run-cli.js';

/** Every broker's write lease (at most LEASE_MS + SESSION_MS after etcd went away) ends by then. */
const LEASES_OVER_MS = LEASE_MS + SESSION_MS + 1000;
/** Well past the leases: acks=all writes must go on after them. */
const OUTAGE_MS = LEASES_OVER_MS + 5000;

t.test('etcd down: existing partitions keep taking and serving records, metadata changes fail naming etcd, and work again once it is back', async (t) => {
  t.setTimeout(150_000);
  const cluster = await startEtcdCluster(t, { brokers: 3 });
  const { bootstrap, etcd } = cluster;
  await cluster.createReplicated('kept');

  const ledger = new Ledger();
  const load = startLoad({ bootstrap, topic: 'kept', partitions: 3, producers: 2, inFlight: 2, acks: 'all', deliveryTimeoutMs: 60_000, ledger });
  const progress = async (records: number, withinMs = 30_000): Promise<boolean> => {
    const target = load.settled() + records;
    return within(withinMs, () => load.settled() >= target);
  };
  const admin = new Runnel({ bootstrap, clientId: 'outage-admin', requestTimeoutMs: 20_000, retry: { retries: 0 } });
  t.teardown(() => admin.close());
  try {
    t.ok(await progress(300), 'load runs');

    await etcd.stop();
    const downAt = Date.now();
    const ackedAtStop = ledger.check([]).acked;
    const refusal = await admin.admin().createTopic({ name: 'during-outage', partitions: 1, replicationFactor: 3 }).then(() => null, (error: Error) => error);
    t.ok(refusal !== null, 'CreateTopics fails while etcd is down');
    t.match(refusal?.message ?? '', /etcd at http:\/\/127\.0\.0\.1:\d+/, `and says etcd is where it failed: ${refusal?.message}`);
    t.match(refusal?.message ?? '', /metadata store/);
    // Past its lease the controller has stepped down (it cannot renew): now nobody is elected, and the refusal says why.
    await sleep(Math.max(0, LEASE_MS + 1000 - (Date.now() - downAt)));
    const leaderless = await admin.admin().createTopic({ name: 'during-outage', partitions: 1, replicationFactor: 3 }).then(() => null, (error: Error) => error);
    t.match(leaderless?.message ?? '', /no controller is elected: the metadata store \(etcd at http:\/\/127\.0\.0\.1:\d+\) cannot be reached/, `with no controller elected, too: ${leaderless?.message}`);
    await sleep(Math.max(0, LEASES_OVER_MS - (Date.now() - downAt)));
    const ackedAtLeasesOver = ledger.check([]).acked;
    const left = OUTAGE_MS - (Date.now() - downAt);
    if (left > 0) await sleep(left);
    const ackedDuringOutage = ledger.check([]).acked - ackedAtStop;
    t.ok(ackedDuringOutage >= 100, `acks=all records were acknowledged while etcd was down (${ackedDuringOutage} in ${Date.now() - downAt} ms)`);
    const ackedPastLeases = ledger.check([]).acked - ackedAtLeasesOver;
    t.ok(ackedPastLeases >= 100, `and after every write lease had run out (${ackedPastLeases} in the last ${Date.now() - downAt - LEASES_OVER_MS} ms)`);
    const consumed = await drainTopic(bootstrap, 'kept', 20_000);
    t.ok(consumed.length >= ackedAtStop, `and consumers read them (${consumed.length} records)`);

    await etcd.start();
    t.ok(await within(LEASE_MS * 3 + 10_000, async () => (await cluster.controller()) !== -1 && cluster.alive().some((id) => /"event":"controllerActivated"/.test(cluster.brokers.get(id)!.stdout()))), 'a controller leads again once etcd is back');
    let after = await runnel(['topic', 'create', 'after-outage', '--partitions', '2', '--replication-factor', '3', '-b', bootstrap[1]!]);
    for (let i = 0; i < 20 && after.code !== 0; i++) {
      await sleep(500);
      after = await runnel(['topic', 'create', 'after-outage', '--partitions', '2', '--replication-factor', '3', '--if-not-exists', '-b', bootstrap[1]!]);
    }
    t.equal(after.code, 0, `a topic can be created again ${after.stderr}`);
    t.ok(await progress(300), 'load runs on');
  } finally {
    await load.stop();
  }

  await checkAndStop(t, cluster, ledger, 'kept', 900);
});
