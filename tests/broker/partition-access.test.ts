/**
 * Every handler that touches a partition goes through
 * `ReplicaManager.partitionOrError`: Produce, Fetch and ListOffsets answer
 * NOT_LEADER_OR_FOLLOWER on a follower or a partition hosted elsewhere, and
 * check the leader epoch a request states (FENCED_LEADER_EPOCH,
 * UNKNOWN_LEADER_EPOCH); Metadata and ListOffsets report the leader epoch.
 * Internal topics (`__` names) are hidden from Metadata's "every topic"
 * unless asked for, described when named, and refused to client
 * CreateTopics, DeleteTopics and Produce.
 *
 * Requests are built as objects, so fields of versions the codecs do not
 * speak yet (Fetch/ListOffsets `currentLeaderEpoch`, Metadata
 * `includeInternal`) reach the handlers as they will once decoded.
 */
import t from 'tap';
import { applyChange, type MetadataImage } from '../../broker/metadata/image.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import { Errors } from '../../protocol/errors.js';
import type { FetchRequest, ListOffsetsRequest } from '../../protocol/messages.js';
import { embeddedRig } from '../support/embedded-rig.js';

const records = (value: string): Uint8Array => buildBatch([{ key: null, value: Buffer.from(value) }], { nowMs: 1_000 });

/** `image` with the partitions of `topic` moved to `states` (partitionChanged entries, as the controller will commit on elections). */
function withStates(image: MetadataImage, topic: string, states: { replicas: number[]; leader: number; leaderEpoch: number; isr: number[] }[]): MetadataImage {
  const { topicId, partitionStates } = image.topics.get(topic)!;
  return states.reduce((next, state, partition) => applyChange(next, { kind: 'partitionChanged', name: topic, topicId, partition, partitionEpoch: partitionStates[partition]!.partitionEpoch + 1, ...state }, next.version + 1), image);
}

const fetchOf = (topic: string, partitions: { partition: number; currentLeaderEpoch?: number }[]): FetchRequest =>
  ({ replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: topic, partitions: partitions.map((p) => ({ fetchOffset: 0, partitionMaxBytes: 1 << 20, ...p })) }] }) as FetchRequest;

const latestOf = (topic: string, partitions: { partition: number; currentLeaderEpoch?: number }[]): ListOffsetsRequest =>
  ({ replicaId: -1, topics: [{ name: topic, partitions: partitions.map((p) => ({ timestamp: -1, ...p })) }] }) as ListOffsetsRequest;

t.test('produce, fetch and list-offsets reach partitions through partitionOrError: roles and leader epochs', async (t) => {
  const rig = await embeddedRig();
  t.teardown(() => rig.close());
  await rig.controller.createTopic({ name: 't', partitions: 3, replicationFactor: 1, configs: {} });
  // The metadata now says: partition 0 led here at epoch 4, partition 1 led by broker 2 (a follower here), partition 2 not here at all.
  const before = rig.replicas.image;
  await rig.replicas.apply(before, withStates(before, 't', [
    { replicas: [1, 2], leader: 1, leaderEpoch: 4, isr: [1] },
    { replicas: [2, 1], leader: 2, leaderEpoch: 6, isr: [2, 1] },
    { replicas: [2, 3], leader: 3, leaderEpoch: 2, isr: [2, 3] },
  ]));

  const produced = await rig.request('Produce', { acks: 1, timeoutMs: 1000, topics: [{ name: 't', partitions: [0, 1, 2, 3].map((partition) => ({ partition, records: records(`p${partition}`) })) }] });
  t.same(produced.topics[0]!.partitions.map((p) => p.errorCode), [Errors.NONE.code, Errors.NOT_LEADER_OR_FOLLOWER.code, Errors.NOT_LEADER_OR_FOLLOWER.code, Errors.UNKNOWN_TOPIC_OR_PARTITION.code], 'leader appends; follower and elsewhere: NOT_LEADER_OR_FOLLOWER; past the count: UNKNOWN');
  t.match(produced.topics[0]!.partitions[1]!.errorMessage, /broker 1 follows t-1; broker 2 leads it/);

  const fetched = await rig.request('Fetch', fetchOf('t', [{ partition: 0 }, { partition: 1 }, { partition: 2 }, { partition: 0, currentLeaderEpoch: 3 }, { partition: 0, currentLeaderEpoch: 5 }, { partition: 0, currentLeaderEpoch: 4 }]));
  const fetchedParts = fetched.topics.flatMap((topic) => topic.partitions);
  t.same(fetchedParts.map((p) => p.errorCode), [
    Errors.NONE.code,
    Errors.NOT_LEADER_OR_FOLLOWER.code,
    Errors.NOT_LEADER_OR_FOLLOWER.code,
    Errors.FENCED_LEADER_EPOCH.code,
    Errors.UNKNOWN_LEADER_EPOCH.code,
    Errors.NONE.code,
  ], 'fetch: roles, then the epoch the request states (older: fenced, newer: unknown, equal: served)');
  t.equal(decodeBatch(fetchedParts[0]!.records[0]!).header.partitionLeaderEpoch, 4, 'the batch carries the leader epoch it was appended under');

  const listed = await rig.request('ListOffsets', latestOf('t', [{ partition: 0 }, { partition: 1 }, { partition: 0, currentLeaderEpoch: 3 }, { partition: 0, currentLeaderEpoch: 9 }]));
  t.match(listed.topics[0]!.partitions, [
    { errorCode: Errors.NONE.code, offset: 1, leaderEpoch: 4 },
    { errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code },
    { errorCode: Errors.FENCED_LEADER_EPOCH.code },
    { errorCode: Errors.UNKNOWN_LEADER_EPOCH.code },
  ], 'list-offsets: the same checks, and the leader epoch in the answer');

  const metadata = await rig.request('Metadata', { topics: ['t'], allowAutoTopicCreation: false, includeInternal: false });
  t.match(metadata.topics[0]!.partitions, [
    { partition: 0, leader: 1, leaderEpoch: 4, replicas: [1, 2], isr: [1] },
    { partition: 1, leader: 2, leaderEpoch: 6, replicas: [2, 1] },
    { partition: 2, leader: 3, leaderEpoch: 2, replicas: [2, 3] },
  ], 'metadata: leader, epoch, replicas and ISR as the image has them');
});

t.test('internal topics: hidden from every-topic listings unless asked for, refused to client create, delete and produce', async (t) => {
  const rig = await embeddedRig({ 'auto.create.topics': true });
  t.teardown(() => rig.close());
  await rig.controller.createInternalTopic({ name: '__offsets', partitions: 2, replicationFactor: 1, configs: {} });
  await rig.controller.createTopic({ name: 'orders', partitions: 1, replicationFactor: 1, configs: {} });

  const listed = await rig.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
  t.same(listed.topics.map((topic) => topic.name), ['orders'], 'every topic: the internal one is left out');
  const asked = await rig.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: true });
  t.same(asked.topics.map((topic) => topic.name), ['__offsets', 'orders'], 'includeInternal: listed');
  const named = await rig.request('Metadata', { topics: ['__offsets'], allowAutoTopicCreation: true, includeInternal: false });
  t.match(named.topics, [{ name: '__offsets', errorCode: 0, partitions: [{ partition: 0 }, { partition: 1 }] }], 'named: described');
  const auto = await rig.request('Metadata', { topics: ['__new'], allowAutoTopicCreation: true, includeInternal: false });
  t.equal(auto.topics[0]!.errorCode, Errors.INVALID_TOPIC_EXCEPTION.code, 'never auto-created');

  const created = await rig.request('CreateTopics', { topics: [{ name: '__mine', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  t.match(created.topics[0], { errorCode: Errors.INVALID_TOPIC_EXCEPTION.code, errorMessage: /reserved for the broker's internal topics/ }, 'a client cannot create one');
  const deleted = await rig.request('DeleteTopics', { topics: ['__offsets'], timeoutMs: 1000 });
  t.match(deleted.topics[0], { errorCode: Errors.INVALID_TOPIC_EXCEPTION.code, errorMessage: /cannot be deleted/ }, 'nor delete one');
  const produced = await rig.request('Produce', { acks: 1, timeoutMs: 1000, topics: [{ name: '__offsets', partitions: [{ partition: 0, records: records('x') }] }, { name: '__other', partitions: [{ partition: 0, records: records('x') }] }] });
  t.same(produced.topics.map((topic) => topic.partitions[0]!.errorCode), [Errors.INVALID_TOPIC_EXCEPTION.code, Errors.INVALID_TOPIC_EXCEPTION.code], 'nor produce to one, existing or not');
  t.notOk(rig.store.image.topics.has('__other'), 'and producing auto-created nothing');
  t.equal(rig.replicas.partition('__offsets', 0)!.logEndOffset, 0, 'nothing was appended');
});
