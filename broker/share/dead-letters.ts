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
 * change of the coordinator, looking only at partitions with copies pending
 * (share-groups.ts keeps that set: nothing at all when none is). A copy that
 * fails (the topic deleted or never creatable, a leader unreachable) is
 * tried again after RETRY_MS, doubling up to MAX_RETRY_MS while it keeps
 * failing (on the injected clock), with one warning when it starts failing
 * or fails for another reason, and one line when it works again: a missing
 * topic costs a look a minute, not a warning a second.
 */
import { buildBatch, type RecordInput } from '../../protocol/batch/index.js';
import type { ShareSource } from './sources.js';
import { DlqHeader } from '../../protocol/headers.js';
import type { GroupCoordinator } from '../coordinator/runtime.js';
import type { Logger } from '../log.js';
import { monotonicMs, type Clock } from '../world/clock.js';
import { readRecords } from './partition-reader.js';
import type { DeadLetterWork } from './share-groups.js';

export const RETRY_MS = 1000;
export const MAX_RETRY_MS = 60_000;

/** A partition whose copies keep failing: how often in a row, when to try again, and the last reason (warned once). */
export interface CopyFailure {
  readonly attempts: number;
  readonly nextAttemptMs: number;
  readonly problem: string;
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

export class DeadLetterCopier {
  readonly #coordinator: GroupCoordinator;
  readonly #lookup: (topic: string, index: number) => ShareSource | Error;
  readonly #partitions: (topic: string) => number | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #busy = new Set<string>();
  readonly #failing = new Map<string, CopyFailure>();
  #retry: { cancel(): void; atMs: number } | null = null;

  constructor(opts: { coordinator: GroupCoordinator; lookup: (topic: string, index: number) => ShareSource | Error; partitions: (topic: string) => number | undefined; clock: Clock; logger: Logger }) {
    this.#coordinator = opts.coordinator;
    this.#lookup = opts.lookup;
    this.#partitions = opts.partitions;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
  }

  /** Starts a copy for every pending partition not already being copied, nor waiting out its back-off. */
  kick(): void {
    const nowMs = monotonicMs(this.#clock);
    const pending = new Set<string>();
    for (const shard of this.#coordinator.loadedShards().shards) {
      if (!shard.shares.hasPendingDeadLetters()) continue;
      const skip = (groupId: string, topic: string, partition: number): boolean => {
        const key = keyOf(groupId, topic, partition);
        pending.add(key);
        return this.#busy.has(key) || (this.#failing.get(key)?.nextAttemptMs ?? -Infinity) > nowMs;
      };
      for (const work of shard.shares.pendingDeadLetters(skip)) {
        const key = keyOf(work.groupId, work.topic, work.partition);
        this.#busy.add(key);
        this.#copy(work).then(
          () => {
            this.#busy.delete(key);
            this.#recovered(key, work);
            // Records of this partition rejected while the copy ran were skipped by the kicks of that time (busy): looked for now.
            this.kick();
          },
          (error: unknown) => {
            this.#busy.delete(key);
            this.#failed(key, work, error);
          },
        );
      }
    }
    // A partition no longer pending (its group or topic deleted, or copied by a coordinator elsewhere) is forgotten.
    for (const key of this.#failing.keys()) if (!pending.has(key) && !this.#busy.has(key)) this.#failing.delete(key);
  }

  /** The partitions whose copies are failing, by "group\0topic\0partition" (tests, diagnostics). */
  failures(): ReadonlyMap<string, CopyFailure> {
    return this.#failing;
  }

  close(): void {
    this.#retry?.cancel();
    this.#retry = null;
  }

  #failed(key: string, work: DeadLetterWork, error: unknown): void {
    const previous = this.#failing.get(key);
    const problem = (error as Error)?.message ?? String(error);
    const attempts = (previous?.attempts ?? 0) + 1;
    const delayMs = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** Math.min(attempts - 1, 30));
    this.#failing.set(key, { attempts, nextAttemptMs: monotonicMs(this.#clock) + delayMs, problem });
    const where = { event: 'deadLetterRetry', group: work.groupId, topic: work.topic, partition: work.partition, deadLetterTopic: work.deadLetterTopic, attempts, retryMs: delayMs };
    const text = `could not copy ${work.records.length} dead letter(s) of ${work.topic}-${work.partition} to ${work.deadLetterTopic}: ${problem}; trying again in ${delayMs} ms`;
    // Warned when it starts failing or fails for another reason; the same failure again is only a debug line.
    if (previous?.problem !== problem) this.#logger.warn({ ...where, err: error }, `${text} (then less and less often, up to every ${MAX_RETRY_MS} ms, while it fails)`);
    else this.#logger.debug(where, text);
    this.#scheduleRetry();
  }

  #recovered(key: string, work: DeadLetterWork): void {
    const previous = this.#failing.get(key);
    if (previous === undefined) return;
    this.#failing.delete(key);
    this.#logger.info({ event: 'deadLetterRecovered', group: work.groupId, topic: work.topic, partition: work.partition, deadLetterTopic: work.deadLetterTopic, attempts: previous.attempts }, `copied the dead letters of ${work.topic}-${work.partition} to ${work.deadLetterTopic} after ${previous.attempts} failed attempt(s)`);
  }

  /** One timer, at the earliest back-off end. */
  #scheduleRetry(): void {
    const nowMs = monotonicMs(this.#clock);
    let atMs = Infinity;
    // A copy under way reschedules when it ends; one already due is started by the kick that set this.
    for (const [key, f] of this.#failing) if (!this.#busy.has(key) && f.nextAttemptMs > nowMs) atMs = Math.min(atMs, f.nextAttemptMs);
    if (atMs === Infinity || (this.#retry !== null && this.#retry.atMs <= atMs)) return;
    this.#retry?.cancel();
    const timer = this.#clock.schedule(atMs - nowMs, () => {
      this.#retry = null;
      this.kick();
      this.#scheduleRetry();
    });
    this.#retry = { cancel: () => timer.cancel(), atMs };
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

function keyOf(groupId: string, topic: string, partition: number): string {
  return `${groupId}\u0000${topic}\u0000${partition}`;
}
