/**
 * A randomized property test of the coordinator's state machine
 * (broker/coordinator/group-shard.ts), driven directly (it is pure): seeded
 * runs of members joining, heartbeating, leaving, crashing, restarting with
 * a static instance id, changing subscriptions, topics growing, the clock
 * jumping past sessions, commits from current members and from zombies
 * (members removed while still running), and tool resets.
 *
 * Checked after every step:
 * - no partition is held by two members at once, in the coordinator's view
 *   (assigned and revoking sets disjoint) and in the clients' (what each
 *   client that is still a member consumes, including what it has not yet
 *   released);
 * - a committed offset never goes back, except by a tool reset into an
 *   empty group.
 * At the end of each run, with the chaos stopped: dead members time out,
 * the rest converge, and every partition of the subscribed topics is
 * assigned to exactly one member (state Stable); and a shard rebuilt from
 * every record the run wrote describes the same group and offsets.
 */
import t from 'tap';
import { GroupShard, type Outcome } from '../../../broker/coordinator/group-shard.js';
import type { CoordinatorRecord } from '../../../broker/coordinator/records.js';
import { decodeRecord, encodeRecord } from '../../../broker/coordinator/records.js';
import type { CoordinatorSettings } from '../../../broker/coordinator/settings.js';
import { Errors } from '../../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest, TopicPartitions } from '../../../protocol/messages.js';
import { seededRng } from '../../../broker/world/rng.js';

const SESSION_MS = 10_000;
const SETTINGS: CoordinatorSettings = { sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 1000, maxGroupSize: 100, assignors: ['uniform', 'range'], offsetsRetentionMs: 7 * 24 * 3600_000, offsetMetadataMaxBytes: 4096 };
const GROUP = 'g';
const STEPS = 250;
const SEEDS = Number(process.env['RUNNEL_COORD_SEEDS'] ?? 150);

/** Seeded (mulberry32, the broker's own), so the schedule of a failing seed can be replayed. */
const rng = (seed: number): (() => number) => seededRng(seed).next;

interface Client {
  slot: number;
  memberId: string;
  instanceId: string | null;
  epoch: number;
  /** 'joined': heartbeating; 'dead': crashed (or a zombie: still consuming, no longer heartbeating); 'out': left cleanly. */
  state: 'new' | 'joined' | 'dead' | 'out';
  assigned: Set<string>;
  /** Revoked but not yet released (still being consumed). */
  releasing: Set<string>;
  /** Next offset it would commit per partition it consumes. */
  position: Map<string, number>;
  topics: string[];
  regex: string | null;
}

function keysOf(list: readonly TopicPartitions[] | null | undefined): Set<string> {
  const out = new Set<string>();
  for (const { topic, partitions } of list ?? []) for (const p of partitions) out.add(`${topic}:${p}`);
  return out;
}

function toList(keys: Iterable<string>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const [topic, p] = key.split(':') as [string, string];
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(p)]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

function runSeed(seed: number): string[] {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const problems: string[] = [];
  const shard = new GroupShard(SETTINGS);
  const written: CoordinatorRecord[] = [];
  let nowMs = 1_000_000;
  const topics = new Map<string, number>([['t1', 4], ['t2', 3], ['other', 2]]);
  const env = () => ({ nowMs, clientId: 'c', clientHost: '127.0.0.1', topics });
  /** Every outcome is "replicated" at once (the runtime's job); records go through their bytes, as in the log. */
  const apply = <R>(outcome: Outcome<R>): R => {
    for (const record of outcome.records) {
      const { key, value } = encodeRecord(record);
      written.push(decodeRecord(key, value));
    }
    if (outcome.seq > 0) shard.durable(outcome.seq);
    return outcome.response;
  };
  const committedFloor = new Map<string, number>();
  let nextId = 0;
  const clients: Client[] = [];
  /** Crashed clients replaced by a restart, still running somewhere: they keep trying to commit their stale positions. */
  const zombies: Client[] = [];
  const newClient = (slot: number, instanceId: string | null): Client => {
    const subscription = pick([{ topics: ['t1'], regex: null }, { topics: ['t1', 't2'], regex: null }, { topics: [], regex: 't.*' }, { topics: ['t2'], regex: null }]);
    return { slot, memberId: `m${nextId++}`, instanceId, epoch: 0, state: 'new', assigned: new Set(), releasing: new Set(), position: new Map(), topics: subscription.topics, regex: subscription.regex };
  };
  for (let slot = 0; slot < 5; slot++) clients.push(newClient(slot, slot < 2 ? `static-${slot}` : null));

  const fetchCommitted = (key: string): number => {
    const [topic, p] = key.split(':') as [string, string];
    const fetched = shard.fetchOffsets({ groupId: GROUP, memberId: null, memberEpoch: -1, topics: [{ name: topic, partitions: [Number(p)] }], requireStable: false });
    return fetched.topics[0]?.partitions[0]?.committedOffset ?? -1;
  };

  const heartbeat = (c: Client, extra: Partial<ConsumerGroupHeartbeatRequest> = {}, lost = false): void => {
    const joining = c.state === 'new';
    const request: ConsumerGroupHeartbeatRequest = {
      groupId: GROUP,
      memberId: c.memberId,
      memberEpoch: joining ? 0 : c.epoch,
      instanceId: c.instanceId,
      rackId: null,
      rebalanceTimeoutMs: joining ? 20_000 : -1,
      subscribedTopicNames: joining ? c.topics : null,
      subscribedTopicRegex: joining ? c.regex : null,
      serverAssignor: null,
      topicPartitions: toList([...c.assigned, ...c.releasing]),
      ...extra,
    };
    const response = apply(shard.heartbeat(request, env()));
    // The coordinator acted on it, but the answer never arrived: the client carries on as before.
    if (lost) return;
    if (response.errorCode === Errors.UNRELEASED_INSTANCE_ID.code) return; // the old incarnation still holds it: try later
    if (response.errorCode !== 0) {
      // Fenced or removed: give up everything, rejoin later as new.
      c.assigned.clear();
      c.releasing.clear();
      c.position.clear();
      c.state = 'new';
      c.epoch = 0;
      return;
    }
    c.state = 'joined';
    c.epoch = response.memberEpoch;
    if (response.assignment !== null) {
      const next = keysOf(response.assignment.topicPartitions);
      for (const key of c.assigned) if (!next.has(key)) c.releasing.add(key);
      for (const key of next) {
        if (!c.assigned.has(key)) c.position.set(key, Math.max(0, fetchCommitted(key)));
      }
      c.assigned = next;
    }
  };

  const check = (step: number, what: string): void => {
    const group = shard.group(GROUP);
    if (group !== undefined) {
      const holder = new Map<string, string>();
      for (const m of group.members.values()) {
        for (const key of [...m.assigned, ...m.revoking]) {
          if (holder.has(key)) problems.push(`seed ${seed} step ${step} (${what}): ${key} held by ${holder.get(key)} and ${m.memberId} in the coordinator`);
          holder.set(key, m.memberId);
        }
      }
      const consumer = new Map<string, string>();
      for (const c of clients) {
        const member = group.members.get(c.memberId);
        if (c.state !== 'joined' || member === undefined || member.memberEpoch === -2) continue;
        for (const key of [...c.assigned, ...c.releasing]) {
          if (consumer.has(key)) problems.push(`seed ${seed} step ${step} (${what}): ${key} consumed by ${consumer.get(key)} and ${c.memberId}`);
          consumer.set(key, c.memberId);
        }
      }
    }
    const everything = shard.fetchOffsets({ groupId: GROUP, memberId: null, memberEpoch: -1, topics: null, requireStable: false });
    for (const { name, partitions } of everything.topics) for (const { partition } of partitions) if (!committedFloor.has(`${name}:${partition}`)) committedFloor.set(`${name}:${partition}`, -1);
    for (const [key, floor] of committedFloor) {
      const now = fetchCommitted(key);
      if (now < floor) problems.push(`seed ${seed} step ${step} (${what}): committed offset of ${key} went back from ${floor} to ${now}`);
      committedFloor.set(key, Math.max(floor, now));
    }
  };

  /** The log alone rebuilds the same state: every persisted field of the group and its members, and the offsets. */
  function compareRebuilt(when: string): void {
    const rebuilt = new GroupShard(SETTINGS);
    for (const record of written) rebuilt.replay(record, nowMs);
    const all = { groupId: GROUP, memberId: null, memberEpoch: -1, topics: null, requireStable: false };
    const [a, b] = [persisted(rebuilt), persisted(shard)];
    if (a !== b) problems.push(`seed ${seed} at ${when}: the group rebuilt from the records differs:\n${a}\nlive:\n${b}`);
    if (JSON.stringify(rebuilt.fetchOffsets(all)) !== JSON.stringify(shard.fetchOffsets(all))) problems.push(`seed ${seed} at ${when}: offsets rebuilt from the records differ`);
  }

  for (let step = 0; step < STEPS && problems.length === 0; step++) {
    const c = pick(clients);
    const roll = random();
    let what: string;
    if (roll < 0.45) {
      const lost = random() < 0.1;
      what = `heartbeat ${c.memberId}${lost ? ' (answer lost)' : ''}`;
      if (c.state === 'joined' || c.state === 'new') heartbeat(c, {}, lost);
    } else if (roll < 0.55) {
      what = `release ${c.memberId}`;
      c.releasing.clear();
    } else if (roll < 0.68) {
      // A zombie commits too: its stale positions must be refused.
      const committer = zombies.length > 0 && random() < 0.4 ? pick(zombies) : c;
      what = `commit ${committer.memberId}${committer === c ? '' : ' (zombie)'}`;
      if (committer.state === 'joined' || committer.state === 'dead') {
        const c = committer;
        const partitions = [...c.assigned, ...c.releasing];
        if (partitions.length > 0) {
          const key = pick(partitions);
          const offset = c.state === 'joined' ? (c.position.get(key) ?? 0) + 1 + Math.floor(random() * 5) : c.position.get(key) ?? 0;
          const [topic, p] = key.split(':') as [string, string];
          const response = apply(shard.commitOffsets({ groupId: GROUP, memberId: c.memberId, memberEpoch: c.epoch, groupInstanceId: c.instanceId, topics: [{ name: topic, partitions: [{ partition: Number(p), committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }] }, env()));
          if (response.topics[0]!.partitions[0]!.errorCode === 0) c.position.set(key, offset);
        }
      }
    } else if (roll < 0.74) {
      what = `leave ${c.memberId}`;
      if (c.state === 'joined') {
        const staticLeave = c.instanceId !== null && random() < 0.6;
        apply(shard.heartbeat({ groupId: GROUP, memberId: c.memberId, memberEpoch: staticLeave ? -2 : -1, instanceId: c.instanceId, rackId: null, rebalanceTimeoutMs: -1, subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null }, env()));
        clients[c.slot] = newClient(c.slot, c.instanceId);
      }
    } else if (roll < 0.8) {
      what = `crash ${c.memberId}`;
      if (c.state === 'joined') c.state = 'dead';
    } else if (roll < 0.85) {
      what = `restart slot ${c.slot}`;
      if (c.state === 'dead') zombies.push(c);
      if (zombies.length > 6) zombies.shift();
      if (c.state === 'dead' || c.state === 'out') clients[c.slot] = newClient(c.slot, c.instanceId);
    } else if (roll < 0.9) {
      what = `resubscribe ${c.memberId}`;
      if (c.state === 'joined') {
        const topicsNow = pick([['t1'], ['t1', 't2'], ['t2', 'other']]);
        c.topics = topicsNow;
        heartbeat(c, { subscribedTopicNames: topicsNow, subscribedTopicRegex: '' });
      }
    } else if (roll < 0.93) {
      what = 'topic grows';
      const name = pick(['t1', 't2']);
      if (topics.get(name)! < 8) topics.set(name, topics.get(name)! + 1);
      apply(shard.tick({ nowMs, topics }));
    } else if (roll < 0.98) {
      const ms = Math.floor(random() * (random() < 0.2 ? 2 * SESSION_MS : 3000));
      what = `clock +${ms}`;
      nowMs += ms;
      apply(shard.tick({ nowMs, topics }));
    } else {
      what = 'tool reset';
      const group = shard.group(GROUP);
      if (group !== undefined && group.members.size === 0) {
        const response = apply(shard.commitOffsets({ groupId: GROUP, memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [{ name: 't1', partitions: [{ partition: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: 'reset' }] }] }, env()));
        if (response.topics[0]!.partitions[0]!.errorCode !== 0) problems.push(`seed ${seed} step ${step}: a tool commit into the empty group was refused: ${response.topics[0]!.partitions[0]!.errorMessage}`);
        committedFloor.set('t1:0', 0);
      }
    }
    check(step, what);
    if (step % 25 === 24) compareRebuilt(`step ${step}`);
  }
  if (problems.length > 0) return problems;

  // Calm: the dead time out; the living heartbeat and release promptly until stable.
  for (const c of clients) if (c.state === 'dead' || c.state === 'out') c.state = 'out';
  nowMs += SESSION_MS + 1;
  for (const c of clients) c.releasing.clear();
  apply(shard.tick({ nowMs, topics }));
  for (let round = 0; round < 30; round++) {
    for (const c of clients) {
      if (c.state !== 'joined' && c.state !== 'new') continue;
      heartbeat(c);
      c.releasing.clear();
    }
    check(STEPS + round, 'calm');
  }
  const group = shard.group(GROUP);
  if (group !== undefined && group.members.size > 0) {
    const described = shard.describe(GROUP);
    if (described.groupState !== 'Stable') problems.push(`seed ${seed}: not stable after 30 calm rounds: ${described.groupState}`);
    const subscribed = new Set<string>();
    for (const [topic, count] of group.subscribedTopics) for (let p = 0; p < count; p++) subscribed.add(`${topic}:${p}`);
    const assigned = [...group.members.values()].flatMap((m) => [...m.assigned]);
    if (assigned.length !== subscribed.size || !assigned.every((key) => subscribed.has(key))) {
      problems.push(`seed ${seed}: once stable, assigned ${assigned.sort().join(',')} but subscribed ${[...subscribed].sort().join(',')}`);
    }
  }

  compareRebuilt('the end');
  return problems;
}

function persisted(shard: GroupShard): string {
  const group = shard.group(GROUP);
  if (group === undefined) return 'none';
  const sorted = (set: ReadonlySet<string>) => [...set].sort().join(',');
  const members = [...group.members.values()]
    .sort((x, y) => (x.memberId < y.memberId ? -1 : 1))
    .map((m) => [m.memberId, m.instanceId, m.memberEpoch, m.previousMemberEpoch, sorted(m.assigned), sorted(m.revoking), sorted(m.target), m.subscribedTopicNames.join(','), m.subscribedTopicRegex, m.rebalanceTimeoutMs]);
  return JSON.stringify([group.groupEpoch, group.assignmentEpoch, group.assignorName, [...group.subscribedTopics].sort(), members, shard.describe(GROUP).groupState]);
}

t.test(`group state machine: ${SEEDS} seeded runs of ${STEPS} steps`, async (t) => {
  const problems: string[] = [];
  for (let seed = 1; seed <= SEEDS && problems.length < 5; seed++) problems.push(...runSeed(seed));
  t.same(problems.slice(0, 5), [], 'no invariant broken');
});
