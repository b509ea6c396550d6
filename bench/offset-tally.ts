/**
 * What a group benchmark's consumers handed out, offset by offset, across all
 * of them: how many distinct records, how many repeats, and which records
 * below each partition's end were never consumed. A run whose consumers
 * missed a record is a failed run, whatever its figures.
 */

/** Counts per offset fit in a byte: a record repeated 255 times is as wrong as one repeated 254. */
const MAX_COUNT = 255;

export interface TallyCheck {
  expected: number;
  distinct: number;
  duplicates: number;
  missing: number;
}

export class OffsetTally {
  /** Per partition, how often each offset was consumed (grown as offsets arrive). */
  readonly #counts: Uint8Array[] = [];
  #distinct = 0;
  #duplicates = 0;
  #target = Infinity;
  #reached: (() => void) | null = null;

  get distinct(): number {
    return this.#distinct;
  }

  record(partition: number, offset: number): void {
    let counts = this.#counts[partition];
    if (counts === undefined || offset >= counts.length) counts = this.#grow(partition, offset);
    const seen = counts[offset]!;
    if (seen === 0) {
      this.#distinct++;
      if (this.#distinct >= this.#target) this.#reached?.();
    } else {
      this.#duplicates++;
    }
    if (seen < MAX_COUNT) counts[offset] = seen + 1;
  }

  #grow(partition: number, offset: number): Uint8Array {
    const old = this.#counts[partition] ?? new Uint8Array(0);
    const grown = new Uint8Array(Math.max(1024, offset + 1, old.length * 2));
    grown.set(old);
    this.#counts[partition] = grown;
    return grown;
  }

  /**
   * Resolves true once `distinct` records have been consumed, or false when
   * no new one has come for `idleMs`: a run stuck short of its records fails
   * in seconds, however long a healthy one takes.
   */
  whenDistinct(distinct: number, idleMs: number): Promise<boolean> {
    if (this.#distinct >= distinct) return Promise.resolve(true);
    return new Promise((resolve) => {
      let seen = this.#distinct;
      let lastGrowthMs = performance.now();
      const idle = setInterval(() => {
        if (this.#distinct > seen) {
          seen = this.#distinct;
          lastGrowthMs = performance.now();
        } else if (performance.now() - lastGrowthMs >= idleMs) {
          finish(false);
        }
      }, Math.min(100, idleMs));
      const finish = (reached: boolean): void => {
        clearInterval(idle);
        this.#target = Infinity;
        this.#reached = null;
        resolve(reached);
      };
      this.#target = distinct;
      this.#reached = () => finish(true);
    });
  }

  /** Against the partitions' ends (every offset below `ends[p]` should have been consumed, each once). */
  check(ends: readonly number[]): TallyCheck {
    let expected = 0;
    let missing = 0;
    for (const [partition, end] of ends.entries()) {
      expected += end;
      const counts = this.#counts[partition];
      for (let offset = 0; offset < end; offset++) if (counts === undefined || offset >= counts.length || counts[offset] === 0) missing++;
    }
    return { expected, distinct: this.#distinct, duplicates: this.#duplicates, missing };
  }
}

export function describeCheck(c: TallyCheck): string {
  return `${c.distinct.toLocaleString('en-US')}/${c.expected.toLocaleString('en-US')} records, ${c.duplicates} duplicates, ${c.missing} missing`;
}
