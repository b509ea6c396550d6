/**
 * The producer's buffer, shared out per broker: the bytes of records held
 * for each broker (the leader of their partition when they were buffered,
 * or -1 for a partition without one), against one limit per broker. So a
 * broker that stops answering holds at most its share of
 * `bufferMemoryBytes` and the rest stays free for the others; without it,
 * its records would fill the whole buffer and every send would wait.
 *
 * A batch stays charged to the broker it was buffered for until it is
 * acknowledged or failed, even if its partition moves meanwhile: the charge
 * then over-counts the old leader for a while, never the whole buffer.
 *
 * Pure accounting: the producer asks `hasRoom` before appending a record and
 * hears `onRoom` when a full broker drops below its limit again.
 */
export interface ByteBulkheadHooks {
  /** `broker` reached its limit (once per filling). */
  full(broker: number, bytes: number): void;
  /** `broker` was full and is below its limit again. */
  room(broker: number): void;
}

export class ByteBulkhead {
  readonly limitBytes: number;
  readonly #hooks: ByteBulkheadHooks;
  readonly #bytes = new Map<number, number>();
  /** Brokers found full and not yet below the limit again. */
  readonly #full = new Set<number>();
  /** Times each broker filled up. */
  readonly #fills = new Map<number, number>();

  constructor(limitBytes: number, hooks: ByteBulkheadHooks) {
    this.limitBytes = limitBytes;
    this.#hooks = hooks;
  }

  bytes(broker: number): number {
    return this.#bytes.get(broker) ?? 0;
  }

  fills(broker: number): number {
    return this.#fills.get(broker) ?? 0;
  }

  /** Adds `delta` (negative: given back) to what `broker` holds. */
  charge(broker: number, delta: number): void {
    if (delta === 0) return;
    const bytes = (this.#bytes.get(broker) ?? 0) + delta;
    if (bytes <= 0) this.#bytes.delete(broker);
    else this.#bytes.set(broker, bytes);
    if (delta < 0 && bytes < this.limitBytes && this.#full.delete(broker)) this.#hooks.room(broker);
  }

  /** Whether another record may be buffered for `broker`; the first refusal of a filling is announced. */
  hasRoom(broker: number): boolean {
    const bytes = this.#bytes.get(broker) ?? 0;
    if (bytes < this.limitBytes) return true;
    if (!this.#full.has(broker)) {
      this.#full.add(broker);
      this.#fills.set(broker, (this.#fills.get(broker) ?? 0) + 1);
      this.#hooks.full(broker, bytes);
    }
    return false;
  }
}
