/**
 * The HA controller on a real etcd, on real processes (three `runnel
 * broker --controller etcd://...`, every one a candidate) under acks=all
 * load, with a 2 s controller lease and a 6 s broker session:
 * - SIGKILL of the active controller: another broker takes over within the
 *   lease (plus the time to notice), the dead one's partitions get new
 *   leaders, a topic can be created, and a partition leader killed after
 *   the takeover is replaced (elections carry on).
 * - SIGSTOP of the active controller past its lease: another takes over;
 *   woken with SIGCONT, the old one steps down and changes nothing (its
 *   view says every broker missed its session: a commit fencing them is what
 *   it would try, and etcd must refuse it); a CreateTopics sent to it is
 *   forwarded to the new controller.
 * Afterwards every acknowledged value is read back at its offset.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad } from '../faults/load.js';
import { fullIsr, LEASE_MS, SESSION_MS, startEtcdCluster, within, checkAndStop } from '../support/etcd-cluster.js';
import { Ledger } from '../support/ledger.js';
import { runnel } from './run-cli.js';

/** A takeover is due once etcd expires the lease (at most LEASE_MS after the last keepalive); the rest is noticing it on a busy machine. */
const TAKEOVER_WITHIN_MS = LEASE_MS + 3000;

t.test('SIGKILL and SIGSTOP of the active controller under acks=all load: another takes over, a woken one changes nothing, nothing acknowledged lost', async (t) => {
  t.setTimeout(170_000);
  const cluster = await startEtcdCluster(t, { brokers: 3 });
  const { brokers, bootstrap } = cluster;
  await cluster.createReplicated('ha');

  /** Waits for a node other than `old` to become the active controller; returns it and how long it took. */
  const takeover = async (old: number, sinceMs: number): Promise<{ id: number; ms: number }> => {
    const before = new Map([...brokers.keys()].map((id) => [id, id === old ? Infinity : cluster.activations(id)]));
    let id = -1;
    await within(TAKEOVER_WITHIN_MS + 5000, () => {
      id = [...brokers.keys()].find((b) => cluster.activations(b) > before.get(b)!) ?? -1;
      return id !== -1;
    });
    return { id, ms: Date.now() - sinceMs };
  };

  const ledger = new Ledger();
  const load = startLoad({ bootstrap, topic: 'ha', partitions: 3, producers: 2, inFlight: 2, acks: 'all', deliveryTimeoutMs: 60_000, ledger });
  const progress = async (records: number): Promise<void> => {
    const target = load.settled() + records;
    for (let i = 0; i < 600 && load.settled() < target; i++) await sleep(50);
  };
  try {
    await progress(300);

    // SIGKILL of the active controller.
    const killed = await cluster.controller();
    t.ok(killed >= 1, `node ${killed} is the controller`);
    const killedAt = Date.now();
    brokers.get(killed)!.child.kill('SIGKILL');
    await brokers.get(killed)!.exited;
    const first = await takeover(killed, killedAt);
    t.ok(first.id !== -1 && first.ms <= TAKEOVER_WITHIN_MS, `node ${first.id} took over ${first.ms} ms after the SIGKILL (lease ${LEASE_MS} ms)`);
    t.equal(await cluster.controller(), first.id, 'etcd names it');
    const firstTakeoverVersion = (await cluster.entries()).length;
    await cluster.until('ha', (d) => d.partitions.every((p) => p.leader !== killed && p.leader !== -1), `the new controller moved node ${killed}'s leaderships (its fresh session of ${SESSION_MS} ms ran out)`);
    const fencedSince = (await cluster.entries()).slice(firstTakeoverVersion).filter((e) => e.change.kind === 'brokerFenced').map((e) => (e.change as { brokerId: number }).brokerId);
    t.same(fencedSince, [killed], 'the new controller fenced the dead node only: the live brokers got fresh sessions, not instant fencing');
    const afterKill = await runnel(['topic', 'create', 'after-kill', '--partitions', '2', '--replication-factor', '2', '-b', bootstrap[first.id - 1]!]);
    t.equal(afterKill.code, 0, `a topic can be created after the takeover ${afterKill.stderr}`);
    await progress(200);
    cluster.start(killed);
    await brokers.get(killed)!.printed(/"event":"listening"/);
    await cluster.until('ha', fullIsr, `node ${killed} restarted and rejoined every ISR`);
    t.equal(cluster.activations(killed), 0, 'the restarted node is a candidate, not the controller');

    // A partition leader that is not the controller dies: the new controller elects another.
    const before = await cluster.describe('ha');
    const victim = before.partitions.map((p) => p.leader).find((leader) => leader !== first.id)!;
    brokers.get(victim)!.child.kill('SIGKILL');
    await brokers.get(victim)!.exited;
    const moved = await cluster.until('ha', (d) => d.partitions.every((p) => p.leader !== victim && p.leader !== -1), `node ${victim}'s partitions were given new leaders`);
    for (const p of before.partitions.filter((q) => q.leader === victim)) t.ok(moved.partitions[p.partition]!.leaderEpoch > p.leaderEpoch, `p${p.partition}: leader epoch bumped`);
    await progress(200);
    cluster.start(victim);
    await brokers.get(victim)!.printed(/"event":"listening"/);
    await cluster.until('ha', fullIsr, `node ${victim} restarted and rejoined every ISR`);
    await progress(200);

    // SIGSTOP of the active controller, past its lease and every broker's session.
    const paused = await cluster.controller();
    const pausedAt = Date.now();
    brokers.get(paused)!.child.kill('SIGSTOP');
    const second = await takeover(paused, pausedAt);
    t.ok(second.id !== -1 && second.ms <= TAKEOVER_WITHIN_MS, `node ${second.id} took over ${second.ms} ms after the SIGSTOP`);
    const takeoverVersion = (await cluster.entries()).length;
    await sleep(SESSION_MS + 1000 - (Date.now() - pausedAt));
    brokers.get(paused)!.child.kill('SIGCONT');
    await brokers.get(paused)!.printed(/"event":"controllerDeactivated"/, 10_000);
    t.pass(`the woken node ${paused} stopped acting as the controller`);
    await sleep(2000);
    const since = (await cluster.entries()).slice(takeoverVersion);
    const others = [...brokers.keys()].filter((id) => id !== paused);
    t.same(since.filter((e) => e.change.kind === 'brokerFenced' && others.includes(e.change.brokerId)).map((e) => e.change), [], 'no live broker was fenced after the takeover: the woken controller\'s view (every session expired) changed nothing');
    const why = /etcd refused its metadata commit|its etcd lease was not renewed/.exec(brokers.get(paused)!.stdout())?.[0];
    t.ok(why !== undefined, `it stepped down because ${why}`);
    const afterPause = await runnel(['topic', 'create', 'after-pause', '--partitions', '1', '--replication-factor', '3', '-b', bootstrap[paused - 1]!]);
    t.equal(afterPause.code, 0, `a CreateTopics sent to the woken node is forwarded to the new controller ${afterPause.stderr}`);
    t.equal(await cluster.controller(), second.id, `node ${second.id} still leads`);
    await cluster.until('ha', fullIsr, `node ${paused} is back in every ISR`);
    await progress(200);
  } finally {
    await load.stop();
  }

  await checkAndStop(t, cluster, ledger, 'ha', 1300);
});
