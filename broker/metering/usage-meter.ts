/**
 * Counts what each principal does with each topic, per minute, on this
 * broker: the request path calls `record` once per request (with the bytes
 * and records per topic it handled), and every minute the broker takes the
 * minutes that have ended (`takeEnded`) and writes them to `__usage`
 * (usage-record.ts). A minute is only taken once it has ended, so each
 * record is final when written; a request that finishes a little after its
 * minute ended counts in the minute it finished in.
 *
 * Memory is one small entry per principal and topic active in the open
 * minutes; the caller bounds how far behind the writer may fall
 * (`openMinutes`) before it drops the oldest with a warning, rather than
 * growing without bound while `__usage` cannot be written.
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

export class UsageMeter {
  readonly #brokerId: number;
  /** minute start -> `principal\0topic` -> counts */
  readonly #minutes = new Map<number, Map<string, UsageCounts>>();

  constructor(brokerId: number) {
    this.#brokerId = brokerId;
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
    const minuteMs = nowMs - (nowMs % MINUTE_MS);
    let minute = this.#minutes.get(minuteMs);
    if (minute === undefined) {
      minute = new Map();
      this.#minutes.set(minuteMs, minute);
    }
    if (topics.length === 0) {
      this.#counts(minute, principal, '').requests += 1;
      return;
    }
    topics.forEach((usage, i) => {
      const counts = this.#counts(minute, principal, usage.topic);
      if (i === 0) counts.requests += 1;
      counts.bytesIn += usage.bytesIn ?? 0;
      counts.bytesOut += usage.bytesOut ?? 0;
      counts.recordsIn += usage.recordsIn ?? 0;
      counts.recordsOut += usage.recordsOut ?? 0;
    });
  }

  /** The records of every minute that ended by `nowMs`, oldest first; they are forgotten here. */
  takeEnded(nowMs: number): UsageRecord[] {
    const ended = [...this.#minutes.keys()].filter((minuteMs) => minuteMs + MINUTE_MS <= nowMs).sort((a, b) => a - b);
    const records: UsageRecord[] = [];
    for (const minuteMs of ended) {
      for (const [who, counts] of this.#minutes.get(minuteMs)!) {
        const split = who.indexOf('\u0000');
        records.push({ key: { brokerId: this.#brokerId, minuteMs, principal: who.slice(0, split), topic: who.slice(split + 1) }, counts });
      }
      this.#minutes.delete(minuteMs);
    }
    return records;
  }

  #counts(minute: Map<string, UsageCounts>, principal: string, topic: string): UsageCounts {
    const key = `${principal}\u0000${topic}`;
    let counts = minute.get(key);
    if (counts === undefined) {
      counts = { ...ZERO_COUNTS };
      minute.set(key, counts);
    }
    return counts;
  }
}
