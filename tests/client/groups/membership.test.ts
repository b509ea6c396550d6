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
import { groupWorld, ids, until } from './support.js';

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

t.test('a second member: the first commits and gives up half its partitions before the second gets them; nothing is owned twice', async (t) => {
  const w = await groupWorld(t, { t: 4 });
  await w.produce('t', 3);
  const a = w.consumer({ groupId: 'g', autoCommit: true });
  const revoked: PartitionsEvent[] = [];
  a.on('partitions-revoked', (e) => revoked.push(e));
  a.subscribe({ topics: ['t'], fromBeginning: true });
  const seenA: Message[] = [];
  const loopA = (async () => {
    for await (const m of a) seenA.push(m);
  })();
  await until('a read everything', () => seenA.length === 12);
  const b = w.consumer({ groupId: 'g' });
  b.subscribe({ topics: ['t'], fromBeginning: true });
  const seenB: Message[] = [];
  const loopB = (async () => {
    for await (const m of b) seenB.push(m);
  })();
  await until('both members own two partitions', () => a.assignment().length === 2 && b.assignment().length === 2);
  t.equal(revoked.flatMap((e) => e.partitions).length, 2, 'a gave up two partitions');
  // Each revoked partition was committed (at 3: a finished all but the very last message it had in hand) before the heartbeat that dropped it.
  const log = w.coordinator.log;
  for (const { topic, partition } of revoked.flatMap((e) => e.partitions)) {
    const commitAt = log.findIndex((l) => l.api === 'OffsetCommit' && (l.body as RequestBodies['OffsetCommit']).topics.some((tp) => tp.name === topic && tp.partitions.some((p) => p.partition === partition)));
    const releasedAt = log.findIndex((l, i) => i > 0 && l.api === 'ConsumerGroupHeartbeat' && (l.body as Heartbeat).memberId === (log.find((x) => x.api === 'ConsumerGroupHeartbeat')!.body as Heartbeat).memberId
      && (l.body as Heartbeat).topicPartitions !== null && !(l.body as Heartbeat).topicPartitions!.some((tp) => tp.topic === topic && tp.partitions.includes(partition))
      && log.slice(0, i).some((x) => x.api === 'ConsumerGroupHeartbeat' && (x.body as Heartbeat).topicPartitions?.some((tp) => tp.topic === topic && tp.partitions.includes(partition))));
    t.ok(commitAt >= 0 && releasedAt > commitAt, `${topic}-${partition} committed (request ${commitAt}) before it was reported given up (request ${releasedAt})`);
  }
  await w.produce('t', 2);
  await until('the new records read', () => seenA.length + seenB.length === 12 + 8 + seenB.filter((m) => m.offset < 3).length);
  // b starts the partitions it took at the committed offsets: at most the one message a had in hand is read twice.
  t.ok(seenB.filter((m) => m.offset < 3).length <= 1, `b re-read ${ids(seenB.filter((m) => m.offset < 3)).join(', ') || 'nothing'}`);
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
  const loop = (async () => {
    for await (const m of consumer) seen.push(m);
  })();
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
