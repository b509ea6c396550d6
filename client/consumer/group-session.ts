/**
 * A consumer's side of its group, between the membership (which partitions
 * are this member's) and the consumer (which fetches them): starting newly
 * owned partitions at the group's committed offsets, committing what the
 * app finished (on a timer, before a partition is given up, on close, or
 * when the app asks), and telling the app through events.
 */
import { invalidArgument, type RunnelError } from '../errors.js';
import type { ClientEventEmitter } from '../events.js';
import type { Cluster } from '../metadata.js';
import type { Logger, StartOffset } from '../types.js';
import { FinishedOffsets } from './finished-offsets.js';
import { GroupCoordinator } from './group-coordinator.js';
import { commitOffsets, fetchCommitted, type OffsetToCommit } from './group-offsets.js';
import { Membership, type MembershipOptions } from './membership.js';
import { keyOf } from './partition-state.js';
import type { Subscription } from './subscription.js';
import { names, type TopicPartition } from './topic-partitions.js';

/** What the session needs of the consumer. */
export interface PartitionControl {
  add(partitions: { topic: string; partition: number; start: StartOffset }[]): void;
  remove(partitions: readonly TopicPartition[]): void;
  /** The partitions of the message or batch the app has in hand (handed out, not finished). */
  inHand(): TopicPartition[];
  fail(err: RunnelError): void;
}

export interface GroupSessionOptions extends Omit<MembershipOptions, 'logger'> {
  groupId: string;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  logger: Logger;
}

export class GroupSession {
  readonly #cluster: Cluster;
  readonly #opts: GroupSessionOptions;
  readonly #control: PartitionControl;
  readonly #events: ClientEventEmitter;
  readonly #coordinator: GroupCoordinator;
  readonly offsets = new FinishedOffsets();
  #membership: Membership | null = null;
  #fromBeginning = false;
  #commitTimer: { cancel(): void } | null = null;
  #closed = false;

  constructor(cluster: Cluster, opts: GroupSessionOptions, control: PartitionControl, events: ClientEventEmitter) {
    this.#cluster = cluster;
    this.#opts = opts;
    this.#control = control;
    this.#events = events;
    this.#coordinator = new GroupCoordinator(cluster, opts.groupId);
  }

  get memberId(): string | null {
    return this.#membership?.memberId ?? null;
  }

  subscribe(sub: Subscription, fromBeginning: boolean): void {
    this.#fromBeginning = fromBeginning;
    if (this.#membership !== null) {
      this.#membership.resubscribe(sub);
      return;
    }
    const m = new Membership(this.#cluster, this.#coordinator, sub, this.#opts, {
      assigned: (list) => void this.#assigned(list),
      revoke: (list, release) => this.#revoke(list, release),
      lost: (list, reason) => this.#lost(list, reason),
      fatal: (err) => this.#control.fail(err),
    });
    this.#membership = m;
    m.start();
    if (this.#opts.autoCommit) this.#scheduleAutoCommit();
  }

  #member = () => this.#membership!.identity;

  #owns(tp: TopicPartition): boolean {
    return this.#membership?.owned.some((o) => o.topic === tp.topic && o.partition === tp.partition) ?? false;
  }

  /** Starts newly owned partitions at their committed offsets (retrying the lookup while they stay owned). */
  async #assigned(list: TopicPartition[]): Promise<void> {
    for (const tp of list) this.offsets.track(tp.topic, tp.partition, undefined);
    let pending = list;
    for (let attempt = 0; pending.length > 0 && !this.#closed; attempt++) {
      try {
        const committed = await fetchCommitted(this.#cluster, this.#coordinator, this.#member, pending, this.#membership!.signal);
        const still = pending.filter((tp) => this.#owns(tp));
        for (const tp of still) {
          const offset = committed.get(keyOf(tp.topic, tp.partition)) ?? -1;
          this.offsets.track(tp.topic, tp.partition, offset >= 0 ? offset : undefined);
        }
        this.#control.add(still.map((tp) => {
          const offset = committed.get(keyOf(tp.topic, tp.partition)) ?? -1;
          return { ...tp, start: offset >= 0 ? offset : this.#fromBeginning ? 'earliest' : 'latest' };
        }));
        // After the consumer has them, so a listener may pause or seek them.
        if (still.length > 0) this.#events.emit('partitions-assigned', { partitions: still });
        return;
      } catch (err) {
        if (this.#closed) return;
        this.#opts.logger.warn({ group: this.#opts.groupId, partitions: names(pending), err: (err as Error).message }, 'could not read the committed offsets; retrying');
        await this.#cluster.sleep(this.#cluster.backoffMs(attempt), this.#membership!.signal);
        pending = pending.filter((tp) => this.#owns(tp));
      }
    }
  }

  /**
   * Gives up partitions: fetching stops at once; those the app has no
   * message of in hand are committed and released first, the others once
   * the app finishes that message (it is finished when the app asks for
   * the next one), or after half the rebalance timeout, so it is committed
   * here and not processed again by the new owner.
   */
  async #revoke(list: TopicPartition[], release: (done: TopicPartition[]) => void): Promise<void> {
    this.#control.remove(list);
    const inHand = (): Set<string> => new Set(this.#control.inHand().map((tp) => keyOf(tp.topic, tp.partition)));
    let held = inHand();
    await this.#commitAndRelease(list.filter((tp) => !held.has(keyOf(tp.topic, tp.partition))), release);
    let waiting = list.filter((tp) => held.has(keyOf(tp.topic, tp.partition)));
    const deadline = this.#cluster.clock.nowMs() + this.#opts.rebalanceTimeoutMs / 2;
    while (waiting.length > 0 && !this.#closed) {
      const leftMs = deadline - this.#cluster.clock.nowMs();
      if (leftMs > 0) {
        // The timer goes when the app finishes first: it must not outlive the wait.
        const waited = new AbortController();
        await Promise.race([this.offsets.nextFinish(), this.#cluster.sleep(leftMs, AbortSignal.any([waited.signal, this.#membership!.signal]))]);
        waited.abort();
      }
      held = inHand();
      const done = leftMs <= 0 ? waiting : waiting.filter((tp) => !held.has(keyOf(tp.topic, tp.partition)));
      waiting = waiting.filter((tp) => !done.includes(tp));
      await this.#commitAndRelease(done, release);
    }
  }

  async #commitAndRelease(list: TopicPartition[], release: (done: TopicPartition[]) => void): Promise<void> {
    if (list.length === 0) return;
    if (this.#opts.autoCommit && !this.#closed) {
      try {
        await this.#commit(this.offsets.uncommitted(list));
      } catch (err) {
        this.#opts.logger.warn({ group: this.#opts.groupId, partitions: names(list), err: (err as Error).message }, 'could not commit revoked partitions; their new owner repeats what was finished since the last commit');
      }
    }
    for (const tp of list) this.offsets.forget(tp.topic, tp.partition);
    release(list);
    this.#events.emit('partitions-revoked', { partitions: list });
  }

  #lost(list: TopicPartition[], reason: string): void {
    this.#control.remove(list);
    for (const tp of list) this.offsets.forget(tp.topic, tp.partition);
    this.#events.emit('partitions-lost', { partitions: list, reason });
  }

  async #commit(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return;
    await commitOffsets(this.#cluster, this.#coordinator, this.#member, offsets);
    for (const o of offsets) this.offsets.committed(o.topic, o.partition, o.offset);
  }

  /** The app's commit(): its offsets, or everything finished. */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (this.#membership === null) throw invalidArgument('commit() needs a subscription: call subscribe() first');
    if (offsets !== undefined) {
      for (const o of offsets) {
        if (!Number.isSafeInteger(o?.offset) || o.offset < 0) throw invalidArgument(`a committed offset is a non-negative integer, got ${JSON.stringify(o?.offset)}`);
      }
    }
    await this.#commit(offsets ?? this.offsets.uncommitted());
  }

  #scheduleAutoCommit(): void {
    this.#commitTimer = this.#cluster.clock.schedule(this.#opts.autoCommitIntervalMs, () => {
      if (this.#closed) return;
      this.#commit(this.offsets.uncommitted()).catch((err: unknown) => {
        this.#opts.logger.warn({ group: this.#opts.groupId, err: (err as Error).message }, 'auto-commit failed; trying again at the next interval');
      }).finally(() => {
        if (!this.#closed) this.#scheduleAutoCommit();
      });
    });
  }

  /** Commits what is finished (with autoCommit), then leaves the group. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#commitTimer?.cancel();
    if (this.#membership !== null && this.#opts.autoCommit) {
      try {
        await this.#commit(this.offsets.uncommitted());
      } catch (err) {
        this.#opts.logger.warn({ group: this.#opts.groupId, err: (err as Error).message }, 'could not commit on close');
      }
    }
    this.#closed = true;
    await this.#membership?.leave();
  }
}
