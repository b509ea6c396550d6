/**
 * A consumer's membership of its group, KIP-848 style: one heartbeat loop
 * speaking ConsumerGroupHeartbeat at the interval the coordinator gives.
 * The coordinator decides the assignment; this side reconciles to it
 * incrementally:
 *
 * - partitions in the new assignment and not owned are owned at once (the
 *   coordinator only hands out partitions no other member still owns) and
 *   start fetching from the group's committed offsets;
 * - partitions owned and no longer assigned are revoked: fetching stops,
 *   the message the app has in hand is waited for (up to half the
 *   rebalance timeout), what it finished is committed, and only then does
 *   the next heartbeat report that they are no longer owned, which is what
 *   lets the coordinator hand them to their new member;
 * - every other partition keeps being consumed throughout: no stop-the-world.
 *
 * FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID (the coordinator removed this
 * member, for example after missed heartbeats): every partition is dropped
 * without committing (another member may own it by now) and the member
 * rejoins with epoch 0. The same happens on this side when no heartbeat has
 * succeeded for a whole session timeout, so a member cut off from its
 * coordinator stops processing partitions that have surely moved.
 * NOT_COORDINATOR and friends: the coordinator is looked up again and the
 * heartbeat retried with backoff, as is a static member's join while its
 * instance id is still held (for up to a session timeout). Anything else (a
 * bad pattern, a full group, an instance id held longer) is fatal and
 * reaches the app.
 */
import { errorNameOf } from '../../protocol/errors.js';
import { MemberEpoch, type ConsumerGroupHeartbeatRequest } from '../../protocol/messages.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import type { Logger } from '../types.js';
import { coordinatorMoved, type GroupCoordinator } from './group-coordinator.js';
import type { MemberIdentity } from './group-offsets.js';
import type { Subscription } from './subscription.js';
import { keyOf } from './partition-state.js';
import { fromWire, minus, names, toWire, type PartitionSet, type TopicPartition } from './topic-partitions.js';

export interface MembershipOptions {
  instanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignor: string | null;
  requestTimeoutMs: number;
  logger: Logger;
}

/** What the consumer does when the membership changes its partitions. */
export interface MembershipHooks {
  /** Start consuming these (newly owned) partitions. */
  assigned(partitions: TopicPartition[]): void;
  /**
   * Stop consuming these and commit what the app finished on them, calling
   * `release` with each part once it is done (the part not in the app's hand
   * at once; the rest when the app finishes with it), so those can be
   * reported given up without waiting for the others. Resolves when all are.
   */
  revoke(partitions: TopicPartition[], release: (done: TopicPartition[]) => void): Promise<void>;
  /** Drop these at once, without committing: they are no longer this member's. */
  lost(partitions: TopicPartition[], reason: string): void;
  /** The member cannot go on: the app must hear of it. */
  fatal(err: RunnelError): void;
}

/** Until the coordinator says otherwise (its first answer does). */
const INITIAL_HEARTBEAT_MS = 3000;

export class Membership {
  readonly #cluster: Cluster;
  readonly #coordinator: GroupCoordinator;
  readonly #opts: MembershipOptions;
  readonly #hooks: MembershipHooks;
  readonly memberId: string;
  #subscription: Subscription;
  #epoch = 0;
  readonly #owned: PartitionSet = new Map();
  #target: PartitionSet | null = null;
  #reconciling = false;
  /** Bumped when the member is fenced: a reconciliation under an older one stops. */
  #generation = 0;
  /** Bumped when `#owned` changes; the heartbeat reports ownership until one carrying this version succeeds. */
  #ownedVersion = 0;
  #reportedVersion = -1;
  /** Send every field on the next heartbeat (joining, after a failure, after a subscription change). */
  #sendFull = true;
  /** Bumped by resubscribe: a heartbeat in flight meanwhile did not carry the new subscription. */
  #subscriptionVersion = 0;
  #intervalMs = INITIAL_HEARTBEAT_MS;
  #nextAtMs = 0;
  #failures = 0;
  #lastSuccessMs: number;
  /** Since when joins have been refused with UNRELEASED_INSTANCE_ID (null: they are not). */
  #unreleasedSinceMs: number | null = null;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #beating: Promise<void> | null = null;
  readonly #abort = new AbortController();

  constructor(cluster: Cluster, coordinator: GroupCoordinator, subscription: Subscription, opts: MembershipOptions, hooks: MembershipHooks) {
    this.#cluster = cluster;
    this.#coordinator = coordinator;
    this.#subscription = subscription;
    this.#opts = opts;
    this.#hooks = hooks;
    this.memberId = randomId(() => cluster.random());
    this.#lastSuccessMs = cluster.clock.nowMs();
  }

  get identity(): MemberIdentity {
    return { memberId: this.memberId, memberEpoch: this.#epoch, instanceId: this.#opts.instanceId };
  }

  get owned(): TopicPartition[] {
    return [...this.#owned.values()];
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** A new subscription: sent on the next heartbeat, which goes out now. */
  resubscribe(subscription: Subscription): void {
    this.#subscription = subscription;
    this.#subscriptionVersion++;
    this.#sendFull = true;
    this.#beatSoon();
  }

  /**
   * Leaves the group: epoch -1, or -2 for a static member (which keeps its
   * partitions for the session timeout, so a restart gets them back). The
   * caller commits first. Best effort: a coordinator that cannot be reached
   * removes the member when its session times out.
   */
  async leave(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    await this.#beating;
    if (this.#epoch <= 0 && this.#reportedVersion < 0) return;
    const epoch = this.#opts.instanceId !== null ? MemberEpoch.STATIC_LEAVE : MemberEpoch.LEAVE;
    try {
      await this.#coordinator.request('ConsumerGroupHeartbeat', this.#request(epoch, false), this.#opts.requestTimeoutMs);
    } catch (err) {
      this.#opts.logger.warn({ group: this.#coordinator.groupId, err: (err as Error).message }, 'could not tell the coordinator this member is leaving; it is removed when its session times out');
    }
    this.#owned.clear();
  }

  #beatSoon(): void {
    this.#nextAtMs = 0;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#cluster.clock.nowMs() >= this.#nextAtMs) {
        this.#beating = this.#beat();
        await this.#beating;
        this.#beating = null;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = this.#cluster.clock.schedule(this.#nextAtMs - this.#cluster.clock.nowMs(), () => done(), { keepAlive: true });
        const done = (): void => {
          timer.cancel();
          this.#wake = null;
          resolve();
        };
        this.#wake = done;
      });
    }
  }

  #request(memberEpoch: number, full: boolean): ConsumerGroupHeartbeatRequest {
    const sub = this.#subscription;
    const reportOwned = full || this.#reportedVersion !== this.#ownedVersion;
    return {
      groupId: this.#coordinator.groupId,
      memberId: this.memberId,
      memberEpoch,
      instanceId: this.#opts.instanceId,
      rackId: null,
      rebalanceTimeoutMs: full ? this.#opts.rebalanceTimeoutMs : -1,
      subscribedTopicNames: full ? sub.names : null,
      subscribedTopicRegex: full ? sub.regex : null,
      serverAssignor: full ? this.#opts.assignor : null,
      topicPartitions: reportOwned ? toWire(this.#owned.values()) : null,
    };
  }

  async #beat(): Promise<void> {
    const full = this.#sendFull || this.#epoch === 0;
    const version = this.#ownedVersion;
    const subscriptionVersion = this.#subscriptionVersion;
    const generation = this.#generation;
    const nowMs = (): number => this.#cluster.clock.nowMs();
    let res;
    try {
      res = await this.#coordinator.request('ConsumerGroupHeartbeat', this.#request(this.#epoch, full), this.#opts.requestTimeoutMs);
    } catch (err) {
      this.#retryLater(err as Error);
      return;
    }
    if (this.#stopped) return;
    const error = errorNameOf(res.errorCode);
    if (error === 'NONE') {
      this.#failures = 0;
      this.#unreleasedSinceMs = null;
      this.#lastSuccessMs = nowMs();
      if (generation !== this.#generation) return this.#beatSoon();
      this.#reportedVersion = version;
      this.#epoch = res.memberEpoch;
      if (res.heartbeatIntervalMs > 0) this.#intervalMs = res.heartbeatIntervalMs;
      // What changed while this heartbeat was in flight (partitions given up, a new subscription) goes out now, not an interval later.
      const changed = version !== this.#ownedVersion || subscriptionVersion !== this.#subscriptionVersion;
      if (subscriptionVersion === this.#subscriptionVersion) this.#sendFull = false;
      this.#nextAtMs = changed ? 0 : nowMs() + this.#intervalMs;
      if (res.assignment !== null) {
        this.#target = fromWire(res.assignment.topicPartitions);
        void this.#reconcile();
      }
      return;
    }
    if (error === 'FENCED_MEMBER_EPOCH' || error === 'UNKNOWN_MEMBER_ID') {
      this.#fenced(`the coordinator answered ${error}${res.errorMessage === null ? '' : ` (${res.errorMessage})`}`);
      return;
    }
    const err = RunnelError.fromCode(res.errorCode, `Heartbeat of group "${this.#coordinator.groupId}"`, res.errorMessage);
    if (coordinatorMoved(error)) this.#coordinator.forget();
    if (err.retriable || this.#waitForInstanceId(error)) {
      this.#retryLater(err);
      return;
    }
    this.#stopped = true;
    this.#opts.logger.error({ group: this.#coordinator.groupId, err: err.message }, 'the group refused this member');
    this.#hooks.fatal(err);
  }

  /**
   * A static member restarted after a crash finds its instance id still held
   * by its previous incarnation (which never left with -2): the coordinator
   * releases it when that session times out, so the join is retried until
   * then, and only a holder that outlives a whole session is fatal.
   */
  #waitForInstanceId(error: string): boolean {
    if (error !== 'UNRELEASED_INSTANCE_ID') {
      this.#unreleasedSinceMs = null;
      return false;
    }
    const nowMs = this.#cluster.clock.nowMs();
    this.#unreleasedSinceMs ??= nowMs;
    return nowMs - this.#unreleasedSinceMs < this.#opts.sessionTimeoutMs;
  }

  #retryLater(err: Error): void {
    this.#sendFull = true;
    this.#nextAtMs = this.#cluster.clock.nowMs() + this.#cluster.backoffMs(this.#failures++);
    this.#opts.logger.warn({ group: this.#coordinator.groupId, err: err.message, attempt: this.#failures }, 'heartbeat failed; retrying');
    const silentMs = this.#cluster.clock.nowMs() - this.#lastSuccessMs;
    if (this.#epoch > 0 && silentMs >= this.#opts.sessionTimeoutMs) {
      this.#fenced(`no heartbeat reached the coordinator for ${silentMs} ms, past the session timeout (${this.#opts.sessionTimeoutMs} ms), so the group has surely moved its partitions`);
    }
  }

  /** Drops everything and rejoins with epoch 0. */
  #fenced(reason: string): void {
    this.#generation++;
    this.#epoch = 0;
    this.#target = null;
    const lost = this.owned;
    this.#owned.clear();
    this.#ownedVersion++;
    this.#lastSuccessMs = this.#cluster.clock.nowMs();
    this.#opts.logger.warn({ group: this.#coordinator.groupId, partitions: names(lost), reason }, 'partitions lost; rejoining the group');
    if (lost.length > 0) this.#hooks.lost(lost, reason);
    this.#beatSoon();
  }

  /** Moves the owned partitions towards the latest target, one step at a time (a newer target during a step is taken next). */
  async #reconcile(): Promise<void> {
    if (this.#reconciling) return;
    this.#reconciling = true;
    try {
      while (this.#target !== null && !this.#stopped) {
        const target = this.#target;
        this.#target = null;
        const generation = this.#generation;
        const added = minus(target, this.#owned);
        const revoked = minus(this.#owned, target);
        if (added.length > 0) {
          for (const tp of added) this.#owned.set(keyOf(tp.topic, tp.partition), tp);
          this.#ownedVersion++;
          this.#opts.logger.info({ group: this.#coordinator.groupId, partitions: names(added) }, 'partitions assigned');
          this.#hooks.assigned(added);
          this.#beatSoon();
        }
        if (revoked.length > 0) {
          await this.#hooks.revoke(revoked, (done) => {
            if (generation !== this.#generation || this.#stopped || done.length === 0) return;
            for (const tp of done) this.#owned.delete(keyOf(tp.topic, tp.partition));
            this.#ownedVersion++;
            this.#opts.logger.info({ group: this.#coordinator.groupId, partitions: names(done) }, 'partitions revoked');
            this.#beatSoon();
          });
        }
      }
    } finally {
      this.#reconciling = false;
    }
  }

  /** Ends waits (backoff, the app) when the consumer closes. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}

/** A member id: 22 random characters, the length of Kafka's base64 UUIDs, from the world's randomness (share-group members use it too). */
export function randomId(random: () => number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = '';
  for (let i = 0; i < 22; i++) id += alphabet[Math.floor(random() * 64)];
  return id;
}
