/**
 * The trace of one simulated run: every fault, acknowledgement, consumed
 * record and leadership change, each with its simulated time, folded into
 * one SHA-256. Two runs of a seed are the same run exactly when their hashes
 * are equal (replay.test.ts checks it); `--trace` also prints the lines.
 */
import { createHash, type Hash } from 'node:crypto';

export class Trace {
  readonly #hash: Hash = createHash('sha256');
  readonly #print: ((line: string) => void) | null;
  #events = 0;

  constructor(print: ((line: string) => void) | null = null) {
    this.#print = print;
  }

  /** Records one event at simulated time `atMs` (ms since the start of the run). */
  add(atMs: number, event: string): void {
    const line = `${String(atMs).padStart(7)} ${event}`;
    this.#hash.update(line).update('\n');
    this.#events += 1;
    this.#print?.(line);
  }

  get events(): number {
    return this.#events;
  }

  digest(): string {
    return this.#hash.copy().digest('hex').slice(0, 16);
  }
}
