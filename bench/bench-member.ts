/**
 * One consumer of the group benchmark, in the bench's own process: a
 * for-await loop over its messages (as an app would write it; or over its
 * batches) that counts
 * each record into the run's OffsetTally and, when asked, notes when each
 * arrived, so the largest gap between consecutive records in a window can be
 * read afterwards. A group member also keeps the partitions it owns and
 * every change to them with its time, from the SDK's events.
 */
import type { Consumer, Message, Runnel } from '../client/index.js';
import type { OffsetTally } from './offset-tally.js';

export interface MemberOptions {
  name: string;
  tally: OffsetTally;
  /** Note every record's arrival time (gap figures); off for throughput runs. */
  recordTimes: boolean;
  /** Iterate `consumer.batches()` instead of messages (a group then finishes, and tracks, a batch at a time). */
  batches?: boolean;
}

export interface GroupMemberOptions extends MemberOptions {
  topic: string;
  groupId: string;
  instanceId?: string;
  /** Pause every partition as it is assigned, until `release()`: a group can form before the clock starts. */
  holdPartitions?: boolean;
}

export interface OwnershipChange {
  atMs: number;
  kind: 'assigned' | 'revoked' | 'lost';
  partitions: number[];
}

export class BenchMember {
  readonly name: string;
  readonly consumer: Consumer;
  /** performance.now() when it subscribed or was assigned its partitions. */
  readonly startedAtMs: number;
  firstRecordAtMs: number | null = null;
  /** Partitions this member owns now (group members; the event view). */
  readonly owned = new Set<number>();
  readonly changes: OwnershipChange[] = [];
  /** Arrival times, performance.now() ms, one per record (with recordTimes). */
  readonly #times: number[] = [];
  readonly #opts: MemberOptions;
  #held = false;
  #loop: Promise<void> = Promise.resolve();
  #failure: Error | null = null;

  private constructor(consumer: Consumer, opts: MemberOptions) {
    this.name = opts.name;
    this.consumer = consumer;
    this.#opts = opts;
    this.startedAtMs = performance.now();
  }

  /** A member of `groupId` subscribed to `topic` from the beginning (so every record is owed to the tally). */
  static subscribe(runnel: Runnel, opts: GroupMemberOptions): BenchMember {
    const consumer = runnel.consumer({ groupId: opts.groupId, ...(opts.instanceId === undefined ? {} : { groupInstanceId: opts.instanceId }) });
    const member = new BenchMember(consumer, opts);
    member.#held = opts.holdPartitions === true;
    const change = (kind: OwnershipChange['kind'], partitions: { topic: string; partition: number }[]): void => {
      const mine = partitions.filter((p) => p.topic === opts.topic).map((p) => p.partition);
      for (const p of mine) (kind === 'assigned' ? member.owned.add(p) : member.owned.delete(p));
      member.changes.push({ atMs: performance.now(), kind, partitions: mine });
    };
    consumer.on('partitions-assigned', ({ partitions }) => {
      change('assigned', partitions);
      // Listeners run right after the consumer has them and before anything is handed out: nothing is read while held.
      if (member.#held) consumer.pause(partitions);
    });
    consumer.on('partitions-revoked', ({ partitions }) => change('revoked', partitions));
    consumer.on('partitions-lost', ({ partitions }) => change('lost', partitions));
    consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    member.#loop = member.#consume();
    return member;
  }

  /** A consumer without a group, handed `partitions` of `topic` from their first record (assignment-based consumption). */
  static assign(runnel: Runnel, topic: string, partitions: number[], opts: MemberOptions): BenchMember {
    const consumer = runnel.consumer();
    const member = new BenchMember(consumer, opts);
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    for (const p of partitions) member.owned.add(p);
    member.#loop = member.#consume();
    return member;
  }

  async #consume(): Promise<void> {
    try {
      if (this.#opts.batches === true) {
        for await (const batch of this.consumer.batches()) for (const m of batch.messages) this.#arrived(m);
      } else {
        for await (const m of this.consumer) this.#arrived(m);
      }
    } catch (err) {
      this.#failure = err as Error;
    }
  }

  #arrived(m: Message): void {
    this.#opts.tally.record(m.partition, m.offset);
    if (this.#opts.recordTimes || this.firstRecordAtMs === null) {
      const now = performance.now();
      this.firstRecordAtMs ??= now;
      if (this.#opts.recordTimes) this.#times.push(now);
    }
  }

  /** Resumes what `holdPartitions` paused, and stops holding new ones. */
  release(): void {
    this.#held = false;
    const held = this.consumer.assignment();
    if (held.length > 0) this.consumer.resume(held);
  }

  /**
   * The largest gap between consecutive records that overlaps [fromMs, toMs]
   * (clipped to it), counting the stretch from the last record to `toMs`:
   * a member that stopped receiving shows its silence, not its last gap.
   * With where it began (`atMs`). Null when it received nothing before `toMs`.
   */
  largestGap(fromMs: number, toMs: number): { ms: number; atMs: number } | null {
    let prev: number | null = null;
    let best = { ms: 0, atMs: fromMs };
    const consider = (endMs: number): void => {
      const beganMs = Math.max(prev!, fromMs);
      if (endMs - beganMs > best.ms) best = { ms: endMs - beganMs, atMs: beganMs };
    };
    for (const t of this.#times) {
      if (t > toMs) break;
      if (prev !== null && t >= fromMs) consider(t);
      prev = t;
    }
    if (prev === null) return null;
    consider(toMs);
    return best;
  }

  maxGapMs(fromMs: number, toMs: number): number | null {
    return this.largestGap(fromMs, toMs)?.ms ?? null;
  }

  /** Ownership changes in [fromMs, toMs]. */
  changesBetween(fromMs: number, toMs: number): OwnershipChange[] {
    return this.changes.filter((c) => c.atMs >= fromMs && c.atMs <= toMs);
  }

  /** Closes the consumer (commits and leaves, for a member); rethrows what ended its loop, if anything. */
  async close(): Promise<void> {
    await this.consumer.close();
    await this.#loop;
    if (this.#failure !== null) throw new Error(`${this.name}: its consumer failed: ${this.#failure.message}`, { cause: this.#failure });
  }
}
