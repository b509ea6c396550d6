/**
 * The share-group machine by cases (broker/share/, driven through the
 * coordinator shard that hosts it): membership refusals, the one id
 * namespace with consumer groups, ordering=key, the delay set keeping the
 * window moving, the cost of one acknowledgement in records, dead-letter
 * bookkeeping, and deletion leaving nothing behind in the log.
 */
import t from 'tap';
import { GroupShard } from '../../../broker/coordinator/group-shard.js';
import type { CoordinatorRecord } from '../../../broker/coordinator/records.js';
import type { CoordinatorSettings } from '../../../broker/coordinator/settings.js';
import type { ShareSettings } from '../../../broker/share/settings.js';
import { RecordState, type Candidates, type RecordMeta } from '../../../broker/share/window.js';
import { Errors } from '../../../protocol/errors.js';
import { AcknowledgeType, type ShareGroupConfig } from '../../../protocol/messages.js';

const SHARE: ShareSettings = { lockDurationMs: 1000, deliveryCountLimit: 3, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, maxSize: 2, maxInFlightRecords: 4, maxDelayedRecords: 10 };
const SETTINGS: CoordinatorSettings = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxGroupSize: 10, assignors: ['uniform'], offsetsRetentionMs: 3600_000, offsetMetadataMaxBytes: 100, share: SHARE };
const TOPICS = new Map([['jobs', 2]]);
const env = (nowMs = 0) => ({ nowMs, clientId: 'c', clientHost: 'h', topics: TOPICS });
const config = (c: Partial<ShareGroupConfig> = {}): ShareGroupConfig => ({ visibilityTimeoutMs: -1, maxDeliveryAttempts: -1, deadLetterTopic: null, ordering: null, ...c });
const join = (shard: GroupShard, memberId: string, c: ShareGroupConfig | null = null, groupId = 'q', nowMs = 0) => shard.shares.heartbeat({ groupId, memberId, memberEpoch: 0, subscribedTopicNames: ['jobs'], config: c }, env(nowMs));
const meta = (offset: number, keyHash: number | null = null, dueMs = 0): RecordMeta => ({ offset, keyHash, dueMs, timestampMs: offset });
const candidates = (records: RecordMeta[], fromOffset = 0): Candidates => ({ fromOffset, toOffset: (records[records.length - 1]?.offset ?? fromOffset - 1) + 1, records });
const offsetsOf = (out: ReturnType<GroupShard['shares']['fetch']>) => (out.response.ok ? out.response.partitions[0]!.acquired.map((a) => a.offset) : null);

t.test('membership refusals', async (t) => {
  const shard = new GroupShard(SETTINGS);
  t.equal(shard.shares.heartbeat({ groupId: 'q', memberId: '', memberEpoch: 0, subscribedTopicNames: ['jobs'], config: null }, env()).response.errorCode, Errors.INVALID_REQUEST.code, 'a member id is required');
  t.equal(shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: 0, subscribedTopicNames: [], config: null }, env()).response.errorCode, Errors.INVALID_REQUEST.code, 'a joining member names its topics');
  t.match(join(shard, 'A', config({ visibilityTimeoutMs: 0 })).response, { errorCode: Errors.INVALID_CONFIG.code, errorMessage: /visibilityTimeoutMs/ });
  t.match(join(shard, 'A', config({ ordering: 'fifo' })).response, { errorCode: Errors.INVALID_CONFIG.code, errorMessage: /ordering/ });
  t.match(join(shard, 'A', config({ deadLetterTopic: '__consumer_offsets' })).response, { errorCode: Errors.INVALID_CONFIG.code, errorMessage: /internal/ });
  t.notOk(shard.shares.has('q'), 'a refused join creates nothing');
  const a = join(shard, 'A', config({ maxDeliveryAttempts: 2 }));
  t.match(a.response, { errorCode: 0, assignment: [{ topic: 'jobs', partitions: [0, 1] }], config: { visibilityTimeoutMs: 1000, maxDeliveryAttempts: 2, deadLetterTopic: '', ordering: 'none' } }, 'broker defaults fill the rest');
  t.ok(a.records.some((r) => r.kind === 'shareGroup') && a.records.some((r) => r.kind === 'shareMember'), 'the group and the member are written');
  const stay = shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: a.response.memberEpoch, subscribedTopicNames: null, config: null }, env(1));
  t.equal(stay.response.assignment, null, 'the assignment is told again only when it changed');
  t.equal(stay.response.config, null);
  t.equal(shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: a.response.memberEpoch + 1, subscribedTopicNames: null, config: null }, env(1)).response.errorCode, Errors.FENCED_MEMBER_EPOCH.code);
  t.equal(shard.shares.heartbeat({ groupId: 'q', memberId: 'Z', memberEpoch: 3, subscribedTopicNames: null, config: null }, env(1)).response.errorCode, Errors.UNKNOWN_MEMBER_ID.code);
  t.equal(join(shard, 'B', config({ maxDeliveryAttempts: 2, visibilityTimeoutMs: 1000 })).response.errorCode, 0, 'the same configuration, stated in full, joins');
  t.equal(join(shard, 'C').response.errorCode, Errors.GROUP_MAX_SIZE_REACHED.code, 'group.share.max.size');
  t.equal(shard.shares.fetch('q', 'Z', 1, 1, [], 0).response.ok, false, 'an unknown member fetches nothing');
  t.equal(shard.shares.fetch('nope', 'A', 1, 1, [], 0).response.ok, false);
  const stray = shard.shares.fetch('q', 'A', a.response.memberEpoch, 0, [{ topic: 'other', partition: 7, acknowledgements: [{ firstOffset: 0, lastOffset: 9, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], 1);
  t.match(stray.response, { ok: true, partitions: [{ failed: [{ firstOffset: 0, lastOffset: 9, errorName: 'INVALID_RECORD_STATE' }] }] }, 'settling what was never handed out is refused');
  t.equal(shard.shares.group('q')!.windows.size, 0, 'and leaves no state behind');
});

t.test('share and consumer groups share one id namespace', async (t) => {
  const shard = new GroupShard(SETTINGS);
  join(shard, 'A');
  const consumer = shard.heartbeat({ groupId: 'q', memberId: 'X', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 1000, subscribedTopicNames: ['jobs'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [] }, env());
  t.equal(consumer.response.errorCode, Errors.INCONSISTENT_GROUP_PROTOCOL.code, 'no consumer group with a share group\'s id');
  const commit = shard.commitOffsets({ groupId: 'q', memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [{ name: 'jobs', partitions: [{ partition: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }] }, env());
  t.equal(commit.response.topics[0]!.partitions[0]!.errorCode, Errors.INCONSISTENT_GROUP_PROTOCOL.code, 'no offsets committed under a share group\'s id');
  t.equal(commit.records.length, 0);
  t.equal(shard.describe('q').errorCode, Errors.INCONSISTENT_GROUP_PROTOCOL.code);
  t.same(shard.list(), [{ groupId: 'q', groupState: 'Stable', groupType: 'share' }]);
});

t.test('ordering=key: one unsettled record per key, in offset order', async (t) => {
  const shard = new GroupShard({ ...SETTINGS, share: { ...SHARE, maxInFlightRecords: 100 } });
  const a = join(shard, 'A', config({ ordering: 'key' })).response.memberEpoch;
  const b = join(shard, 'B').response.memberEpoch;
  const log = [meta(0, 1), meta(1, 1), meta(2, 2), meta(3, null), meta(4, 2), meta(5, null)];
  const first = shard.shares.fetch('q', 'A', a, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates(log) }], 0);
  t.same(offsetsOf(first), [0, 2, 3, 5], 'the first of each key, and every keyless record');
  t.same(offsetsOf(shard.shares.fetch('q', 'B', b, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: null }], 0)), [], 'the rest wait for their key');
  // A releases 0: still the first of key 1, so 1 stays back; B gets 0 again, not 1.
  shard.shares.fetch('q', 'A', a, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], 1);
  t.same(offsetsOf(shard.shares.fetch('q', 'B', b, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: null }], 1)), [0], 'a released record holds its key back too');
  shard.shares.fetch('q', 'B', b, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], 2);
  shard.shares.fetch('q', 'A', a, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 2, lastOffset: 2, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], 2);
  t.same(offsetsOf(shard.shares.fetch('q', 'B', b, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: null }], 2)), [1, 4], 'settled keys move on, in offset order');
});

t.test('the delay set: a record due much later does not stop the window', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const a = join(shard, 'A').response.memberEpoch;
  const day = 24 * 3600_000;
  const log = [meta(0, null, day), meta(1), meta(2), meta(3), meta(4), meta(5), meta(6), meta(7)];
  const got: number[] = [];
  for (let round = 0; round < 4; round++) {
    const room = shard.shares.rooms('q', [{ topic: 'jobs', partition: 0 }])[0]!;
    const from = room.fromOffset < 0 ? 0 : room.fromOffset;
    const out = shard.shares.fetch('q', 'A', a, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates(log.filter((m) => m.offset >= from).slice(0, room.records), from) }], round);
    const offsets = offsetsOf(out)!;
    got.push(...offsets);
    if (offsets.length > 0) shard.shares.fetch('q', 'A', a, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: Math.min(...offsets), lastOffset: Math.max(...offsets), type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], round);
  }
  t.same(got, [1, 2, 3, 4, 5, 6, 7], 'everything after it is delivered, four at a time (the window\'s bound)');
  const window = shard.shares.group('q')!.windows.get('jobs:0')!;
  t.equal(window.parkedCount, 1, 'the delayed record waits in the delay set');
  t.equal(window.startOffset, 8);
  t.equal(shard.nextDeadlineMs(), 10_000, 'the member\'s session is the next deadline');
  shard.tick({ nowMs: 9000, topics: TOPICS });
  t.equal(shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: a, subscribedTopicNames: null, config: null }, env(day - 1)).response.errorCode, 0);
  t.equal(shard.nextDeadlineMs(), day, 'then its due time');
  t.same(offsetsOf(shard.shares.fetch('q', 'A', a, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([], 8) }], day - 1)), [], 'not before its time');
  t.same(offsetsOf(shard.shares.fetch('q', 'A', a, 10, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([], 8) }], day)), [0], 'delivered from the delay set when due');
  const accepted = shard.shares.fetch('q', 'A', a, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], day);
  t.equal(accepted.response.ok && accepted.response.partitions[0]!.failed.length, 0, 'and settled there');
  t.match(accepted.records, [{ kind: 'sharePartition' }, { kind: 'shareDelayed', offset: 0, value: null }], 'the parked record\'s key is tombstoned');
});

t.test('one acknowledgement writes what it touched, whatever the window holds', async (t) => {
  const shard = new GroupShard({ ...SETTINGS, share: { ...SHARE, maxInFlightRecords: 5000 } });
  const a = join(shard, 'A').response.memberEpoch;
  const log = Array.from({ length: 3000 }, (_, i) => meta(i));
  const taken = shard.shares.fetch('q', 'A', a, 3000, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates(log) }], 0);
  t.equal(offsetsOf(taken)!.length, 3000);
  const one = shard.shares.fetch('q', 'A', a, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 1500, lastOffset: 1500, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], 1);
  t.same(one.records.map((r) => r.kind), ['sharePartition', 'shareChunk'], 'the totals and one chunk');
  const chunk = one.records[1] as Extract<CoordinatorRecord, { kind: 'shareChunk' }>;
  t.ok(chunk.value!.entries.length <= 32, `the chunk holds ${chunk.value!.entries.length} records, not the window's 3000`);
});

t.test('dead letters: rejected records wait for their copy, then are settled', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const a = join(shard, 'A', config({ deadLetterTopic: 'dlq', maxDeliveryAttempts: 1 })).response.memberEpoch;
  shard.shares.fetch('q', 'A', a, 2, [{ topic: 'jobs', partition: 1, acknowledgements: [], candidates: candidates([meta(0), meta(1)]) }], 0);
  shard.shares.fetch('q', 'A', a, 0, [{ topic: 'jobs', partition: 1, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.REJECT, delayMs: 0, lockMs: -1, reason: 'bad' }, { firstOffset: 1, lastOffset: 1, type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: -1, reason: 'flaky' }], candidates: null }], 1);
  t.same(shard.shares.pendingDeadLetters(), [{ groupId: 'q', topic: 'jobs', partition: 1, deadLetterTopic: 'dlq', records: [{ offset: 0, deliveryCount: 1, reason: 'rejected', error: 'bad' }, { offset: 1, deliveryCount: 1, reason: 'max-delivery-attempts', error: 'flaky' }] }]);
  const window = shard.shares.group('q')!.windows.get('jobs:1')!;
  t.equal(window.startOffset, 0, 'the window waits for the copies');
  shard.shares.deadLetterCopied('q', 'jobs', 1, [0, 1], 2);
  t.same(shard.shares.pendingDeadLetters(), []);
  t.same([window.startOffset, window.rejected, window.deadLettered], [2, 2, 2]);
  t.equal(shard.shares.deadLetterCopied('q', 'jobs', 1, [0, 1], 3).records.length, 0, 'a second copy (a new coordinator redoing it) changes nothing');
});

t.test('deleting a group or a topic leaves nothing in the log', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const written: CoordinatorRecord[] = [];
  const a = join(shard, 'A');
  written.push(...a.records);
  written.push(...shard.shares.fetch('q', 'A', a.response.memberEpoch, 3, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([meta(0), meta(1, null, 50_000), meta(2)]) }, { topic: 'jobs', partition: 1, acknowledgements: [], candidates: candidates([meta(0)]) }], 0).records);
  written.push(...shard.shares.fetch('q', 'A', a.response.memberEpoch, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }], candidates: null }], 0).records);
  t.equal(shard.shares.group('q')!.windows.get('jobs:0')!.parkedCount, 1, 'one record parked');
  t.equal(shard.deleteGroup('q').response.errorName, 'NON_EMPTY_GROUP');
  written.push(...shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: -1, subscribedTopicNames: null, config: null }, env(1)).records);
  const deleted = shard.deleteGroup('q');
  t.equal(deleted.response.errorName, 'NONE');
  written.push(...deleted.records);
  // Compaction keeps the last value per key: every key written ends with a tombstone.
  const last = new Map<string, CoordinatorRecord>();
  for (const r of written) last.set(JSON.stringify({ ...r, value: undefined }), r);
  t.ok([...last.values()].every((r) => r.value === null), 'every key the group wrote has a tombstone last');

  const other = new GroupShard(SETTINGS);
  const b = join(other, 'B');
  other.shares.fetch('q', 'B', b.response.memberEpoch, 1, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([meta(0)]) }], 0);
  const gone = other.topicsDeleted(new Set(['jobs']));
  t.match(gone.records, [{ kind: 'shareChunk', value: null }, { kind: 'sharePartition', value: null }], 'a deleted topic\'s windows go');
  t.equal(other.shares.group('q')!.windows.size, 0);
  // Share records alone take no offset sequence number: the runtime marks `seq` durable once they replicate, and a commit made meanwhile (the next number) must not be marked with them.
  t.equal(gone.seq, 0, 'no sequence number for share records alone');
  const commit = other.commitOffsets({ groupId: 'g', memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [{ name: 'jobs', partitions: [{ partition: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }] }, env());
  if (gone.seq > 0) other.durable(gone.seq);
  const stable = other.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'jobs', partitions: [0] }], requireStable: true });
  t.equal(stable.topics[0]!.partitions[0]!.errorCode, Errors.UNSTABLE_OFFSET_COMMIT.code, 'the commit is not stable before its own write replicated');
  other.durable(commit.seq);
  t.equal(other.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'jobs', partitions: [0] }], requireStable: true }).topics[0]!.partitions[0]!.committedOffset, 5);
});

t.test('a wall-clock step moves record locks and member sessions with it; delivery times stay', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const a = join(shard, 'A');
  const fetched = shard.shares.fetch('q', 'A', a.response.memberEpoch, 2, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([meta(0), meta(1, null, 50_000)]) }], 0);
  t.same(offsetsOf(fetched), [0], 'record 0 handed out under a 1 s lock; record 1 waits for its deliver.at');
  // The coordinator's clock jumps a minute ahead: the lock is a visibility timeout (1 s from the handout), not a minute-old instant.
  shard.wallClockStepped(60_000);
  shard.tick({ nowMs: 60_500, topics: TOPICS });
  t.equal(shard.shares.group('q')!.windows.get('jobs:0')!.entry(0)!.state, RecordState.ACQUIRED, 'half a second after the handout (on the stepped clock), record 0 is still locked to A');
  t.ok(shard.shares.group('q')!.members.has('A'), 'and A\'s session lives');
  shard.tick({ nowMs: 61_001, topics: TOPICS });
  t.equal(shard.shares.group('q')!.windows.get('jobs:0')!.entry(0)!.state, RecordState.AVAILABLE, 'a second after the handout the lock ends: record 0 is available again');
  t.equal(shard.shares.group('q')!.windows.get('jobs:0')!.entry(1)!.dueMs, 50_000, 'record 1\'s delivery time is the instant its producer named, unmoved');
});

t.test('a step back of the coordinator\'s clock brings a released record\'s due time back with it: it is handed out when its delay runs out', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const epoch = join(shard, 'A', null, 'q', 1_000).response.memberEpoch;
  shard.shares.fetch('q', 'A', epoch, 1, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([meta(0)]) }], 1_000);
  shard.shares.fetch('q', 'A', epoch, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, delayMs: 5_000, lockMs: -1, reason: null }], candidates: null }], 1_100);
  // Due at 6,100; the clock goes back 3 s, so the delay runs out at 3,100 on it.
  shard.wallClockStepped(-3_000);
  t.same(offsetsOf(shard.shares.fetch('q', 'A', epoch, 1, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: null }], 3_000)), [], 'not before its delay ran out');
  t.same(offsetsOf(shard.shares.fetch('q', 'A', epoch, 1, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: null }], 3_200)), [0], 'handed out again once it did, not 3 s later');
});

t.test('a coordinator that loads the group restarts each lock and release delay with what was left of it when written; delivery times stay', async (t) => {
  const shard = new GroupShard(SETTINGS);
  const written: { record: CoordinatorRecord; atMs: number }[] = [];
  const keep = (out: { records: CoordinatorRecord[] }, atMs: number) => written.push(...out.records.map((record) => ({ record, atMs })));
  const a = join(shard, 'A', null, 'q', 1_000);
  keep(a, 1_000);
  const epoch = a.response.memberEpoch;
  // Record 0 locked until 2,000 on this clock (1 s), record 1 due at 50,000 (its deliver.at), record 2 handed out then released for 5 s.
  keep(shard.shares.fetch('q', 'A', epoch, 3, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: candidates([meta(0), meta(1, null, 50_000), meta(2)]) }], 1_000), 1_000);
  keep(shard.shares.fetch('q', 'A', epoch, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: 2, lastOffset: 2, type: AcknowledgeType.RELEASE, delayMs: 5_000, lockMs: -1, reason: null }], candidates: null }], 1_100), 1_100);
  const old = shard.shares.group('q')!.windows.get('jobs:0')!;
  t.same([old.entry(0)!.lockUntilMs, old.entry(1)!.dueMs, old.entry(2)!.dueMs], [2_000, 50_000, 6_100], 'on the writer\'s clock');
  // The new coordinator's clock is far ahead, or behind; the chunk was last written at 1,100 on the old one.
  for (const nowMs of [500_000, 0]) {
    const loaded = new GroupShard(SETTINGS);
    for (const { record, atMs } of written) loaded.replay(record, nowMs, atMs);
    const w = loaded.shares.group('q')!.windows.get('jobs:0')!;
    t.equal(w.entry(0)!.state, RecordState.ACQUIRED, `clock at ${nowMs}: record 0 still locked to A`);
    t.equal(w.entry(0)!.lockUntilMs, nowMs + 900, `clock at ${nowMs}: its lock ends the 900 ms it had left when written from now, not at 2,000`);
    t.equal(w.entry(2)!.dueMs, nowMs + 5_000, `clock at ${nowMs}: the released record is due the 5 s its delay had left, from now`);
    t.equal(w.entry(1)!.dueMs, 50_000, `clock at ${nowMs}: the deliver.at stays the instant its producer named`);
  }
  const kept = new GroupShard(SETTINGS);
  for (const { record } of written) kept.replay(record, 500_000);
  t.equal(kept.shares.group('q')!.windows.get('jobs:0')!.entry(0)!.lockUntilMs, 2_000, 'without the write time (a record with no timestamp), instants are kept as written');
  // A step of this coordinator's own clock moves the release delay with it, like the lock; the deliver.at stays.
  shard.wallClockStepped(10_000);
  t.same([old.entry(0)!.lockUntilMs, old.entry(1)!.dueMs, old.entry(2)!.dueMs], [12_000, 50_000, 16_100], 'a step moves the lock and the release delay, not the deliver.at');
});
