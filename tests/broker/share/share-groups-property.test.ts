/**
 * A seeded property test of the share-group machine (broker/share/), driven
 * directly through the coordinator shard that hosts it (pure): members join,
 * fetch, accept / release (with and without delay) / reject / renew ranges,
 * crash (their sessions run out), the clock jumps past locks, fetches
 * bring records read before another fetch took them, writes fail
 * (the shard is thrown away and rebuilt from what reached the log, as the
 * runtime does) and the coordinator reloads from its log at random points;
 * dead letters are copied (sometimes twice: at least once) at random times.
 *
 * Checked at every step:
 * - a record is never handed to a member while another member, still in the
 *   group, holds it under a live lock;
 * - a record's delivery count goes up by exactly one at each delivery,
 *   across reloads (never back, never skipped);
 * - the window never spans more than group.share.max.in.flight.records,
 *   the delay set never holds more than group.share.max.delayed.records;
 * - a reload rebuilds the same windows (every entry) as the live machine;
 * - the next deadline (where the runtime arms its timer) is never after a
 *   lock's end.
 * At the end, the chaos stopped: every record of the partition is accepted
 * exactly once, or rejected (and then dead-lettered), never both.
 */
import t from 'tap';
import { GroupShard } from '../../../broker/coordinator/group-shard.js';
import { decodeRecord, encodeRecord, type CoordinatorRecord } from '../../../broker/coordinator/records.js';
import type { CoordinatorSettings } from '../../../broker/coordinator/settings.js';
import { seededRng } from '../../../broker/world/rng.js';
import type { ShareSettings } from '../../../broker/share/settings.js';
import type { SharePartitionInput } from '../../../broker/share/share-groups.js';
import { RecordState, type Candidates, type RecordMeta } from '../../../broker/share/window.js';
import { AcknowledgeType, type ShareAcknowledgement } from '../../../protocol/messages.js';

const SESSION_MS = 5000;
const LOCK_MS = 1000;
const MAX_ATTEMPTS = 3;
const SHARE: ShareSettings = { lockDurationMs: LOCK_MS, deliveryCountLimit: MAX_ATTEMPTS, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 500, maxSize: 50, maxInFlightRecords: 40, maxDelayedRecords: 20 };
const SETTINGS: CoordinatorSettings = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxGroupSize: 100, assignors: ['uniform'], offsetsRetentionMs: 3600_000, offsetMetadataMaxBytes: 100, share: SHARE };
const GROUP = 'q';
const TOPIC = 'jobs';
const TOPICS = new Map([[TOPIC, 1]]);
const SEEDS = Number(process.env['RUNNEL_SHARE_SEEDS'] ?? 120);
const STEPS = 300;

const stats = { deliveries: 0, reloads: 0, accepted: 0, rejected: 0, parked: 0 };

interface Member {
  id: string;
  epoch: number;
  alive: boolean;
  /** offset -> lock end, as this member was told. */
  held: Map<number, number>;
}

function runSeed(seed: number, ordering: 'none' | 'key'): string | null {
  const random = seededRng(seed).next;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  // The partition: 150 records, some offsets missing (compaction, control records), a few keys, some due later.
  const log: RecordMeta[] = [];
  for (let offset = 0; offset < 170; offset++) if (offset % 9 !== 4) log.push({ offset, keyHash: Math.floor(random() * 6), dueMs: random() < 0.1 ? 1000 + Math.floor(random() * 20_000) : 0, timestampMs: offset });
  const written: CoordinatorRecord[] = [];
  let shard = new GroupShard(SETTINGS);
  let now = 1000;
  const members: Member[] = [];
  const counts = new Map<number, number>();
  const accepted = new Set<number>();
  const rejected = new Set<number>();
  let nextMember = 0;
  let staleRoom: { fromOffset: number; records: number } | null = null;

  const write = (records: readonly CoordinatorRecord[], fail: boolean): boolean => {
    if (fail) {
      // The write did not reach the log: the runtime throws the shard away and loads it again from the log.
      shard = reload();
      return false;
    }
    // Through the bytes, as the log keeps them.
    for (const r of records) {
      const { key, value } = encodeRecord(r);
      written.push(decodeRecord(key, value));
    }
    return true;
  };
  const reload = (): GroupShard => {
    const fresh = new GroupShard(SETTINGS);
    for (const r of written) fresh.replay(r, now);
    return fresh;
  };
  const candidates = (fromOffset: number, max: number): Candidates => {
    const from = fromOffset < 0 ? 0 : fromOffset;
    const records = log.filter((m) => m.offset >= from).slice(0, max);
    const to = max === 0 ? from : records.length < max ? 170 : records[records.length - 1]!.offset + 1;
    return { fromOffset: from, toOffset: to, records };
  };
  const holderOf = (offset: number): Member | undefined => members.find((m) => m.alive && m.held.has(offset) && m.held.get(offset)! > now && shard.shares.group(GROUP)?.members.has(m.id));
  const check = (): string | null => {
    const window = shard.shares.group(GROUP)?.windows.get(`${TOPIC}:0`);
    if (window !== undefined && window.started && window.endOffset - window.startOffset > SHARE.maxInFlightRecords) return `window spans ${window.endOffset - window.startOffset}`;
    if (window !== undefined && window.parkedCount > SHARE.maxDelayedRecords) return `the delay set holds ${window.parkedCount}`;
    stats.parked = Math.max(stats.parked, window?.parkedCount ?? 0);
    // The runtime arms its one timer at nextDeadlineMs: it must come no later than any lock's end, or an expired lock would wait.
    const next = shard.nextDeadlineMs();
    for (const e of window?.entries() ?? []) {
      if (e.state === RecordState.ACQUIRED && (next === null || next > e.lockUntilMs)) return `the next deadline ${next} is after the lock end ${e.lockUntilMs} of ${e.offset}`;
    }
    return null;
  };

  for (let step = 0; step < STEPS; step++) {
    const roll = random();
    const live = members.filter((m) => m.alive);
    if (roll < 0.08 || live.length === 0) {
      const id = `m${nextMember++}`;
      const out = shard.shares.heartbeat({ groupId: GROUP, memberId: id, memberEpoch: 0, subscribedTopicNames: [TOPIC], config: { visibilityTimeoutMs: LOCK_MS, maxDeliveryAttempts: MAX_ATTEMPTS, deadLetterTopic: 'dlq', ordering } }, { nowMs: now, clientId: id, clientHost: 'h', topics: TOPICS });
      if (out.response.errorCode !== 0) return `join refused: ${out.response.errorMessage}`;
      if (write(out.records, false)) members.push({ id, epoch: out.response.memberEpoch, alive: true, held: new Map() });
    } else if (roll < 0.4) {
      const m = pick(live);
      const max = 1 + Math.floor(random() * 8);
      const room = shard.shares.rooms(GROUP, [{ topic: TOPIC, partition: 0 }])[0]!;
      // Concurrent fetches read the partition from where the window ended when they looked: sometimes another one took those records first.
      const stale = staleRoom !== null && random() < 0.2 ? staleRoom : room;
      staleRoom = room;
      const input: SharePartitionInput = { topic: TOPIC, partition: 0, acknowledgements: [], candidates: candidates(stale.fromOffset, Math.min(stale.records, max)) };
      const out = shard.shares.fetch(GROUP, m.id, m.epoch, max, [input], now);
      if (!out.response.ok) {
        // Removed (session ended) while it was not looking: it rejoins as a new member later.
        m.alive = false;
        continue;
      }
      const fail = random() < 0.05;
      const acquired = out.response.partitions[0]!.acquired;
      if (!write(out.records, fail)) continue;
      for (const a of acquired) {
        const other = holderOf(a.offset);
        if (other !== undefined && other !== m) return `step ${step}: offset ${a.offset} handed to ${m.id} while ${other.id} holds it until ${other.held.get(a.offset)} (now ${now})`;
        const before = counts.get(a.offset) ?? 0;
        if (a.deliveryCount !== before + 1) return `step ${step}: offset ${a.offset} delivered with count ${a.deliveryCount} after ${before}`;
        if (a.deliveryCount > MAX_ATTEMPTS) return `step ${step}: offset ${a.offset} delivered ${a.deliveryCount} times, past the ${MAX_ATTEMPTS} attempts`;
        counts.set(a.offset, a.deliveryCount);
        if (accepted.has(a.offset) || rejected.has(a.offset)) return `step ${step}: offset ${a.offset} handed out after it was settled`;
        m.held.set(a.offset, now + LOCK_MS);
        stats.deliveries++;
        if (ordering === 'key') {
          const meta = log.find((r) => r.offset === a.offset)!;
          const window = shard.shares.group(GROUP)!.windows.get(`${TOPIC}:0`)!;
          for (const e of window.entries()) {
            if (e.offset < a.offset && e.keyHash === meta.keyHash && (e.state === RecordState.AVAILABLE || e.state === RecordState.ACQUIRED)) return `step ${step}: offset ${a.offset} (key ${meta.keyHash}) handed out while ${e.offset} of its key is unsettled`;
          }
        }
      }
    } else if (roll < 0.7) {
      const m = pick(live);
      const offsets = [...m.held.keys()].filter(() => random() < 0.6);
      if (offsets.length === 0) continue;
      const type = pick([AcknowledgeType.ACCEPT, AcknowledgeType.ACCEPT, AcknowledgeType.ACCEPT, AcknowledgeType.RELEASE, AcknowledgeType.REJECT, AcknowledgeType.RENEW]);
      const delayMs = type === AcknowledgeType.RELEASE && random() < 0.3 ? Math.floor(random() * 3000) : 0;
      const acks: ShareAcknowledgement[] = offsets.map((o) => ({ firstOffset: o, lastOffset: o, type, delayMs, lockMs: type === AcknowledgeType.RENEW ? (random() < 0.3 ? 10_000 + Math.floor(random() * 20_000) : 500 + Math.floor(random() * 2000)) : -1, reason: 'r' }));
      const out = shard.shares.fetch(GROUP, m.id, m.epoch, 0, [{ topic: TOPIC, partition: 0, acknowledgements: acks, candidates: null }], now);
      if (!out.response.ok) {
        m.alive = false;
        continue;
      }
      if (!write(out.records, random() < 0.05)) continue;
      const failed = new Set(out.response.partitions[0]!.failed.map((f) => f.firstOffset));
      for (const ack of acks) {
        const o = ack.firstOffset;
        const liveLock = m.held.get(o)! > now;
        if (failed.has(o)) {
          if (liveLock) return `step ${step}: ${m.id}'s settlement of ${o} refused while its lock was live`;
          m.held.delete(o);
          continue;
        }
        if (!liveLock) return `step ${step}: ${m.id} settled ${o} after its lock ended`;
        if (type === AcknowledgeType.RENEW) {
          m.held.set(o, now + ack.lockMs);
          continue;
        }
        m.held.delete(o);
        if (type === AcknowledgeType.ACCEPT) {
          if (accepted.has(o) || rejected.has(o)) return `step ${step}: ${o} accepted after it was settled`;
          accepted.add(o);
        }
      }
    } else if (roll < 0.75) {
      // A crash: the member stops; its session ends later.
      pick(live).alive = false;
    } else if (roll < 0.87) {
      now += Math.floor(random() * 1500);
      for (const m of live) {
        if (random() < 0.9) {
          const out = shard.shares.heartbeat({ groupId: GROUP, memberId: m.id, memberEpoch: m.epoch, subscribedTopicNames: null, config: null }, { nowMs: now, clientId: m.id, clientHost: 'h', topics: TOPICS });
          if (out.response.errorCode !== 0) m.alive = false;
          else write(out.records, false);
        }
      }
      // Requests may arrive after a lock's end and before the coordinator's timer applied it.
      if (random() < 0.5) {
        write(shard.tick({ nowMs: now, topics: TOPICS }).records, false);
        for (const e of shard.shares.group(GROUP)?.windows.get(`${TOPIC}:0`)?.entries() ?? []) {
          if (e.state === RecordState.ACQUIRED && e.lockUntilMs <= now) return `step ${step}: offset ${e.offset} still acquired after its lock ended (${e.lockUntilMs} <= ${now})`;
        }
      }
    } else if (roll < 0.93) {
      // Dead letters copied, and marked; sometimes the mark is lost and the copy made again.
      for (const work of shard.shares.pendingDeadLetters()) {
        const out = shard.shares.deadLetterCopied(GROUP, work.topic, work.partition, work.records.map((r) => r.offset), now);
        write(out.records, random() < 0.2);
      }
    } else {
      const before = JSON.stringify(windowState(shard));
      shard = reload();
      stats.reloads++;
      const after = JSON.stringify(windowState(shard));
      if (after !== before) return `step ${step}: a reload rebuilt another window: ${firstDifference(before, after)}`;
    }
    {
      // Every record is always somebody's or nobody's: a record acquired by a member the group no longer has would be stuck.
      for (const e of shard.shares.group(GROUP)?.windows.get(`${TOPIC}:0`)?.entries() ?? []) {
        if (e.state === RecordState.ACQUIRED && !shard.shares.group(GROUP)!.members.has(e.holder!)) return `step ${step}: offset ${e.offset} held by ${e.holder}, no longer a member`;
      }
    }
    const problem = check();
    if (problem !== null) return `step ${step}: ${problem}`;
  }

  // The end: one steady member takes and accepts everything left; time passes for locks, sessions and delays.
  const id = `m${nextMember++}`;
  const joined = shard.shares.heartbeat({ groupId: GROUP, memberId: id, memberEpoch: 0, subscribedTopicNames: [TOPIC], config: null }, { nowMs: now, clientId: id, clientHost: 'h', topics: TOPICS });
  write(joined.records, false);
  for (let round = 0; round < 400; round++) {
    now += 500;
    shard.shares.heartbeat({ groupId: GROUP, memberId: id, memberEpoch: joined.response.memberEpoch, subscribedTopicNames: null, config: null }, { nowMs: now, clientId: id, clientHost: 'h', topics: TOPICS });
    write(shard.tick({ nowMs: now, topics: TOPICS }).records, false);
    for (const work of shard.shares.pendingDeadLetters()) write(shard.shares.deadLetterCopied(GROUP, work.topic, work.partition, work.records.map((r) => r.offset), now).records, false);
    const room = shard.shares.rooms(GROUP, [{ topic: TOPIC, partition: 0 }])[0]!;
    const out = shard.shares.fetch(GROUP, id, joined.response.memberEpoch, 50, [{ topic: TOPIC, partition: 0, acknowledgements: [], candidates: candidates(room.fromOffset, Math.min(room.records, 50)) }], now);
    if (!out.response.ok) return `final member refused: ${out.response.message}`;
    write(out.records, false);
    const got = out.response.partitions[0]!.acquired;
    for (const a of got) {
      if (a.deliveryCount !== (counts.get(a.offset) ?? 0) + 1) return `final: offset ${a.offset} delivered with count ${a.deliveryCount} after ${counts.get(a.offset)}`;
      counts.set(a.offset, a.deliveryCount);
    }
    if (got.length > 0) {
      const acks = got.map((a) => ({ firstOffset: a.offset, lastOffset: a.offset, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null }));
      const settled = shard.shares.fetch(GROUP, id, joined.response.memberEpoch, 0, [{ topic: TOPIC, partition: 0, acknowledgements: acks, candidates: null }], now);
      write(settled.records, false);
      if (!settled.response.ok || settled.response.partitions[0]!.failed.length > 0) return 'final: an acceptance was refused';
      for (const a of got) {
        if (accepted.has(a.offset)) return `final: ${a.offset} accepted twice`;
        accepted.add(a.offset);
      }
    }
  }
  const window = shard.shares.group(GROUP)!.windows.get(`${TOPIC}:0`)!;
  if (window.startOffset !== 170 || window.endOffset !== 170) return `final: the window is [${window.startOffset}, ${window.endOffset}), not settled to the end`;
  const totalRejected = window.rejected;
  if (accepted.size + totalRejected !== log.length) return `final: ${accepted.size} accepted + ${totalRejected} rejected != ${log.length} records`;
  if (window.accepted !== accepted.size) return `final: the machine counts ${window.accepted} accepted, the members ${accepted.size}`;
  if (window.deadLettered !== totalRejected) return `final: ${totalRejected} rejected, ${window.deadLettered} dead-lettered`;
  for (const offset of accepted) if (!log.some((m) => m.offset === offset)) return `final: accepted ${offset}, which is not a record`;
  stats.accepted += accepted.size;
  stats.rejected += totalRejected;
  const replayed = reload();
  if (JSON.stringify(windowState(replayed)) !== JSON.stringify(windowState(shard))) return 'final: a reload differs';
  return null;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `live ...${a.slice(Math.max(0, i - 150), i + 80)}... / reloaded ...${b.slice(Math.max(0, i - 150), i + 80)}...`;
}

function windowState(shard: GroupShard): unknown {
  const group = shard.shares.group(GROUP);
  if (group === undefined) return null;
  return [...group.windows].map(([key, w]) => ({ key, start: w.startOffset, end: w.endOffset, accepted: w.accepted, rejected: w.rejected, dl: w.deadLettered, entries: [...w.entries()] }));
}

for (const ordering of ['none', 'key'] as const) {
  t.test(`share-group machine, ${SEEDS} seeded runs, ordering ${ordering}`, async (t) => {
    let failed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const problem = runSeed(seed, ordering);
      if (problem !== null) {
        failed++;
        t.fail(`seed ${seed}: ${problem}`);
        if (failed >= 3) break;
      }
    }
    t.equal(failed, 0, `${SEEDS} seeds`);
    t.ok(stats.deliveries > SEEDS * 20 && stats.reloads > SEEDS && stats.rejected > SEEDS, 'the runs deliver, reload and reject');
    if (ordering === 'none') t.ok(stats.parked > 0, `delayed records were parked in the delay set (at most ${stats.parked} at once)`);
    t.comment(`${stats.deliveries} deliveries, ${stats.reloads} reloads, ${stats.accepted} accepted, ${stats.rejected} rejected`);
  });
}
