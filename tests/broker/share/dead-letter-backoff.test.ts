/**
 * The dead-letter copier when the copy cannot be made (its topic deleted,
 * or never creatable; a leader unreachable): it tries again after 1 s,
 * doubling up to a minute while it keeps failing, on the injected clock
 * (monotonic time: a wall clock set back does not stretch the wait);
 * it warns once when it starts failing and once more only when the reason
 * changes, and says once that it works again. Another change of the
 * coordinator in between does not cut the wait short. Driven with a
 * ManualClock, a shard of the machine and a partition in memory.
 */
import t from 'tap';
import type { GroupCoordinator } from '../../../broker/coordinator/runtime.js';
import { GroupShard } from '../../../broker/coordinator/group-shard.js';
import type { CoordinatorSettings } from '../../../broker/coordinator/settings.js';
import type { Logger } from '../../../broker/log.js';
import { DeadLetterCopier, MAX_RETRY_MS, RETRY_MS } from '../../../broker/share/dead-letters.js';
import type { ShareSource } from '../../../broker/share/sources.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { batchesIn, decodeBatch } from '../../../protocol/batch/reader.js';
import { DlqHeader } from '../../../protocol/headers.js';
import { AcknowledgeType } from '../../../protocol/messages.js';

const SETTINGS: CoordinatorSettings = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxGroupSize: 10, assignors: ['uniform'], offsetsRetentionMs: 3600_000, offsetMetadataMaxBytes: 100, share: { lockDurationMs: 600_000, deliveryCountLimit: 3, sessionTimeoutMs: 3600_000, heartbeatIntervalMs: 500, maxSize: 5, maxInFlightRecords: 100, maxDelayedRecords: 10 } };

/** Lets the copier's promise chains run (they settle within a few turns: nothing here waits on I/O). */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A shard whose group q has member A holding offsets 0-4 of jobs-0, a way to reject one, and a coordinator over the shard. */
function groupHolding(clock: ManualClock) {
  const shard = new GroupShard(SETTINGS);
  const joined = shard.shares.heartbeat({ groupId: 'q', memberId: 'A', memberEpoch: 0, subscribedTopicNames: ['jobs'], config: { visibilityTimeoutMs: -1, maxDeliveryAttempts: -1, deadLetterTopic: 'jobs-dlq', ordering: null } }, { nowMs: clock.nowMs(), clientId: 'c', clientHost: 'h', topics: new Map([['jobs', 1]]) });
  const epoch = joined.response.memberEpoch;
  const meta = Array.from({ length: 5 }, (_, offset) => ({ offset, keyHash: null, dueMs: 0, timestampMs: offset }));
  shard.shares.fetch('q', 'A', epoch, 5, [{ topic: 'jobs', partition: 0, acknowledgements: [], candidates: { fromOffset: 0, toOffset: 5, records: meta } }], clock.nowMs());
  const reject = (offset: number, reason: string | null = null) =>
    shard.shares.fetch('q', 'A', epoch, 0, [{ topic: 'jobs', partition: 0, acknowledgements: [{ firstOffset: offset, lastOffset: offset, type: AcknowledgeType.REJECT, delayMs: 0, lockMs: -1, reason }], candidates: null }], clock.nowMs());
  const coordinator = {
    loadedShards: () => ({ shards: [shard], loading: false }),
    run: async <R>(_groupId: string, op: (s: GroupShard, nowMs: number) => { response: R }) => op(shard, clock.nowMs()).response,
  } as unknown as GroupCoordinator;
  const log = Array.from({ length: 5 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), headers: [] }));
  const jobs: ShareSource = {
    topic: 'jobs',
    index: 0,
    partition: null,
    data: { read: async (offset) => ({ records: offset < 5 ? [buildBatch(log, { nowMs: 0 })] : [] }), logStartOffset: 0, highWatermark: 5 },
    waitForData: () => new Promise(() => undefined),
    append: async () => undefined,
  };
  return { shard, reject, coordinator, jobs };
}

t.test('a dead-letter copy that keeps failing backs off exponentially, warns once per reason, and recovers', async (t) => {
  const clock = new ManualClock();
  const { shard, reject, coordinator, jobs } = groupHolding(clock);
  reject(3, 'bad');
  t.ok(shard.shares.hasPendingDeadLetters());
  const appended: Uint8Array[] = [];
  const dlq: ShareSource = { ...jobs, topic: 'jobs-dlq', append: async (batch) => void appended.push(batch) };
  // What the cluster looks like: the dead-letter topic missing, then its leader unreachable, then there.
  let world: 'missing' | 'unreachable' | 'there' = 'missing';
  const lookup = (topic: string): ShareSource | Error => (topic === 'jobs' ? jobs : world === 'there' ? dlq : new Error('the leader of jobs-dlq-0 is not reachable'));
  const lines: { level: string; event?: string }[] = [];
  const logger = { warn: (o: { event?: string }) => lines.push({ level: 'warn', event: o.event }), info: (o: { event?: string }) => lines.push({ level: 'info', event: o.event }), debug: (o: { event?: string }) => lines.push({ level: 'debug', event: o.event }) } as unknown as Logger;
  const copier = new DeadLetterCopier({ coordinator, lookup, partitions: (topic) => (world === 'missing' && topic === 'jobs-dlq' ? undefined : 1), clock, logger });
  t.teardown(() => copier.close());
  const key = 'q\u0000jobs\u00000';
  const warns = () => lines.filter((l) => l.level === 'warn').length;

  copier.kick();
  await turns();
  t.match(copier.failures().get(key), { attempts: 1, nextAttemptMs: clock.nowMs() + RETRY_MS, problem: /jobs-dlq does not exist/ });
  t.equal(warns(), 1, 'a warning when it starts failing');

  // Another change of the coordinator (a write, a tick) during the back-off does not try again.
  copier.kick();
  await turns();
  t.equal(copier.failures().get(key)?.attempts, 1, 'no attempt before the back-off ends');

  // The waits double up to MAX_RETRY_MS; the same failure is not warned again.
  const waits: number[] = [];
  for (let attempt = 1; attempt < 10; attempt++) {
    const before = copier.failures().get(key)!;
    const wait = before.nextAttemptMs - clock.nowMs();
    clock.advance(wait - 1);
    await turns();
    t.equal(copier.failures().get(key)!.attempts, attempt, `attempt ${attempt + 1} not before its time`);
    clock.advance(1);
    await turns();
    t.equal(copier.failures().get(key)!.attempts, attempt + 1, `attempt ${attempt + 1} when its time came`);
    waits.push(wait);
  }
  t.same(waits, [1000, 2000, 4000, 8000, 16_000, 32_000, MAX_RETRY_MS, MAX_RETRY_MS, MAX_RETRY_MS], 'doubling, up to a minute');
  t.equal(warns(), 1, 'one warning for ten failures of one reason');

  // Another reason: warned again, once.
  world = 'unreachable';
  clock.advance(MAX_RETRY_MS);
  await turns();
  t.match(copier.failures().get(key), { attempts: 11, problem: /not reachable/ });
  t.equal(warns(), 2, 'a new reason is warned');
  clock.advance(MAX_RETRY_MS);
  await turns();
  t.equal(warns(), 2, 'once');

  // The topic is there: the next attempt copies, says so once, and the record is settled; the back-off runs on
  // monotonic time, so a wall clock set back an hour meanwhile does not hold the copy back for an hour.
  clock.stepWall(-3_600_000);
  world = 'there';
  clock.advance(MAX_RETRY_MS);
  await turns();
  t.equal(copier.failures().size, 0, 'no failure left');
  t.same(lines.filter((l) => l.level === 'info').map((l) => l.event), ['deadLetterRecovered']);
  t.notOk(shard.shares.hasPendingDeadLetters(), 'the copy is marked done');
  t.equal(appended.length, 1);
  const copy = decodeBatch(appended[0]!, [...batchesIn(appended[0]!)][0]!.position).records;
  t.same(copy.map((r) => Buffer.from(r.value!).toString()), ['v3']);
  t.equal(Buffer.from(copy[0]!.headers.find((h) => h.key === DlqHeader.SOURCE_OFFSET)?.value ?? []).toString(), '3', 'with where it came from');
  clock.advance(10 * MAX_RETRY_MS);
  await turns();
  t.equal(appended.length, 1, 'and nothing is tried again');
});

t.test('a record rejected while a copy of its partition is under way is copied when that copy ends, with no other change to wake it', async (t) => {
  const clock = new ManualClock();
  const { shard, reject, coordinator, jobs } = groupHolding(clock);
  reject(3);
  // The dead-letter topic's appends wait until the test lets each one through.
  const appended: Uint8Array[] = [];
  const held: (() => void)[] = [];
  const dlq: ShareSource = { ...jobs, topic: 'jobs-dlq', append: (batch) => new Promise<void>((resolve) => held.push(() => (appended.push(batch), resolve()))) };
  const logger = { warn: () => {}, info: () => {}, debug: () => {} } as unknown as Logger;
  const copier = new DeadLetterCopier({ coordinator, lookup: (topic) => (topic === 'jobs' ? jobs : dlq), partitions: () => 1, clock, logger });
  t.teardown(() => copier.close());

  copier.kick();
  await turns();
  t.equal(held.length, 1, 'the copy of offset 3 is under way');
  // Offset 4 is rejected meanwhile; the kick of that change finds the partition busy.
  reject(4);
  copier.kick();
  await turns();
  t.equal(held.length, 1, 'no second copy of a partition at once');
  held.shift()!();
  await turns();
  t.equal(held.length, 1, 'once the first copy ended, offset 4 is copied, with nothing else happening');
  held.shift()?.();
  await turns();
  const copied = appended.flatMap((batch) => decodeBatch(batch, [...batchesIn(batch)][0]!.position).records.map((r) => Buffer.from(r.value!).toString()));
  t.same(copied, ['v3', 'v4'], 'both copied, in order');
  t.notOk(shard.shares.hasPendingDeadLetters(), 'nothing left to copy');
});
