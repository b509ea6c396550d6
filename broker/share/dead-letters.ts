/**
 * Copies rejected records to their group's dead-letter topic, at least
 * once: the machine marked each "dead-letter pending" durably when it
 * rejected it; here the original (key, value, timestamp, headers) is read,
 * appended to the dead-letter topic with the runnel.dlq.* headers, and once
 * that append is replicated (acks=all) the records are marked copied. A
 * coordinator that takes over (or restarts) finds the pending marks in the
 * log and copies again, so a crash between the two steps duplicates a dead
 * letter but never loses one.
 *
 * The copy of source partition P goes to partition P mod (the dead-letter
 * topic's partitions), so dead letters of one partition stay in order.
 * The source is read and the copy written at the partitions' leaders, here
 * or on another broker (an acks=all Produce: sources.ts). Runs after every
 * change of the coordinator; a copy that fails (the topic missing, a leader
 * unreachable) is tried again after RETRY_MS.
 */
import { buildBatch, type RecordInput } from '../../protocol/batch/index.js';
import type { ShareSource } from './sources.js';
import { DlqHeader } from '../../protocol/headers.js';
import type { GroupCoordinator } from '../coordinator/runtime.js';
import type { Logger } from '../log.js';
import type { Clock } from '../world/clock.js';
import { readRecords } from './partition-reader.js';
import type { DeadLetterWork } from './share-groups.js';

export const RETRY_MS = 1000;

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

export class DeadLetterCopier {
  readonly #coordinator: GroupCoordinator;
  readonly #lookup: (topic: string, index: number) => ShareSource | Error;
  readonly #partitions: (topic: string) => number | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #busy = new Set<string>();
  #retry: { cancel(): void } | null = null;

  constructor(opts: { coordinator: GroupCoordinator; lookup: (topic: string, index: number) => ShareSource | Error; partitions: (topic: string) => number | undefined; clock: Clock; logger: Logger }) {
    this.#coordinator = opts.coordinator;
    this.#lookup = opts.lookup;
    this.#partitions = opts.partitions;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
  }

  /** Starts a copy for every pending partition not already being copied. */
  kick(): void {
    for (const shard of this.#coordinator.loadedShards().shards) {
      for (const work of shard.shares.pendingDeadLetters()) {
        const key = `${work.groupId}\u0000${work.topic}\u0000${work.partition}`;
        if (this.#busy.has(key)) continue;
        this.#busy.add(key);
        this.#copy(work).then(
          () => this.#busy.delete(key),
          (error: unknown) => {
            this.#busy.delete(key);
            this.#logger.warn({ event: 'deadLetterRetry', group: work.groupId, topic: work.topic, partition: work.partition, err: error }, `could not copy ${work.records.length} dead letter(s) of ${work.topic}-${work.partition} to ${work.deadLetterTopic}: ${(error as Error).message}; trying again in ${RETRY_MS} ms`);
            this.#retry ??= this.#clock.schedule(RETRY_MS, () => {
              this.#retry = null;
              this.kick();
            });
          },
        );
      }
    }
  }

  close(): void {
    this.#retry?.cancel();
    this.#retry = null;
  }

  async #copy(work: DeadLetterWork): Promise<void> {
    const source = this.#lookup(work.topic, work.partition);
    if (source instanceof Error) throw source;
    const count = this.#partitions(work.deadLetterTopic);
    if (count === undefined) throw new Error(`the dead-letter topic ${work.deadLetterTopic} does not exist`);
    const target = this.#lookup(work.deadLetterTopic, work.partition % count);
    if (target instanceof Error) throw target;
    const originals = await readRecords(source.data, work.records.map((r) => r.offset));
    const nowMs = this.#clock.nowMs();
    const inputs: RecordInput[] = [];
    for (const pending of work.records) {
      const original = originals.get(pending.offset);
      // Gone from the log (retention or DeleteRecords ran first): nothing left to copy, the record is settled all the same.
      if (original === undefined) continue;
      const headers = [
        ...original.headers,
        { key: DlqHeader.SOURCE_TOPIC, value: utf8(work.topic) },
        { key: DlqHeader.SOURCE_PARTITION, value: utf8(String(work.partition)) },
        { key: DlqHeader.SOURCE_OFFSET, value: utf8(String(pending.offset)) },
        { key: DlqHeader.GROUP, value: utf8(work.groupId) },
        { key: DlqHeader.DELIVERY_COUNT, value: utf8(String(pending.deliveryCount)) },
        { key: DlqHeader.REASON, value: utf8(pending.reason) },
        ...(pending.error === null ? [] : [{ key: DlqHeader.ERROR, value: utf8(pending.error) }]),
        { key: DlqHeader.TIME, value: utf8(String(nowMs)) },
      ];
      inputs.push({ key: original.key, value: original.value, headers, timestamp: original.timestamp });
    }
    if (inputs.length > 0) await target.append(buildBatch(inputs, { nowMs }));
    await this.#coordinator.run(work.groupId, (shard, now) => shard.shares.deadLetterCopied(work.groupId, work.topic, work.partition, work.records.map((r) => r.offset), now));
  }
}
