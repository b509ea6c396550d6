/**
 * What a broker does at its limits. The descriptor budget (how `ulimit -n`
 * is split) and the connection caps in process; a topic creation that
 * cannot open one partition fails whole, with the reason, and leaves
 * nothing behind; a real broker refuses connections past max.connections,
 * max.connections.per.ip and the loopback reserve, stays up, keeps serving
 * the ones it accepted and accepts again once some close; and a real broker
 * under `ulimit -n 256` holds 300 partitions (900 segment files), takes and
 * serves a record in every one, record by record, across a restart, and
 * still accepts connections.
 */
import t from 'tap';
import { brokerConfig, BrokerConfigError } from '../../broker/config.js';
import { planDescriptors, DescriptorBudgetError, SEGMENT_FILES_MIN } from '../../broker/descriptor-budget.js';
import { DEFAULT_OVERDRAFT } from '../../broker/storage/handle-cache.js';
import { silentLogger } from '../../broker/log.js';
import { startBroker } from '../../broker/main.js';
import { BrokerServer, isLoopbackHost, remoteHostOf } from '../../broker/net/server.js';
import { parseOpenFilesLimit } from '../../broker/world/descriptors.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import type { ConnectionEvents, Transport, TransportConnection } from '../../broker/world/transport.js';
import { Runnel, type Message } from '../../client/index.js';
import { RawClient } from '../support/raw-client.js';
import { startBrokerProcess } from '../support/broker-process.js';

t.test('the descriptor budget: the limit split, derived and explicit max.connections, limits too low', async (t) => {
  t.equal(parseOpenFilesLimit('Limit                     Soft Limit           Hard Limit           Units     \nMax open files            256                  4096                 files     \n'), 256, 'the soft limit');
  t.equal(parseOpenFilesLimit('Max processes 10 10 processes\n'), null);
  const base = { inUse: 20, adminReservedConnections: 2, workerThreads: 3, transientFiles: 8, segmentFilesOverdraft: 8 };
  const derived = planDescriptors({ ...base, limit: 256, maxConnections: -1 });
  t.equal(derived.reservedForBroker, 20 + 16 + 8 + 8 + 3 * 4, 'held at start, fixed headroom, transient slots, overdraft, worker threads');
  t.equal(derived.maxConnections + derived.segmentFiles! + derived.adminReservedConnections + derived.reservedForBroker, 256, 'every descriptor is spent once');
  t.equal(derived.maxConnections, Math.floor((256 - derived.reservedForBroker - 2) / 4), 'derived max.connections: a quarter of what is left');
  t.match(derived.summary, /limit 256[\s\S]*client connections[\s\S]*reserved for loopback administrators[\s\S]*open segment files/);
  const explicit = planDescriptors({ ...base, limit: 4096, maxConnections: 1000 });
  t.equal(explicit.maxConnections, 1000);
  t.equal(explicit.segmentFiles, 4096 - explicit.reservedForBroker - 2 - 1000);
  t.throws(() => planDescriptors({ ...base, limit: 256, maxConnections: 250 }), DescriptorBudgetError, 'an explicit max.connections that leaves no segment files is refused');
  t.throws(() => planDescriptors({ ...base, limit: 64, maxConnections: -1 }), { name: 'DescriptorBudgetError', message: /too low to run a broker.*ulimit -n/ });
  const justEnough = derived.reservedForBroker + 2 + Math.ceil(SEGMENT_FILES_MIN / 0.75);
  t.doesNotThrow(() => planDescriptors({ ...base, limit: justEnough, maxConnections: -1 }), 'the limit the refusal names is enough');
  const unknown = planDescriptors({ ...base, limit: null, maxConnections: -1 });
  t.equal(unknown.segmentFiles, undefined, 'unknown limit (not Linux): every file stays open, as before');
  t.throws(() => brokerConfig({ 'max.connections': 0 }), BrokerConfigError, 'max.connections 0 (refuse everyone) is refused');
  const tooLow = { limit: () => 64, inUse: () => 20 };
  await t.rejects(startBroker(brokerConfig({ 'data.dir': '/data', port: 0 }), { fs: new SimulatedFileSystem(), logger: silentLogger(), descriptors: tooLow }),
    { name: 'DescriptorBudgetError', message: /limit \(ulimit -n\) is 64, too low/ }, 'a broker with too few descriptors refuses to start, saying what it needs');
});

class FakeConnection implements TransportConnection {
  destroyed = false;
  events: ConnectionEvents | undefined;
  constructor(readonly remoteAddress: string) {}
  attach(events: ConnectionEvents): void {
    this.events = events;
  }
  write(): boolean {
    return true;
  }
  readonly bufferedBytes = 0;
  pause(): void {}
  resume(): void {}
  destroy(): void {
    this.destroyed = true;
    this.events?.close();
  }
  end(): void {
    this.destroy();
  }
}

t.test('connection caps in process: per address, in all, and the reserve only for loopback', async (t) => {
  t.equal(remoteHostOf('::1:5000'), '::1');
  t.equal(remoteHostOf('10.1.2.3:5000'), '10.1.2.3');
  t.ok(isLoopbackHost('127.0.0.2') && isLoopbackHost('::1') && isLoopbackHost('::ffff:127.0.0.1'));
  t.notOk(isLoopbackHost('10.0.0.1') || isLoopbackHost('::ffff:10.0.0.1'));
  let accept!: (connection: TransportConnection) => void;
  const transport: Pick<Transport, 'listen'> = {
    async listen(_opts, onConnection) {
      accept = onConnection;
      return { host: '0.0.0.0', port: 1, close: async () => undefined };
    },
  };
  const config = brokerConfig({ 'connections.max.idle.ms': -1 });
  const server = await BrokerServer.start({ transport, config, handlers: new Map(), clock: new ManualClock(), logger: silentLogger(), caps: { maxConnections: 3, maxConnectionsPerIp: 2, adminReservedConnections: 2 } });
  const open = (address: string): FakeConnection => {
    const connection = new FakeConnection(address);
    accept(connection);
    return connection;
  };
  const a = [open('10.0.0.1:1'), open('10.0.0.1:2'), open('10.0.0.1:3')];
  t.same(a.map((c) => c.destroyed), [false, false, true], 'max.connections.per.ip 2: the third from one address is closed');
  const b = open('10.0.0.2:1');
  t.notOk(b.destroyed, 'another address gets the third slot');
  t.ok(open('10.0.0.3:1').destroyed, 'max.connections 3: a fourth from anywhere else is closed');
  const admins = [open('127.0.0.1:1'), open('127.0.0.1:2')];
  t.same(admins.map((c) => c.destroyed), [false, false], 'loopback gets admin.reserved.connections past max.connections');
  t.ok(open('127.0.0.2:1').destroyed, 'and no more than that');
  t.equal(server.connectionCount, 5);
  t.equal(server.refusedConnections, 3);
  a[0]!.destroy();
  t.ok(open('10.0.0.1:4').destroyed, 'loopback connections count toward max.connections too');
  for (const admin of admins) admin.destroy();
  t.notOk(open('10.0.0.1:5').destroyed, 'a slot freed by closed connections is taken again');
  await server.close(0);
});

t.test('a topic whose partitions cannot all be created is not created, says why, and leaves nothing behind', async (t) => {
  const fs = new SimulatedFileSystem();
  const config = brokerConfig({ 'data.dir': '/data', port: 0 });
  const world = { fs, logger: silentLogger() };
  const broker = await startBroker(config, world);
  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  // Twice: the descriptor cache closes idle files and retries once on EMFILE; here the retry fails too.
  fs.injectFault('open', '/data/f3-7/', 2, { code: 'EMFILE' });
  const refused = await client.request('CreateTopics', { topics: [{ name: 'f3', partitions: 10, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  const [answer] = refused.topics;
  t.equal(answer!.errorCode, 56, 'KAFKA_STORAGE_ERROR, not success');
  t.match(answer!.errorMessage, /partition f3-7 could not be created: EMFILE.*topic f3 was not created/);
  const metadata = await client.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
  t.same(metadata.topics.map((topic) => topic.name), [], 'the topic is not served, not even in part');
  t.same((await fs.readdir('/data')).filter((name) => name.startsWith('f3')), [], 'no partition directory is left behind');
  const tooMany = await client.request('CreateTopics', { topics: [{ name: 'f4', partitions: 1600, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  t.match(tooMany.topics[0], { errorCode: 37, errorMessage: /1600 partitions requested; a topic has 1 to 1000 \(max\.partitions\.per\.topic\)/ }, 'more than max.partitions.per.topic: refused, never capped');

  const retried = await client.request('CreateTopics', { topics: [{ name: 'f3', partitions: 10, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  t.equal(retried.topics[0]!.errorCode, 0, 'once the files open, the same creation succeeds');
  client.close();
  await broker.close();
  const again = await startBroker(config, world);
  t.teardown(() => again.close());
  const after = await RawClient.connect(again.host, again.port);
  t.teardown(() => after.close());
  const described = await after.request('Metadata', { topics: ['f3'], allowAutoTopicCreation: false, includeInternal: false });
  t.equal(described.topics[0]!.partitions.length, 10, 'after a restart the topic has its 10 partitions');
  t.ok(described.topics[0]!.partitions.every((p) => p.errorCode === 0), 'every one online');
});

/** Whether the broker serves a new connection (ApiVersions answered) or closes it. */
async function tryConnection(host: string, port: number, localAddress = '127.0.0.1'): Promise<{ outcome: 'served' | 'refused'; client: RawClient }> {
  const client = await RawClient.connect(host, port, { localAddress });
  try {
    await client.request('ApiVersions', { clientSoftwareName: 'limits-test', clientSoftwareVersion: '1' });
    return { outcome: 'served', client };
  } catch {
    return { outcome: 'refused', client };
  }
}

t.test('a real broker at its connection limits refuses, stays up, serves what it accepted, accepts again', async (t) => {
  const broker = await startBrokerProcess({ args: ['--set', 'max.connections=4', '--set', 'max.connections.per.ip=3', '--set', 'admin.reserved.connections=1'] });
  t.teardown(() => broker.stop());
  const { host, port } = broker;
  const held: RawClient[] = [];
  t.teardown(() => {
    for (const client of held) client.close();
  });
  const connect = async (from: string): Promise<'served' | 'refused'> => {
    const { outcome, client } = await tryConnection(host, port, from);
    if (outcome === 'served') held.push(client);
    return outcome;
  };
  t.same([await connect('127.0.0.1'), await connect('127.0.0.1'), await connect('127.0.0.1')], ['served', 'served', 'served']);
  t.equal(await connect('127.0.0.1'), 'refused', 'a fourth from 127.0.0.1: max.connections.per.ip 3');
  t.equal(await connect('127.0.0.2'), 'served', 'another address: the fourth of max.connections');
  t.equal(await connect('127.0.0.2'), 'served', 'loopback: one more from the admin reserve');
  t.equal(await connect('127.0.0.3'), 'refused', 'then none');
  for (const [i, client] of held.entries()) {
    const answer = await client.request('ApiVersions', { clientSoftwareName: 'limits-test', clientSoftwareVersion: '1' });
    t.equal(answer.errorCode, 0, `accepted connection ${i} is still served`);
  }
  for (const client of held.splice(0, 2)) {
    client.close();
    await client.closed;
  }
  // The broker hears of the closes a moment later: retry, bounded.
  let again: 'served' | 'refused' = 'refused';
  for (let i = 0; i < 50 && again === 'refused'; i++) {
    again = await connect('127.0.0.3');
    if (again === 'refused') await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(again, 'served', 'once connections close, new ones are accepted again');
  t.match(broker.output(), /"event":"connectionsRefused"/, 'refusals are logged');
  t.equal(await broker.stop(), 0, 'the broker stayed up and stops cleanly');
});

t.test('a broker under ulimit -n 256 serves 300 partitions, record by record, and still accepts connections', async (t) => {
  const PARTITIONS = 300;
  const PER_PARTITION = 10;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  let broker = await startBrokerProcess({ ulimitFiles: 256 });
  t.teardown(() => broker.stop());
  const budget = /"event":"descriptorBudget","limit":256,"maxConnections":(\d+),"adminReservedConnections":\d+,"segmentFiles":(\d+)/.exec(broker.output());
  t.ok(budget !== null, 'the broker logs its descriptor budget at start');
  const segmentFiles = Number(budget?.[2]);
  // The promise behind "no EMFILE", checked whatever the disk's and the event loop's speed: the segment files
  // never held more descriptors than their budget plus the overdraft, fdatasyncs in flight included.
  const withinBudget = (output: string, label: string): void => {
    const peak = /"event":"segmentFileDescriptors".*"peak":(\d+)/.exec(output)?.[1];
    t.ok(peak !== undefined && Number(peak) <= segmentFiles + DEFAULT_OVERDRAFT,
      `${label}: at most ${peak} segment files open at once, within the budget of ${segmentFiles} plus the overdraft of ${DEFAULT_OVERDRAFT}`);
  };
  t.ok(PARTITIONS * 3 > 3 * segmentFiles && PARTITIONS > 256 / 3, `${PARTITIONS} partitions hold ${PARTITIONS * 3} segment files, against a budget of ${segmentFiles} and a limit of 256`);

  // Creating 300 partitions costs about a thousand fsyncs one after another: on a busy disk that can take well
  // over 20 s, and a CreateTopics retried after a timeout would find the topic made (TOPIC_ALREADY_EXISTS).
  const requestTimeoutMs = 120_000;
  let runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId: 'ulimit', logger: silent, requestTimeoutMs });
  const creating = Date.now();
  await runnel.admin().createTopic({ name: 'many', partitions: PARTITIONS });
  t.comment(`${PARTITIONS} partitions created in ${Date.now() - creating} ms`);
  const producer = runnel.producer({ lingerMs: 5 });
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < PER_PARTITION; i++) {
    for (let p = 0; p < PARTITIONS; p++) sends.push(producer.send({ topic: 'many', messages: [{ partition: p, value: `p${p}-${i}` }] }));
  }
  await Promise.all(sends);

  const readAll = async (client: Runnel, label: string): Promise<void> => {
    const consumer = client.consumer();
    consumer.assign(Array.from({ length: PARTITIONS }, (_v, p) => ({ topic: 'many', partition: p, offset: 'earliest' as const })));
    const got: Message[] = [];
    const timer = setTimeout(() => void consumer.close(), 60_000);
    for await (const message of consumer) {
      got.push(message);
      if (got.length >= PARTITIONS * PER_PARTITION) break;
    }
    clearTimeout(timer);
    await consumer.close();
    const wrong: string[] = [];
    const perPartition = new Map<number, Message[]>();
    for (const message of got) perPartition.set(message.partition, [...(perPartition.get(message.partition) ?? []), message]);
    for (let p = 0; p < PARTITIONS; p++) {
      const values = (perPartition.get(p) ?? []).map((m) => `${m.offset}:${m.value?.toString()}`);
      const expected = Array.from({ length: PER_PARTITION }, (_v, i) => `${i}:p${p}-${i}`);
      if (JSON.stringify(values) !== JSON.stringify(expected)) wrong.push(`partition ${p}: ${values.join(',')}`);
    }
    t.same(wrong, [], `${label}: every partition holds exactly its ${PER_PARTITION} records, in order, once (${got.length} read)`);
  };
  await readAll(runnel, 'after producing');

  t.equal((await runnel.admin().listTopics()).includes('many'), true, 'a new admin connection is still accepted');
  const raw = await tryConnection(broker.host, broker.port);
  raw.client.close();
  t.equal(raw.outcome, 'served', 'and a bare one');
  t.notMatch(broker.output(), /EMFILE|log offline|is offline|"level":"error"/, 'no descriptor ran out, no partition went offline');
  await runnel.close();
  t.equal(await broker.stop(), 0);
  const stats = /"event":"segmentFileDescriptors".*"reopens":(\d+)/.exec(broker.output());
  t.ok(Number(stats?.[1]) > 0, `idle segment files were closed and reopened (${stats?.[1]} reopens)`);
  withinBudget(broker.output(), 'producing and reading');

  broker = await startBrokerProcess({ ulimitFiles: 256, dataDir: broker.dataDir });
  runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId: 'ulimit-2', logger: silent, requestTimeoutMs });
  t.teardown(() => runnel.close());
  await readAll(runnel, 'after a restart under the same limit');
  t.notMatch(broker.output(), /EMFILE|log offline|is offline|"level":"error"/, 'the restart opened every partition');
  await runnel.close();
  t.equal(await broker.stop(), 0);
  withinBudget(broker.output(), 'recovery and reading again');
});
