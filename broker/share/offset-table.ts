/**
 * A share window's records by offset (window.ts): an array indexed from
 * the lowest offset held, instead of a Map. A window's offsets are dense
 * (they span at most group.share.max.in.flight.records), and every record
 * is looked up several times on its way through (taken in, acquired,
 * acknowledged, flushed, passed by the start): a Map costs a hash per
 * look-up, an allocation per [offset, record] pair iterated and rehashing
 * as it grows, where an array slot costs none of these. Iteration is in
 * offset order by construction.
 *
 * Slots below the first record held are dropped as the start moves on
 * (when they are the larger part of the array), so memory follows the
 * span held, not every offset ever held.
 */
export class OffsetTable<T> {
  #slots: (T | undefined)[] = [];
  /** The offset of slots[0]. */
  #base = 0;
  /** The index of the first slot holding a value (slots.length when none does). */
  #head = 0;
  #size = 0;

  /** Below this many dead slots at the front the array is not copied to drop them. */
  static readonly COMPACT_AT = 1024;

  get size(): number {
    return this.#size;
  }

  get(offset: number): T | undefined {
    const i = offset - this.#base;
    return i >= this.#head && i < this.#slots.length ? this.#slots[i] : undefined;
  }

  has(offset: number): boolean {
    return this.get(offset) !== undefined;
  }

  /** The value at the lowest offset held. */
  first(): T | undefined {
    return this.#head < this.#slots.length ? this.#slots[this.#head] : undefined;
  }

  set(offset: number, value: T): void {
    if (this.#size === 0) this.#reset(offset);
    else if (this.#head >= OffsetTable.COMPACT_AT && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
    let i = offset - this.#base;
    if (i < 0) {
      // Below the array (a replay inserts chunks in log order, not offset order): it grows at the front.
      this.#slots = [...new Array<T | undefined>(-i).fill(undefined), ...this.#slots];
      this.#head += -i;
      this.#base = offset;
      i = 0;
    }
    while (this.#slots.length < i) this.#slots.push(undefined);
    if (this.#slots[i] === undefined) this.#size++;
    this.#slots[i] = value;
    if (i < this.#head) this.#head = i;
  }

  delete(offset: number): boolean {
    const i = offset - this.#base;
    if (i < this.#head || i >= this.#slots.length || this.#slots[i] === undefined) return false;
    this.#slots[i] = undefined;
    this.#size--;
    if (this.#size === 0) this.#reset(0);
    else if (i === this.#head) while (this.#slots[this.#head] === undefined) this.#head++;
    return true;
  }

  clear(): void {
    this.#reset(0);
  }

  /** The values in offset order. Deleting the value just yielded (or any other) while iterating is allowed; setting is not. */
  *values(): IterableIterator<T> {
    for (let i = this.#head; i < this.#slots.length; i++) {
      const value = this.#slots[i];
      if (value !== undefined) yield value;
    }
  }

  #reset(base: number): void {
    this.#slots = [];
    this.#base = base;
    this.#head = 0;
    this.#size = 0;
  }
}
