/**
 * Controller election on a real etcd, in process: candidacies and their
 * controller seats on etcd metadata stores, one per node, as startBroker
 * wires them (broker/cluster/etcd-controller.ts, without the broker).
 *
 * The pause of a controller is made exact with a ManualClock: a node whose
 * clock does not move never renews its lease (its keepalive timer never
 * fires) and never notices its horizon passing, exactly as a SIGSTOPped
 * process that has just woken and not yet run its timers. etcd expires its
 * lease, another node takes over, and then the paused one tries to commit:
 * etcd must refuse it, and it must step down.
 */
import t from 'tap';
import type { Etcd3 } from 'etcd3';
import { ProtocolError } from '../../protocol/errors.js';
import { ControllerSeat } from '../../broker/cluster/controller-seat.js';
import { EtcdCandidacy } from '../../broker/cluster/etcd-candidacy.js';
import { brokerConfig } from '../../broker/config.js';
import { createLogger } from '../../broker/log.js';
import { parseEtcdAddress } from '../../broker/metadata/etcd-address.js';
import { connectEtcd } from '../../broker/metadata/etcd-client.js';
import { EtcdMetadataStore } from '../../broker/metadata/etcd-store.js';
import { ManualClock, systemClock, type Clock } from '../../broker/world/clock.js';
import { systemRng } from '../../broker/world/rng.js';
import { startEtcd } from '../support/etcd.js';

const LEASE_MS = 2000;
const etcd = await startEtcd(t);
const client = connectEtcd(parseEtcdAddress(etcd.url));
t.teardown(() => client.close());
const logger = createLogger({ level: 'silent' });

interface Node {
  id: number;
  store: EtcdMetadataStore;
  candidacy: EtcdCandidacy;
  seat: ControllerSeat;
  close(): Promise<void>;
}

async function node(id: number, prefix: string, clock: Clock, etcdClient: Etcd3 = client): Promise<Node> {
  const config = brokerConfig({ 'node.id': id, 'controller.lease.ms': LEASE_MS, 'controller.address': etcd.url, 'controller.etcd.prefix': prefix });
  const store = await EtcdMetadataStore.open({ client: etcdClient, prefix, clock, requireFence: true });
  let seat: ControllerSeat | undefined;
  const candidacy = new EtcdCandidacy({
    client: etcdClient, prefix, clock, rng: systemRng, logger, leaseMs: LEASE_MS,
    me: () => ({ nodeId: id, host: '127.0.0.1', port: 9000 + id }),
    onElected: (fence) => seat!.activate(fence),
    onDeposed: (why) => seat!.deactivate(why),
  });
  seat = new ControllerSeat({ store, config, rng: systemRng, clock, logger, etcdHosts: [etcd.url], election: candidacy });
  await candidacy.start();
  return { id, store, candidacy, seat, close: async () => { await candidacy.close(); await store.close(); } };
}

async function eventually(test: () => boolean, withinMs: number): Promise<boolean> {
  for (let waited = 0; waited < withinMs && !test(); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  return test();
}

/** Registers broker `id` through `seat` and unfences it (a heartbeat caught up past its registration). */
async function join(seat: ControllerSeat, id: number): Promise<void> {
  const { brokerEpoch } = await seat.registerBroker({ brokerId: id, clusterId: '', incarnationId: `i${id}`, host: '127.0.0.1', port: 9000 + id, rack: null });
  await seat.heartbeat({ brokerId: id, brokerEpoch, metadataVersion: brokerEpoch });
}

const topic = (name: string) => ({ name, partitions: 1, replicationFactor: 1, configs: {} });

t.test('the first candidate leads, the next follows; a clean close hands over at once', async (t) => {
  const a = await node(1, '/handover/', systemClock);
  t.ok(await eventually(() => a.seat.active, 5000), 'the only candidate becomes the active controller');
  const b = await node(2, '/handover/', systemClock);
  t.ok(await eventually(() => b.candidacy.leader?.nodeId === 1, 5000), 'the second sees node 1 lead');
  t.equal(b.seat.active, false);
  await join(a.seat, 1);
  await a.seat.createTopic(topic('made-by-1'));
  await t.rejects(b.seat.createTopic(topic('made-by-2')), { errorName: 'NOT_CONTROLLER', message: /node 2 is not the active controller; node 1 at 127\.0\.0\.1:9001 is/ }, 'a follower answers NOT_CONTROLLER naming the leader');
  t.ok(await eventually(() => b.store.image.topics.has('made-by-1'), 5000), 'and follows what the leader commits');

  const closedAt = Date.now();
  await a.close();
  t.ok(await eventually(() => b.seat.active, 5000), 'node 2 takes over');
  t.ok(Date.now() - closedAt < LEASE_MS, `at once, not a lease later (${Date.now() - closedAt} ms): the closing node revoked its lease`);
  await join(b.seat, 2);
  await b.seat.createTopic(topic('made-by-2'));
  t.same([...b.store.image.topics.keys()].sort(), ['made-by-1', 'made-by-2'], 'the new controller continues the same metadata');
  await b.close();
});

t.test('a paused controller deposed meanwhile cannot commit: etcd refuses, nothing lands, it steps down', async (t) => {
  const pausedClock = new ManualClock(1_000_000);
  const a = await node(1, '/paused/', pausedClock);
  t.ok(await eventually(() => a.seat.active, 5000), 'node 1 leads');
  await join(a.seat, 1);
  const versionBefore = a.store.image.version;

  // Node 1's clock stands still: no keepalive, its lease runs out in etcd; node 2 takes over.
  const b = await node(2, '/paused/', systemClock);
  t.ok(await eventually(() => b.seat.active, LEASE_MS + 4000), 'node 2 takes over once node 1\'s lease expired in etcd');
  t.ok(a.seat.active, 'node 1, paused, still believes it leads (its clock has not reached its horizon)');

  await t.rejects(a.seat.createTopic(topic('zombie')), { errorName: 'NOT_CONTROLLER', message: /etcd refused its metadata commit/ }, 'its commit is refused by etcd');
  t.equal(a.seat.active, false, 'and it stepped down at once');
  await t.rejects(a.seat.registerBroker({ brokerId: 3, clusterId: '', incarnationId: 'i3', host: '127.0.0.1', port: 9003, rack: null }), ProtocolError, 'it answers nothing as controller any more');
  const reader = await EtcdMetadataStore.open({ client, prefix: '/paused/', clock: systemClock });
  t.notOk(reader.image.topics.has('zombie'), 'nothing it tried is in etcd');
  t.equal(reader.image.version, b.store.image.version, 'the metadata is what node 2 made of it');
  t.ok(reader.image.version >= versionBefore);
  t.equal(b.candidacy.leader?.nodeId, 2);
  await join(b.seat, 2);
  await b.seat.createTopic(topic('after'));
  t.ok(await eventually(() => a.store.image.topics.has('after'), 5000), 'the deposed node follows the new controller\'s commits');
  await reader.close();
  await Promise.all([a.close(), b.close()]);
});

t.test('a controller whose lease horizon passed answers nothing, even before it notices', async (t) => {
  const clock = new ManualClock(5_000_000);
  const a = await node(1, '/horizon/', clock);
  t.ok(await eventually(() => a.seat.active, 5000), 'node 1 leads');
  // Jump past the horizon without letting a keepalive be answered: as a process that slept through it.
  clock.advance(LEASE_MS);
  t.equal(a.seat.active, false, 'not active past its horizon');
  await t.rejects(a.seat.heartbeat({ brokerId: 1, brokerEpoch: 1, metadataVersion: 0 }), { errorName: 'NOT_CONTROLLER', message: /node 1 is not the active controller/ }, 'so it answers no heartbeat from its old view');
  await a.close();
});
