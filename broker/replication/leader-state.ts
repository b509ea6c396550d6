/**
 * What a partition's leader knows about its followers: each one's log end
 * offset (the offset of its last fetch) and when it was last caught up, the
 * ISR as the controller committed it, and an ISR change the leader has asked
 * the controller for and not yet heard back about.
 *
 * "Caught up" is Kafka's rule (Replica.updateFetchState): a fetch at the
 * leader's log end makes the follower caught up now; a fetch at or past the
 * leader's log end as of the follower's previous fetch makes it caught up as
 * of that previous fetch. A follower that keeps fetching but never reaches
 * the end therefore falls behind in time, and one that stops fetching does too.
 *
 * The high watermark counts the maximal ISR: the committed ISR together with
 * replicas a pending expansion adds (Kafka's rule since KIP-497). While an
 * expansion is in flight the new member already holds back the high
 * watermark, so once the controller commits it, every record below the high
 * watermark is on every member; a pending shrink still counts the member it
 * removes until the shrink is committed, so a record is never called
 * committed on fewer replicas than the committed ISR says.
 *
 * Pure: time comes in as arguments.
 */
import { assert } from '../world/assert.js';

export interface FollowerState {
  /** The follower's log end offset as its last fetch stated; -1 until it fetched from this leader. */
  logEndOffset: number;
  /** When the follower was last known to hold everything the leader had (monotonic ms, world/clock.ts monotonicMs); 0: never. */
  lastCaughtUpTimeMs: number;
  /** The leader's log end offset at the follower's previous fetch, and when it came. */
  lastFetchLeaderEndOffset: number;
  lastFetchTimeMs: number;
  /** Fetches received from it under this leadership (log-start-sync.ts counts on them). */
  fetches: number;
}

export interface LeadershipState {
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export class LeaderState {
  readonly localId: number;
  readonly leaderEpoch: number;
  #replicas: readonly number[];
  /** Where this leadership began in the log: a follower joins the ISR only past it (Kafka's rule). */
  readonly epochStartOffset: number;
  #partitionEpoch: number;
  #isr: readonly number[];
  #pendingIsr: readonly number[] | null = null;
  readonly #followers = new Map<number, FollowerState>();

  constructor(localId: number, state: LeadershipState, epochStartOffset: number, nowMs: number) {
    this.localId = localId;
    this.leaderEpoch = state.leaderEpoch;
    this.#replicas = state.replicas;
    this.epochStartOffset = epochStartOffset;
    this.#partitionEpoch = state.partitionEpoch;
    // A leader is always in its ISR (an unclean election makes the ISR just the leader).
    this.#isr = state.isr.includes(localId) ? state.isr : [...state.isr, localId];
    for (const id of state.replicas) {
      if (id === localId) continue;
      // ISR members get a fresh start: a new leader cannot know how far behind they were (Kafka resets them too).
      const caughtUp = state.isr.includes(id) ? nowMs : 0;
      this.#followers.set(id, { logEndOffset: -1, lastCaughtUpTimeMs: caughtUp, lastFetchLeaderEndOffset: -1, lastFetchTimeMs: nowMs, fetches: 0 });
    }
  }

  get partitionEpoch(): number {
    return this.#partitionEpoch;
  }

  /** The partition's replicas as this leadership knows them (a reassignment adds and removes some, at the same leader epoch). */
  get replicas(): readonly number[] {
    return this.#replicas;
  }

  /**
   * A reassignment changed the replicas under this leadership: a new one is
   * tracked from no position, never caught up (it joins the ISR only once it
   * has fetched up to the high watermark); a removed one is forgotten.
   */
  updateReplicas(replicas: readonly number[], nowMs: number): void {
    for (const id of replicas) {
      if (id !== this.localId && !this.#followers.has(id)) this.#followers.set(id, { logEndOffset: -1, lastCaughtUpTimeMs: 0, lastFetchLeaderEndOffset: -1, lastFetchTimeMs: nowMs, fetches: 0 });
    }
    for (const id of [...this.#followers.keys()]) if (!replicas.includes(id)) this.#followers.delete(id);
    this.#replicas = replicas;
  }

  /** The ISR as committed by the controller. */
  get isr(): readonly number[] {
    return this.#isr;
  }

  /** The ISR asked for and not yet answered, or null. */
  get pendingIsr(): readonly number[] | null {
    return this.#pendingIsr;
  }

  /** True when this leader is the only replica: the high watermark is its own committed end. */
  get alone(): boolean {
    return this.#followers.size === 0;
  }

  follower(id: number): Readonly<FollowerState> | undefined {
    return this.#followers.get(id);
  }

  /** A fetch by follower `id` at `fetchOffset` (its log end), with the leader's log end now. */
  recordFetch(id: number, fetchOffset: number, leaderEndOffset: number, nowMs: number): void {
    const follower = this.#followers.get(id);
    assert(follower !== undefined, 'only a replica of the partition fetches as a follower', { id, replicas: this.#replicas });
    if (fetchOffset >= leaderEndOffset) follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, nowMs);
    else if (fetchOffset >= follower.lastFetchLeaderEndOffset && follower.lastFetchLeaderEndOffset >= 0) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, follower.lastFetchTimeMs);
    }
    follower.logEndOffset = fetchOffset;
    follower.lastFetchLeaderEndOffset = leaderEndOffset;
    follower.lastFetchTimeMs = nowMs;
    follower.fetches += 1;
  }

  /** The followers of the maximal ISR (the leader left out). */
  isrFollowers(): number[] {
    return this.#maximalIsr().filter((id) => id !== this.localId);
  }

  /**
   * The lowest log end over the followers of the maximal ISR (see the file
   * comment); Infinity when the leader is the only member. A member that
   * has not fetched yet counts as -1: nothing is committed until it has.
   */
  isrFollowersMinEnd(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const id of this.#maximalIsr()) {
      if (id === this.localId) continue;
      min = Math.min(min, this.#followers.get(id)?.logEndOffset ?? -1);
    }
    return min;
  }

  /** Followers outside the ISR that hold everything up to `highWatermark` and fetched past this leadership's start: they may join. */
  expansionCandidates(highWatermark: number): number[] {
    const joining: number[] = [];
    for (const [id, follower] of this.#followers) {
      if (this.#isr.includes(id)) continue;
      if (follower.logEndOffset >= highWatermark && follower.logEndOffset >= this.epochStartOffset) joining.push(id);
    }
    return joining;
  }

  /** ISR followers not caught up within `lagMaxMs` of `nowMs`: they leave the ISR. */
  laggingFollowers(nowMs: number, lagMaxMs: number): number[] {
    return this.#isr.filter((id) => id !== this.localId && nowMs - (this.#followers.get(id)?.lastCaughtUpTimeMs ?? 0) > lagMaxMs);
  }

  /** Notes that `isr` was asked of the controller. */
  propose(isr: readonly number[]): void {
    assert(this.#pendingIsr === null, 'one ISR change in flight at a time', { pending: this.#pendingIsr, isr });
    assert(isr.includes(this.localId), 'a leader never removes itself from the ISR', { isr });
    this.#pendingIsr = isr;
  }

  /** The controller committed `isr` at `partitionEpoch` (or the proposal was refused: `null` keeps the ISR). */
  settle(committed: { isr: readonly number[]; partitionEpoch: number } | null): void {
    this.#pendingIsr = null;
    if (committed === null || committed.partitionEpoch <= this.#partitionEpoch) return;
    this.#partitionEpoch = committed.partitionEpoch;
    this.#isr = committed.isr;
  }

  #maximalIsr(): readonly number[] {
    if (this.#pendingIsr === null) return this.#isr;
    return [...new Set([...this.#isr, ...this.#pendingIsr])];
  }
}
