/**
 * One `send()` call: the messages, the promise the caller awaits, and the
 * RecordMetadata slots the batches fill in as they are acknowledged. One
 * promise per call, not per record: a batch that completes fills the slots
 * of every record it carried and the call resolves when the last one lands.
 */
import type { RunnelError } from '../errors.js';
import type { ProducerMessage, RecordMetadata } from '../types.js';

export class SendCall {
  readonly topic: string;
  /** Messages in the call. The messages themselves are not kept: the caller's objects can die young once appended. */
  readonly count: number;
  /** Timestamp for messages that give none (ms since the epoch, taken at send()). */
  readonly sentAtMs: number;
  /** When the call must have settled: sentAtMs + deliveryTimeoutMs. */
  readonly deadlineMs: number;
  readonly promise: Promise<RecordMetadata[]>;
  /**
   * Acknowledged runs, five numbers each: first index, count, partition,
   * base offset, log append time. The RecordMetadata objects are made only
   * when the last run lands, so nothing per record lives while the call is
   * in flight (per-record objects held across garbage collections were a
   * third of the producer's CPU).
   */
  readonly #runs: number[] = [];
  /** Create times the messages gave explicitly, by index; null when none did (the usual case). */
  readonly #timestamps: (number | undefined)[] | null = null;
  #remaining: number;
  #resolve!: (r: RecordMetadata[]) => void;
  #reject!: (e: RunnelError) => void;
  #settled = false;

  constructor(topic: string, messages: ProducerMessage[], sentAtMs: number, deadlineMs = Infinity) {
    this.topic = topic;
    this.count = messages.length;
    this.sentAtMs = sentAtMs;
    this.deadlineMs = deadlineMs;
    this.#remaining = messages.length;
    for (let i = 0; i < messages.length; i++) {
      const timestamp = messages[i]!.timestamp;
      if (timestamp !== undefined) (this.#timestamps ??= new Array<number | undefined>(messages.length))[i] = timestamp;
    }
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (messages.length === 0) this.#finish();
  }

  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Records `[first, first + count)` of this call were written at consecutive
   * offsets from `baseOffset` (-1: unknown, acks=0). `logAppendTimeMs` is the
   * broker's time when the topic stamps append time, else -1.
   */
  complete(partition: number, first: number, count: number, baseOffset: number, logAppendTimeMs: number): void {
    if (this.#settled) return;
    this.#runs.push(first, count, partition, baseOffset, logAppendTimeMs);
    this.#remaining -= count;
    if (this.#remaining === 0) this.#finish();
  }

  /** The first failure wins; records of this call in other batches are still sent (they cannot be recalled). */
  fail(err: RunnelError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
  }

  #finish(): void {
    this.#settled = true;
    const { topic, sentAtMs } = this;
    const timestamps = this.#timestamps;
    const results = new Array<RecordMetadata>(this.count);
    const runs = this.#runs;
    for (let r = 0; r < runs.length; r += 5) {
      const first = runs[r]!;
      const count = runs[r + 1]!;
      const partition = runs[r + 2]!;
      const baseOffset = runs[r + 3]!;
      const logAppendTimeMs = runs[r + 4]!;
      for (let i = 0; i < count; i++) {
        results[first + i] = {
          topic,
          partition,
          offset: baseOffset < 0 ? -1 : baseOffset + i,
          timestamp: logAppendTimeMs >= 0 ? logAppendTimeMs : (timestamps === null ? sentAtMs : timestamps[first + i] ?? sentAtMs),
        };
      }
    }
    this.#resolve(results);
  }
}
