/**
 * Broker units without a process: settings precedence and validation, the
 * local metadata log (replay, torn tail, corruption, crash on a simulated
 * disk), topic name rules, and the error frame.
 */
import t from 'tap';
import { BROKER_SETTING_DEFS, buildBrokerConfig, brokerConfig, BrokerConfigError } from '../../broker/config.js';
import { envVarFor, loadBrokerConfig, parseBrokerArgs, parsePropertiesFile, settingsFromEnv } from '../../broker/config-sources.js';

import { LocalMetadataStore, METADATA_DIR, METADATA_LOG_FILE } from '../../broker/metadata/local-store.js';
import { CorruptMetadataError, StaleMetadataError } from '../../broker/metadata/store.js';
import { topicNameProblem } from '../../broker/metadata/topic-name.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { decodeErrorResponse, encodeErrorResponse, tryDecodeErrorResponse } from '../../protocol/error-response.js';
import { Errors } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { encodeRequest } from '../../protocol/codec.js';
import { registered, type ApiHandler, type InvariantSink, type RegisteredHandler } from '../../broker/handlers/handler.js';
import type { HandlerTable } from '../../broker/handlers/index.js';
import { silentLogger } from '../../broker/log.js';
import { prettyLogLine } from '../../broker/log-pretty.js';
import { ClientConnection, type ConnectionLimits } from '../../broker/net/connection.js';
import type { Transport, TransportConnection } from '../../broker/world/transport.js';
import { FakeTransport } from '../support/fake-transport.js';
import { BrokerServer } from '../../broker/net/server.js';
import { RawClient, rawRequestFrame } from '../support/raw-client.js';
import { startBroker } from '../../broker/main.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { decodeBatch } from '../../protocol/batch/reader.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof BrokerConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

t.test('defaults work as documented', async (t) => {
  const config = buildBrokerConfig();
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 9092);
  t.equal(config.dataDir, './data');
  t.equal(config.maxRequestBytes, 100 * 1024 * 1024);
  t.equal(config.autoCreateTopics, false);
  t.equal(config.numPartitions, 1);
  t.equal(config.nodeId, 0);
  t.equal(config.advertisedHost, '127.0.0.1');
  t.same(config.topicDefaults, {}, 'no broker-wide topic default is set unless asked');
  for (const def of BROKER_SETTING_DEFS) {
    t.ok(def.doc.length > 10, `${def.name} is documented`);
    t.doesNotThrow(() => def.parse(def.defaultValue), `${def.name}'s default parses`);
  }
  t.ok(BROKER_SETTING_DEFS.some((def) => def.name === 'log.retention.ms'), 'topic settings have log.* broker defaults');
  t.equal(buildBrokerConfig([{ source: 'x', values: { host: '0.0.0.0' } }]).advertisedHost, '127.0.0.1', 'a wildcard host is never advertised');
});

t.test('precedence: defaults < file < environment < flags', async (t) => {
  const file = parsePropertiesFile(['# broker', 'port = 1111', 'data.dir=/from/file', 'num.partitions=3', '! also a comment', '', 'log.retention.ms=60000'].join('\n'), 'b.properties');
  const env = settingsFromEnv({ RUNNEL_PORT: '2222', RUNNEL_DATA_DIR: '/from/env', PATH: '/bin', RUNNEL_BOOTSTRAP: 'x:1' });
  const flags = parseBrokerArgs(['--port', '3333', '--set', 'auto.create.topics=true']).flags;
  const config = buildBrokerConfig([file, env, flags]);
  t.equal(config.port, 3333, 'flag beats environment and file');
  t.equal(config.dataDir, '/from/env', 'environment beats file');
  t.equal(config.numPartitions, 3, 'file beats default');
  t.equal(config.autoCreateTopics, true, '--set reaches any setting');
  t.same(config.topicDefaults, { 'retention.ms': '60000' }, 'log.retention.ms is the broker default of retention.ms');
  t.same(config.settings['port'], { value: '3333', explicit: true });
  t.same(config.settings['host'], { value: '127.0.0.1', explicit: false });
  t.equal(envVarFor('log.retention.ms'), 'RUNNEL_LOG_RETENTION_MS');

  const withoutFlags = buildBrokerConfig([file, env]);
  t.equal(withoutFlags.port, 2222);
  t.equal(buildBrokerConfig([file]).port, 1111);

  const flagsOnly = parseBrokerArgs(['--data', '/d', '--host', '0.0.0.0', '--config', 'x.properties']);
  t.equal(flagsOnly.configFile, 'x.properties');
  t.same(flagsOnly.flags.values, { 'data.dir': '/d', host: '0.0.0.0' });
});

t.test('loadBrokerConfig reads the file named by --config or RUNNEL_CONFIG', async (t) => {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/etc');
  await fs.writeFileAtomic('/etc/a.properties', Buffer.from('port=4444\nnum.partitions=2\n'));
  await fs.writeFileAtomic('/etc/b.properties', Buffer.from('port=5555\n'));
  const viaEnv = await loadBrokerConfig([], { RUNNEL_CONFIG: '/etc/a.properties', RUNNEL_NUM_PARTITIONS: '7' }, fs);
  t.equal(viaEnv.config.port, 4444);
  t.equal(viaEnv.config.numPartitions, 7, 'the environment still beats the file');
  const viaFlag = await loadBrokerConfig(['--config', '/etc/b.properties'], { RUNNEL_CONFIG: '/etc/a.properties' }, fs);
  t.equal(viaFlag.config.port, 5555, '--config beats RUNNEL_CONFIG');
  await t.rejects(loadBrokerConfig(['--config', '/etc/missing.properties'], {}, fs), /cannot read config file \/etc\/missing.properties/);
  t.equal((await loadBrokerConfig(['--help'], {}, fs)).help, true);
});

t.test('unknown or invalid settings are refused with the name, the source and why', async (t) => {
  const unknownInFile = problemsOf(() => buildBrokerConfig([parsePropertiesFile('retention.ms=1000\nprot=9\n', 'b.properties')]));
  t.equal(unknownInFile.length, 2, 'every problem is reported at once');
  t.match(unknownInFile[0], /unknown setting retention\.ms \(from config file b\.properties\); did you mean log\.retention\.ms/);
  t.match(unknownInFile[1], /unknown setting prot .*did you mean port\?/);

  t.match(problemsOf(() => settingsFromEnv({ RUNNEL_DATADIR: '/x' }))[0], /unknown environment variable RUNNEL_DATADIR/);
  t.match(problemsOf(() => buildBrokerConfig([settingsFromEnv({ RUNNEL_PORT: 'ninety' })]))[0], /^RUNNEL_PORT \(from environment, setting port\): must be an integer, got "ninety"$/);
  t.match(problemsOf(() => buildBrokerConfig([settingsFromEnv({ RUNNEL_LOG_RETENTION_MS: 'soon' })]))[0], /^RUNNEL_LOG_RETENTION_MS \(from environment, setting log\.retention\.ms\): 'soon' is not an integer$/, 'the variable is named, and the reason is said once');
  t.match(problemsOf(() => buildBrokerConfig([settingsFromEnv({ RUNNEL_PORT: '70000' })]))[0], /^RUNNEL_PORT .*setting port\).*between 0 and 65535/);
  t.match(problemsOf(() => brokerConfig({ 'auto.create.topics': 'yes' }))[0], /auto\.create\.topics .*true or false/);
  t.match(problemsOf(() => brokerConfig({ 'log.fsync': 'sometimes' }))[0], /log\.fsync/);
  t.match(problemsOf(() => brokerConfig({ 'logger.level': 'loud' }))[0], /logger\.level .*one of/);
  t.match(problemsOf(() => parsePropertiesFile('port 9092\n', 'c.properties'))[0], /c\.properties:1: expected name=value/);
  t.match(problemsOf(() => parsePropertiesFile('port=1\nport=2\n', 'c.properties'))[0], /port is set twice/);
  t.match(problemsOf(() => parseBrokerArgs(['--prot', '1']))[0], /--prot/);
  t.match(problemsOf(() => parseBrokerArgs(['--set', 'novalue']))[0], /--set expects name=value/);
  t.match(problemsOf(() => brokerConfig({ 'max.request.bytes': '10' }))[0], /max\.request\.bytes/);
});

t.test('topic names follow Kafka\'s rules', async (t) => {
  for (const good of ['a', 'orders', 'orders.v2', 'my_topic-1', 'x'.repeat(249)]) t.equal(topicNameProblem(good), null, `${good.slice(0, 20)} is valid`);
  t.match(topicNameProblem(''), /empty/);
  t.match(topicNameProblem('.'), /not allowed/);
  t.match(topicNameProblem('..'), /not allowed/);
  t.match(topicNameProblem('x'.repeat(250)), /250 characters/);
  t.match(topicNameProblem('a/b'), /"\/"/);
  t.match(topicNameProblem('é'), /contains/);
  t.match(topicNameProblem('a b'), /contains " "/);
  t.match(topicNameProblem('orders-0.set-aside-20261129T101500Z'), /contains "\.set-aside-"/, 'the names of set-aside directories are not topics');
});

t.test('the error frame round-trips and is recognised only in its exact shape', async (t) => {
  const [frame] = encodeErrorResponse(42, Errors.UNKNOWN_API.code, 'API key 77 is unknown');
  const body = frame!.subarray(4);
  t.equal(Buffer.from(frame!).readInt32BE(0), body.byteLength, 'length prefix counts the bytes after it');
  t.equal(Buffer.from(body).readInt32BE(0), 42, 'correlation id first');
  t.same(decodeErrorResponse(body, 4), { errorCode: Errors.UNKNOWN_API.code, errorMessage: 'API key 77 is unknown' });
  t.equal(tryDecodeErrorResponse(Buffer.concat([body, Buffer.from([0])]), 4), null, 'trailing bytes: not an error frame');
  t.equal(tryDecodeErrorResponse(Buffer.from([0, 0, 0, 1, 0, 0, 255, 255]), 4), null, 'code 0 is not an error');
  t.throws(() => encodeErrorResponse(1, 0, null));
});

const DATA_DIR = '/data';
const LOG_PATH = `${DATA_DIR}/${METADATA_DIR}/${METADATA_LOG_FILE}`;

async function openStore(fs: SimulatedFileSystem, clock = new ManualClock()): Promise<LocalMetadataStore> {
  return LocalMetadataStore.open({ dataDir: DATA_DIR, fs, clock, localNodeId: 1 });
}

/** A data directory that exists durably, as one the broker created (and fsynced the parent of) would. */
async function dataDirOn(fs: SimulatedFileSystem): Promise<void> {
  await fs.mkdirp(DATA_DIR);
  await fs.fsyncDir('/');
}

const created = (name: string, topicId = `id-${name}`) => ({ kind: 'topicCreated' as const, name, topicId, partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '1000' }, assignments: [[1], [1]] });

t.test('local metadata store: commits are durable, versioned and replayed in order', async (t) => {
  const fs = new SimulatedFileSystem();
  await dataDirOn(fs);
  const store = await openStore(fs);
  t.equal(store.image.version, 0);
  t.equal(await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }]), 1);
  t.equal(await store.commit([created('a'), created('b')], { expectedVersion: 1 }), 3, 'several changes commit as consecutive versions');
  await store.commit([{ kind: 'topicConfigAltered', name: 'a', topicId: 'id-a', configs: { 'cleanup.policy': 'compact' } }]);
  await store.commit([{ kind: 'topicDeleted', name: 'b', topicId: 'id-b' }]);
  await t.rejects(store.commit([created('c')], { expectedVersion: 3 }), StaleMetadataError, 'a stale expected version is refused');
  t.equal(store.image.topics.has('c'), false, 'a refused commit changes nothing');
  await t.rejects(store.commit([created('a')]), /a topic is created only when absent/, 'a change that does not fit the state is refused before it is written');

  fs.crash();
  const replayed = await openStore(fs);
  t.equal(replayed.image.clusterId, 'c1');
  t.equal(replayed.image.version, 5);
  t.same([...replayed.image.topics.keys()], ['a']);
  t.same(replayed.image.topics.get('a')?.configs, { 'cleanup.policy': 'compact' }, 'configs are the whole set after the last alteration');
  t.equal(replayed.image.deletedTopics.get('b'), 'id-b', 'deleted incarnations are remembered so their logs can be removed');
  t.equal(await replayed.commit([created('b', 'id-b2')]), 6, 'a deleted name can be created again');
  t.equal(replayed.image.deletedTopics.has('b'), false);
  await replayed.close();
});

t.test('local metadata store: a torn tail is cut off, corruption in the middle refuses to start', async (t) => {
  const fs = new SimulatedFileSystem();
  await dataDirOn(fs);
  const store = await openStore(fs);
  await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }]);
  await store.commit([created('a')]);
  await store.close();
  const intact = await fs.readFile(LOG_PATH);

  // A crash mid-write: the next entry's first bytes made it, the rest did not.
  const torn = Buffer.concat([intact, Buffer.from([0, 0, 0, 40, 1, 2, 3])]);
  await fs.writeFileAtomic(LOG_PATH, torn);
  const recovered = await openStore(fs);
  t.equal(recovered.image.version, 2, 'the torn entry is dropped');
  t.equal((await fs.readFile(LOG_PATH)).byteLength, intact.byteLength, 'and cut from the file');
  await recovered.commit([created('b')]);
  await recovered.close();
  t.equal((await openStore(fs)).image.topics.size, 2, 'appends after a torn tail replay');

  // A zero-filled tail (a file extended but not written) is torn too.
  await fs.writeFileAtomic(LOG_PATH, Buffer.concat([intact, Buffer.alloc(64)]));
  t.equal((await openStore(fs)).image.version, 2);

  // A flipped byte in the first entry, with a valid entry after it: never skipped.
  const corrupt = Buffer.from(intact);
  corrupt[12] = corrupt[12]! ^ 0xff;
  await fs.writeFileAtomic(LOG_PATH, corrupt);
  await t.rejects(openStore(fs), CorruptMetadataError);
  await t.rejects(openStore(fs), /fails its CRC and is not the last one.*changes\.log, byte 0/);
});

t.test('local metadata store: a crash loses only unacknowledged commits; a failed fsync stops the store', async (t) => {
  const rng = seededRng(7);
  for (let round = 0; round < 20; round++) {
    const fs = new SimulatedFileSystem();
    await dataDirOn(fs);
    const store = await openStore(fs);
    await store.commit([{ kind: 'clusterCreated', clusterId: 'c' }]);
    let acknowledged = 1;
    const inFlight = store.commit([created(`t${round}`)]).then(() => { acknowledged += 1; }, () => undefined);
    if (rng.int(2) === 0) await inFlight;
    fs.crash({ rng });
    const replayed = await openStore(fs);
    t.ok(replayed.image.version >= acknowledged, `round ${round}: every acknowledged change survives (${replayed.image.version} >= ${acknowledged})`);
  }

  const fs = new SimulatedFileSystem();
  await dataDirOn(fs);
  const store = await openStore(fs);
  fs.injectFault('datasync', METADATA_LOG_FILE);
  await t.rejects(store.commit([{ kind: 'clusterCreated', clusterId: 'c' }]), /EIO/);
  await t.rejects(store.commit([{ kind: 'clusterCreated', clusterId: 'c' }]), /failed earlier and takes no more changes/);
  t.equal(store.image.version, 0, 'a failed commit is not applied');
});

/* ------------------------------------------------------------ connection */

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

const emptyMetadata = { brokers: [], clusterId: 'c', controllerId: 0, topics: [] };

/** Handlers in these tests keep their invariants: one that broke would fail the test here. */
const noFaults: InvariantSink = {
  fatal(error) {
    throw new Error(`a handler broke an invariant: ${error.message}`);
  },
};

/**
 * Never called: `npm run lint` compiles it, and each expected error must
 * occur. A handler is typed by its API, and only `registered` erases it for
 * the table, so no cast can slip a handler in under another API's types.
 */
export function handlerTypeChecks(metadata: ApiHandler<'Metadata'>): unknown[] {
  const answersFetch: ApiHandler<'Metadata'> = {
    api: 'Metadata',
    versions: { min: 0, max: 0 },
    // @ts-expect-error a Fetch answer is not a Metadata answer
    handle: async () => ({ throttleTimeMs: 0, errorCode: 0, topics: [] as never[], sessionId: 0 }),
  };
  // @ts-expect-error a Metadata handler is not a Produce handler
  const asProduce: ApiHandler<'Produce'> = metadata;
  // @ts-expect-error nor one for every API (its request type is checked strictly)
  const widened: ApiHandler = metadata;
  // @ts-expect-error the table holds only registered handlers
  const unregistered: HandlerTable = new Map([[ApiKey.Metadata, metadata]]);
  return [answersFetch, asProduce, widened, unregistered];
}

function connectionWith(handlers: RegisteredHandler[], limits: Partial<ConnectionLimits> = {}): { transport: FakeTransport; connection: ClientConnection; send(api: 'Metadata' | 'ApiVersions', correlationId: number): void } {
  const transport = new FakeTransport();
  const table = new Map(handlers.map((handler) => [ApiKey[handler.api], handler]));
  const connection = new ClientConnection({
    id: 1,
    transport,
    handlers: table,
    limits: { maxRequestBytes: 1024 * 1024, queuedMaxRequests: 100, maxUnflushedResponseBytes: 1024 * 1024, ...limits },
    clock: new ManualClock(),
    logger: silentLogger(),
  });
  const send = (api: 'Metadata' | 'ApiVersions', correlationId: number): void => {
    const body = api === 'Metadata' ? { topics: [], allowAutoTopicCreation: false, includeInternal: false } : { clientSoftwareName: 't', clientSoftwareVersion: '1' };
    transport.events.data(Buffer.concat(encodeRequest(api, 0, correlationId, 'test', body as never)));
  };
  return { transport, connection, send };
}

t.test('connection: pipelined requests answer as they complete; ordered steps run in arrival order', async (t) => {
  const gates = new Map<number, ReturnType<typeof deferred>>();
  const steps: string[] = [];
  const metadata: ApiHandler<'Metadata'> = {
    api: 'Metadata',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const id = request.topics!.length === 0 ? gates.size : 0;
      const gate = deferred();
      gates.set(id, gate);
      await ctx.ordered(async () => {
        steps.push(`start ${id}`);
        await gate.promise;
        steps.push(`end ${id}`);
      });
      return emptyMetadata;
    },
  };
  const apiVersions: ApiHandler<'ApiVersions'> = { api: 'ApiVersions', versions: { min: 0, max: 0 }, handle: async () => ({ errorCode: 0, apiKeys: [] }) };
  const { transport, send } = connectionWith([registered(metadata, noFaults), registered(apiVersions, noFaults)]);
  send('Metadata', 1);
  send('Metadata', 2);
  send('ApiVersions', 3);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(transport.correlationIds(), [3], 'a quick request is answered while slower ones before it are pending');
  t.same(steps, ['start 0'], 'the second ordered step waits for the first');
  gates.get(1)?.resolve();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(steps, ['start 0'], 'even when its own gate opens first');
  gates.get(0)!.resolve();
  for (let i = 0; i < 5 && transport.written.length < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  t.same(steps, ['start 0', 'end 0', 'start 1', 'end 1']);
  t.same(transport.correlationIds(), [3, 1, 2]);
});

t.test('connection: reading pauses on too many requests in flight or unread responses', async (t) => {
  const gate = deferred();
  const metadata: ApiHandler<'Metadata'> = { api: 'Metadata', versions: { min: 0, max: 0 }, handle: async () => { await gate.promise; return emptyMetadata; } };
  const { transport, send } = connectionWith([registered(metadata, noFaults)], { queuedMaxRequests: 2, maxUnflushedResponseBytes: 64 * 1024 });
  send('Metadata', 1);
  t.notOk(transport.paused);
  send('Metadata', 2);
  t.ok(transport.paused, 'paused at queued.max.requests');
  transport.bufferedBytes = 1024 * 1024;
  gate.resolve();
  for (let i = 0; i < 5 && transport.written.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(transport.written.length, 2);
  t.ok(transport.paused, 'still paused: the client is not reading its responses');
  transport.bufferedBytes = 0;
  transport.events.drain();
  t.notOk(transport.paused, 'resumed once the responses drained');
});

t.test('connection: a bad frame closes it; an unknown API gets an error frame', async (t) => {
  const { transport } = connectionWith([]);
  transport.events.data(rawRequestFrame({ apiKey: 4242, apiVersion: 0, correlationId: 9 }));
  const [frame] = transport.written;
  t.equal(decodeErrorResponse(frame!.subarray(4), 4).errorCode, Errors.UNKNOWN_API.code);
  t.notOk(transport.destroyed);
  transport.events.data(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  t.ok(transport.destroyed, 'a negative length closes the connection');
  const { transport: other } = connectionWith([]);
  other.events.data(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
  t.ok(other.destroyed, 'a length above max.request.bytes closes it before any body arrives');
});

t.test('server: idle connections are closed; shutdown lets in-flight requests answer first', async (t) => {
  const clock = new ManualClock();
  let accept!: (connection: TransportConnection) => void;
  let listening = true;
  const transport: Pick<Transport, 'listen'> = {
    async listen(_opts, onConnection) {
      accept = onConnection;
      return { host: '127.0.0.1', port: 4242, close: async () => { listening = false; } };
    },
  };
  const gate = deferred();
  const metadata: ApiHandler<'Metadata'> = { api: 'Metadata', versions: { min: 0, max: 0 }, handle: async () => { await gate.promise; return emptyMetadata; } };
  const config = brokerConfig({ 'connections.max.idle.ms': 60_000 });
  const server = await BrokerServer.start({ transport, config, handlers: new Map([[ApiKey.Metadata, registered(metadata, noFaults)]]), clock, logger: silentLogger() });
  t.equal(server.port, 4242);

  const idle = new FakeTransport();
  accept(idle);
  const busy = new FakeTransport();
  accept(busy);
  busy.events.data(Buffer.concat(encodeRequest('Metadata', 0, 1, 'test', { topics: [], allowAutoTopicCreation: false, includeInternal: false })));
  clock.advance(59_000);
  t.notOk(idle.destroyed, 'not yet idle for connections.max.idle.ms');
  clock.advance(30_000);
  t.ok(idle.destroyed, 'closed once idle past connections.max.idle.ms');
  t.notOk(busy.destroyed, 'a connection with a request in flight is not idle');
  t.equal(server.connectionCount, 1);

  const closing = server.close(10_000);
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(listening, 'stops accepting first');
  t.notOk(busy.destroyed, 'waits for the request in flight');
  gate.resolve();
  await closing;
  t.same(busy.correlationIds(), [1], 'which is answered before the connection closes');
  t.ok(busy.destroyed);
});

t.test('startBroker on a simulated disk: a deletion interrupted by a crash is finished at the next start', async (t) => {
  const fs = new SimulatedFileSystem();
  const config = brokerConfig({ 'data.dir': '/data', port: 0 });
  const world = { fs, logger: silentLogger() };
  const first = await startBroker(config, world);
  const client = await RawClient.connect(first.host, first.port);
  t.teardown(() => client.close());
  const created = await client.request('CreateTopics', { topics: [
    { name: 'doomed', partitions: 1, replicationFactor: 1, configs: [] },
    { name: 'kept', partitions: 1, replicationFactor: 1, configs: [{ name: 'fsync', value: 'always' }] },
  ], timeoutMs: 1000, validateOnly: false });
  t.same(created.topics.map((topic) => topic.errorCode), [0, 0]);
  for (const topic of ['doomed', 'kept']) {
    const records = buildBatch([{ key: null, value: Buffer.from(`in ${topic}`) }], { nowMs: Date.now() });
    const produced = await client.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: topic, partitions: [{ partition: 0, records }] }] });
    t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);
  }

  // The deletion commits, then the disk fails while its directory is being removed, then the machine dies.
  fs.injectFault('fsyncDir', '/data', 1);
  const deleted = await client.request('DeleteTopics', { topics: ['doomed'], timeoutMs: 1000 });
  t.not(deleted.topics[0]!.errorCode, 0, 'the failed removal is reported');
  fs.crash();
  client.close();
  await first.close();
  t.ok((await fs.readdir('/data')).includes('doomed-0'), 'the crash left the deleted topic\'s log on disk');

  const second = await startBroker(config, world);
  t.teardown(() => second.close());
  t.notOk((await fs.readdir('/data')).includes('doomed-0'), 'the next start finished the committed deletion');
  const again = await RawClient.connect(second.host, second.port);
  t.teardown(() => again.close());
  const metadata = await again.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
  t.same(metadata.topics.map((topic) => topic.name), ['kept']);
  const fetched = await again.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: 'kept', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] });
  const [batch] = fetched.topics[0]!.partitions[0]!.records;
  t.equal(Buffer.from(decodeBatch(batch!).records[0]!.value!).toString(), 'in kept', 'the acknowledged fsync=always record survived the crash');
});

t.test('pretty log lines lead with time, level and the sentence, then the fields', async (t) => {
  const line = prettyLogLine(JSON.stringify({ level: 'info', time: '2026-11-29T03:07:57.546Z', pid: 7, msg: 'listening on 127.0.0.1:9092', port: 9092, dataDir: './data' }));
  t.equal(line, '03:07:57.546 INFO  listening on 127.0.0.1:9092  port=9092 dataDir=./data');
  const failed = prettyLogLine(JSON.stringify({ level: 'error', time: '2026-11-29T03:07:57.546Z', msg: 'boom', err: { stack: 'Error: boom\n    at x' } }));
  t.match(failed, /^03:07:57\.546 ERROR boom\nError: boom\n {4}at x$/);
  t.equal(prettyLogLine('not json'), 'not json', 'a line that is not JSON passes through');
});
