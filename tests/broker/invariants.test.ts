/**
 * What a broken invariant does (docs/ARCHITECTURE.md, "When an invariant
 * breaks"): inside one partition it takes that partition's log offline and
 * the rest of the broker serves on; in broker-wide state it stops the broker.
 *
 * The invariants are broken by planting a bug for the test's length (a
 * prototype method replaced, and put back at teardown): that is the only
 * way to reach code that is correct, which is the point of an invariant.
 */
import t from 'tap';
import type { Test } from 'tap';
import { Writable } from 'node:stream';
import { brokerConfig } from '../../broker/config.js';
import { startBroker, type RunningBroker } from '../../broker/main.js';
import { createLogger } from '../../broker/log.js';
import { LocalMetadataStore } from '../../broker/metadata/local-store.js';
import type { MetadataChange } from '../../broker/metadata/changes.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { assert, InvariantError } from '../../broker/world/assert.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { readBatchHeader } from '../../protocol/batch/header.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import { Errors } from '../../protocol/errors.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { ErrorFrame, RawClient } from '../support/raw-client.js';
import { repoUrl } from '../support/repo-root.js';

/** A logger whose JSON lines the test can read. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const text: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  return { logger, lines: () => text.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** Whether `promise` has settled by the next macrotask. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** `promise`, or a rejection naming what did not happen within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function produce(client: RawClient, topic: string, partition: number, value: string): Promise<{ errorCode: number; errorMessage: string | null; baseOffset: number }> {
  const records = buildBatch([{ key: null, value: Buffer.from(value) }], { nowMs: Date.now() });
  const res = await client.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: topic, partitions: [{ partition, records }] }] });
  return res.topics[0]!.partitions[0]!;
}

async function fetchValues(client: RawClient, topic: string, partition: number): Promise<{ errorCode: number; values: string[] }> {
  const res = await client.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] });
  const p = res.topics[0]!.partitions[0]!;
  const values: string[] = [];
  for (const bytes of p.records) {
    for (let pos = 0; pos < bytes.byteLength; pos += readBatchHeader(bytes, pos).sizeBytes) {
      values.push(...decodeBatch(bytes.subarray(pos)).records.map((r) => Buffer.from(r.value!).toString()));
    }
  }
  return { errorCode: p.errorCode, values };
}

async function started(t: Test, fs: SimulatedFileSystem, logger = capturedLogger()): Promise<{ broker: RunningBroker; client: RawClient; lines: () => Record<string, unknown>[] }> {
  const broker = await startBroker(brokerConfig({ 'data.dir': '/data', port: 0 }), { fs, logger: logger.logger });
  t.teardown(() => broker.close());
  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  return { broker, client, lines: logger.lines };
}

t.test('a broken invariant in one partition takes its log offline; the other partitions serve on', async (t) => {
  const fs = new SimulatedFileSystem();
  const { broker, client, lines } = await started(t, fs);
  const created = await client.request('CreateTopics', { topics: [{ name: 't', partitions: 2, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  t.equal(created.topics[0]!.errorCode, 0);
  for (const partition of [0, 1]) t.equal((await produce(client, 't', partition, `before-${partition}`)).errorCode, 0);

  // The planted bug: t-0's log reads break an invariant (t-1's are untouched).
  const read = PartitionLog.prototype.read;
  t.teardown(() => {
    PartitionLog.prototype.read = read;
  });
  PartitionLog.prototype.read = function (this: PartitionLog, ...args: Parameters<typeof read>) {
    if (this.dir.endsWith('/t-0')) assert(false, 'planted: a read returns what the index says', { dir: this.dir });
    return read.apply(this, args);
  };

  const broken = await fetchValues(client, 't', 0);
  t.equal(broken.errorCode, Errors.KAFKA_STORAGE_ERROR.code, 'the fetch that met it answers KAFKA_STORAGE_ERROR, not UNKNOWN_SERVER_ERROR');
  const metadata = await client.request('Metadata', { topics: ['t'], allowAutoTopicCreation: false, includeInternal: false });
  t.same(metadata.topics[0]!.partitions.map((p) => p.errorCode), [Errors.KAFKA_STORAGE_ERROR.code, 0], 'Metadata shows t-0 offline, t-1 online');
  const refused = await produce(client, 't', 0, 'after');
  t.equal(refused.errorCode, Errors.KAFKA_STORAGE_ERROR.code, 'nothing more is appended to t-0');
  t.match(refused.errorMessage, /t-0 is offline: t-0 broke an invariant: invariant broken: planted: a read returns what the index says/, 'and the answer says why');

  t.equal((await produce(client, 't', 1, 'after-1')).errorCode, 0, 't-1 takes appends');
  t.same((await fetchValues(client, 't', 1)).values, ['before-1', 'after-1'], 't-1 serves reads');
  t.notOk(await settled(broker.failure), 'the broker did not stop');
  const offline = lines().find((line) => line['level'] === 'error' && /log offline: t-0 broke an invariant/.test(String(line['msg'])));
  t.match(offline?.['err'], /invariant broken: planted: a read returns what the index says \{"dir":"\/data\/t-0"\}/, 'the broker log has the invariant and its values');

  // A restart recovers the log (it was not closed clean), and t-0 serves what it held.
  PartitionLog.prototype.read = read;
  client.close();
  await broker.close();
  const again = await started(t, fs);
  t.same((await fetchValues(again.client, 't', 0)).values, ['before-0'], 'after a restart t-0 serves again, with its acknowledged record');
});

t.test('a broken invariant in broker-wide state stops the broker', async (t) => {
  const fs = new SimulatedFileSystem();
  const { broker, client, lines } = await started(t, fs);
  const created = await client.request('CreateTopics', { topics: [{ name: 'cfg', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  t.equal(created.topics[0]!.errorCode, 0);
  t.equal((await produce(client, 'cfg', 0, 'kept')).errorCode, 0);

  // The planted bug: the controller commits a config change naming the wrong topic id, which the metadata image refuses.
  const commit = LocalMetadataStore.prototype.commit;
  t.teardown(() => {
    LocalMetadataStore.prototype.commit = commit;
  });
  LocalMetadataStore.prototype.commit = function (this: LocalMetadataStore, changes: readonly MetadataChange[], opts?: { expectedVersion?: number }) {
    const wrong = changes.map((change) => (change.kind === 'topicConfigAltered' ? { ...change, topicId: 'not-this-topic' } : change));
    return commit.call(this, wrong, opts);
  };

  const alter = client.request('AlterConfigs', { resources: [{ type: 'topic', name: 'cfg', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: false });
  const answer = await alter.then(() => null, (error: unknown) => error);
  t.ok(answer instanceof ErrorFrame, 'the request is answered with an error frame');
  t.match(answer, { errorCode: Errors.UNKNOWN_SERVER_ERROR.code, errorMessage: /inconsistent \(a broken invariant\) and is stopping; this is not transient/ });
  const failure = await within(broker.failure, 5000, 'the broker to report its fatal error');
  t.ok(failure instanceof InvariantError, 'the broker reports the fatal error');
  t.match(failure.message, /invariant broken: .*"topicId":"not-this-topic"/);
  await within(client.closed, 5000, 'the broker to close the connection');
  t.pass('the broker closed the connection');
  await t.rejects(RawClient.connect(broker.host, broker.port), /ECONNREFUSED/, 'and accepts no new one');
  const fatal = lines().find((line) => line['level'] === 'fatal');
  t.match(fatal, { event: 'brokerFatal', api: 'AlterConfigs', msg: /stopping the broker .*invariant broken: .*not-this-topic/ }, 'the broker log says why it stopped');

  // The bad change was never committed: a restart serves the topic as it was.
  LocalMetadataStore.prototype.commit = commit;
  await broker.close();
  const again = await started(t, fs);
  const configs = await again.client.request('DescribeConfigs', { resources: [{ type: 'topic', name: 'cfg', configNames: ['retention.ms'] }] });
  t.not(configs.results[0]!.configs.find((c) => c.name === 'retention.ms')?.value, '1000', 'the refused change is not there');
  t.same((await fetchValues(again.client, 'cfg', 0)).values, ['kept'], 'the topic serves its records');
});

t.test('runnel start exits 1 on a broken invariant in broker-wide state, and the next start recovers', async (t) => {
  const plant = repoUrl('tests', 'support', 'plant-invariant.mjs');
  const broker = await startBrokerProcess({ env: { BROKER_TEST_PLANT_INVARIANT: '1', NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import=${plant}`.trim() } });
  t.teardown(() => broker.kill());
  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  t.equal((await client.request('CreateTopics', { topics: [{ name: 'cfg', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false })).topics[0]!.errorCode, 0);
  t.equal((await produce(client, 'cfg', 0, 'kept')).errorCode, 0);

  const answer = await client.request('AlterConfigs', { resources: [{ type: 'topic', name: 'cfg', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: false }).then(() => null, (error: unknown) => error);
  t.match(answer, { errorCode: Errors.UNKNOWN_SERVER_ERROR.code, errorMessage: /is stopping; this is not transient/ });
  // Bounded: the process writes its last line to stderr just before it exits.
  for (let i = 0; i < 100 && !/runnel: broker stopped:/.test(broker.output()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.match(broker.output(), /runnel: broker stopped: invariant broken: .*not-this-topic.*exiting \(logs are recovered at the next start\)/, 'it says why on stderr');
  t.match(broker.output(), /"level":"fatal".*"event":"brokerFatal"/, 'and in its log, at fatal');
  t.equal(await broker.stop(), 1, 'the process exited with status 1');

  const again = await startBrokerProcess({ dataDir: broker.dataDir });
  t.teardown(() => again.stop());
  t.match(again.output(), /recover/i, 'the next start recovered the logs (no clean shutdown before)');
  const after = await RawClient.connect(again.host, again.port);
  t.teardown(() => after.close());
  t.same((await fetchValues(after, 'cfg', 0)).values, ['kept'], 'and serves what was acknowledged');
});
