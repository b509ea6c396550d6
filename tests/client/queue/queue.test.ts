/**
 * The queue SDK against a fake share coordinator (fake-share-coordinator.ts):
 * joining with the queue's configuration (and a clear error when the group
 * has another), receiving only acquired records with their delivery counts,
 * ack / release / reject / extend and what the coordinator makes of them,
 * acknowledgements coalesced into ranges on the wire, a lock that expired,
 * fencing and a coordinator that moved, close(). Every wait is bounded.
 */
import t from 'tap';
import { AcknowledgeType, type ShareAcknowledgement } from '../../../protocol/messages.js';
import { DELIVER_AT_HEADER } from '../../../protocol/headers.js';
import { RunnelError, type QueueMessage } from '../../../client/index.js';
import { queueWorld, sleep, until } from './support.js';

const values = (ms: readonly QueueMessage[]): string[] => ms.map((m) => m.value!.toString());

/** Every acknowledgement the coordinator was sent, on fetches and on their own. */
function acksSent(w: Awaited<ReturnType<typeof queueWorld>>): ShareAcknowledgement[] {
  const fromFetch = w.coordinator.requests('ShareFetch').flatMap((r) => r.topics.flatMap((t) => t.partitions.flatMap((p) => p.acknowledgements)));
  const alone = w.coordinator.requests('ShareAcknowledge').flatMap((r) => r.topics.flatMap((t) => t.partitions.flatMap((p) => p.acknowledgements)));
  return [...fromFetch, ...alone];
}

t.test('a member joins with its configuration, receives records with delivery count 1, and acks them', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 3);
  const q = w.queue({ visibilityTimeoutMs: 10_000, maxDeliveryAttempts: 3, deadLetterTopic: 'jobs-dlq', ordering: 'key' });
  const got = await q.receive({ max: 10, waitMs: 1000 });
  t.same(values(got), ['v0', 'v1', 'v2']);
  t.same(got.map((m) => [m.topic, m.partition, m.offset, m.deliveryCount]), [['jobs', 0, 0, 1], ['jobs', 0, 1, 1], ['jobs', 0, 2, 1]]);
  t.ok(got[0]!.lockExpiresAtMs > Date.now() + 8000 && got[0]!.lockExpiresAtMs <= Date.now() + 10_000, 'the lock is the group\'s visibility timeout');
  const join = w.coordinator.requests('ShareGroupHeartbeat')[0]!;
  t.same({ epoch: join.memberEpoch, topics: join.subscribedTopicNames, config: join.config }, { epoch: 0, topics: ['jobs'], config: { visibilityTimeoutMs: 10_000, maxDeliveryAttempts: 3, deadLetterTopic: 'jobs-dlq', ordering: 'key' } });
  t.same(q.config, { visibilityTimeoutMs: 10_000, maxDeliveryAttempts: 3, deadLetterTopic: 'jobs-dlq', ordering: 'key' });
  await Promise.all(got.map((m) => m.ack()));
  t.same([0, 1, 2].map((o) => w.coordinator.record('workers', 'jobs', 0, o)?.state), ['accepted', 'accepted', 'accepted']);
  t.same(acksSent(w), [{ firstOffset: 0, lastOffset: 2, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], 'three acks, one range on the wire');
  await t.rejects(got[0]!.ack(), { errorName: 'INVALID_ARGUMENT', message: /settled already/ }, 'a second settlement is refused at once');
  await q.close();
  t.equal(w.coordinator.requests('ShareGroupHeartbeat').at(-1)!.memberEpoch, -1, 'close leaves with epoch -1');
});

t.test('a later member with other settings gets a clear INVALID_CONFIG; unset settings take the group\'s', async (t) => {
  const w = await queueWorld(t);
  const first = w.queue({ visibilityTimeoutMs: 5000, deadLetterTopic: 'dlq' });
  t.same(await first.receive({ waitMs: 0 }), []);
  const other = w.queue({ visibilityTimeoutMs: 7000 });
  const err = await other.receive({ waitMs: 100 }).then(() => null, (e: RunnelError) => e);
  t.equal(err?.errorName, 'INVALID_CONFIG');
  t.match(err?.message, /visibilityTimeoutMs/);
  const easy = w.queue();
  t.same(await easy.receive({ waitMs: 0 }), []);
  t.same(easy.config, { visibilityTimeoutMs: 5000, maxDeliveryAttempts: 5, deadLetterTopic: 'dlq', ordering: 'none' }, 'the group\'s configuration, resolved');
  await Promise.all([first.close(), other.close(), easy.close()]);
});

t.test('the member checks the resolved configuration itself: a coordinator that ignores a setting is an error naming it', async (t) => {
  const w = await queueWorld(t);
  const first = w.queue();
  await first.receive({ waitMs: 0 });
  w.coordinator.laxConfig = true;
  const lax = w.queue({ ordering: 'key' });
  const err = await lax.receive({ waitMs: 100 }).then(() => null, (e: RunnelError) => e);
  t.equal(err?.errorName, 'INVALID_CONFIG');
  t.match(err?.message, /ordering: this queue asks for "key", the group has "none"/);
  await until('the refused member left', () => w.coordinator.groups.get('workers')!.members.size === 1);
  await Promise.all([first.close(), lax.close()]);
});

t.test('a group id that is a consumer group\'s: INCONSISTENT_GROUP_PROTOCOL, not retried', async (t) => {
  const w = await queueWorld(t);
  w.coordinator.consumerGroups.add('workers');
  const q = w.queue();
  const err = await q.receive({ waitMs: 100 }).then(() => null, (e: RunnelError) => e);
  t.equal(err?.errorName, 'INCONSISTENT_GROUP_PROTOCOL');
  const joins = w.coordinator.requests('ShareGroupHeartbeat').length;
  await sleep(150);
  t.equal(w.coordinator.requests('ShareGroupHeartbeat').length, joins, 'no more joins after a fatal answer');
  await q.close();
});

t.test('release redelivers (count 2, after its delay); reject never does; reasons reach the coordinator', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 2);
  const q = w.queue();
  const [a, b] = await q.receive({ max: 2, waitMs: 1000 });
  const released = Date.now();
  await a!.release({ delayMs: 300, reason: 'db down' });
  await b!.reject('bad payload');
  t.equal(w.coordinator.record('workers', 'jobs', 0, 1)?.state, 'rejected');
  t.equal(w.coordinator.record('workers', 'jobs', 0, 1)?.lastReason, 'bad payload');
  const again = await q.receive({ waitMs: 2000 });
  t.same(again.map((m) => [m.offset, m.deliveryCount]), [[0, 2]]);
  t.ok(Date.now() - released >= 290, 'not before the release delay');
  t.same(acksSent(w).map((a) => [a.firstOffset, a.type, a.delayMs, a.reason]), [[0, AcknowledgeType.RELEASE, 300, 'db down'], [1, AcknowledgeType.REJECT, 0, 'bad payload']]);
  await again[0]!.ack();
  await q.close();
});

t.test('an ack after the lock expired is refused: "lock expired, the record may have been redelivered"', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 1);
  const q = w.queue({ visibilityTimeoutMs: 150 });
  const [m] = await q.receive({ waitMs: 1000 });
  await sleep(250);
  const other = w.queue();
  const [stolen] = await other.receive({ waitMs: 1000 });
  t.equal(stolen?.deliveryCount, 2, 'redelivered to another member once the lock expired');
  const err = await m!.ack().then(() => null, (e: RunnelError) => e);
  t.equal(err?.errorName, 'INVALID_RECORD_STATE');
  t.match(err?.message, /lock expired, the record may have been redelivered/);
  t.same(err?.offsets, { first: 0, last: 0 });
  await stolen!.ack();
  t.same([...w.coordinator.accepted], ['jobs-0-0']);
  await Promise.all([q.close(), other.close()]);
});

t.test('extend keeps the lock past the visibility timeout: no other member gets the record', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 1);
  const q = w.queue({ visibilityTimeoutMs: 200 });
  const [m] = await q.receive({ waitMs: 1000 });
  const before = m!.lockExpiresAtMs;
  await m!.extend(2000);
  t.ok(m!.lockExpiresAtMs > before + 1500, 'the lock moved');
  await sleep(300);
  const other = w.queue();
  t.same(await other.receive({ waitMs: 100 }), [], 'still locked to the first member');
  await m!.ack();
  t.same(acksSent(w).map((a) => [a.type, a.lockMs]), [[AcknowledgeType.RENEW, 2000], [AcknowledgeType.ACCEPT, -1]]);
  await Promise.all([q.close(), other.close()]);
});

t.test('acks coalesce: 200 acks of consecutive records go out as one range, carried by the next fetch or one ShareAcknowledge', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 200);
  const q = w.queue({ ackLingerMs: 20 });
  const got: QueueMessage[] = [];
  for (let tries = 0; got.length < 200 && tries < 20; tries++) got.push(...(await q.receive({ max: 200, waitMs: 1000 })));
  t.equal(got.length, 200, 'every record received');
  const acked = Promise.all(got.map((m) => m.ack()));
  await acked;
  const ranges = acksSent(w);
  t.same(ranges, [{ firstOffset: 0, lastOffset: 199, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }]);
  t.equal(w.coordinator.requests('ShareAcknowledge').length, 1, 'one request for all 200');
  // Acks given just before a fetch ride on it.
  await w.produce('jobs', 2);
  const [x, y] = await q.receive({ max: 2, waitMs: 1000 });
  const both = Promise.all([x!.ack(), y!.ack()]);
  t.same(await q.receive({ waitMs: 0 }), []);
  await both;
  const lastFetch = w.coordinator.requests('ShareFetch').at(-1)!;
  t.same(lastFetch.topics[0]!.partitions[0]!.acknowledgements.map((a) => [a.firstOffset, a.lastOffset]), [[200, 201]], 'carried by the fetch');
  t.equal(w.coordinator.requests('ShareAcknowledge').length, 1, 'no ShareAcknowledge for them');
  await q.close();
});

t.test('records in the answer that were not acquired by this member are not handed out', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 4); // one batch, offsets 0-3
  const a = w.queue();
  const first = await a.receive({ max: 10, waitMs: 1000 });
  t.same(first.map((m) => m.offset), [0, 1, 2, 3]);
  await Promise.all([first[1]!.release(), first[3]!.release()]);
  const b = w.queue();
  const second = await b.receive({ max: 10, waitMs: 1000 });
  t.same(second.map((m) => [m.offset, m.deliveryCount]), [[1, 2], [3, 2]], 'the whole batch was sent; only offsets 1 and 3 were acquired (0 and 2 are locked to the other member)');
  await Promise.all([first[0]!, first[2]!, ...second].map((m) => m.ack()));
  await Promise.all([a.close(), b.close()]);
});

t.test('a fenced member rejoins with epoch 0 and goes on; acks in flight fail with a clear error', async (t) => {
  const w = await queueWorld(t);
  // Heartbeats too rare to notice: the fetch and acknowledge paths must make the member rejoin themselves.
  w.coordinator.heartbeatIntervalMs = 60_000;
  await w.produce('jobs', 2);
  const q = w.queue();
  const [m] = await q.receive({ max: 1, waitMs: 1000 });
  w.coordinator.inject('ShareAcknowledge', 'FENCED_MEMBER_EPOCH');
  const err = await m!.ack().then(() => null, (e: RunnelError) => e);
  t.equal(err?.errorName, 'FENCED_MEMBER_EPOCH');
  t.match(err?.message, /released and may be redelivered/);
  const joins = (): number => w.coordinator.requests('ShareGroupHeartbeat').filter((h) => h.memberEpoch === 0).length;
  await until('a rejoin', () => joins() === 2);
  w.coordinator.expel('workers', [...w.coordinator.groups.get('workers')!.members.keys()][0]!);
  const again = await q.receive({ max: 5, waitMs: 2000 });
  t.same(again.map((r) => r.offset).sort(), [0, 1], 'both records, after rejoining once more');
  t.ok(joins() >= 3);
  await Promise.all(again.map((r) => r.ack()));
  await q.close();
});

t.test('a topic the member may no longer read: its acks and the next receive fail with TOPIC_AUTHORIZATION_FAILED at once; a grant later, receives go on', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 3);
  const q = w.queue();
  const [first] = await q.receive({ max: 1, waitMs: 1000 });
  w.coordinator.unreadable.add('jobs');
  const ackError = await first!.ack().then(() => null, (e: RunnelError) => e);
  t.equal(ackError?.errorName, 'TOPIC_AUTHORIZATION_FAILED', 'the ack fails with the refusal');
  const startedMs = Date.now();
  const receiveError = await q.receive({ max: 5, waitMs: 5000 }).then(() => null, (e: RunnelError) => e);
  t.equal(receiveError?.errorName, 'TOPIC_AUTHORIZATION_FAILED', 'the receive rejects with it');
  t.match(receiveError?.message, /Fetching jobs-0 for share group "workers": User:test is not authorized to read topic "jobs"/);
  t.ok(Date.now() - startedMs < 2500, 'at once, not after its wait');
  w.coordinator.unreadable.delete('jobs');
  const later = await q.receive({ max: 1, waitMs: 2000 });
  t.same(later.map((m) => m.offset), [1], 'granted again, the next record comes');
  await Promise.all(later.map((m) => m.ack()));
  await q.close();
});

t.test('NOT_COORDINATOR: the coordinator is looked up again and the fetch retried; the acks it carried are not lost', async (t) => {
  const w = await queueWorld(t);
  const q = w.queue({ ackLingerMs: 60_000 });
  t.same(await q.receive({ waitMs: 0 }), []);
  await w.produce('jobs', 2);
  const [held] = await q.receive({ max: 1, waitMs: 1000 });
  const acked = held!.ack();
  const finds = w.coordinator.requests('FindCoordinator').length;
  w.coordinator.inject('ShareFetch', 'NOT_COORDINATOR');
  const got = await q.receive({ waitMs: 2000 });
  t.same(values(got), ['v1']);
  t.ok(w.coordinator.requests('FindCoordinator').length > finds, 'looked up again');
  await acked;
  t.equal(w.coordinator.record('workers', 'jobs', 0, 0)?.state, 'accepted', 'the ack the refused fetch carried went out again');
  // Still lingering (60 s): close sends it before leaving.
  const last = got[0]!.ack();
  await q.close();
  await last;
  t.equal(w.coordinator.record('workers', 'jobs', 0, 1)?.state, 'accepted', 'close sent the pending ack');
});

t.test('close releases what the member holds (redelivered at once to another) and leaves', async (t) => {
  const w = await queueWorld(t);
  await w.produce('jobs', 3);
  const q = w.queue();
  const got = await q.receive({ max: 3, waitMs: 1000 });
  await got[0]!.ack();
  await q.close();
  t.same([1, 2].map((o) => w.coordinator.record('workers', 'jobs', 0, o)?.state), ['available', 'available']);
  await t.rejects(q.receive(), { name: 'RunnelError', errorName: 'CLIENT_CLOSED' });
  const other = w.queue();
  const again = await other.receive({ max: 5, waitMs: 1000 });
  t.same(again.map((m) => [m.offset, m.deliveryCount]), [[1, 2], [2, 2]]);
  await Promise.all(again.map((m) => m.ack()));
  await other.close();
});

t.test('send: a value or a record; deliverAfterMs / deliverAt set the runnel.deliver.at header', async (t) => {
  const w = await queueWorld(t);
  const q = w.queue();
  const before = Date.now();
  await q.send('plain');
  await q.send({ key: 'k', value: 'later', headers: { trace: 't1' }, deliverAfterMs: 300 });
  await q.send({ value: 'at', deliverAt: new Date(before + 60_000) });
  await t.rejects(q.send({ value: 'x', deliverAt: 1, deliverAfterMs: 1 }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  const got = await q.receive({ max: 5, waitMs: 100 });
  t.same(values(got), ['plain'], 'delayed records are not handed out before their time');
  const later = await q.receive({ max: 5, waitMs: 2000 });
  t.same(values(later), ['later']);
  t.ok(Date.now() - before >= 290);
  const at = Number(later[0]!.headers[DELIVER_AT_HEADER]!.toString());
  t.ok(at >= before + 300 && at <= Date.now(), 'the header is the send time plus the delay');
  t.equal(later[0]!.headers['trace']!.toString(), 't1');
  t.equal(later[0]!.key!.toString(), 'k');
  await Promise.all([...got, ...later].map((m) => m.ack()));
  await q.close();
});

t.test('options are checked when the queue is made', async (t) => {
  const w = await queueWorld(t);
  t.throws(() => w.runnel.queue({ topic: '', group: 'g' }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  t.throws(() => w.runnel.queue({ topic: 'jobs', group: 'g', ordering: 'fifo' as never }), { message: /ordering must be 'none' or 'key'/ });
  t.throws(() => w.runnel.queue({ topic: 'jobs', group: 'g', deadLetterTopic: 'jobs' }), { message: /must differ/ });
  t.throws(() => w.runnel.queue({ topic: 'jobs', group: 'g', visibilityTimeoutMs: 0 }), { message: /visibilityTimeoutMs/ });
  const q = w.queue();
  await t.rejects(q.receive({ max: 0 }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  const [m] = await (async () => {
    await w.produce('jobs', 1);
    return q.receive({ waitMs: 1000 });
  })();
  await t.rejects(m!.release({ delayMs: -1 }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  await t.rejects(m!.extend(0), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  t.notOk(m!.settled, 'a refused argument settles nothing');
  await m!.ack();
  await q.close();
});
