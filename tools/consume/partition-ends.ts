/**
 * `runnel consume --exit-at-end` (kcat's `-e`): stop once every partition
 * read has been read up to the end it had when the command started. Records
 * appended after that are left for the next run, so the command always
 * finishes, however busy the topic, and prints the same records for the
 * same log.
 */
import type { Message, MessageBatch } from '../../client/index.js';

export class PartitionEnds {
  /** Partition -> its end offset, for the partitions not read to their end yet. */
  readonly #remaining: Map<number, number>;
  readonly #ends: ReadonlyMap<number, number>;

  constructor(ends: ReadonlyMap<number, number>) {
    this.#ends = ends;
    this.#remaining = new Map(ends);
  }

  get done(): boolean {
    return this.#remaining.size === 0;
  }

  /** The batch's records below its partition's end; the partition is done once its last one is taken. */
  take(batch: MessageBatch): Message[] {
    const end = this.#ends.get(batch.partition);
    if (end === undefined) return [];
    const below = batch.messages.filter((m) => m.offset < end);
    const last = batch.messages[batch.messages.length - 1];
    if (last !== undefined && last.offset >= end - 1) this.#remaining.delete(batch.partition);
    return below;
  }
}
