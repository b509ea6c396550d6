/**
 * Counts what each principal does with each topic, per minute, on this
 * broker: the request path reports each request (`request`) and the bytes
 * and records it moved per topic (`moved`), or all of one request at once
 * (`record`). Every flush interval the broker collects (`collect`) the
 * counts of each minute counted in since the last collect, as they stand,
 * and writes them to `__usage` (usage-record.ts): a minute still open is
 * written again at the next flush with its larger counts, under the same
 * key, and readers keep the last value of a key. Minutes that have ended
 * are forgotten once collected. (`takeEnded` hands over ended minutes only,
 * once.) A request that finishes a little after its minute ended counts in
 * the minute it finished in.
 *
 * On the hot path a count is two Map lookups (principal, then topic) in the
 * current minute and a few additions: nothing is allocated once a principal
 * and topic have been seen in that minute.
 *
 * Memory is one small entry per principal and topic active in the minutes
 * not yet collected: collecting forgets the ended ones whether or not their
 * write then succeeds (the writer keeps, bounded, what it could not write).
 */
import { ZERO_COUNTS, type UsageCounts, type UsageRecord } from './usage-record.js';

export const MINUTE_MS = 60_000;

export interface TopicUsage {
  topic: string;
  bytesIn?: number;
  bytesOut?: number;
  recordsIn?: number;
  recordsOut?: number;
}

/** principal -> topic -> counts, for one minute, and whether it was counted in since the last collect. */
interface Minute {
  readonly principals: Map<string, Map<string, UsageCounts>>;
  dirty: boolean;
}

export class UsageMeter {
  readonly #brokerId: number;
  readonly #incarnation: number;
  /** minute start -> its counts */
  readonly #minutes = new Map<number, Minute>();
  /** The minute counted last: almost every count lands in it. */
  #currentMs = -1;
  #current: Minute | null = null;

  /** `incarnation`: this run of the broker (usage-record.ts: a minute written again after a restart is told apart by it). */
  constructor(brokerId: number, incarnation = 0) {
    this.#brokerId = brokerId;
    this.#incarnation = incarnation;
  }

  /** How many minutes hold counts not yet taken. */
  get openMinutes(): number {
    return this.#minutes.size;
  }

  /**
   * One request of `principal` at `nowMs`: counted once, as a request of the
   * first topic it names (or of no topic), and its bytes and records per topic.
   */
  record(principal: string, nowMs: number, topics: readonly TopicUsage[]): void {
    if (topics.length === 0) {
      this.request(principal, nowMs, '');
      return;
    }
    topics.forEach((usage, i) => {
      if (i === 0) this.request(principal, nowMs, usage.topic);
      this.moved(principal, nowMs, usage.topic, usage.bytesIn ?? 0, usage.recordsIn ?? 0, usage.bytesOut ?? 0, usage.recordsOut ?? 0);
    });
  }

  /** One request of `principal`, counted under `topic` ('' when it names none). */
  request(principal: string, nowMs: number, topic: string): void {
    this.#counts(nowMs, principal, topic).requests += 1;
  }

  /** Bytes and records `principal` moved in (produced) and out (fetched) of `topic`. */
  moved(principal: string, nowMs: number, topic: string, bytesIn: number, recordsIn: number, bytesOut: number, recordsOut: number): void {
    const counts = this.#counts(nowMs, principal, topic);
    counts.bytesIn += bytesIn;
    counts.recordsIn += recordsIn;
    counts.bytesOut += bytesOut;
    counts.recordsOut += recordsOut;
  }

  /** The records of every minute that ended by `nowMs` (all of them with Infinity), oldest first; they are forgotten here. */
  takeEnded(nowMs: number): UsageRecord[] {
    const ended = [...this.#minutes.keys()].filter((minuteMs) => minuteMs + MINUTE_MS <= nowMs).sort((a, b) => a - b);
    const records: UsageRecord[] = [];
    for (const minuteMs of ended) {
      this.#push(records, minuteMs, this.#minutes.get(minuteMs)!, false);
      this.#forget(minuteMs);
    }
    return records;
  }

  /**
   * The counts, as they stand, of every minute counted in since the last
   * collect, oldest first (copies: counting goes on); the minutes that ended
   * by `nowMs` are forgotten (all of them with Infinity).
   */
  collect(nowMs: number): UsageRecord[] {
    const records: UsageRecord[] = [];
    for (const minuteMs of [...this.#minutes.keys()].sort((a, b) => a - b)) {
      const minute = this.#minutes.get(minuteMs)!;
      if (minute.dirty) this.#push(records, minuteMs, minute, true);
      minute.dirty = false;
      if (minuteMs + MINUTE_MS <= nowMs) this.#forget(minuteMs);
    }
    return records;
  }

  #push(records: UsageRecord[], minuteMs: number, minute: Minute, copy: boolean): void {
    for (const [principal, topics] of minute.principals) {
      for (const [topic, counts] of topics) records.push({ key: { brokerId: this.#brokerId, minuteMs, principal, topic, incarnation: this.#incarnation }, counts: copy ? { ...counts } : counts });
    }
  }

  #forget(minuteMs: number): void {
    this.#minutes.delete(minuteMs);
    if (minuteMs === this.#currentMs) {
      this.#currentMs = -1;
      this.#current = null;
    }
  }

  #counts(nowMs: number, principal: string, topic: string): UsageCounts {
    const minuteMs = nowMs - (nowMs % MINUTE_MS);
    let minute = minuteMs === this.#currentMs ? this.#current : null;
    if (minute === null) {
      minute = this.#minutes.get(minuteMs) ?? null;
      if (minute === null) {
        minute = { principals: new Map(), dirty: true };
        this.#minutes.set(minuteMs, minute);
      }
      this.#currentMs = minuteMs;
      this.#current = minute;
    }
    minute.dirty = true;
    let topics = minute.principals.get(principal);
    if (topics === undefined) {
      topics = new Map();
      minute.principals.set(principal, topics);
    }
    let counts = topics.get(topic);
    if (counts === undefined) {
      counts = { ...ZERO_COUNTS };
      topics.set(topic, counts);
    }
    return counts;
  }
}
