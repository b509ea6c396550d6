/**
 * Group membership in the SDK against a fake coordinator (fake-coordinator.ts):
 * joining and starting at the committed offsets, at-least-once commits of
 * finished messages only, incremental handover between members (revoked
 * partitions committed before they are reported given up, never owned by
 * two members), fencing, a coordinator that moved, leaving. Every wait is
 * bounded in time.
 */
import t from 'tap';
import type { Message, PartitionsEvent, PartitionsLostEvent } from '../../../client/index.js';
import type { RequestBodies } from '../../../protocol/messages.js';
import { consumeInto, groupWorld, ids, until } from './support.js';

type Heartbeat = RequestBodies['ConsumerGroupHeartbeat'];

t.test('a member starts at the committed offsets, commits only what the app finished, and leaves with epoch -1', async (t) => {
  const w = await groupWorld(t, { t: 2 });
  await w.produce('t', 5);
  w.coordinator.group('g').offsets.set('t-0', 3);
  const consumer = w.consumer({ groupId: 'g' });
  const assigned: PartitionsEvent[] = [];
  consumer.on('partitions-assigned', (e) => assigned.push(e));
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const seen: Message[] = [];
  for await (const m of consumer) {
    seen.push(m);
    // t-0 from its committed 3 (2 records), t-1 from the beginning (5): the 7th is in hand when the loop leaves.
    if (seen.length === 7) break;
  }
  t.same(ids(seen).filter((id) => id.startsWith('t-0')), ['t-0-3', 't-0-4']);
  t.same(ids(seen).filter((id) => id.startsWith('t-1')), ['t-1-0', 't-1-1', 't-1-2', 't-1-3', 't-1-4']);
  t.same(assigned.flatMap((e) => e.partitions).map((p) => `${p.topic}-${p.partition}`).sort(), ['t-0', 't-1']);
  await consumer.close();
  // The message in hand when the loop left was not finished: its offset is committed, so it is redelivered, not skipped.
  const last = seen[6]!;
  t.equal(w.coordinator.committed('g', last.topic, last.partition), last.offset, 'the unfinished message is not committed');
  const other = seen.filter((m) => m.partition !== last.partition).at(-1)!;
  t.equal(w.coordinator.committed('g', other.topic, other.partition), other.offset + 1, 'finished messages are committed');
  const beats = w.coordinator.requests('ConsumerGroupHeartbeat') as Heartbeat[];
  t.equal(beats[0]!.memberEpoch, 0, 'joins with epoch 0');
  t.same(beats[0]!.subscribedTopicNames, ['t']);
  t.equal(beats.at(-1)!.memberEpoch, -1, 'leaves with epoch -1');
  t.same(w.coordinator.violations, []);
});

t.test('run({ eachMessage }): a message is finished when its handler resolves; a handler that throws stops run() and is not committed', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 4);
  const consumer = w.consumer({ groupId: 'g' });
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const handled: number[] = [];
  const err = await consumer.run({
    eachMessage: async (m) => {
      handled.push(m.offset);
      if (m.offset === 2) throw new Error('app failure at 2');
    },
  }).then(() => null, (e: Error) => e);
  t.equal(err?.message, 'app failure at 2');
  t.same(handled, [0, 1, 2]);
  await consumer.commit();
  t.equal(w.coordinator.committed('g', 't', 0), 2, 'offsets 0 and 1 finished; 2 failed and is the next to process');
  await consumer.close();
});

t.test('eachBatch: a batch is finished when its handler resolves; auto-commit commits it within the interval', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 3);
  const consumer = w.consumer({ groupId: 'g', autoCommitIntervalMs: 100 });
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const batches: number[][] = [];
  const running = consumer.run({ eachBatch: (b) => void batches.push(b.messages.map((m) => m.offset)) });
  await until('the batch committed by the timer', () => w.coordinator.committed('g', 't', 0) === 3);
  t.same(batches.flat(), [0, 1, 2]);
  await consumer.close();
  await running;
});

t.test('a second member: the first finishes the message in hand, commits and gives up half its partitions before the second gets them', async (t) => {
  const w = await groupWorld(t, { t: 4 });
  await w.produce('t', 3);
  const a = w.consumer({ groupId: 'g' });
  const revoked: PartitionsEvent[] = [];
  a.on('partitions-revoked', (e) => revoked.push(e));
  a.subscribe({ topics: ['t'], fromBeginning: true });
  const seenA: Message[] = [];
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const loopA = (async () => {
    for await (const m of a) {
      seenA.push(m);
      // The app is slow with the last record (t-3-2, the last partition of the one fetch): it holds it while b joins.
      if (seenA.length === 12) await gate;
    }
  })();
  await until('a read everything', () => seenA.length === 12);
  t.equal(ids(seenA).at(-1), 't-3-2', 'the message in hand');
  const b = w.consumer({ groupId: 'g' });
  b.subscribe({ topics: ['t'], fromBeginning: true });
  const seenB: Message[] = [];
  const loopB = consumeInto(b, seenB);
  await until('b got t-1', () => b.assignment().some((p) => p.partition === 1));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(b.assignment().some((p) => p.partition === 3), 'b does not get t-3 while a still has its message in hand');
  release();
  await until('both members own two partitions', () => a.assignment().length === 2 && b.assignment().length === 2);
  t.same(revoked.flatMap((e) => e.partitions).map((p) => p.partition).sort(), [1, 3], 'a gave up t-1 and t-3');
  // Each revoked partition was committed before the heartbeat that reported it given up.
  const log = w.coordinator.log;
  const memberA = (log.find((x) => x.api === 'ConsumerGroupHeartbeat')!.body as Heartbeat).memberId;
  const reports = (tp: { topic: string; partition: number }, l: { api: string; body: unknown }): boolean | null => {
    if (l.api !== 'ConsumerGroupHeartbeat' || (l.body as Heartbeat).memberId !== memberA || (l.body as Heartbeat).topicPartitions === null) return null;
    return (l.body as Heartbeat).topicPartitions!.some((x) => x.topic === tp.topic && x.partitions.includes(tp.partition));
  };
  for (const tp of revoked.flatMap((e) => e.partitions)) {
    const commitAt = log.findIndex((l) => l.api === 'OffsetCommit' && (l.body as RequestBodies['OffsetCommit']).topics.some((x) => x.name === tp.topic && x.partitions.some((p) => p.partition === tp.partition && p.committedOffset === 3)));
    const ownedAt = log.findIndex((l) => reports(tp, l) === true);
    const releasedAt = log.findIndex((l, i) => i > ownedAt && reports(tp, l) === false);
    t.ok(commitAt >= 0 && releasedAt > commitAt, `${tp.topic}-${tp.partition} committed at 3 (request ${commitAt}) before it was reported given up (request ${releasedAt})`);
  }
  await w.produce('t', 2);
  await until('the new records read', () => seenA.length + seenB.length >= 20);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(ids(seenB).filter((id) => Number(id.split('-')[2]) < 3), [], 'b re-read nothing a had finished');
  t.equal(seenA.length + seenB.length, 20, 'every record once');
  t.same(w.coordinator.violations, []);
  await Promise.all([a.close(), b.close()]);
  await Promise.all([loopA, loopB]);
});

t.test('FENCED_MEMBER_EPOCH: partitions are lost without a commit, and the member rejoins with epoch 0', async (t) => {
  const w = await groupWorld(t, { t: 2 });
  await w.produce('t', 2);
  const consumer = w.consumer({ groupId: 'g', autoCommitIntervalMs: 60_000 });
  const lost: PartitionsLostEvent[] = [];
  consumer.on('partitions-lost', (e) => lost.push(e));
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const seen: Message[] = [];
  const loop = consumeInto(consumer, seen);
  await until('everything read', () => seen.length === 4);
  const commitsBefore = w.coordinator.requests('OffsetCommit').length;
  w.coordinator.inject('ConsumerGroupHeartbeat', 'FENCED_MEMBER_EPOCH');
  await until('partitions lost', () => lost.length === 1);
  t.same(lost[0]!.partitions.map((p) => p.partition).sort(), [0, 1]);
  t.match(lost[0]!.reason, /FENCED_MEMBER_EPOCH/);
  t.equal(w.coordinator.requests('OffsetCommit').length, commitsBefore, 'nothing committed for lost partitions');
  await until('rejoined with both partitions', () => consumer.assignment().length === 2);
  const beats = w.coordinator.requests('ConsumerGroupHeartbeat') as Heartbeat[];
  const rejoin = beats.findLastIndex((b) => b.memberEpoch === 0);
  t.ok(rejoin > 0, 'a second join with epoch 0');
  t.same(beats[rejoin]!.topicPartitions, [], 'owning nothing');
  t.equal(beats[rejoin]!.memberId, beats[0]!.memberId, 'with the same member id');
  // Nothing was committed, so the records are read again from the start: at-least-once.
  await until('re-read after rejoining', () => seen.length === 8);
  await consumer.close();
  await loop;
});

t.test('NOT_COORDINATOR: the coordinator is looked up again and the member carries on', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  const consumer = w.consumer({ groupId: 'g' });
  consumer.subscribe({ topics: ['t'] });
  await until('joined', () => consumer.assignment().length === 1);
  const finds = w.coordinator.requests('FindCoordinator').length;
  w.coordinator.inject('ConsumerGroupHeartbeat', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS');
  const beats = w.coordinator.requests('ConsumerGroupHeartbeat').length;
  await until('two more good heartbeats', () => w.coordinator.requests('ConsumerGroupHeartbeat').length >= beats + 4);
  t.ok(w.coordinator.requests('FindCoordinator').length > finds, 'FindCoordinator asked again');
  t.equal(consumer.assignment().length, 1, 'kept its partition');
  await consumer.close();
});

t.test('a static member leaves with epoch -2; a fatal group error reaches the loop', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  const s = w.consumer({ groupId: 'g', groupInstanceId: 'host-1' });
  s.subscribe({ topics: ['t'] });
  await until('joined', () => s.assignment().length === 1);
  await s.close();
  const beats = w.coordinator.requests('ConsumerGroupHeartbeat') as Heartbeat[];
  t.equal(beats[0]!.instanceId, 'host-1');
  t.equal(beats.at(-1)!.memberEpoch, -2);

  w.coordinator.inject('ConsumerGroupHeartbeat', 'INVALID_REGULAR_EXPRESSION');
  const c = w.consumer({ groupId: 'g2' });
  c.subscribe({ topics: [/t/] });
  const err = await (async () => {
    for await (const _ of c) void _;
  })().then(() => null, (e: Error & { name: string }) => e);
  t.match(err?.message, /regular expression/);
  await c.close();
});

t.test('no heartbeat through for a session timeout: the member drops its partitions without committing, then rejoins', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 1);
  const consumer = w.consumer({ groupId: 'g', sessionTimeoutMs: 600, autoCommitIntervalMs: 60_000 });
  const lost: PartitionsLostEvent[] = [];
  consumer.on('partitions-lost', (e) => lost.push(e));
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const seen: Message[] = [];
  const loop = consumeInto(consumer, seen);
  await until('read', () => seen.length === 1);
  await w.produce('t', 1);
  await until('read', () => seen.length === 2);
  const commits = w.coordinator.requests('OffsetCommit').length;
  // The coordinator is unavailable for longer than the 600 ms session (25 answers, 10-50 ms of backoff after each).
  w.coordinator.inject('ConsumerGroupHeartbeat', ...Array<'COORDINATOR_NOT_AVAILABLE'>(25).fill('COORDINATOR_NOT_AVAILABLE'));
  await until('partitions lost', () => lost.length === 1);
  t.match(lost[0]!.reason, /session timeout/);
  t.equal(consumer.assignment().length, 0, 'nothing read meanwhile');
  t.equal(w.coordinator.requests('OffsetCommit').length, commits, 'nothing committed');
  await until('rejoined', () => consumer.assignment().length === 1);
  await consumer.close();
  await loop;
});

t.test('subscribing again sends the new subscription at once and the member follows its new assignment', async (t) => {
  const w = await groupWorld(t, { a: 1, b: 1 });
  w.coordinator.heartbeatIntervalMs = 5000;
  const consumer = w.consumer({ groupId: 'g' });
  consumer.subscribe({ topics: ['a'] });
  await until('a-0 owned', () => consumer.assignment().length === 1);
  consumer.subscribe({ topics: [/b/] });
  // Well within the 5 s heartbeat interval: the change does not wait for it.
  await until('b-0 owned instead', () => consumer.assignment().map((p) => `${p.topic}-${p.partition}`).join() === 'b-0', 2000);
  const beats = w.coordinator.requests('ConsumerGroupHeartbeat') as Heartbeat[];
  t.ok(beats.some((b) => b.subscribedTopicRegex === '(?:b)' && b.subscribedTopicNames?.length === 0), 'the new subscription went out');
  t.ok(beats.some((b) => b.topicPartitions !== null && b.topicPartitions.every((tp) => tp.topic === 'b')), 'a-0 reported given up');
  await consumer.close();
});

t.test('lag(): the admin\'s figure from the committed offset (or the log start without a commit), in records and seconds', async (t) => {
  const w = await groupWorld(t, { t: 2 });
  await w.produce('t', 5);
  w.coordinator.group('g').offsets.set('t-0', 1);
  const consumer = w.consumer({ groupId: 'g' });
  consumer.subscribe({ topics: ['t'] });
  await until('both owned', () => consumer.assignment().length === 2);
  const lag = await consumer.lag();
  t.same(lag.map((l) => [l.partition, l.committedOffset, l.logStartOffset, l.logEndOffset, l.lag]), [[0, 1, 0, 5, 4], [1, null, 0, 5, 5]]);
  // Seconds: now minus the timestamp of the first unconsumed record (written just now).
  t.ok(lag.every((l) => l.lagSeconds !== null && l.lagSeconds >= 0 && l.lagSeconds < 30), `lag seconds ${lag.map((l) => l.lagSeconds).join(', ')}`);
  await consumer.close();
});

t.test('a static member whose instance id is still held retries its join for up to a session timeout, then fails', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  w.coordinator.inject('ConsumerGroupHeartbeat', 'UNRELEASED_INSTANCE_ID', 'UNRELEASED_INSTANCE_ID', 'UNRELEASED_INSTANCE_ID');
  const patient = w.consumer({ groupId: 'g', groupInstanceId: 'host-1' });
  patient.subscribe({ topics: ['t'] });
  await until('joined once released', () => patient.assignment().length === 1);
  await patient.close();

  w.coordinator.inject('ConsumerGroupHeartbeat', ...Array<'UNRELEASED_INSTANCE_ID'>(200).fill('UNRELEASED_INSTANCE_ID'));
  const held = w.consumer({ groupId: 'g', groupInstanceId: 'host-1', sessionTimeoutMs: 300 });
  held.subscribe({ topics: ['t'] });
  const err = await (async () => {
    for await (const _ of held) void _;
  })().then(() => null, (e: Error) => e);
  t.match(err?.message, /instance id/);
  await held.close();
});

t.test('a partitions-assigned listener may pause what it was given', async (t) => {
  const w = await groupWorld(t, { t: 2 });
  await w.produce('t', 2);
  const consumer = w.consumer({ groupId: 'g' });
  consumer.on('partitions-assigned', ({ partitions }) => consumer.pause(partitions.filter((p) => p.partition === 1)));
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const seen: Message[] = [];
  const loop = consumeInto(consumer, seen);
  await until('t-0 read', () => seen.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(ids(seen), ['t-0-0', 't-0-1'], 't-1 stays paused');
  consumer.resume([{ topic: 't', partition: 1 }]);
  await until('t-1 read after resume', () => seen.length === 4);
  await consumer.close();
  await loop;
});

t.test('a member that seeks forward past a record has the skip committed; seeking back does not move the offset back', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 5);
  const consumer = w.consumer({ groupId: 'g' });
  consumer.subscribe({ topics: ['t'], fromBeginning: true });
  const it = consumer[Symbol.asyncIterator]();
  t.equal(((await it.next()).value as Message).offset, 0);
  consumer.seek('t', 0, 3);
  await consumer.commit();
  t.equal(w.coordinator.committed('g', 't', 0), 3, 'the skip is committed (0 to 2 count as finished)');
  t.equal(((await it.next()).value as Message).offset, 3, 'skipped 1 and 2');
  consumer.seek('t', 0, 1);
  t.equal(((await it.next()).value as Message).offset, 1, 're-reads from 1');
  await consumer.commit();
  t.equal(w.coordinator.committed('g', 't', 0), 4, 'the skip, and 3 (finished when the loop asked for the next), stay committed');
  await consumer.close();
});

t.test('a partition the group has no offset for: its resolved start is committed, so a successor does not skip what comes after', async (t) => {
  const w = await groupWorld(t, { t: 1 });
  await w.produce('t', 5);
  const consumer = w.consumer({ groupId: 'g', autoCommitIntervalMs: 100 });
  consumer.subscribe({ topics: ['t'] });
  // Not iterating at all: the start (the end, 5) is still the group's from now on.
  await until('the start committed', () => w.coordinator.committed('g', 't', 0) === 5);
  await consumer.close();
});
