/**
 * The controller decides and commits; the replica manager in its process
 * applies. Checked here on a simulated disk: every refusal is a typed error
 * (mapped to its wire code once, at the handler edge, which is checked too),
 * a change is served when the controller answers, concurrent auto-creations
 * create one topic, a topic whose logs cannot all be created is undone, and
 * internal topics (`__` names) are the broker's alone.
 */
import t from 'tap';
import {
  ControllerClosedError,
  FencedLeaderEpochError,
  InvalidPartitionsError,
  InvalidReplicationFactorError,
  InvalidTopicNameError,
  NotLeaderError,
  PartitionStorageError,
  TopicExistsError,
  UnknownLeaderEpochError,
  UnknownSettingError,
  UnknownTopicOrPartitionError,
} from '../../broker/errors.js';
import { toWireError } from '../../broker/handlers/errors.js';
import { silentLogger } from '../../broker/log.js';
import { Partition } from '../../broker/partition.js';
import { ConfigError } from '../../broker/storage/log-config.js';
import { Errors } from '../../protocol/errors.js';
import { embeddedRig } from '../support/embedded-rig.js';

const topic = (name: string, partitions = 1, configs: Record<string, string> = {}) => ({ name, partitions, replicationFactor: 1, configs });

t.test('refusals are typed errors, each mapped to its wire code at the edge', async (t) => {
  const rig = await embeddedRig();
  t.teardown(() => rig.close());
  const { controller } = rig;
  await controller.createTopic(topic('orders', 2));
  const cases: [Promise<unknown>, new (...args: never[]) => Error, keyof typeof Errors][] = [
    [controller.createTopic(topic('orders')), TopicExistsError, 'TOPIC_ALREADY_EXISTS'],
    [controller.createTopic(topic('bad name')), InvalidTopicNameError, 'INVALID_TOPIC_EXCEPTION'],
    [controller.createTopic(topic('p0', 0)), InvalidPartitionsError, 'INVALID_PARTITIONS'],
    [controller.createTopic({ ...topic('rf3'), replicationFactor: 3 }), InvalidReplicationFactorError, 'INVALID_REPLICATION_FACTOR'],
    [controller.createTopic(topic('cfg', 1, { 'no.such': '1' })), UnknownSettingError, 'INVALID_CONFIG'],
    [controller.createTopic(topic('cfg', 1, { 'retention.ms': 'soon' })), ConfigError, 'INVALID_CONFIG'],
    [controller.deleteTopic('missing'), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION'],
    [controller.createPartitions('orders', 1), InvalidPartitionsError, 'INVALID_PARTITIONS'],
    [controller.alterTopicConfig('orders', [{ name: 'no.such', value: '1' }]), UnknownSettingError, 'INVALID_CONFIG'],
  ];
  for (const [attempt, type, wire] of cases) {
    const error = await attempt.then(() => null, (e: unknown) => e);
    t.type(error, type, `${type.name}`);
    t.equal(toWireError(error, silentLogger()).errorName, wire, `${type.name} -> ${wire}`);
    t.notOk(error instanceof Error && error.message.startsWith(wire), 'the message says what happened, not the code');
  }
  const others: [Error, keyof typeof Errors][] = [
    [new NotLeaderError('t', 0, 2, 'x'), 'NOT_LEADER_OR_FOLLOWER'],
    [new FencedLeaderEpochError('t', 0, 1, 2), 'FENCED_LEADER_EPOCH'],
    [new UnknownLeaderEpochError('t', 0, 3, 2), 'UNKNOWN_LEADER_EPOCH'],
    [new PartitionStorageError('x'), 'KAFKA_STORAGE_ERROR'],
    [new ControllerClosedError(), 'LEADER_NOT_AVAILABLE'],
  ];
  for (const [error, wire] of others) t.equal(toWireError(error, silentLogger()).errorName, wire, `${error.name} -> ${wire}`);
  t.equal(Errors.FENCED_LEADER_EPOCH.code, 74, "Kafka's number");
  t.equal(Errors.UNKNOWN_LEADER_EPOCH.code, 76, "Kafka's number");

  await controller.close();
  await t.rejects(controller.createTopic(topic('late')), ControllerClosedError, 'a closed controller takes no changes');
});

t.test('what the controller reports done is served: create, grow, reconfigure, delete', async (t) => {
  const rig = await embeddedRig();
  t.teardown(() => rig.close());
  const { controller, replicas } = rig;
  t.same(await controller.createTopic(topic('t', 2)), { partitions: 2, replicationFactor: 1 });
  t.type(replicas.partitionOrError('t', 1), Partition, 'created: served at once');
  await controller.createPartitions('t', 4);
  t.type(replicas.partitionOrError('t', 3), Partition, 'grown: served at once');
  await controller.alterTopicConfig('t', [{ name: 'retention.ms', value: '5000' }]);
  t.equal(replicas.partition('t', 0)!.config.retentionMs, 5000, 'reconfigured: applied at once');
  await controller.deleteTopic('t');
  t.type(replicas.partitionOrError('t', 0), UnknownTopicOrPartitionError, 'deleted: gone at once');
  t.notOk((await rig.fs.readdir('/data')).some((name) => name.startsWith('t-')), 'with its logs');
  t.same(await controller.createTopic(topic('v', 3), { validateOnly: true }), { partitions: 3, replicationFactor: 1 });
  t.notOk(rig.store.image.topics.has('v'), 'validateOnly commits nothing');
});

t.test('concurrent auto-creations of one topic create it once; auto-creation off creates nothing', async (t) => {
  const rig = await embeddedRig({ 'auto.create.topics': true, 'num.partitions': 3 });
  t.teardown(() => rig.close());
  const before = rig.store.image.version;
  t.same(await Promise.all([rig.controller.autoCreate('auto'), rig.controller.autoCreate('auto'), rig.controller.autoCreate('auto')]), [true, true, true]);
  t.equal(rig.store.image.version, before + 1, 'one topicCreated committed');
  t.equal(rig.store.image.topics.get('auto')!.partitions, 3, 'with num.partitions');
  t.type(rig.replicas.partitionOrError('auto', 2), Partition, 'served when autoCreate resolves');
  await t.rejects(rig.controller.autoCreate('bad/name'), InvalidTopicNameError);

  const off = await embeddedRig();
  t.teardown(() => off.close());
  t.equal(await off.controller.autoCreate('auto'), false);
  t.notOk(off.store.image.topics.has('auto'));
});

t.test('a topic whose logs cannot all be created is undone: nothing reported created that is not served', async (t) => {
  const rig = await embeddedRig();
  t.teardown(() => rig.close());
  rig.fs.injectFault('open', '/data/f-2/', 1, { code: 'EMFILE' });
  const error = await rig.controller.createTopic(topic('f', 4)).then(() => null, (e: unknown) => e);
  t.type(error, PartitionStorageError);
  t.match((error as Error).message, /^partition f-2 could not be created: EMFILE.*; topic f was not created$/);
  t.notOk(rig.store.image.topics.has('f'), 'the creation was undone in the metadata');
  t.equal(rig.store.image.deletedTopics.get('f') !== undefined, true, 'by a committed deletion');
  t.type(rig.replicas.partitionOrError('f', 0), UnknownTopicOrPartitionError, 'nothing of it is served');
  t.same((await rig.fs.readdir('/data')).filter((name) => name.startsWith('f-')), [], 'and no log is left');
  await rig.controller.createTopic(topic('f', 4));
  t.type(rig.replicas.partitionOrError('f', 3), Partition, 'the same creation succeeds once the disk does');
});

t.test('internal topics: created by the broker only, never deleted or grown by clients', async (t) => {
  const rig = await embeddedRig({ 'auto.create.topics': true });
  t.teardown(() => rig.close());
  const { controller, replicas } = rig;
  const refused = await controller.createTopic(topic('__offsets')).then(() => null, (e: unknown) => e);
  t.type(refused, InvalidTopicNameError, 'a client cannot create one');
  t.match((refused as Error).message, /names starting with "__" are reserved for the broker's internal topics/);
  await t.rejects(controller.createTopic(topic('__offsets'), { validateOnly: true }), InvalidTopicNameError, 'not even to validate');
  await t.rejects(controller.autoCreate('__offsets'), { name: 'InvalidTopicNameError', message: /the broker creates those itself, auto-creation does not/ });
  t.notOk(rig.store.image.topics.has('__offsets'));

  await controller.createInternalTopic(topic('__offsets', 3, { 'cleanup.policy': 'compact' }));
  t.equal(rig.store.image.topics.get('__offsets')!.partitions, 3, 'the broker creates it');
  t.type(replicas.partitionOrError('__offsets', 2), Partition, 'and serves it');
  await t.rejects(controller.createInternalTopic(topic('__offsets')), TopicExistsError);
  await t.rejects(controller.createInternalTopic(topic('plain')), { name: 'InvariantError' }, 'an internal topic has an internal name');
  await t.rejects(controller.deleteTopic('__offsets'), { name: 'InvalidTopicNameError', message: /internal to the broker and cannot be deleted/ });
  await t.rejects(controller.createPartitions('__offsets', 5), { name: 'InvalidTopicNameError', message: /its partition count is the broker's to set/ });
  await controller.alterTopicConfig('__offsets', [{ name: 'retention.ms', value: '1000' }]);
  t.equal(rig.store.image.topics.get('__offsets')!.configs['retention.ms'], '1000', 'its settings may be changed');
});
