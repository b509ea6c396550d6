/**
 * A consumer group in the simulation: members on the `client` host that
 * speak the group protocol (ConsumerGroupHeartbeat, OffsetCommit,
 * OffsetFetch) to whichever broker coordinates the group, as a careful
 * client does, while the fault schedule kills, pauses and cuts off brokers
 * (and with them the coordinator) and the members themselves crash,
 * restart (static members keep their instance id), leave and rejoin.
 *
 * What it checks (named as invariants.ts names its own):
 * - `one-owner`: after every step, no partition is owned by two live
 *   members. A member owns a partition from the moment an assignment names
 *   it until it reports in a heartbeat that it let it go; a member that has
 *   had no successful heartbeat for the session timeout lets everything go
 *   (a careful client's rule: the coordinator cannot have given its
 *   partitions away sooner).
 * - `commit-kept`: an acknowledged commit is never lost or undone: a member
 *   taking over a partition reads a committed offset at least as high as
 *   every commit acknowledged before, and so does the final read.
 * - liveness (`converged`): once the faults stop, every member is in the
 *   group and every partition has exactly one owner.
 *
 * "Processing" is simulated: an owner moves its position forward at random
 * and commits it with its member epoch.
 */
import type { Cluster } from '../../client/metadata.js';
import type { Connection } from '../../client/connection.js';
import type { Rng } from '../../broker/world/rng.js';
import type { ConsumerGroupHeartbeatResponse } from '../../protocol/messages.js';
import { errorNameOf } from '../../protocol/errors.js';
import type { Checker, Simulation } from './engine.js';
import { findCoordinator, simCluster } from './sim-cluster.js';
import { fromTopicPartitions, tp as tpOf, toTopicPartitions } from '../../broker/coordinator/partition-set.js';

export const GROUP = 'sim-group';
/** The coordinator's session timeout in the simulation (SIM_SETTINGS' group.consumer.session.timeout.ms). */
export const GROUP_SESSION_MS = 3000;
/** SIM_SETTINGS' group.consumer.heartbeat.interval.ms. */
const GROUP_HEARTBEAT_MS = 500;
const REQUEST_TIMEOUT_MS = 1500;
const RETRY_MS = 200;

/** A partition as group state keys it ("topic:partition"). */
type Tp = string;

class Member {
  /** Bumped by every crash and restart: answers to an older incarnation are ignored. */
  incarnation = 0;
  live = false;
  memberId = '';
  epoch = 0;
  /** Partition -> next offset to commit (null until its committed offset was read). */
  readonly owned = new Map<Tp, number | null>();
  /** Partitions being given up (final commit in flight): still owned until reported. */
  readonly releasing = new Set<Tp>();
  /** Committing and leaving: still the owner of what it has until the leave is sent. */
  leaving = false;
  lastOkSentMs = -Infinity;
  intervalMs = 500;
  coordinator: Connection | null = null;

  constructor(
    readonly index: number,
    readonly instanceId: string | null,
  ) {}

  get name(): string {
    return `member ${this.index}${this.instanceId === null ? '' : ` (${this.instanceId})`}`;
  }
}

export class GroupMembers implements Checker {
  readonly #sim: Simulation;
  readonly #rng: Rng;
  readonly #cluster: Cluster;
  readonly #topics: string[];
  readonly #partitions: Tp[];
  readonly members: Member[];
  /** Per partition, the highest commit acknowledged so far. */
  readonly #acked = new Map<Tp, number>();
  /** Per partition, the highest committed offset read so far. */
  readonly #read = new Map<Tp, number>();
  commits = 0;
  #closed = false;

  constructor(sim: Simulation, partitions: { topic: string; partition: number }[], memberCount: number) {
    this.#sim = sim;
    this.#rng = sim.rngFor('group');
    const rng = sim.rngFor('group client');
    this.#cluster = simCluster(sim, 'sim-group', rng, REQUEST_TIMEOUT_MS);
    this.#partitions = partitions.map((p) => tpOf(p.topic, p.partition));
    this.#topics = [...new Set(partitions.map((p) => p.topic))];
    // Every other member is static: a restart within the session timeout gets its partitions back.
    this.members = Array.from({ length: memberCount }, (_, i) => new Member(i, i % 2 === 0 ? `static-${i}` : null));
  }

  /** Starts every member at a random moment of the next `withinMs`. */
  start(withinMs: number): void {
    for (const m of this.members) this.#sim.clock.schedule(this.#rng.int(withinMs), () => this.#startMember(m));
  }

  /** Crashes, restarts, leaves and rejoins at random moments of the next `windowMs`; every member is live again at its end. */
  churn(windowMs: number, actions: number): void {
    for (let i = 0; i < actions; i++) {
      const m = this.members[this.#rng.int(this.members.length)]!;
      const atMs = this.#rng.int(windowMs);
      const downMs = 200 + this.#rng.int(GROUP_SESSION_MS + 1000);
      const graceful = this.#rng.int(2) === 0;
      this.#sim.clock.schedule(atMs, () => {
        if (!m.live || m.leaving) return;
        if (graceful) void this.#leave(m);
        else this.#crash(m);
        this.#sim.clock.schedule(Math.min(downMs, Math.max(0, windowMs - atMs)), () => this.#startMember(m));
      });
    }
  }

  /** `one-owner`, after every step. */
  check(): void {
    const owner = new Map<Tp, Member>();
    for (const m of this.members) {
      if (!m.live) continue;
      for (const tp of m.owned.keys()) {
        const other = owner.get(tp);
        if (other !== undefined) this.#sim.fail('one-owner', `${tp} is owned by ${other.name} (epoch ${other.epoch}) and ${m.name} (epoch ${m.epoch}) at once`);
        owner.set(tp, m);
      }
    }
  }

  /** Every member live and in the group (its last heartbeat answered), every partition owned by exactly one of them, nothing being given up. */
  converged(): boolean {
    const recentMs = this.#sim.clock.nowMs() - 2 * GROUP_HEARTBEAT_MS;
    if (!this.members.every((m) => m.live && m.epoch > 0 && m.lastOkSentMs >= recentMs && m.releasing.size === 0 && [...m.owned.values()].every((next) => next !== null))) return false;
    const owned = this.members.flatMap((m) => [...m.owned.keys()]);
    return owned.length === this.#partitions.length && this.#partitions.every((tp) => owned.includes(tp));
  }

  /** The final check of `commit-kept`: the group's committed offsets, read once more, are at least every acknowledged commit. */
  async verifyCommits(untilMs: number): Promise<void> {
    for (let attempt = 0; attempt < 50 && this.#sim.elapsedMs < untilMs; attempt++) {
      const read = await this.#sim.settle(this.#fetchOffsets(null, this.#partitions), untilMs);
      if (read !== null && 'value' in read && read.value !== null) return;
      await this.#sim.runUntil(this.#sim.elapsedMs + RETRY_MS);
    }
    this.#sim.fail('liveness', 'the group\'s committed offsets could not be read after the faults stopped');
  }

  describe(): string {
    return this.members.map((m) => `${m.name} ${m.live ? `e${m.epoch} [${[...m.owned.keys()].join(',')}]${m.releasing.size > 0 ? ` releasing [${[...m.releasing].join(',')}]` : ''}` : 'down'}`).join('; ');
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const m of this.members) m.live = false;
    await this.#cluster.close().catch(() => undefined);
  }

  #startMember(m: Member): void {
    if (this.#closed) return;
    if (m.live) {
      // A restart due while the member is still leaving waits for the leave to end.
      if (m.leaving) this.#sim.clock.schedule(RETRY_MS, () => this.#startMember(m));
      return;
    }
    m.incarnation += 1;
    m.live = true;
    m.memberId = `m${m.index}-${m.incarnation}`;
    m.epoch = 0;
    m.owned.clear();
    m.releasing.clear();
    m.lastOkSentMs = this.#sim.clock.nowMs();
    m.coordinator = null;
    this.#sim.event(`group: start ${m.name} as ${m.memberId}`);
    void this.#beat(m, m.incarnation);
    this.#scheduleCommit(m, m.incarnation);
  }

  #crash(m: Member): void {
    this.#sim.event(`group: crash ${m.name}`);
    m.live = false;
    m.incarnation += 1;
    m.owned.clear();
    m.releasing.clear();
  }

  async #leave(m: Member): Promise<void> {
    const incarnation = ++m.incarnation;
    m.leaving = true;
    this.#sim.event(`group: ${m.name} leaves`);
    // What it finished is committed first, as a clean stop does; then it leaves (static: for a restart).
    await this.#commit(m, [...m.owned.keys()], incarnation);
    m.leaving = false;
    m.live = false;
    m.owned.clear();
    m.releasing.clear();
    const conn = m.coordinator;
    if (conn !== null) {
      const body = this.#heartbeatBody(m, m.instanceId === null ? -1 : -2);
      await conn.request('ConsumerGroupHeartbeat', body).catch(() => undefined);
    }
  }

  #heartbeatBody(m: Member, epoch: number) {
    return {
      groupId: GROUP,
      memberId: m.memberId,
      memberEpoch: epoch,
      instanceId: m.instanceId,
      rackId: null,
      rebalanceTimeoutMs: 5000,
      subscribedTopicNames: this.#topics,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: toTopicPartitions(new Set(m.owned.keys())),
    };
  }

  async #coordinatorOf(m: Member): Promise<Connection> {
    if (m.coordinator !== null) return m.coordinator;
    const { conn } = await findCoordinator(this.#cluster, GROUP);
    m.coordinator = conn;
    return conn;
  }

  async #beat(m: Member, incarnation: number): Promise<void> {
    const current = (): boolean => m.incarnation === incarnation && m.live && !this.#closed;
    if (!current()) return;
    const nowMs = this.#sim.clock.nowMs();
    if (nowMs - m.lastOkSentMs > GROUP_SESSION_MS && (m.owned.size > 0 || m.epoch > 0)) {
      this.#sim.event(`group: ${m.name} had no heartbeat answer for the session timeout; lets [${[...m.owned.keys()].join(',')}] go and rejoins`);
      this.#dropAll(m);
    }
    let nextMs = RETRY_MS;
    try {
      const conn = await this.#coordinatorOf(m);
      if (!current()) return;
      const sentMs = this.#sim.clock.nowMs();
      const res = await conn.request('ConsumerGroupHeartbeat', this.#heartbeatBody(m, m.epoch));
      if (!current()) return;
      nextMs = await this.#onHeartbeat(m, incarnation, res, sentMs);
    } catch (error) {
      m.coordinator = null;
      this.#sim.event(`group: ${m.name} heartbeat failed: ${(error as Error).message}`);
    }
    if (current()) this.#sim.clock.schedule(nextMs, () => void this.#beat(m, incarnation));
  }

  /** Applies an answer; the delay before the next heartbeat. */
  async #onHeartbeat(m: Member, incarnation: number, res: ConsumerGroupHeartbeatResponse, sentMs: number): Promise<number> {
    const error = errorNameOf(res.errorCode);
    switch (error) {
      case 'NONE':
        break;
      case 'UNKNOWN_MEMBER_ID':
      case 'FENCED_MEMBER_EPOCH':
        this.#sim.event(`group: ${m.name} ${error}; lets everything go and rejoins`);
        this.#dropAll(m);
        return 0;
      case 'NOT_COORDINATOR':
      case 'COORDINATOR_NOT_AVAILABLE':
      case 'COORDINATOR_LOAD_IN_PROGRESS':
      case 'REQUEST_TIMED_OUT':
        m.coordinator = null;
        return RETRY_MS;
      case 'UNRELEASED_INSTANCE_ID':
        return RETRY_MS;
      default:
        this.#sim.fail('group-protocol', `${m.name}: unexpected heartbeat error ${error}: ${res.errorMessage ?? ''}`);
    }
    m.lastOkSentMs = sentMs;
    m.epoch = res.memberEpoch;
    m.intervalMs = res.heartbeatIntervalMs;
    if (res.assignment === null) return m.intervalMs;
    const next = fromTopicPartitions(res.assignment.topicPartitions);
    const added = [...next].filter((tp) => !m.owned.has(tp));
    const revoked = [...m.owned.keys()].filter((tp) => !next.has(tp));
    this.#sim.event(`group: ${m.name} e${m.epoch} assigned [${[...next].join(',')}]${added.length > 0 ? ` +[${added.join(',')}]` : ''}${revoked.length > 0 ? ` -[${revoked.join(',')}]` : ''}`);
    for (const tp of added) m.owned.set(tp, null);
    void this.#startReading(m, incarnation, added);
    if (revoked.length === 0) return m.intervalMs;
    // Give up the revoked partitions: commit what was done on them, then report (at once) that they are no longer owned.
    for (const tp of revoked) m.releasing.add(tp);
    await this.#commit(m, revoked, incarnation);
    if (m.incarnation !== incarnation || !m.live) return 0;
    for (const tp of revoked) {
      m.owned.delete(tp);
      m.releasing.delete(tp);
    }
    return 0;
  }

  #dropAll(m: Member): void {
    m.owned.clear();
    m.releasing.clear();
    m.epoch = 0;
    m.coordinator = null;
    m.lastOkSentMs = this.#sim.clock.nowMs();
  }

  /** Reads the committed offsets of newly owned partitions: where to go on from, and `commit-kept`'s check. */
  async #startReading(m: Member, incarnation: number, tps: Tp[]): Promise<void> {
    let pending = tps;
    for (let attempt = 0; pending.length > 0 && attempt < 20; attempt++) {
      if (m.incarnation !== incarnation || !m.live) return;
      pending = pending.filter((tp) => m.owned.get(tp) === null);
      if (pending.length === 0) return;
      const read = await this.#fetchOffsets(m, pending).catch(() => null);
      if (m.incarnation !== incarnation || !m.live) return;
      if (read !== null) {
        for (const tp of pending) {
          if (m.owned.get(tp) !== null) continue;
          m.owned.set(tp, Math.max(0, read.get(tp) ?? -1));
        }
        return;
      }
      await new Promise<void>((resolve) => this.#sim.clock.schedule(RETRY_MS, resolve));
    }
  }

  /**
   * The committed offsets of `tps` (-1: none), read as `m` (or as no member),
   * and checked (`commit-kept`) against what was acknowledged and read
   * before the request went out (an answer to a concurrent commit may arrive
   * first); null on a retriable error.
   */
  async #fetchOffsets(m: Member | null, tps: Tp[]): Promise<Map<Tp, number> | null> {
    const conn = m === null ? await this.#coordinatorOf(this.members[0]!) : await this.#coordinatorOf(m);
    const ackedBefore = new Map(this.#acked);
    const readBefore = new Map(this.#read);
    this.#sim.event(`group: ${m === null ? 'final read' : m.name} reads offsets of [${tps.join(',')}] from ${conn.address}`);
    const res = await conn.request('OffsetFetch', {
      groupId: GROUP,
      memberId: m === null ? null : m.memberId,
      memberEpoch: m === null ? -1 : m.epoch,
      topics: toTopicPartitions(new Set(tps)).map((t) => ({ name: t.topic, partitions: t.partitions })),
      requireStable: true,
    });
    if (res.errorCode !== 0) {
      if (m !== null) m.coordinator = null;
      else this.members[0]!.coordinator = null;
      return null;
    }
    const out = new Map<Tp, number>();
    this.#sim.event(`group: ${conn.address} answered ${res.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partition}@${p.committedOffset}`)).join(',')}`);
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) return null;
        out.set(tpOf(t.name, p.partition), p.committedOffset);
      }
    }
    const by = m === null ? 'the final read' : `${m.name} taking it over`;
    for (const [tp, committed] of out) {
      const acked = ackedBefore.get(tp);
      if (acked !== undefined && committed < acked) this.#sim.fail('commit-kept', `${tp}: ${by} read committed offset ${committed} from ${conn.address}, but ${acked} was acknowledged before`);
      const seen = readBefore.get(tp);
      if (seen !== undefined && committed < seen) this.#sim.fail('commit-kept', `${tp}: ${by} read committed offset ${committed} from ${conn.address}, but an earlier read saw ${seen}: a committed offset went back`);
      this.#read.set(tp, Math.max(committed, this.#read.get(tp) ?? -1));
    }
    return out;
  }

  #scheduleCommit(m: Member, incarnation: number): void {
    this.#sim.clock.schedule(200 + this.#rng.int(500), () => {
      if (m.incarnation !== incarnation || !m.live || this.#closed) return;
      const steady = [...m.owned.keys()].filter((tp) => m.owned.get(tp) !== null && !m.releasing.has(tp));
      for (const tp of steady) m.owned.set(tp, m.owned.get(tp)! + 1 + this.#rng.int(3));
      void this.#commit(m, steady, incarnation).then(() => this.#scheduleCommit(m, incarnation));
    });
  }

  /** Commits the positions of `tps` with the member's epoch; an acknowledged one must never be lost. */
  async #commit(m: Member, tps: Tp[], incarnation: number): Promise<void> {
    const positions = tps.map((tp) => [tp, m.owned.get(tp)] as const).filter((e): e is readonly [Tp, number] => typeof e[1] === 'number');
    if (positions.length === 0 || m.epoch <= 0) return;
    const sent = new Map(positions);
    try {
      const conn = await this.#coordinatorOf(m);
      const res = await conn.request('OffsetCommit', {
        groupId: GROUP,
        memberId: m.memberId,
        memberEpoch: m.epoch,
        groupInstanceId: m.instanceId,
        topics: toTopicPartitions(new Set(positions.map(([tp]) => tp))).map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((partition) => ({ partition, committedOffset: sent.get(tpOf(t.topic, partition))!, committedLeaderEpoch: -1, committedMetadata: null })),
        })),
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          const tp = tpOf(t.name, p.partition);
          const offset = sent.get(tp)!;
          if (p.errorCode !== 0) {
            this.#sim.event(`group: ${m.name} commit ${tp}@${offset} refused: ${errorNameOf(p.errorCode)}`);
            continue;
          }
          // Answers on different connections may arrive out of log order: what must hold is on reads (#fetchOffsets).
          this.#acked.set(tp, Math.max(offset, this.#acked.get(tp) ?? -1));
          this.#sim.event(`group: ${m.name} e${m.epoch} committed ${tp}@${offset} at ${conn.address}`);
          this.commits += 1;
        }
      }
    } catch (error) {
      if (m.incarnation === incarnation) m.coordinator = null;
      this.#sim.event(`group: ${m.name} commit failed: ${(error as Error).message}`);
    }
  }
}
