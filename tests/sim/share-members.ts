/**
 * A share group (a queue) in the simulation: members on the `client` host
 * that speak the share-group protocol (ShareGroupHeartbeat, ShareFetch,
 * ShareAcknowledge) to whichever broker coordinates the group, while the
 * fault schedule kills, pauses and cuts off brokers (and, aimed on purpose,
 * the coordinator itself mid-flight). Each member takes records and, at
 * random, accepts them, releases them (at once or with a delay), rejects
 * them, sits on them past their lock (a slow handler), or forgets them; a
 * member also crashes (stops heartbeating while holding locks), leaves and
 * comes back as a new member. A producer of its own sends the records, some
 * with a `runnel.deliver.at` in the near future. The group's dead-letter
 * topic is read back by a consumer.
 *
 * What it checks, from what the clients saw (the clock is the coordinator's:
 * one ManualClock for everyone). Order between observations is the order
 * the client callbacks ran in (a sequence number), never time alone.
 * - `one-holder`: when a member receives a record, no earlier handout of it
 *   is surely still live: received before, its lock (sent time + the
 *   answer's acquisition lock timeout, a lower bound of the coordinator's
 *   lock end) not over, no acknowledgement of it sent, and its member's
 *   session surely not over (the last heartbeat answered OK was sent less
 *   than a session timeout ago). Two live locks on one record at once means
 *   the coordinator handed a locked record out. A handout that reaches a
 *   member after it left the group is no holder (the member is gone; the
 *   leave released it): answers can come that late when reading the
 *   records from a partition leader that is cut off holds them.
 * - `delivery-count-grows`: a handout requested after another was received
 *   carries a higher delivery count (every acquisition counts one, durably,
 *   before its answer leaves; a new coordinator must not lose one), and
 *   none exceeds the group's max delivery attempts.
 * - `accepted-never-again`: no record is handed out again once an accept of
 *   it was answered OK (nor with a higher delivery count than that accept's).
 * - `not-before-due`: no record is received before its `runnel.deliver.at`,
 *   nor before the delay of an answered release ran out. A `deliver.at` is
 *   an instant on the coordinator's wall clock: with a broker's clock
 *   stepped ahead (clock faults), a record may come that much early (the
 *   most any broker's clock has been ahead); a release's delay is a duration,
 *   and must hold whatever the clocks say (a new coordinator restarts it,
 *   a stepped one moves it).
 * - at the end (`verify`), after the faults stop and the members drain
 *   (longer by as much as a broker's clock is behind: a coordinator's clock
 *   behind holds a `deliver.at` back that much): the coordinator has
 *   settled every record (start = high watermark;
 *   accepted + rejected = high watermark, each dead-lettered); every record
 *   acknowledged to the producer is either in the dead-letter topic (with
 *   its headers: source, group, reason, delivery count) and was never
 *   accepted, or was accepted by some member and is not a dead letter; a
 *   reject answered OK is a dead letter with reason "rejected".
 */
import type { Cluster } from '../../client/metadata.js';
import type { Connection } from '../../client/connection.js';
import { Runnel } from '../../client/runnel.js';
import type { Consumer, Message, Producer } from '../../client/types.js';
import { acquiredRecords } from '../../client/queue/share-records.js';
import type { Rng } from '../../broker/world/rng.js';
import { errorNameOf } from '../../protocol/errors.js';
import { DlqHeader } from '../../protocol/headers.js';
import { AcknowledgeType, type ShareAcknowledgement, type ShareFailedAcknowledgement, type ShareFetchResponse } from '../../protocol/messages.js';
import type { Checker, Simulation } from './engine.js';
import type { FaultSchedule } from './faults.js';
import type { Invariants } from './invariants.js';
import { findCoordinator, simCluster } from './sim-cluster.js';
import { PORT, type SimNode } from './sim-node.js';
import type { TopicPlan } from './workload.js';

export const QUEUE = 'sim-queue';
const TOPIC = 'jobs';
const DLQ = 'jobs-dlq';
/** The topics a share run adds (created with the others, RF 3). */
export const SHARE_TOPICS: readonly TopicPlan[] = [
  { name: TOPIC, partitions: 2, config: { 'min.insync.replicas': '2', 'segment.index.bytes': '65536' } },
  { name: DLQ, partitions: 2, config: { 'min.insync.replicas': '2', 'segment.index.bytes': '65536' } },
];
/** SIM_SETTINGS' group.share.session.timeout.ms. */
export const SHARE_SESSION_MS = 3000;
const VISIBILITY_MS = 1500;
const MAX_ATTEMPTS = 4;
const REQUEST_TIMEOUT_MS = 1500;
const FETCH_WAIT_MS = 500;
const RETRY_MS = 200;
/** How often `verify` asks the coordinator whether the queue is drained. */
const VERIFY_POLL_MS = 300;
/** How long an armed coordinator kill waits for a handout to aim at (killCoordinator). */
const KILL_AIM_MS = 3000;

type Action = 'accept' | 'release' | 'delay' | 'reject' | 'slow' | 'forget';
const ACTIONS: readonly [Action, number][] = [['accept', 50], ['release', 10], ['delay', 10], ['reject', 7], ['slow', 13], ['forget', 10]];

/** One record handed to one member: what the answer said and when. */
interface Handout {
  member: ShareMember;
  memberId: string;
  deliveryCount: number;
  /** Client event order: the request went out / the answer came. */
  sentSeq: number;
  recvSeq: number;
  recvMs: number;
  /** A lower bound of the coordinator's lock end: the request's send time + the lock timeout. */
  lockEndMs: number;
  /** Set when the member sent an acknowledgement of it, or left: the lock may end any moment from then. */
  letGo: boolean;
}

interface RecordLog {
  handouts: Handout[];
  /** An accept answered OK: the delivery it was sent for and when the answer came. */
  accepted: { deliveryCount: number; seq: number } | null;
  /** Some accept of it was sent (answered OK or not answered at all). */
  acceptSent: boolean;
  /** A reject answered OK. */
  rejectedOk: boolean;
  /** An answered release's delay: no handout requested after the answer (`notBeforeSeq`) comes before `notBeforeMs`. */
  notBeforeMs: number;
  notBeforeSeq: number;
}

class ShareMember {
  incarnation = 0;
  live = false;
  memberId = '';
  epoch = 0;
  coordinator: Connection | null = null;
  /** Acknowledgements to carry on the next ShareFetch: partition -> acks. */
  piggyback: { partition: number; ack: ShareAcknowledgement; handout: Handout }[] = [];
  constructor(readonly index: number) {}
  get name(): string {
    return `queue member ${this.index}`;
  }
}

export class ShareMembers implements Checker {
  readonly #sim: Simulation;
  readonly #rng: Rng;
  /** The coordinator kill, once armed and until it fires (killCoordinator). */
  #armedKill: ((why: string) => void) | null = null;
  readonly #cluster: Cluster;
  readonly #client: Runnel;
  readonly #producer: Producer;
  #dlqConsumer: Consumer | null = null;
  readonly #invariants: Invariants;
  readonly members: ShareMember[];
  /** "partition:offset" -> what the clients saw of it. */
  readonly #records = new Map<string, RecordLog>();
  /** memberId -> the send time of its last heartbeat answered OK. */
  readonly #lastOk = new Map<string, number>();
  /** Member ids that left or were removed (#letGoAll). */
  readonly #retired = new Set<string>();
  /** value -> deliver.at of every send; acknowledged sends by "partition:offset". */
  readonly #dueOf = new Map<string, number>();
  readonly #acked = new Map<string, string>();
  /** Dead letters read: "partition:offset" of the source -> their headers. */
  readonly #deadLetters = new Map<string, { reason: string; error: string; deliveryCount: number; value: string }[]>();
  #seq = 0;
  #sent = 0;
  pending = 0;
  handouts = 0;
  coordinatorId = -1;
  #closed = false;
  #aheadMs = 0;

  constructor(
    sim: Simulation,
    invariants: Invariants,
    memberCount: number,
    /** The machines: their wall clocks may be stepped, which moves instants on them. */
    readonly nodes: readonly SimNode[] = [],
  ) {
    this.#sim = sim;
    this.#invariants = invariants;
    this.#rng = sim.rngFor('share');
    const clusterRng = sim.rngFor('share cluster');
    this.#cluster = simCluster(sim, 'sim-queue', clusterRng, REQUEST_TIMEOUT_MS);
    const clientRng = sim.rngFor('share client');
    this.#client = new Runnel(
      { bootstrap: [1, 2, 3].map((id) => `b${id}:${PORT}`), clientId: 'sim-queue-producer', requestTimeoutMs: 3000, connectTimeoutMs: 2000, retry: { initialBackoffMs: 50, maxBackoffMs: 500 } },
      { transport: sim.network.node('client'), clock: sim.clock, rng: { next: () => clientRng.next() } },
    );
    this.#producer = this.#client.producer({ acks: 'all', lingerMs: 2, deliveryTimeoutMs: 30_000, requestTimeoutMs: 3000, metadataMaxAgeMs: 2000 });
    this.members = Array.from({ length: memberCount }, (_, i) => new ShareMember(i));
  }

  // ---- the run's schedule ----

  /** Starts every member at a random moment of the next `withinMs`, and the dead-letter reader. */
  start(withinMs: number): void {
    for (const m of this.members) this.#sim.clock.schedule(this.#rng.int(withinMs), () => this.#startMember(m));
    this.#readDeadLetters();
  }

  /** `count` sends at random moments of the next `windowMs`; some due up to 3 s after they are sent. */
  sends(windowMs: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const atMs = this.#rng.int(windowMs);
      const delayMs = this.#rng.int(5) < 2 ? this.#rng.int(3000) : -1;
      this.#sim.clock.schedule(atMs, () => this.#send(delayMs));
    }
  }

  /** Crashes (locks held, no heartbeat), leaves and restarts at random moments of the next `windowMs`; every member is live again at its end. */
  churn(windowMs: number, actions: number): void {
    for (let i = 0; i < actions; i++) {
      const m = this.members[this.#rng.int(this.members.length)]!;
      const atMs = this.#rng.int(windowMs);
      const downMs = 200 + this.#rng.int(SHARE_SESSION_MS + 1000);
      const graceful = this.#rng.int(2) === 0;
      this.#sim.clock.schedule(atMs, () => {
        if (!m.live) return;
        if (graceful) void this.#leave(m);
        else this.#crash(m);
        this.#sim.clock.schedule(Math.min(downMs, Math.max(0, windowMs - atMs)), () => this.#startMember(m));
      });
    }
  }

  /**
   * SIGKILLs the group's coordinator (as the members last found it)
   * mid-flight: armed at a random moment of the next `windowMs`, it fires as
   * the next answer that hands records out arrives, so locks are surely live
   * when the coordinator dies (what a new coordinator must keep); if no such
   * answer comes within KILL_AIM_MS of arming, it fires then.
   */
  killCoordinator(windowMs: number, faults: FaultSchedule, nodes: readonly SimNode[]): void {
    const atMs = this.#rng.int(windowMs);
    const downMs = 300 + this.#rng.int(3000);
    let fired = false;
    const fire = (why: string): void => {
      if (fired) return;
      fired = true;
      this.#armedKill = null;
      const node = nodes.find((n) => n.role === 'broker' && n.id === this.coordinatorId);
      if (node !== undefined && faults.kill(node, downMs)) this.#sim.event(`share: killed the coordinator ${node.name} (${why})`);
    };
    this.#sim.clock.schedule(atMs, () => {
      this.#armedKill = fire;
      this.#sim.clock.schedule(KILL_AIM_MS, () => fire('no handout since arming'));
    });
  }

  // ---- checks ----

  check(): void {
    // Every invariant is checked where its evidence arrives (#onHandout, #settled); nothing to scan per step.
  }

  /** Every member live and in the group, every send settled. */
  converged(): boolean {
    return this.pending === 0 && this.members.every((m) => m.live && m.epoch > 0);
  }

  /**
   * The end of the run, after the faults stopped: the members drain the
   * queue until the coordinator says every record is settled and every dead
   * letter is copied and read, then the final checks.
   */
  async verify(untilMs: number): Promise<{ accepted: number; deadLetters: number }> {
    // A deliver.at comes due on the coordinator's clock: one behind holds it back that much longer.
    const behindMs = this.#clockBehindMs();
    untilMs += behindMs;
    let last = 'no answer';
    for (let attempt = 0; attempt < 400 + Math.ceil(behindMs / VERIFY_POLL_MS) && this.#sim.elapsedMs < untilMs; attempt++) {
      const described = await this.#sim.settle(this.#describe(), untilMs);
      if (described !== null && 'value' in described && described.value !== null) {
        const parts = described.value;
        last = parts.map((p) => `${p.partition}: start ${p.startOffset} hw ${p.highWatermark} in flight ${p.inFlight} accepted ${p.accepted} rejected ${p.rejected} dead-lettered ${p.deadLettered}`).join('; ');
        const settled = parts.length === 2 && parts.every((p) => p.startOffset === p.highWatermark && p.inFlight === 0 && p.deadLettered === p.rejected);
        const read = parts.every((p) => this.#distinctDeadLetters(p.partition) === p.rejected);
        if (settled && read) return this.#finalChecks(parts);
      }
      await this.#sim.runUntil(this.#sim.elapsedMs + VERIFY_POLL_MS);
    }
    const missing = [...this.#records].filter(([key, log]) => log.rejectedOk && !this.#deadLetters.has(key)).map(([key]) => key);
    this.#sim.fail('share-liveness', `the queue was not drained after the faults stopped: ${last}; dead letters read ${this.#deadLetters.size}${missing.length === 0 ? '' : `; rejected (answered OK) but not in ${DLQ}: ${missing.join(', ')}`}; ${this.describe()}`);
  }

  describe(): string {
    return this.members.map((m) => `${m.name} ${m.live ? `${m.memberId} e${m.epoch}` : 'down'}`).join('; ');
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const m of this.members) m.live = false;
    await this.#client.close().catch(() => undefined);
    await this.#cluster.close().catch(() => undefined);
  }

  #record(partition: number, offset: number): RecordLog {
    const key = `${partition}:${offset}`;
    let log = this.#records.get(key);
    if (log === undefined) this.#records.set(key, (log = { handouts: [], accepted: null, acceptSent: false, rejectedOk: false, notBeforeMs: -Infinity, notBeforeSeq: Infinity }));
    return log;
  }

  #distinctDeadLetters(partition: number): number {
    let n = 0;
    for (const key of this.#deadLetters.keys()) if (key.startsWith(`${partition}:`)) n++;
    return n;
  }

  /** The invariants a handout must satisfy, checked as it arrives. */
  #onHandout(m: ShareMember, partition: number, offset: number, h: Handout, value: string, due: number | undefined): void {
    const tp = `${TOPIC}-${partition}@${offset}`;
    const log = this.#record(partition, offset);
    const acked = this.#acked.get(`${partition}:${offset}`);
    if (acked !== undefined && acked !== value) this.#sim.fail('share-value', `${tp} was acknowledged to the producer as ${acked}; ${m.name} was handed ${value}`);
    if (h.deliveryCount > MAX_ATTEMPTS || h.deliveryCount < 1) this.#sim.fail('delivery-count-grows', `${tp} handed to ${m.name} with delivery count ${h.deliveryCount} (max delivery attempts ${MAX_ATTEMPTS})`);
    for (const x of log.handouts) {
      if (x.recvSeq < h.sentSeq && x.deliveryCount >= h.deliveryCount) this.#sim.fail('delivery-count-grows', `${tp} handed to ${m.name} (${h.memberId}) with delivery count ${h.deliveryCount}, after ${x.member.name} (${x.memberId}) had been handed it with count ${x.deliveryCount}`);
      const sessionOk = (this.#lastOk.get(x.memberId) ?? -Infinity) + SHARE_SESSION_MS > h.recvMs;
      // A handout that reaches a member after it left (h.letGo at once) makes no second holder: nobody works on it.
      if (!h.letGo && !x.letGo && h.recvMs < x.lockEndMs && sessionOk) this.#sim.fail('one-holder', `${tp} handed to ${m.name} (${h.memberId}, count ${h.deliveryCount}) at ${h.recvMs - this.#startMs()} while ${x.member.name} (${x.memberId}, count ${x.deliveryCount}) held it under a lock live until at least ${x.lockEndMs - this.#startMs()}`);
    }
    if (log.accepted !== null && log.accepted.seq < h.sentSeq) this.#sim.fail('accepted-never-again', `${tp} handed to ${m.name} (count ${h.deliveryCount}) after an accept of it (sent for delivery ${log.accepted.deliveryCount}) was answered OK`);
    const aheadMs = this.#clockAheadMs();
    if (due !== undefined && h.recvMs + aheadMs < due) this.#sim.fail('not-before-due', `${tp} handed to ${m.name} at ${h.recvMs - this.#startMs()}, before its deliver.at ${due - this.#startMs()}${aheadMs === 0 ? '' : ` by more than the ${aheadMs} ms a broker's clock is ahead`}`);
    if (log.notBeforeSeq < h.sentSeq && h.recvMs < log.notBeforeMs) this.#sim.fail('not-before-due', `${tp} handed to ${m.name} (count ${h.deliveryCount}) at ${h.recvMs - this.#startMs()}, before the delay of its release ran out (${log.notBeforeMs - this.#startMs()})`);
    log.handouts.push(h);
    this.handouts += 1;
  }

  /**
   * The most any broker's wall clock has been ahead of the simulation's so
   * far (0 when none was): the coordinator that first handed a record out
   * may have been that far ahead then, and a redelivery follows at once.
   */
  #clockAheadMs(): number {
    this.#aheadMs = Math.max(this.#aheadMs, ...this.#brokerStepsMs());
    return this.#aheadMs;
  }

  /** The most any broker's wall clock is behind the simulation's (0 when none is). */
  #clockBehindMs(): number {
    return Math.max(0, ...this.#brokerStepsMs().map((step) => -step));
  }

  /** How far each broker's wall clock is off the simulation's now. */
  #brokerStepsMs(): number[] {
    return this.nodes.filter((n) => n.role === 'broker').map((n) => n.wallStepMs);
  }

  #startMs(): number {
    return this.#sim.clock.nowMs() - this.#sim.elapsedMs;
  }

  /** An acknowledgement answered: OK unless refused. */
  #settled(partition: number, ack: ShareAcknowledgement, h: Handout, ok: boolean, sentMs: number): void {
    const log = this.#record(partition, ack.firstOffset);
    this.#sim.event(`share: ${h.member.name} ${['', 'accept', 'release', 'reject'][ack.type]} ${TOPIC}-${partition}@${ack.firstOffset} (count ${h.deliveryCount}) ${ok ? 'ok' : 'refused'}`);
    if (!ok) return;
    if (ack.type === AcknowledgeType.ACCEPT) log.accepted ??= { deliveryCount: h.deliveryCount, seq: this.#seq++ };
    if (ack.type === AcknowledgeType.REJECT) log.rejectedOk = true;
    if (ack.type === AcknowledgeType.RELEASE && ack.delayMs > 0) {
      // Applied somewhere between its sending and its answer: due at least `delayMs` after the send, for any acquisition after the answer.
      // (An acknowledgement applies by offset to what the member holds: possibly a later delivery of it than `h`, never an earlier one.)
      log.notBeforeSeq = this.#seq++;
      log.notBeforeMs = sentMs + ack.delayMs;
    }
  }

  // ---- the producer and the dead-letter reader ----

  #send(delayMs: number): void {
    if (this.#closed) return;
    const partition = this.#rng.int(2);
    const value = `j${this.#sim.seed}-${this.#sent++}`;
    const deliverAt = delayMs < 0 ? undefined : this.#sim.clock.nowMs() + delayMs;
    if (deliverAt !== undefined) this.#dueOf.set(value, deliverAt);
    this.pending += 1;
    this.#producer.send({ topic: TOPIC, messages: [{ value, partition, ...(deliverAt === undefined ? {} : { deliverAt }) }] }).then(
      ([meta]) => this.#sim.guard(() => {
        this.pending -= 1;
        this.#sim.event(`share: ack ${TOPIC}-${partition}@${meta!.offset} ${value}${deliverAt === undefined ? '' : ` due ${deliverAt - this.#startMs()}`}`);
        this.#acked.set(`${partition}:${meta!.offset}`, value);
        this.#invariants.acked(TOPIC, partition, meta!.offset, value);
      }),
      (error: unknown) => {
        this.pending -= 1;
        this.#sim.event(`share: send failed ${value}: ${(error as Error).message}`);
      },
    );
  }

  #readDeadLetters(): void {
    const consumer = this.#client.consumer({ maxWaitMs: 500, requestTimeoutMs: 3000 });
    this.#dlqConsumer = consumer;
    consumer.assign([0, 1].map((partition) => ({ topic: DLQ, partition, offset: 'earliest' as const })));
    void (async () => {
      try {
        for await (const message of consumer) {
          const header = (name: string): string => message.headers[name]?.toString() ?? '';
          const source = `${header(DlqHeader.SOURCE_PARTITION)}:${header(DlqHeader.SOURCE_OFFSET)}`;
          const where = `dead letter ${DLQ}-${message.partition}@${message.offset}`;
          if (header(DlqHeader.SOURCE_TOPIC) !== TOPIC || header(DlqHeader.GROUP) !== QUEUE) this.#sim.fail('dead-letter-headers', `${where}: source topic "${header(DlqHeader.SOURCE_TOPIC)}", group "${header(DlqHeader.GROUP)}"`);
          if (Number(header(DlqHeader.SOURCE_PARTITION)) % 2 !== message.partition) this.#sim.fail('dead-letter-headers', `${where}: source partition ${header(DlqHeader.SOURCE_PARTITION)} is not partition ${message.partition} mod 2`);
          const entry = { reason: header(DlqHeader.REASON), error: header(DlqHeader.ERROR), deliveryCount: Number(header(DlqHeader.DELIVERY_COUNT)), value: message.value?.toString() ?? '' };
          let list = this.#deadLetters.get(source);
          if (list === undefined) this.#deadLetters.set(source, (list = []));
          list.push(entry);
          this.#sim.event(`share: ${where} from ${source} (${entry.reason}, count ${entry.deliveryCount})`);
        }
      } catch (error) {
        if (this.#sim.failure === null && !this.#closed) this.#sim.event(`share: dead-letter reader error: ${(error as Error).message}`);
      }
    })();
  }

  async #describe() {
    const conn = await this.#coordinatorOf(this.members[0]!);
    const res = await conn.request('ShareGroupDescribe', { groupIds: [QUEUE] });
    const group = res.groups[0];
    if (group === undefined || group.errorCode !== 0) {
      this.members[0]!.coordinator = null;
      return null;
    }
    return group.partitions.filter((p) => p.topic === TOPIC);
  }

  #finalChecks(parts: { partition: number; highWatermark: number; accepted: number; rejected: number }[]): { accepted: number; deadLetters: number } {
    let accepted = 0;
    for (const p of parts) {
      if (p.accepted + p.rejected !== p.highWatermark) this.#sim.fail('settled-once', `${TOPIC}-${p.partition}: ${p.accepted} accepted + ${p.rejected} rejected is not the ${p.highWatermark} records`);
      accepted += p.accepted;
    }
    for (const [key, value] of this.#acked) {
      const log = this.#records.get(key);
      const dead = this.#deadLetters.get(key);
      const tp = `${TOPIC}-${key.replace(':', '@')} (${value})`;
      if (dead !== undefined) {
        if (log?.accepted != null) this.#sim.fail('accepted-or-dead-lettered', `${tp} is a dead letter (${dead[0]!.reason}) but an accept of it was answered OK`);
        for (const d of dead) {
          if (d.value !== value) this.#sim.fail('dead-letter-headers', `${tp}: its dead letter holds ${d.value}`);
          const maxSeen = Math.max(0, ...(log?.handouts ?? []).map((h) => h.deliveryCount));
          if (d.deliveryCount < maxSeen) this.#sim.fail('dead-letter-headers', `${tp}: its dead letter says delivery count ${d.deliveryCount}; it was handed out with count ${maxSeen}`);
          if (d.reason !== 'rejected' && d.reason !== 'max-delivery-attempts') this.#sim.fail('dead-letter-headers', `${tp}: reason "${d.reason}"`);
          if (d.reason === 'rejected' && d.error !== 'simulated reject') this.#sim.fail('dead-letter-headers', `${tp}: rejected with reason "simulated reject", its dead letter's error header says "${d.error}"`);
          if (d.reason === 'max-delivery-attempts' && d.deliveryCount !== MAX_ATTEMPTS) this.#sim.fail('dead-letter-headers', `${tp}: max-delivery-attempts at delivery count ${d.deliveryCount}`);
        }
        continue;
      }
      if (log?.rejectedOk === true) this.#sim.fail('accepted-or-dead-lettered', `${tp}: a reject of it was answered OK, but it is not in ${DLQ}`);
      if (log?.acceptSent !== true) this.#sim.fail('accepted-or-dead-lettered', `${tp} was acknowledged to the producer, is settled, but no member accepted it and it is not in ${DLQ}: lost`);
    }
    const deadLetters = [...this.#deadLetters.values()].reduce((n, list) => n + list.length, 0);
    this.#sim.event(`share: verified: ${this.#acked.size} acked records, ${accepted} accepted, ${this.#deadLetters.size} dead-lettered (${deadLetters} copies), ${this.handouts} handouts`);
    return { accepted, deadLetters: this.#deadLetters.size };
  }

  // ---- members ----

  async #coordinatorOf(m: ShareMember): Promise<Connection> {
    if (m.coordinator !== null) return m.coordinator;
    const { conn, nodeId } = await findCoordinator(this.#cluster, QUEUE);
    this.coordinatorId = nodeId;
    m.coordinator = conn;
    return conn;
  }

  #startMember(m: ShareMember): void {
    if (this.#closed || m.live) return;
    m.incarnation += 1;
    m.live = true;
    m.memberId = `q${m.index}-${m.incarnation}`;
    m.epoch = 0;
    m.coordinator = null;
    m.piggyback = [];
    this.#sim.event(`share: start ${m.name} as ${m.memberId}`);
    void this.#beat(m, m.incarnation);
    void this.#fetchLoop(m, m.incarnation);
  }

  /** Stops heartbeating and fetching; what it holds stays locked until its locks or its session run out. */
  #crash(m: ShareMember): void {
    this.#sim.event(`share: crash ${m.name} (${m.memberId})`);
    m.live = false;
    m.incarnation += 1;
  }

  async #leave(m: ShareMember): Promise<void> {
    m.incarnation += 1;
    m.live = false;
    this.#sim.event(`share: ${m.name} (${m.memberId}) leaves`);
    const conn = m.coordinator;
    if (conn === null || m.epoch <= 0) return;
    this.#letGoAll(m.memberId);
    await conn.request('ShareGroupHeartbeat', { groupId: QUEUE, memberId: m.memberId, memberEpoch: -1, subscribedTopicNames: null, config: null }).catch(() => undefined);
  }

  /**
   * An acknowledgement of `offset` is on its way: it applies by offset to
   * whatever delivery of the record the member holds when it arrives (a
   * later one than it was meant for, when the first lock ran out and the
   * record came back to the same member), so every handout of it to the
   * member may end from now on.
   */
  #letGo(partition: number, offset: number, memberId: string): void {
    for (const h of this.#records.get(`${partition}:${offset}`)?.handouts ?? []) if (h.memberId === memberId) h.letGo = true;
  }

  /**
   * Every lock of `memberId` may end from now on (it left, or was removed):
   * those handed out already, and those of answers still on the way (a
   * ShareFetch in flight when the member left may come back with records
   * the leave, processed after it, released at once).
   */
  #letGoAll(memberId: string): void {
    this.#retired.add(memberId);
    for (const log of this.#records.values()) for (const h of log.handouts) if (h.memberId === memberId) h.letGo = true;
  }

  async #beat(m: ShareMember, incarnation: number): Promise<void> {
    const current = (): boolean => m.incarnation === incarnation && m.live && !this.#closed;
    let nextMs = RETRY_MS;
    try {
      const conn = await this.#coordinatorOf(m);
      if (!current()) return;
      const joining = m.epoch === 0;
      const sentMs = this.#sim.clock.nowMs();
      const memberId = m.memberId;
      const res = await conn.request('ShareGroupHeartbeat', {
        groupId: QUEUE,
        memberId,
        memberEpoch: m.epoch,
        subscribedTopicNames: joining ? [TOPIC] : null,
        config: joining ? { visibilityTimeoutMs: VISIBILITY_MS, maxDeliveryAttempts: MAX_ATTEMPTS, deadLetterTopic: DLQ, ordering: 'none' } : null,
      });
      if (!current()) return;
      const error = errorNameOf(res.errorCode);
      if (m.memberId !== memberId) {
        // The fetch loop made the member rejoin meanwhile: an answer for its old id. Beat again at once, joining (returning here ended the beats for good).
        nextMs = 0;
      } else if (error === 'NONE') {
        this.#lastOk.set(memberId, sentMs);
        if (m.epoch !== res.memberEpoch) this.#sim.event(`share: ${m.name} (${memberId}) epoch ${res.memberEpoch}`);
        m.epoch = res.memberEpoch;
        nextMs = res.heartbeatIntervalMs;
      } else if (error === 'UNKNOWN_MEMBER_ID' || error === 'FENCED_MEMBER_EPOCH') {
        this.#rejoin(m, error);
        nextMs = 0;
      } else {
        if (!['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT'].includes(error)) this.#sim.fail('share-protocol', `${m.name}: unexpected heartbeat error ${error}: ${res.errorMessage ?? ''}`);
        m.coordinator = null;
      }
    } catch (error) {
      m.coordinator = null;
      this.#sim.event(`share: ${m.name} heartbeat failed: ${(error as Error).message}`);
    }
    if (current()) this.#sim.clock.schedule(nextMs, () => void this.#beat(m, incarnation));
  }

  /** The coordinator removed the member (its locks released): a new member id, joining again. */
  #rejoin(m: ShareMember, why: string): void {
    this.#sim.event(`share: ${m.name} (${m.memberId}) ${why}; rejoins`);
    this.#letGoAll(m.memberId);
    m.memberId = `q${m.index}-${m.incarnation}-${this.#seq++}`;
    m.epoch = 0;
    m.piggyback = [];
  }

  async #fetchLoop(m: ShareMember, incarnation: number): Promise<void> {
    const current = (): boolean => m.incarnation === incarnation && m.live && !this.#closed;
    for (let round = 0; current() && round < 100_000; round++) {
      if (m.epoch <= 0) {
        await this.#sleep(RETRY_MS);
        continue;
      }
      const memberId = m.memberId;
      const acks = m.piggyback;
      m.piggyback = [];
      for (const a of acks) this.#letGo(a.partition, a.ack.firstOffset, a.handout.memberId);
      try {
        const conn = await this.#coordinatorOf(m);
        if (!current()) return;
        if (m.memberId !== memberId) continue;
        const sentSeq = this.#seq++;
        const sentMs = this.#sim.clock.nowMs();
        const res = await conn.request('ShareFetch', {
          groupId: QUEUE,
          memberId,
          memberEpoch: m.epoch,
          maxWaitMs: FETCH_WAIT_MS,
          maxRecords: 1 + this.#rng.int(4),
          maxBytes: 1 << 20,
          topics: [{ topic: TOPIC, partitions: [0, 1].map((partition) => ({ partition, acknowledgements: acks.filter((a) => a.partition === partition).map((a) => a.ack) })) }],
        }, FETCH_WAIT_MS + REQUEST_TIMEOUT_MS);
        // Recorded even when the member crashed, left or rejoined meanwhile: the coordinator handed these out all the same.
        this.#onFetch(m, incarnation, memberId, res, acks, sentSeq, sentMs);
      } catch (error) {
        if (m.incarnation === incarnation) m.coordinator = null;
        this.#sim.event(`share: ${m.name} fetch failed: ${(error as Error).message}`);
        await this.#sleep(RETRY_MS);
      }
    }
  }

  #onFetch(m: ShareMember, incarnation: number, memberId: string, res: ShareFetchResponse, acks: ShareMember['piggyback'], sentSeq: number, sentMs: number): void {
    const error = errorNameOf(res.errorCode);
    if (error !== 'NONE') {
      if (error === 'UNKNOWN_MEMBER_ID' || error === 'FENCED_MEMBER_EPOCH') {
        if (m.incarnation === incarnation && m.memberId === memberId) this.#rejoin(m, error);
        return;
      }
      if (!['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT'].includes(error)) this.#sim.fail('share-protocol', `${m.name}: unexpected ShareFetch error ${error}: ${res.errorMessage ?? ''}`);
      m.coordinator = null;
      return;
    }
    const recvMs = this.#sim.clock.nowMs();
    const recvSeq = this.#seq++;
    for (const t of res.topics) {
      for (const p of t.partitions) {
        for (const a of acks.filter((x) => x.partition === p.partition)) this.#settled(p.partition, a.ack, a.handout, !failed(p.failedAcknowledgements, a.ack.firstOffset), sentMs);
        const got: { message: Message; deliveryCount: number }[] = [];
        acquiredRecords(t.topic, p.partition, p.records, p.acquiredRecords, (message, deliveryCount) => got.push({ message, deliveryCount }));
        if (got.length > 0) this.#armedKill?.('just after a handout');
        for (const { message, deliveryCount } of got) {
          const value = message.value?.toString() ?? '';
          const h: Handout = { member: m, memberId, deliveryCount, sentSeq, recvSeq, recvMs, lockEndMs: sentMs + res.acquisitionLockTimeoutMs, letGo: this.#retired.has(memberId) };
          this.#sim.event(`share: ${m.name} (${memberId}) got ${TOPIC}-${p.partition}@${message.offset} ${value} count ${deliveryCount}`);
          this.#onHandout(m, p.partition, message.offset, h, value, this.#dueOf.get(value));
          if (m.incarnation === incarnation && m.live && m.memberId === memberId) this.#handle(m, incarnation, p.partition, message.offset, h);
        }
      }
    }
  }

  /** What the member's handler does with one record. */
  #handle(m: ShareMember, incarnation: number, partition: number, offset: number, h: Handout): void {
    let pick = this.#rng.int(100);
    let action: Action = 'accept';
    for (const [a, weight] of ACTIONS) {
      if (pick < weight) {
        action = a;
        break;
      }
      pick -= weight;
    }
    if (action === 'forget') return;
    const workMs = action === 'slow' ? VISIBILITY_MS + 100 + this.#rng.int(1000) : this.#rng.int(400);
    const type = action === 'reject' ? AcknowledgeType.REJECT : action === 'release' || action === 'delay' ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT;
    const ack: ShareAcknowledgement = { firstOffset: offset, lastOffset: offset, type, delayMs: action === 'delay' ? 200 + this.#rng.int(2000) : 0, lockMs: -1, reason: action === 'reject' ? 'simulated reject' : null };
    const piggyback = this.#rng.int(2) === 0;
    this.#sim.clock.schedule(workMs, () => {
      if (m.incarnation !== incarnation || !m.live || m.memberId !== h.memberId) return;
      if (type === AcknowledgeType.ACCEPT) this.#record(partition, offset).acceptSent = true;
      if (piggyback) m.piggyback.push({ partition, ack, handout: h });
      else void this.#acknowledge(m, partition, ack, h);
    });
  }

  async #acknowledge(m: ShareMember, partition: number, ack: ShareAcknowledgement, h: Handout): Promise<void> {
    this.#letGo(partition, ack.firstOffset, h.memberId);
    try {
      const conn = await this.#coordinatorOf(m);
      const sentMs = this.#sim.clock.nowMs();
      const res = await conn.request('ShareAcknowledge', { groupId: QUEUE, memberId: h.memberId, memberEpoch: m.epoch, topics: [{ topic: TOPIC, partitions: [{ partition, acknowledgements: [ack] }] }] });
      const error = errorNameOf(res.errorCode);
      if (error !== 'NONE') {
        this.#sim.event(`share: ${m.name} acknowledge ${TOPIC}-${partition}@${ack.firstOffset}: ${error}`);
        if (error === 'NOT_COORDINATOR' || error === 'COORDINATOR_NOT_AVAILABLE' || error === 'COORDINATOR_LOAD_IN_PROGRESS') m.coordinator = null;
        return;
      }
      const p = res.topics[0]?.partitions.find((x) => x.partition === partition);
      if (p === undefined) return;
      this.#settled(partition, ack, h, p.errorCode === 0 && !failed(p.failedAcknowledgements, ack.firstOffset), sentMs);
    } catch (error) {
      m.coordinator = null;
      this.#sim.event(`share: ${m.name} acknowledge failed: ${(error as Error).message}`);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#sim.clock.schedule(ms, resolve));
  }
}

function failed(list: readonly ShareFailedAcknowledgement[], offset: number): boolean {
  return list.some((f) => f.firstOffset <= offset && offset <= f.lastOffset);
}
