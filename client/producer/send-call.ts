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
  readonly messages: ProducerMessage[];
  /** Timestamp for messages that give none (ms since the epoch, taken at send()). */
  readonly sentAtMs: number;
  readonly results: RecordMetadata[];
  readonly promise: Promise<RecordMetadata[]>;
  #remaining: number;
  #resolve!: (r: RecordMetadata[]) => void;
  #reject!: (e: RunnelError) => void;
  #settled = false;

  constructor(topic: string, messages: ProducerMessage[], sentAtMs: number) {
    this.topic = topic;
    this.messages = messages;
    this.sentAtMs = sentAtMs;
    this.results = new Array<RecordMetadata>(messages.length);
    this.#remaining = messages.length;
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (messages.length === 0) this.#finish();
  }

  get settled(): boolean {
    return this.#settled;
  }

  timestampOf(index: number): number {
    return this.messages[index]!.timestamp ?? this.sentAtMs;
  }

  /**
   * Records `[first, first + count)` of this call were written at consecutive
   * offsets from `baseOffset` (-1: unknown, acks=0). `logAppendTimeMs` is the
   * broker's time when the topic stamps append time, else -1.
   */
  complete(partition: number, first: number, count: number, baseOffset: number, logAppendTimeMs: number): void {
    if (this.#settled) return;
    const results = this.results;
    const topic = this.topic;
    for (let i = 0; i < count; i++) {
      const index = first + i;
      results[index] = {
        topic,
        partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTimeMs >= 0 ? logAppendTimeMs : this.timestampOf(index),
      };
    }
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
    this.#resolve(this.results);
  }
}
