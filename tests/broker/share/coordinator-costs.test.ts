/**
 * What the share-group coordinator's bookkeeping costs, and that it stays
 * right: the set of windows with dead-letter copies pending (the copier
 * looks at nothing when none is, and at the right ones after a reload),
 * ShareGroupDescribe in one pass (O(members + records)), the windows a tick
 * announces as due (so only their waiting fetches look again), which
 * waiters a change wakes (coordinator/changes.ts), ShareFetch's maxBytes
 * applied to what is taken in, and the group.share.* defaults coming from
 * the broker's settings table.
 */
import t from 'tap';
import { brokerConfig } from '../../../broker/config.js';
import { ChangeListeners, changedBy } from '../../../broker/coordinator/changes.js';
import { GroupShard } from '../../../broker/coordinator/group-shard.js';
import type { CoordinatorRecord } from '../../../broker/coordinator/records.js';
import type { CoordinatorSettings } from '../../../broker/coordinator/settings.js';
import { applyByteBudget, type ReadPartition } from '../../../broker/share/byte-budget.js';
import type { ShareSettings } from '../../../broker/share/settings.js';
import { ShareWindow, type Candidates, type RecordMeta } from '../../../broker/share/window.js';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { AcknowledgeType, type ShareAcknowledgement, type ShareGroupConfig } from '../../../protocol/messages.js';

const SHARE: ShareSettings = { lockDurationMs: 1000, deliveryCountLimit: 3, sessionTimeoutMs: 60_000, heartbeatIntervalMs: 500, maxSize: 500, maxInFlightRecords: 10_000, maxDelayedRecords: 10 };
const SETTINGS: CoordinatorSettings = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxGroupSize: 10, assignors: ['uniform'], offsetsRetentionMs: 3600_000, offsetMetadataMaxBytes: 100, share: SHARE };
const TOPICS = new Map([['jobs', 4]]);
const env = (nowMs = 0) => ({ nowMs, clientId: 'c', clientHost: 'h', topics: TOPICS });
const config = (c: Partial<ShareGroupConfig> = {}): ShareGroupConfig => ({ visibilityTimeoutMs: -1, maxDeliveryAttempts: -1, deadLetterTopic: null, ordering: null, ...c });
const meta = (offset: number, dueMs = 0): RecordMeta => ({ offset, keyHash: null, dueMs, timestampMs: offset });
const range = (from: number, to: number): RecordMeta[] => Array.from({ length: to - from }, (_, i) => meta(from + i));
const candidates = (records: RecordMeta[], fromOffset = records[0]?.offset ?? 0): Candidates => ({ fromOffset, toOffset: (records[records.length - 1]?.offset ?? fromOffset - 1) + 1, records });
const ackOf = (first: number, last: number, type: number, delayMs = 0): ShareAcknowledgement => ({ firstOffset: first, lastOffset: last, type, delayMs, lockMs: -1, reason: null });

/** A member of group `groupId`, joined; returns its epoch. */
function member(shard: GroupShard, groupId: string, memberId: string, c: ShareGroupConfig | null = null, log: CoordinatorRecord[] = []): number {
  const out = shard.shares.heartbeat({ groupId, memberId, memberEpoch: 0, subscribedTopicNames: ['jobs'], config: c }, env());
  log.push(...out.records);
  if (out.response.errorCode !== 0) throw new Error(out.response.errorMessage ?? 'join failed');
  return out.response.memberEpoch;
}

/** Counts calls of a ShareWindow method for the length of `body`. */
function counting<K extends 'pendingDeadLetters' | 'entries'>(name: K, body: () => void): number {
  const original = ShareWindow.prototype[name] as (...args: unknown[]) => unknown;
  let calls = 0;
  (ShareWindow.prototype as unknown as Record<string, unknown>)[name] = function (this: ShareWindow, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    body();
  } finally {
    (ShareWindow.prototype as unknown as Record<string, unknown>)[name] = original;
  }
  return calls;
}

t.test('dead-letter copies: only windows with copies pending are looked at, and a reload finds them again', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const log: CoordinatorRecord[] = [];
  const write = <R>(out: { response: R; records: CoordinatorRecord[] }): R => {
    log.push(...out.records);
    return out.response;
  };
  // 20 groups with a dead-letter topic, each with 4 windows of 50 records in flight, none rejected.
  for (let g = 0; g < 20; g++) {
    const groupId = `q${g}`;
    const epoch = member(shard, groupId, 'A', config({ deadLetterTopic: 'dlq' }), log);
    for (let p = 0; p < 4; p++) write(shard.shares.fetch(groupId, 'A', epoch, 50, [{ topic: 'jobs', partition: p, acknowledgements: [], candidates: candidates(range(0, 50)) }], 1));
  }
  let work: ReturnType<GroupShard['shares']['pendingDeadLetters']> = [];
  t.equal(counting('pendingDeadLetters', () => (work = shard.shares.pendingDeadLetters())), 0, 'no window is walked when no copy is pending');
  t.same(work, []);
  t.notOk(shard.shares.hasPendingDeadLetters());

  // One rejection in q7, partition 2: that window, and only it.
  const epoch7 = shard.shares.group('q7')!.members.get('A')!.memberEpoch;
  write(shard.shares.fetch('q7', 'A', epoch7, 0, [{ topic: 'jobs', partition: 2, acknowledgements: [ackOf(5, 6, AcknowledgeType.REJECT)], candidates: null }], 2));
  t.ok(shard.shares.hasPendingDeadLetters());
  t.equal(counting('pendingDeadLetters', () => (work = shard.shares.pendingDeadLetters())), 1, 'one window walked');
  t.match(work, [{ groupId: 'q7', topic: 'jobs', partition: 2, deadLetterTopic: 'dlq', records: [{ offset: 5, reason: 'rejected' }, { offset: 6 }] }]);
  t.same(shard.shares.pendingDeadLetters((groupId, topic, partition) => groupId === 'q7' && topic === 'jobs' && partition === 2), [], 'a partition being copied is skipped');

  // A reload from the log (a new coordinator) finds the same pending copies.
  const reloaded = new GroupShard(SETTINGS);
  for (const record of log) reloaded.replay(record, 10);
  t.match(reloaded.shares.pendingDeadLetters(), [{ groupId: 'q7', topic: 'jobs', partition: 2, records: [{ offset: 5 }, { offset: 6 }] }], 'rebuilt after a replay');

  // Copied: nothing pending again, and nothing walked.
  write(shard.shares.deadLetterCopied('q7', 'jobs', 2, [5, 6], 3));
  t.notOk(shard.shares.hasPendingDeadLetters());
  t.equal(counting('pendingDeadLetters', () => (work = shard.shares.pendingDeadLetters())), 0);
  t.same(work, []);

  // A group without a dead-letter topic never has copies pending; a deleted group's leave with it.
  const plain = member(shard, 'plain', 'A');
  shard.shares.fetch('plain', 'A', plain, 5, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates(range(0, 5)) }], 4);
  shard.shares.fetch('plain', 'A', plain, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [ackOf(0, 4, AcknowledgeType.REJECT)], candidates: null }], 5);
  t.notOk(shard.shares.hasPendingDeadLetters(), 'rejections without a dead-letter topic are settled at once');
  shard.shares.fetch('q3', 'A', shard.shares.group('q3')!.members.get('A')!.memberEpoch, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [ackOf(0, 0, AcknowledgeType.REJECT)], candidates: null }], 6);
  t.ok(shard.shares.hasPendingDeadLetters());
  shard.shares.heartbeat({ groupId: 'q3', memberId: 'A', memberEpoch: -1, subscribedTopicNames: null, config: null }, env(7));
  shard.shares.delete('q3');
  t.notOk(shard.shares.hasPendingDeadLetters(), 'a deleted group has nothing left to copy');
  shard.shares.fetch('q4', 'A', shard.shares.group('q4')!.members.get('A')!.memberEpoch, 0, [{ topic: 'jobs', partition: 1, acknowledgements: [ackOf(0, 0, AcknowledgeType.REJECT)], candidates: null }], 8);
  t.ok(shard.shares.hasPendingDeadLetters());
  shard.shares.topicsDeleted(new Set(['jobs']));
  t.notOk(shard.shares.hasPendingDeadLetters(), 'nor a deleted topic');
});

t.test('describe walks each window once, whatever the number of members', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const members = 200;
  const epochs = Array.from({ length: members }, (_, m) => member(shard, 'q', `M${m}`));
  // Each member takes 5 records of partition 0 (1000 in flight) and 1 of partition 1.
  for (let m = 0; m < members; m++) {
    shard.shares.fetch('q', `M${m}`, epochs[m]!, 5, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates(range(m * 5, m * 5 + 5)) }], 1);
    shard.shares.fetch('q', `M${m}`, epochs[m]!, 1, [{ topic: 'jobs', partition: 1, acknowledgements: [], candidates: candidates(range(m, m + 1)) }], 1);
  }
  let described: ReturnType<GroupShard['shares']['describe']> | null = null;
  let entries = 0;
  entries = counting('entries', () => (described = shard.shares.describe('q', 2, () => 5000)));
  t.equal(entries, 2, 'each of the two windows walked once');
  t.equal(described!.members.length, members);
  t.ok(described!.members.every((m) => m.acquiredRecords === 6), 'each member\'s holdings counted on the way');
  t.match(described!.partitions, [{ partition: 0, acquired: 1000 }, { partition: 1, acquired: 200 }, { partition: 2, inFlight: 0 }, { partition: 3, inFlight: 0 }], 'and the partitions told but never read are listed');
});

t.test('a tick announces the windows whose lock ended or delay came due, and only those', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const a = member(shard, 'a', 'A');
  const b = member(shard, 'b', 'B');
  shard.shares.fetch('a', 'A', a, 1, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([meta(0)]) }], 0);
  shard.shares.fetch('b', 'B', b, 1, [{ topic: 'jobs', partition: 1, acknowledgements: [], candidates: candidates([meta(0, 5000)]) }], 0);
  shard.shares.fetch('b', 'B', b, 1, [{ topic: 'jobs', partition: 2, acknowledgements: [], candidates: candidates([meta(0)]) }], 0);
  shard.shares.tick(500);
  t.same(shard.shares.takeDue(), new Map(), 'nothing came due by 500');
  shard.shares.tick(1000);
  t.same(shard.shares.takeDue(), new Map([['a', new Set(['jobs:0'])], ['b', new Set(['jobs:2'])]]), 'the two locks of 1000 ms ended');
  shard.shares.tick(5000);
  t.same(shard.shares.takeDue(), new Map([['b', new Set(['jobs:1'])]]), 'b\'s delayed record came due at 5000');
  t.same(shard.shares.takeDue(), new Map(), 'taken once');
});

t.test('a change wakes the waiters of its group and partitions only', async (t) => {
  const listeners = new ChangeListeners();
  const woken: string[] = [];
  listeners.onAny(() => woken.push('any'));
  listeners.onGroup('a', new Set(['jobs:0']), () => woken.push('a0'));
  const off = listeners.onGroup('a', new Set(['jobs:1', 'other:0']), () => woken.push('a1'));
  listeners.onGroup('b', new Set(['jobs:0']), () => woken.push('b0'));
  const chunk = (groupId: string, partition: number): CoordinatorRecord => ({ kind: 'shareChunk', groupId, topic: 'jobs', partition, chunk: 0, value: null });
  listeners.notify(changedBy([chunk('a', 0)]));
  t.same(woken.splice(0), ['any', 'a0'], 'group a, partition 0');
  listeners.notify(changedBy([chunk('a', 3), { kind: 'offset', groupId: 'c', topic: 'jobs', partition: 0, value: null }]));
  t.same(woken.splice(0), ['any'], 'a partition nobody waits on, and a consumer group');
  listeners.notify(changedBy([{ kind: 'shareMember', groupId: 'a', memberId: 'A', value: null }]));
  t.same(woken.splice(0).sort(), ['a0', 'a1', 'any'], 'a member left: the whole group');
  off();
  listeners.notify('all');
  t.same(woken.splice(0).sort(), ['a0', 'any', 'b0'], 'a load wakes everyone still listening');
});

t.test('maxBytes: whole batches up to the bound, at least one, the candidates cut to match', async (t) => {
  // A batch as the log holds it: the base offset (not covered by the CRC) set where the log put it.
  const batch = (base: number, count: number, valueBytes: number): Uint8Array => {
    const bytes = buildBatch(Array.from({ length: count }, () => ({ key: null, value: new Uint8Array(valueBytes), headers: [] })), { nowMs: 0 });
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigInt64(0, BigInt(base));
    return bytes;
  };
  const part = (batches: Uint8Array[], from: number, to: number): ReadPartition => ({ candidates: candidates(range(from, to), from), batches });
  const b0 = batch(0, 10, 100);
  const b1 = batch(10, 10, 100);
  const b2 = batch(20, 10, 100);
  const size = b0.length;

  const roomy = [part([b0, b1, b2], 0, 30)];
  applyByteBudget(roomy, 10 * size);
  t.match(roomy[0], { candidates: { toOffset: 30 }, batches: { length: 3 } }, 'all of it fits');

  const two = [part([b0, b1, b2], 0, 30)];
  applyByteBudget(two, 2 * size + size - 1);
  t.equal(two[0]!.batches.length, 2, 'stops before the batch that would pass the bound');
  t.equal(two[0]!.candidates!.toOffset, 20);
  t.same(two[0]!.candidates!.records.map((r) => r.offset), Array.from({ length: 20 }, (_, i) => i), 'only records of the batches sent can be acquired');

  const tiny = [part([b0, b1], 3, 20), part([batch(0, 5, 10)], 0, 5)];
  applyByteBudget(tiny, 1);
  t.equal(tiny[0]!.batches.length, 1, 'one batch even when it alone is over the bound');
  t.match(tiny[0]!.candidates, { fromOffset: 3, toOffset: 10 });
  t.equal(tiny[1]!.candidates, null, 'and nothing more from the next partition');
  t.same(tiny[1]!.batches, []);
});

t.test('the share settings\' defaults are the broker settings\' defaults', async (t) => {
  const defaults = brokerConfig().share;
  const { share: _given, ...withoutShare } = SETTINGS;
  const shard = new GroupShard(withoutShare);
  const joined = shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: 0, subscribedTopicNames: ['jobs'], config: null }, env());
  t.equal(joined.response.heartbeatIntervalMs, defaults.heartbeatIntervalMs, 'group.share.heartbeat.interval.ms');
  t.match(joined.response.config, { visibilityTimeoutMs: defaults.lockDurationMs, maxDeliveryAttempts: defaults.deliveryCountLimit }, 'group.share.record.lock.duration.ms, group.share.delivery.count.limit');
});
