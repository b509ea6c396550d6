/**
 * The replica manager on a simulated disk: it follows metadata images
 * (opening, publishing, reconfiguring, withdrawing and removing the
 * partitions whose replicas include this node), gives each partition its
 * role and leader epoch, stamps that epoch on appends, answers
 * `partitionOrError` with the one error each case calls for, and reconciles
 * the data directory with the metadata at start (creates what a crash kept
 * from being created, finishes committed deletions, leaves strays).
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { brokerConfig } from '../../broker/config.js';
import { FencedLeaderEpochError, NotLeaderError, UnknownLeaderEpochError, UnknownTopicOrPartitionError } from '../../broker/errors.js';
import { createLogger, silentLogger, type Logger } from '../../broker/log.js';
import type { MetadataChange } from '../../broker/metadata/changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../broker/metadata/image.js';
import { Partition } from '../../broker/partition.js';
import { ReplicaManager } from '../../broker/replication/replica-manager.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import { logConfigFor } from '../../broker/topic-settings.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { stampProducer } from '../../protocol/batch/header.js';
import { decodeBatch } from '../../protocol/batch/reader.js';

const NODE = 1;
const config = brokerConfig({ 'data.dir': '/data', 'node.id': NODE });

function apply(image: MetadataImage, ...changes: MetadataChange[]): MetadataImage {
  return changes.reduce((next, change) => applyChange(next, change, next.version + 1), image);
}

const created = (name: string, partitions: number, configs: Record<string, string> = {}): MetadataChange => ({ kind: 'topicCreated', name, topicId: `id-${name}`, partitions, replicationFactor: 1, configs, assignments: Array.from({ length: partitions }, () => [NODE]) });

const grown = (image: MetadataImage, name: string, partitions: number): MetadataChange => ({ kind: 'partitionsAdded', name, topicId: `id-${name}`, partitions, assignments: Array.from({ length: partitions - image.topics.get(name)!.partitions }, () => [NODE]) });

/** `image` with partition `index` of `topic` moved to `state` (a partitionChanged, as the controller will commit on elections). */
function changed(image: MetadataImage, topic: string, index: number, state: { replicas: number[]; leader: number; leaderEpoch: number; isr: number[] }): MetadataImage {
  const current = image.topics.get(topic)!;
  return apply(image, { kind: 'partitionChanged', name: topic, topicId: current.topicId, partition: index, partitionEpoch: current.partitionStates[index]!.partitionEpoch + 1, ...state });
}

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination: sink }), lines };
}

async function rig(fs = new SimulatedFileSystem(), logger: Logger = silentLogger()): Promise<{ fs: SimulatedFileSystem; logs: LogManager; replicas: ReplicaManager }> {
  const clock = new ManualClock();
  const logs = await LogManager.open({ dataDir: '/data', fs, clock, configFor: () => logConfigFor(config, {}), recoveryThreads: 0, cleanerThreads: 0 });
  const replicas = new ReplicaManager({ nodeId: NODE, logs, config, logger });
  return { fs, logs, replicas };
}

const record = (value: string): Uint8Array => buildBatch([{ key: null, value: Buffer.from(value) }], { nowMs: 1_000 });

async function epochsIn(partition: Partition): Promise<number[]> {
  const read = await partition.read(0, 1 << 20);
  return read.records.map((batch) => decodeBatch(batch).header.partitionLeaderEpoch);
}

t.test('a new topic is opened, led here at epoch 0, and served; appends carry the leader epoch', async (t) => {
  const { fs, logs, replicas } = await rig();
  t.teardown(() => logs.close());
  await replicas.start(EMPTY_IMAGE);
  const v1 = apply(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, created('orders', 2));
  const report = await replicas.apply(EMPTY_IMAGE, v1);
  t.same(report, { version: v1.version, failures: [] });
  t.ok((await fs.readdir('/data')).includes('orders-1'), 'the logs were created');
  t.equal(replicas.image, v1, 'the image is served once applied');
  const partition = replicas.partitionOrError('orders', 1);
  if (!(partition instanceof Partition)) throw partition;
  t.same([partition.role, partition.leader, partition.leaderEpoch], ['leader', NODE, 0], 'no state in the image: led here at epoch 0');
  await partition.append(record('a')).committed;

  const v2 = [0, 1].reduce((image, index) => changed(image, 'orders', index, { replicas: [NODE, 2], leader: NODE, leaderEpoch: 3, isr: [NODE] }), v1);
  await replicas.apply(v1, v2);
  t.equal(partition.leaderEpoch, 3, 'a new leader epoch from the metadata reaches the partition it hosts');
  t.equal(replicas.partitionOrError('orders', 1), partition, 'the same partition: its log stays open across the change');
  await partition.append(record('b')).committed;
  t.same(await epochsIn(partition), [0, 3], 'each batch carries the leader epoch it was appended under');
});

t.test('partitionOrError: unknown, not hosted, follower, fenced and unknown epochs, offline', async (t) => {
  const { fs, logs, replicas } = await rig();
  t.teardown(() => logs.close());
  const v1 = apply(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, created('t', 3));
  await replicas.start(v1);
  const states = [
    { replicas: [NODE, 2], leader: NODE, leaderEpoch: 5, isr: [NODE, 2] },
    { replicas: [2, NODE], leader: 2, leaderEpoch: 7, isr: [2, NODE] },
    { replicas: [2, 3], leader: 3, leaderEpoch: 1, isr: [2, 3] },
  ];
  const v2 = states.reduce((image, state, index) => changed(image, 't', index, state), v1);
  await replicas.apply(v1, v2);

  t.type(replicas.partitionOrError('nope', 0), UnknownTopicOrPartitionError, 'a topic not in the metadata');
  t.type(replicas.partitionOrError('t', 3), UnknownTopicOrPartitionError, 'a partition past the count');
  t.type(replicas.partitionOrError('t', -1), UnknownTopicOrPartitionError, 'a negative partition');
  const notHere = replicas.partitionOrError('t', 2);
  t.type(notHere, NotLeaderError, 'in the metadata, not hosted here: NOT_LEADER_OR_FOLLOWER');
  t.match((notHere as Error).message, /broker 1 holds no replica of t-2; broker 3 leads it/);
  t.equal(replicas.partition('t', 2), undefined, 'and no log was opened for it');

  const led = replicas.partitionOrError('t', 0, { currentLeaderEpoch: 5 });
  t.type(led, Partition, 'the leader at the asked epoch');
  t.type(replicas.partitionOrError('t', 0, { currentLeaderEpoch: 4 }), FencedLeaderEpochError, 'an older epoch is fenced');
  t.type(replicas.partitionOrError('t', 0, { currentLeaderEpoch: 6 }), UnknownLeaderEpochError, 'a newer epoch is unknown here');
  t.type(replicas.partitionOrError('t', 0, { currentLeaderEpoch: -1 }), Partition, '-1 asks for no check');

  const followed = replicas.partition('t', 1)!;
  t.same([followed.role, followed.leader, followed.leaderEpoch], ['follower', 2, 7], 'a follower of the leader the metadata names');
  const asLeader = replicas.partitionOrError('t', 1);
  t.type(asLeader, NotLeaderError, 'a follower asked as leader');
  t.match((asLeader as Error).message, /broker 1 follows t-1; broker 2 leads it/);
  t.type(replicas.partitionOrError('t', 1, { currentLeaderEpoch: 6 }), FencedLeaderEpochError, 'the epoch is checked before the role, as Kafka');
  t.equal(replicas.partitionOrError('t', 1, { role: 'any' }), followed, 'any replica will do');
  t.throws(() => followed.append(record('x')), NotLeaderError, 'a follower refuses appends itself too');

  fs.injectFault('write', '/data/t-0/');
  t.throws(() => (led as Partition).append(record('x')), { name: 'LogOfflineError' }, 'a failed write takes the log offline');
  t.match(replicas.partitionOrError('t', 0, { currentLeaderEpoch: 4 }), { name: 'LogOfflineError' }, 'an offline log answers why (KAFKA_STORAGE_ERROR at the edge), before any epoch check');
});

t.test('config changes reach hosted partitions; deletion withdraws, wakes waiters and removes the logs; reassignment away removes the replica', async (t) => {
  const { fs, logs, replicas } = await rig();
  t.teardown(() => logs.close());
  const v1 = apply(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, created('a', 2), created('b', 1));
  await replicas.start(v1);
  const a0 = replicas.partition('a', 0)!;
  const v2 = apply(v1, { kind: 'topicConfigAltered', name: 'a', topicId: 'id-a', configs: { 'retention.ms': '1234' } });
  await replicas.apply(v1, v2);
  t.equal(a0.config.retentionMs, 1234, 'the new setting is applied to the open partition');
  t.equal(replicas.partition('a', 0), a0, 'without reopening it');

  let woken = 0;
  a0.onAdvance(() => woken++);
  const v3 = apply(v2, { kind: 'topicDeleted', name: 'a', topicId: 'id-a' });
  await replicas.apply(v2, v3);
  t.ok(a0.deleted && woken === 1, 'the deleted partition stops and wakes its waiters');
  t.type(replicas.partitionOrError('a', 0), UnknownTopicOrPartitionError);
  t.notOk((await fs.readdir('/data')).some((name) => name.startsWith('a-')), 'its logs are gone');

  const v4 = changed(v3, 'b', 0, { replicas: [2, 3], leader: 2, leaderEpoch: 1, isr: [2, 3] });
  await replicas.apply(v3, v4);
  t.equal(replicas.partition('b', 0), undefined, 'a partition assigned away is no longer hosted');
  t.type(replicas.partitionOrError('b', 0), NotLeaderError);
  t.notOk((await fs.readdir('/data')).includes('b-0'), 'and its replica is removed');

  const v5 = apply(v4, created('a', 1));
  const skipped = apply(v5, grown(v5, 'a', 3));
  t.same((await replicas.apply(v4, skipped)).failures, [], 'a catch-up that skipped a version');
  t.same([0, 1, 2].map((index) => replicas.partitionOrError('a', index) instanceof Partition), [true, true, true], 'gets everything up to the newest image');
  t.same(await replicas.apply(v5, v5), { version: skipped.version, failures: [] }, 'an older image changes nothing');
  t.type(replicas.partitionOrError('a', 2), Partition);
});

t.test('start reconciles the disk with the metadata; later, a new partition never adopts a stray log', async (t) => {
  const fs = new SimulatedFileSystem();
  const first = await rig(fs);
  const v1 = apply(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, created('gone', 1), created('kept', 1), created('stray', 1));
  await first.replicas.start(v1);
  await first.logs.create('kept', 5, logConfigFor(config, {})); // a log the metadata never placed here
  await first.logs.close();

  // The deletion of "gone" committed and a partition of "kept" added, both before their logs changed: a crash.
  const v2 = apply(v1, { kind: 'topicDeleted', name: 'gone', topicId: 'id-gone' }, grown(v1, 'kept', 2), { kind: 'topicDeleted', name: 'stray', topicId: 'id-stray' }, created('stray', 1));
  const { logger, lines } = capturingLogger();
  const second = await rig(fs, logger);
  t.teardown(() => second.logs.close());
  t.same((await second.replicas.start(v2)).failures, []);
  const dirs = await fs.readdir('/data');
  t.notOk(dirs.includes('gone-0'), 'the committed deletion was finished');
  t.ok(dirs.includes('kept-1'), 'the committed partition was created');
  t.type(second.replicas.partitionOrError('kept', 1), Partition, 'and is served');
  t.ok(dirs.includes('kept-5'), 'a log the metadata does not know is left in place');
  t.equal(second.replicas.partition('kept', 5), undefined, 'and not served');
  t.match(lines.filter((line) => line.event === 'strayLogs'), [{ level: 'warn', topic: 'kept', partitions: [5] }], 'with a warning');
  t.type(second.replicas.partitionOrError('stray', 0), Partition, 'a topic deleted and created again under its name is served');

  t.same(second.replicas.strayLogs('kept', [1, 4, 5]), [5], 'strayLogs names only the log no hosted partition owns');
  const v3 = apply(v2, grown(v2, 'kept', 6));
  const report = await second.replicas.apply(v2, v3);
  t.match(report.failures, [{ topic: 'kept', partition: 5, action: 'open', error: { message: /a log for kept-5 was already in the data directory/ } }], 'the stray is reported');
  const stray = second.replicas.partitionOrError('kept', 5);
  t.match(stray, { name: 'LogOfflineError', message: /already in the data directory/ }, 'served offline, never adopted');
  t.type(second.replicas.partitionOrError('kept', 4), Partition, 'the other new partitions are served');
});

t.test('what handlers see moves only once logs are open: a new topic is not listed half made', async (t) => {
  const { fs, logs, replicas } = await rig();
  t.teardown(() => logs.close());
  const v1 = apply(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, created('a', 1));
  await replicas.start(v1);
  const v2 = apply(v1, created('b', 3));
  fs.injectFault('open', '/data/b-2/', 2, { code: 'EMFILE' });
  const applying = replicas.apply(v1, v2);
  const seen: boolean[] = [];
  // Every microtask turn until the apply settles (the simulated disk answers in microtasks): the image never lists b before all its partitions are published.
  let settled = false;
  void applying.then(() => (settled = true));
  for (let turn = 0; turn < 100_000 && !settled; turn++) {
    seen.push(replicas.image.topics.has('b') === [0, 1, 2].every((index) => replicas.partition('b', index) !== undefined));
    await Promise.resolve();
  }
  t.ok(settled, 'the apply settled');
  t.ok(seen.length > 1 && seen.every(Boolean), `listed exactly when served, at each of ${seen.length} turns`);
  const report = await applying;
  t.match(report.failures, [{ topic: 'b', partition: 2, action: 'open', error: { code: 'EMFILE' } }], 'the failure is reported to the caller');
  t.match(replicas.partitionOrError('b', 2), { name: 'LogOfflineError' }, 'and the partition published offline, not unknown');
});

t.test('every producer.id.expiration.check.interval.ms, hosted partitions forget producers silent for producer.id.expiration.ms', async (t) => {
  const clock = new ManualClock(1_000);
  const expiring = brokerConfig({ 'data.dir': '/data', 'node.id': NODE, 'producer.id.expiration.ms': 60_000, 'producer.id.expiration.check.interval.ms': 10_000 });
  const logs = await LogManager.open({ dataDir: '/data', fs: new SimulatedFileSystem(), clock, configFor: () => logConfigFor(expiring, {}), recoveryThreads: 0, cleanerThreads: 0 });
  const replicas = new ReplicaManager({ nodeId: NODE, logs, config: expiring, logger: silentLogger(), clock });
  t.teardown(async () => {
    await replicas.close();
    await logs.close();
  });
  await replicas.start(EMPTY_IMAGE);
  const v1 = apply(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, created('orders', 1));
  await replicas.apply(EMPTY_IMAGE, v1);
  const partition = replicas.partitionOrError('orders', 0);
  if (!(partition instanceof Partition)) throw partition;
  const batch = buildBatch([{ key: null, value: Buffer.from('a') }], { nowMs: 1_000 });
  stampProducer(batch, 0, batch.byteLength, 42, 0, 0);
  await partition.append(batch).committed;
  clock.advance(50_000);
  t.ok(partition.producers.entry(42), 'checked at 11 s .. 51 s: kept (stamped at 1 s)');
  clock.advance(10_000);
  t.equal(partition.producers.entry(42), undefined, 'the check at 61 s forgets it');
});
