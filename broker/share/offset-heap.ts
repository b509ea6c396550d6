/**
 * A binary min-heap of offsets, each under a priority (an offset itself,
 * or a due time; ties by offset): the share window's candidate index
 * (candidate-index.ts) keeps the records it may hand out in two of them, so
 * an acquisition costs O(log n) per record it looks at instead of a scan of
 * the window. Entries are never removed from the middle: the index skips
 * stale ones as they come up (lazy deletion), so an offset may be in a heap
 * more than once.
 */
export class OffsetHeap {
  readonly #priorities: number[] = [];
  readonly #offsets: number[] = [];

  get size(): number {
    return this.#offsets.length;
  }

  /** The smallest priority, or Infinity when empty. */
  peekPriority(): number {
    return this.#priorities.length === 0 ? Infinity : this.#priorities[0]!;
  }

  push(priority: number, offset: number): void {
    const p = this.#priorities;
    const o = this.#offsets;
    let i = o.length;
    p.push(priority);
    o.push(offset);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(priority, offset, p[parent]!, o[parent]!)) break;
      p[i] = p[parent]!;
      o[i] = o[parent]!;
      i = parent;
    }
    p[i] = priority;
    o[i] = offset;
  }

  /** Removes and returns the offset of the smallest priority (undefined when empty). */
  pop(): number | undefined {
    const p = this.#priorities;
    const o = this.#offsets;
    if (o.length === 0) return undefined;
    const top = o[0]!;
    const lastP = p.pop()!;
    const lastO = o.pop()!;
    const n = o.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(p[right]!, o[right]!, p[left]!, o[left]!) ? right : left;
        if (!before(p[child]!, o[child]!, lastP, lastO)) break;
        p[i] = p[child]!;
        o[i] = o[child]!;
        i = child;
      }
      p[i] = lastP;
      o[i] = lastO;
    }
    return top;
  }

  clear(): void {
    this.#priorities.length = 0;
    this.#offsets.length = 0;
  }
}

function before(pa: number, oa: number, pb: number, ob: number): boolean {
  return pa < pb || (pa === pb && oa < ob);
}
