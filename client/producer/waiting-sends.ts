/**
 * The send() calls that could not append at once (their topic's metadata
 * is not known yet, the buffer is full, or their broker's share of it is:
 * those are passed over while later calls go on), oldest first. A queue with a
 * moving head rather than `Array.shift()`: an app that fires a million sends
 * at a broker that is down must not pay for each one a copy of all the rest.
 */
import type { RunnelError } from '../errors.js';
import type { ProducerMessage } from '../types.js';
import type { SendCall } from './send-call.js';

/** A send() call on its way into the accumulator (at once when it can, else from this queue). */
export interface WaitingSend {
  call: SendCall;
  messages: ProducerMessage[];
  /** The first message not yet appended. */
  next: number;
  /** The highest partition a message names (-1: none), checked against the topic before any record is appended. */
  highestPartition: number;
  /** Every message's partition has been checked (and the partitioner's choices made): appending may start. */
  placed: boolean;
  /** The partitioner's choice for each message, when the producer has one; else null. */
  chosen: Int32Array | null;
  /** The topic's metadata must come from a Metadata request numbered at least this (a message named a partition the cache did not know); -1: any will do. */
  freshAsOf: number;
}

interface Drain {
  /** Resolve once no entry numbered up to this one is left. */
  upTo: number;
  resolve: () => void;
}

export class WaitingSends {
  #items: WaitingSend[] = [];
  /** Entries finished out of turn (passed-over calls behind a parked one), removed at the next `compact()`. */
  readonly #finished = new Set<WaitingSend>();
  /** Each entry's number in push order (parallel to #items): removal keeps order, so the head's is the smallest left. */
  #seqs: number[] = [];
  #head = 0;
  #nextSeq = 0;
  #drains: Drain[] = [];

  get isEmpty(): boolean {
    return this.#head === this.#items.length;
  }

  get head(): WaitingSend | undefined {
    return this.#items[this.#head];
  }

  push(w: WaitingSend): void {
    this.#items.push(w);
    this.#seqs.push(this.#nextSeq++);
  }

  shift(): void {
    if (this.isEmpty) return;
    // Dropped at once, so a settled call's messages can be collected.
    this.#items[this.#head++] = undefined as unknown as WaitingSend;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#seqs = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#seqs = this.#seqs.slice(this.#head);
      this.#head = 0;
    }
    this.#settleDrains();
  }

  /** The entries from the head on, in order (do not push or shift while iterating; `finish` instead). */
  *entries(): Iterable<WaitingSend> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }

  /** Marks an entry done wherever it is; `compact()` removes it. */
  finish(w: WaitingSend): void {
    this.#finished.add(w);
  }

  /** Removes the entries marked with `finish`. */
  compact(): void {
    if (this.#finished.size === 0) return;
    const done = this.#finished;
    if (done.has(this.#items[this.#head]!) && done.size === 1) {
      done.clear();
      this.shift();
      return;
    }
    const items: WaitingSend[] = [];
    const seqs: number[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      if (done.has(this.#items[i]!)) continue;
      items.push(this.#items[i]!);
      seqs.push(this.#seqs[i]!);
    }
    done.clear();
    this.#items = items;
    this.#seqs = seqs;
    this.#head = 0;
    this.#settleDrains();
  }

  hasTopic(topic: string): boolean {
    for (let i = this.#head; i < this.#items.length; i++) if (this.#items[i]!.call.topic === topic) return true;
    return false;
  }

  /** Fails and removes every waiting call for `topic` (its lookup gave up). */
  failTopic(topic: string, err: RunnelError): void {
    this.#removeWhere((w) => w.call.topic === topic, err);
  }

  failAll(err: RunnelError): void {
    this.#removeWhere(() => true, err);
  }

  /** Resolves once every entry waiting now has left (later ones are not waited for). */
  drained(): Promise<void> {
    if (this.isEmpty) return Promise.resolve();
    const upTo = this.#seqs[this.#seqs.length - 1]!;
    return new Promise((resolve) => this.#drains.push({ upTo, resolve }));
  }

  #removeWhere(match: (w: WaitingSend) => boolean, err: RunnelError): void {
    const items: WaitingSend[] = [];
    const seqs: number[] = [];
    const failed: WaitingSend[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const w = this.#items[i]!;
      if (match(w)) {
        failed.push(w);
      } else {
        items.push(w);
        seqs.push(this.#seqs[i]!);
      }
    }
    this.#items = items;
    this.#seqs = seqs;
    this.#head = 0;
    for (const w of failed) w.call.fail(err);
    this.#settleDrains();
  }

  #settleDrains(): void {
    if (this.#drains.length === 0) return;
    const oldest = this.isEmpty ? Infinity : this.#seqs[this.#head]!;
    this.#drains = this.#drains.filter((d) => {
      if (d.upTo >= oldest) return true;
      d.resolve();
      return false;
    });
  }
}
