/**
 * A queue's membership of its share group: one ShareGroupHeartbeat loop at
 * the interval the coordinator gives (the style of consumer/membership.ts,
 * without the reconciling: a share group's members do not own partitions,
 * every member is given every partition of the topic, so an assignment is
 * simply where to fetch from).
 *
 * - Joining (epoch 0) carries the queue's configuration; the group's
 *   resolved configuration comes back and is checked against it
 *   (options.ts). INVALID_CONFIG, INCONSISTENT_GROUP_PROTOCOL (the id is a
 *   consumer group's), GROUP_MAX_SIZE_REACHED and other non-retriable
 *   errors are fatal: `ready()` and every later wait reject with them.
 * - NOT_COORDINATOR and friends: the coordinator is looked up again and
 *   the heartbeat retried with backoff.
 * - FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID (the coordinator removed this
 *   member and released its locks), or no heartbeat through for a whole
 *   session timeout: the member rejoins at once with epoch 0 (whatever it
 *   held may be another member's by now: its acks are refused, each with
 *   its own error).
 */
import { errorNameOf } from '../../protocol/errors.js';
import { MemberEpoch, type ShareGroupHeartbeatRequest } from '../../protocol/messages.js';
import type { TimerHandle } from '../clock.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import type { Logger } from '../types.js';
import { coordinatorMoved, type GroupCoordinator } from '../consumer/group-coordinator.js';
import { randomId } from '../consumer/membership.js';
import { fromWire, type TopicPartition } from '../consumer/topic-partitions.js';
import { checkedConfig, joinConfig, type ResolvedQueueOptions } from './options.js';
import type { QueueConfig } from './queue-types.js';

/** Until the coordinator says otherwise (its first answer does). */
const INITIAL_HEARTBEAT_MS = 3000;

export interface ShareMembershipOptions {
  topic: string;
  wanted: ResolvedQueueOptions['wanted'];
  sessionTimeoutMs: number;
  requestTimeoutMs: number;
  logger: Logger;
}

export class ShareMembership {
  readonly #cluster: Cluster;
  readonly #coordinator: GroupCoordinator;
  readonly #opts: ShareMembershipOptions;
  readonly memberId: string;
  #epoch = 0;
  #assignment: TopicPartition[] = [];
  #config: QueueConfig | null = null;
  #fatal: RunnelError | null = null;
  #intervalMs = INITIAL_HEARTBEAT_MS;
  #failures = 0;
  #lastSuccessMs: number;
  #timer: TimerHandle | null = null;
  #beating: Promise<void> | null = null;
  #stopped = false;
  /** Called (and cleared) when the membership changes: joined, new assignment, fenced, fatal. */
  #changeWaiters: (() => void)[] = [];

  constructor(cluster: Cluster, coordinator: GroupCoordinator, opts: ShareMembershipOptions) {
    this.#cluster = cluster;
    this.#coordinator = coordinator;
    this.#opts = opts;
    this.memberId = randomId(() => cluster.random());
    this.#lastSuccessMs = cluster.clock.nowMs();
  }

  get epoch(): number {
    return this.#epoch;
  }

  get assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  get config(): QueueConfig | null {
    return this.#config;
  }

  get fatal(): RunnelError | null {
    return this.#fatal;
  }

  /** Starts the heartbeat loop (joining now) unless it runs. */
  start(): void {
    if (this.#stopped || this.#timer !== null || this.#beating !== null) return;
    this.#schedule(0);
  }

  /** Resolves when the membership next changes (or after `ms`), for a wait that depends on it. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#cluster.clock.schedule(ms, () => done(), { keepAlive: true });
      const done = (): void => {
        timer.cancel();
        resolve();
      };
      this.#changeWaiters.push(done);
    });
  }

  /** The fetch path learned the member is gone (FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID): rejoin now. */
  fenced(reason: string): void {
    if (this.#epoch === 0 || this.#stopped) return;
    this.#epoch = 0;
    this.#lastSuccessMs = this.#cluster.clock.nowMs();
    this.#opts.logger.warn({ group: this.#coordinator.groupId, reason }, 'removed from the share group; rejoining');
    this.#notify();
    this.#beatNow();
  }

  /**
   * Stops the loop and, with `tell` (the default), leaves (epoch -1: the
   * coordinator releases what this member holds at once). Best effort.
   * Without, the coordinator drops the member when its session times out.
   */
  async leave(tell = true): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#beating;
    this.#notify();
    if (this.#epoch <= 0 || !tell) return;
    try {
      await this.#coordinator.request('ShareGroupHeartbeat', this.#request(MemberEpoch.LEAVE), this.#opts.requestTimeoutMs);
    } catch (err) {
      this.#opts.logger.warn({ group: this.#coordinator.groupId, err: (err as Error).message }, 'could not tell the coordinator this member is leaving; its locks are released when its session times out');
    }
    this.#epoch = -1;
  }

  #notify(): void {
    const waiters = this.#changeWaiters;
    this.#changeWaiters = [];
    for (const w of waiters) w();
  }

  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    this.#timer = this.#cluster.clock.schedule(delayMs, () => {
      this.#timer = null;
      this.#beating = this.#beat().finally(() => (this.#beating = null));
    }, { keepAlive: true });
  }

  #beatNow(): void {
    if (this.#beating === null) this.#schedule(0);
    // A heartbeat in flight reschedules when it ends; it sees epoch 0 and joins then.
  }

  #request(memberEpoch: number): ShareGroupHeartbeatRequest {
    const joining = memberEpoch === 0;
    return {
      groupId: this.#coordinator.groupId,
      memberId: this.memberId,
      memberEpoch,
      subscribedTopicNames: joining ? [this.#opts.topic] : null,
      config: joining ? joinConfig(this.#opts.wanted) : null,
    };
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    const epoch = this.#epoch;
    let res;
    try {
      res = await this.#coordinator.request('ShareGroupHeartbeat', this.#request(epoch), this.#opts.requestTimeoutMs);
    } catch (err) {
      this.#retryLater(err as Error);
      return;
    }
    if (this.#stopped) return;
    const error = errorNameOf(res.errorCode);
    if (error === 'NONE') {
      this.#failures = 0;
      this.#lastSuccessMs = this.#cluster.clock.nowMs();
      if (this.#epoch !== epoch) return this.#schedule(0); // fenced meanwhile: rejoin
      if (epoch === 0) {
        if (res.config === null) return this.#fail(new RunnelError('INVALID_REQUEST', `Joining share group "${this.#coordinator.groupId}": the coordinator did not say the group's configuration`));
        try {
          this.#config = checkedConfig(this.#coordinator.groupId, this.#opts.wanted, res.config);
        } catch (err) {
          this.#epoch = res.memberEpoch;
          void this.leave();
          return this.#fail(err as RunnelError);
        }
      }
      this.#epoch = res.memberEpoch;
      if (res.heartbeatIntervalMs > 0) this.#intervalMs = res.heartbeatIntervalMs;
      if (res.assignment !== null) this.#assignment = [...fromWire(res.assignment).values()];
      if (epoch === 0 || res.assignment !== null) this.#notify();
      this.#schedule(this.#intervalMs);
      return;
    }
    if (error === 'FENCED_MEMBER_EPOCH' || error === 'UNKNOWN_MEMBER_ID') {
      this.#fencedBy(`the coordinator answered ${error}${res.errorMessage === null ? '' : ` (${res.errorMessage})`}`);
      return;
    }
    const err = RunnelError.fromCode(res.errorCode, `Heartbeat of share group "${this.#coordinator.groupId}"`, res.errorMessage);
    if (coordinatorMoved(error)) this.#coordinator.forget();
    if (err.retriable) return this.#retryLater(err);
    this.#fail(err);
  }

  #fencedBy(reason: string): void {
    if (this.#epoch === 0) return this.#schedule(this.#cluster.backoffMs(this.#failures++));
    this.fenced(reason);
    if (this.#beating !== null) this.#schedule(0);
  }

  #fail(err: RunnelError): void {
    this.#stopped = true;
    this.#fatal = err;
    this.#opts.logger.error({ group: this.#coordinator.groupId, err: err.message }, 'the share group refused this member');
    this.#notify();
  }

  #retryLater(err: Error): void {
    this.#opts.logger.warn({ group: this.#coordinator.groupId, err: err.message, attempt: this.#failures + 1 }, 'share group heartbeat failed; retrying');
    const silentMs = this.#cluster.clock.nowMs() - this.#lastSuccessMs;
    if (this.#epoch > 0 && silentMs >= this.#opts.sessionTimeoutMs) {
      this.fenced(`no heartbeat reached the coordinator for ${silentMs} ms, past the session timeout (${this.#opts.sessionTimeoutMs} ms), so its locks have surely been released`);
    }
    this.#schedule(this.#cluster.backoffMs(this.#failures++));
  }
}
