/**
 * At-least-once bookkeeping: per owned partition, the offset after the last
 * message the app has finished (a for-await loop asked for the next one, an
 * eachMessage or eachBatch resolved) and the offset last committed. Only
 * finished work is ever committed, so a crash redelivers what was in hand,
 * never skips it.
 */
import { keyOf } from './partition-state.js';
import type { TopicPartition } from './topic-partitions.js';

export interface Progress extends TopicPartition {
  /** The next offset to process (one past the last finished message); undefined before any. */
  finished: number | undefined;
  /** The offset last committed by this consumer, or the one it started from; undefined when none. */
  committed: number | undefined;
}

export class FinishedOffsets {
  readonly #byKey = new Map<string, Progress>();
  /** Resolved when the app finishes something (a revocation waits for the message in hand). */
  #waiters: (() => void)[] = [];

  /** Starts tracking a partition (its committed offset when the group has one). */
  track(topic: string, partition: number, committed: number | undefined): void {
    this.#byKey.set(keyOf(topic, partition), { topic, partition, finished: undefined, committed });
  }

  forget(topic: string, partition: number): void {
    this.#byKey.delete(keyOf(topic, partition));
  }

  get(topic: string, partition: number): Progress | undefined {
    return this.#byKey.get(keyOf(topic, partition));
  }

  /** The app is done with every message before `nextOffset`. Ignored for partitions no longer owned. */
  finish(topic: string, partition: number, nextOffset: number): void {
    const p = this.#byKey.get(keyOf(topic, partition));
    if (p !== undefined && (p.finished === undefined || nextOffset > p.finished)) p.finished = nextOffset;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /**
   * A partition the group had no offset for starts at `offset` (its end, or
   * its first record): nothing before it is this group's to process, so the
   * start itself is committed. A member that dies before finishing anything
   * then leaves its successor that start, rather than no offset and a
   * second "latest" that would skip what was written in between.
   */
  started(topic: string, partition: number, offset: number): void {
    const p = this.#byKey.get(keyOf(topic, partition));
    if (p !== undefined && p.committed === undefined && p.finished === undefined) p.finished = offset;
  }

  /** Resolves at the next `finish` call. */
  nextFinish(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Finished offsets not committed yet (of `only` when given). */
  uncommitted(only?: readonly TopicPartition[]): { topic: string; partition: number; offset: number }[] {
    const list = only === undefined ? [...this.#byKey.values()] : only.map((tp) => this.get(tp.topic, tp.partition)).filter((p) => p !== undefined);
    // Only forward: a commit the app made past what it finished (commit(offsets)) is not undone.
    return list.filter((p) => p.finished !== undefined && (p.committed === undefined || p.finished > p.committed)).map((p) => ({ topic: p.topic, partition: p.partition, offset: p.finished! }));
  }

  /** Records a successful commit. */
  committed(topic: string, partition: number, offset: number): void {
    const p = this.#byKey.get(keyOf(topic, partition));
    if (p !== undefined) p.committed = offset;
  }
}
