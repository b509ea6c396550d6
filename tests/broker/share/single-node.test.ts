/**
 * A share group end to end on one broker process, over the wire: members
 * join (configuration fixed by the first, checked for the others; the id
 * taken from consumer groups), records acquired under locks, accept /
 * release / reject / renew, a lock that runs out, delivery counts, the last
 * attempt dead-lettered to a topic with runnel.dlq.* headers, a long poll
 * woken by a lock's end and by a due delivery time, describe, list, and
 * every lock and count rebuilt from the log after a restart. (A long poll
 * woken by new records, awaited without a sleep: wakes.test.ts, in process.)
 */
import t from 'tap';
import { Errors } from '../../../protocol/errors.js';
import { DELIVER_AT_HEADER, DlqHeader } from '../../../protocol/headers.js';
import { batchesIn, decodeBatch } from '../../../protocol/batch/reader.js';
import { startBrokerProcess } from '../../support/broker-process.js';
import { RawClient } from '../../support/raw-client.js';
import { ack, acknowledge, acquired, join, produce, settled, shareFetch } from '../../support/share-wire.js';

const TOPIC = 'jobs';
const DLQ = 'jobs-dlq';

t.test('share group on a single broker over the wire, and its state after a restart', async (t) => {
  let broker = await startBrokerProcess();
  t.teardown(() => broker.stop());
  let client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());

  t.equal((await client.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 10_000, validateOnly: false })).topics[0]!.errorCode, 0);
  t.equal(await produce(client, TOPIC, ['a', 'b', 'c', 'd', 'e', 'f']), 0);
  await settled(async () => (await client.request('FindCoordinator', { keyType: 0, keys: ['q1'] })).coordinators[0]!);

  // The first member fixes the configuration; the dead-letter topic is created for it.
  const config = { visibilityTimeoutMs: 30_000, maxDeliveryAttempts: 2, deadLetterTopic: DLQ };
  const a = await settled(() => join(client, 'q1', 'A', [TOPIC], config));
  t.equal(a.errorCode, 0, a.errorMessage ?? '');
  t.same(a.assignment, [{ topic: TOPIC, partitions: [0] }], 'every partition of the topic');
  t.same(a.config, { visibilityTimeoutMs: 30_000, maxDeliveryAttempts: 2, deadLetterTopic: DLQ, ordering: 'none' });
  const b = await join(client, 'q1', 'B', [TOPIC]);
  t.equal(b.errorCode, 0, 'a member accepting the group\'s configuration joins');
  t.same(b.config, a.config, 'and is told it');
  t.same(b.assignment, a.assignment, 'the same partition as A');
  const c = await join(client, 'q1', 'C', [TOPIC], { maxDeliveryAttempts: 3 });
  t.equal(c.errorCode, Errors.INVALID_CONFIG.code);
  t.match(c.errorMessage, /maxDeliveryAttempts: the group has 2, this member wants 3/);
  const consumer = await client.request('ConsumerGroupHeartbeat', { groupId: 'q1', memberId: 'X', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: [TOPIC], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [] });
  t.equal(consumer.errorCode, Errors.INCONSISTENT_GROUP_PROTOCOL.code, 'a consumer group cannot take a share group\'s id');
  t.ok((await client.request('Metadata', { topics: [DLQ], allowAutoTopicCreation: false, includeInternal: false })).topics.every((topic) => topic.errorCode === 0), 'the dead-letter topic exists');

  const A = { groupId: 'q1', memberId: 'A', memberEpoch: a.memberEpoch };
  const B = { groupId: 'q1', memberId: 'B', memberEpoch: b.memberEpoch };
  const fa = await shareFetch(client, A, TOPIC, { maxRecords: 3 });
  t.equal(fa.errorCode, 0, fa.errorMessage ?? '');
  t.equal(fa.acquisitionLockTimeoutMs, 30_000);
  t.same(acquired(fa).map((r) => [r.offset, r.value, r.deliveryCount]), [[0, 'a', 1], [1, 'b', 1], [2, 'c', 1]], 'A gets the first three');
  const fb = await shareFetch(client, B, TOPIC, { maxRecords: 10 });
  t.same(acquired(fb).map((r) => r.offset), [3, 4, 5], 'B gets the rest, none of A\'s');
  t.same(acquired(await shareFetch(client, B, TOPIC)), [], 'nothing is left to hand out');

  // A settles its three; B cannot settle what A holds.
  const settle = await acknowledge(client, A, TOPIC, [ack(0, 0, 'ACCEPT'), ack(1, 1, 'RELEASE', { reason: 'try later' }), ack(2, 2, 'REJECT', { reason: 'bad input' })]);
  t.same(settle.topics[0]!.partitions[0]!.failedAcknowledgements, []);
  const stolen = await acknowledge(client, B, TOPIC, [ack(0, 1, 'ACCEPT')]);
  t.same(stolen.topics[0]!.partitions[0]!.failedAcknowledgements, [{ firstOffset: 0, lastOffset: 1, errorCode: Errors.INVALID_RECORD_STATE.code }], 'a member settles only what it holds');
  const again = await shareFetch(client, B, TOPIC);
  t.same(acquired(again).map((r) => [r.offset, r.deliveryCount]), [[1, 2]], 'the released record comes back, its second delivery');
  // B releases it again: its last attempt, so it is rejected and dead-lettered.
  t.same((await acknowledge(client, B, TOPIC, [ack(1, 1, 'RELEASE', { reason: 'still failing' })])).topics[0]!.partitions[0]!.failedAcknowledgements, []);

  // B's lock on 3..5 is cut short (renew for 200 ms): it runs out and A gets them, second delivery.
  t.same((await acknowledge(client, B, TOPIC, [ack(3, 5, 'RENEW', { lockMs: 200 })])).topics[0]!.partitions[0]!.failedAcknowledgements, []);
  const t0 = Date.now();
  const expired = await shareFetch(client, A, TOPIC, { maxWaitMs: 20_000 });
  t.same(acquired(expired).map((r) => [r.offset, r.deliveryCount]), [[3, 2], [4, 2], [5, 2]], 'the expired lock hands them to A');
  t.ok(Date.now() - t0 < 15_000, 'the expiry woke the waiting fetch (not its 20 s wait)');
  t.same((await acknowledge(client, B, TOPIC, [ack(3, 3, 'ACCEPT')])).topics[0]!.partitions[0]!.failedAcknowledgements[0]?.errorCode, Errors.INVALID_RECORD_STATE.code, 'B\'s lock is gone');
  t.same((await acknowledge(client, A, TOPIC, [ack(3, 4, 'ACCEPT'), ack(5, 5, 'RELEASE')])).topics[0]!.partitions[0]!.failedAcknowledgements, []);

  // Dead letters: 1 (max attempts), 2 (rejected), 5 (max attempts), with where they came from.
  let dlq: { offset: number; value: string; headers: Record<string, string> }[] = [];
  for (let i = 0; i < 50 && dlq.length < 3; i++) {
    const fetched = await client.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 200, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: DLQ, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] });
    dlq = [];
    for (const bytes of [fetched.topics[0]!.partitions[0]!.records].flat()) for (const { position } of batchesIn(bytes)) for (const r of decodeBatch(bytes, position).records) dlq.push({ offset: r.offset, value: Buffer.from(r.value ?? []).toString(), headers: Object.fromEntries(r.headers.map((h) => [h.key, Buffer.from(h.value ?? []).toString()])) });
  }
  const bySource = new Map(dlq.map((d) => [d.headers[DlqHeader.SOURCE_OFFSET], d]));
  t.equal(dlq.length, 3, 'three dead letters');
  t.match(bySource.get('1'), { value: 'b', headers: { [DlqHeader.SOURCE_TOPIC]: TOPIC, [DlqHeader.SOURCE_PARTITION]: '0', [DlqHeader.GROUP]: 'q1', [DlqHeader.DELIVERY_COUNT]: '2', [DlqHeader.REASON]: 'max-delivery-attempts', [DlqHeader.ERROR]: 'still failing' } });
  t.match(bySource.get('2'), { value: 'c', headers: { [DlqHeader.DELIVERY_COUNT]: '1', [DlqHeader.REASON]: 'rejected', [DlqHeader.ERROR]: 'bad input' } });
  t.match(bySource.get('5'), { value: 'f', headers: { [DlqHeader.REASON]: 'max-delivery-attempts' } });
  t.notOk(DlqHeader.ERROR in (bySource.get('5')?.headers ?? {}), 'no error header when no reason was given');

  // Describe once the copies are marked done.
  let described = (await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!;
  for (let i = 0; i < 50 && described.partitions[0]?.deadLettered !== 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    described = (await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!;
  }
  t.match(described, { errorCode: 0, groupState: 'Stable', config: a.config!, members: [{ memberId: 'A' }, { memberId: 'B' }] });
  t.match(described.partitions, [{ topic: TOPIC, partition: 0, startOffset: 6, endOffset: 6, highWatermark: 6, inFlight: 0, acquired: 0, available: 0, accepted: 3, rejected: 3, deadLettered: 3, oldestUnsettledTimestampMs: -1 }]);
  const listed = await client.request('ListGroups', { statesFilter: [], typesFilter: ['share'] });
  t.same(listed.groups, [{ groupId: 'q1', groupState: 'Stable', groupType: 'share' }]);
  t.same((await client.request('ListGroups', { statesFilter: [], typesFilter: ['consumer'] })).groups, []);

  // A record due later is held back until its time, and wakes the waiting fetch then (a long poll woken by new records: wakes.test.ts).
  await produce(client, TOPIC, ['g']);
  t.same(acquired(await shareFetch(client, A, TOPIC)).map((r) => r.offset), [6], 'a new record');
  const dueAt = Date.now() + 1500;
  await produce(client, TOPIC, ['h'], [{ key: DELIVER_AT_HEADER, value: Buffer.from(String(dueAt)) }]);
  t.same(acquired(await shareFetch(client, B, TOPIC)), [], 'not before its time');
  const delayed = acquired(await shareFetch(client, B, TOPIC, { maxWaitMs: 20_000 }));
  t.same(delayed.map((r) => r.offset), [7], 'delivered when due');
  t.ok(Date.now() >= dueAt, 'not early');
  t.ok(Date.now() - dueAt < 15_000, `woken at its time, not by the 20 s wait (${Date.now() - dueAt} ms late)`);

  // B releases 7 (count 1 kept); A still holds 6. Restart: locks, holders and counts come back from the log.
  t.same((await acknowledge(client, B, TOPIC, [ack(7, 7, 'RELEASE', { delayMs: 0 })])).topics[0]!.partitions[0]!.failedAcknowledgements, []);
  const before = (await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!;
  client.close();
  t.equal(await broker.stop(), 0);
  broker = await startBrokerProcess({ dataDir: broker.dataDir });
  client = await RawClient.connect(broker.host, broker.port);
  await settled(async () => (await client.request('FindCoordinator', { keyType: 0, keys: ['q1'] })).coordinators[0]!);
  const after = await settled(async () => (await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!);
  t.same(after, before, 'members, windows, locks and totals as before the restart');
  t.match(after.partitions[0], { acquired: 1, inFlight: 2, available: 1 });
  const redelivered = await settled(() => shareFetch(client, B, TOPIC));
  t.same(acquired(redelivered).map((r) => [r.offset, r.deliveryCount]), [[7, 2]], 'B gets 7 again, its count kept; 6 stays locked to A');
  t.same((await acknowledge(client, A, TOPIC, [ack(6, 6, 'ACCEPT')])).topics[0]!.partitions[0]!.failedAcknowledgements, [], 'A still holds 6 and settles it');

  // Leave, then delete.
  t.equal((await client.request('DeleteGroups', { groupsNames: ['q1'] })).results[0]!.errorCode, Errors.NON_EMPTY_GROUP.code);
  for (const memberId of ['A', 'B']) t.equal((await client.request('ShareGroupHeartbeat', { groupId: 'q1', memberId, memberEpoch: -1, subscribedTopicNames: null, config: null })).errorCode, 0);
  t.match((await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!, { groupState: 'Empty', partitions: [{ acquired: 0, available: 0, inFlight: 0, rejected: 4 }] }, 'leaving released B\'s lock on 7: its second delivery was its last, so it is rejected');
  // Records after the window are unsettled too: the oldest one's timestamp is read from the partition.
  t.equal(await produce(client, TOPIC, ['z']), 8);
  const oldest = (await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!.partitions[0]!;
  t.match(oldest, { endOffset: 8, highWatermark: 9, inFlight: 0, available: 1 });
  t.ok(oldest.oldestUnsettledTimestampMs > Date.now() - 60_000 && oldest.oldestUnsettledTimestampMs <= Date.now(), 'the oldest unsettled record is the one after the window');
  t.equal((await client.request('DeleteGroups', { groupsNames: ['q1'] })).results[0]!.errorCode, 0);
  t.equal((await client.request('ShareGroupDescribe', { groupIds: ['q1'] })).groups[0]!.errorCode, Errors.GROUP_ID_NOT_FOUND.code);
});
