/**
 * The share-group coordinator's runtime side: the machine (share-groups.ts)
 * lives in each GroupShard and is written through the group coordinator
 * (coordinator/runtime.ts: appended to `__consumer_offsets`, answered once
 * replicated); this connects it to the partitions it shares out.
 *
 * A ShareFetch: check the member and learn where each window ends (a read
 * of the machine), read what follows from the partitions, then one write
 * that applies the acknowledgements and acquires records, and the answer
 * with the batches holding them (those just read, and a read only for
 * records redelivered from inside the window). When nothing was acquired it waits (wake.ts)
 * up to maxWaitMs and looks again, without the acknowledgements (applied
 * once).
 */
import { Errors, type ErrorName } from '../../protocol/errors.js';
import type { DescribedShareGroup, ShareAcknowledgement, ShareFetchPartitionResult, ShareFetchRequest, ShareFetchResponse } from '../../protocol/messages.js';
import type { GroupCoordinator } from '../coordinator/runtime.js';
import { UnknownTopicOrPartitionError } from '../errors.js';
import type { Logger } from '../log.js';
import { monotonicMs, type Clock, type TimerHandle } from '../world/clock.js';
import { groupWireError } from '../handlers/group-errors.js';
import { DeadLetterCopier } from './dead-letters.js';
import { readBatchesHolding, readCandidates } from './partition-reader.js';
import type { ShareSource } from './sources.js';
import type { SharePartitionInput, SharePartitionResult } from './share-groups.js';
import type { Acquired, Candidates } from './window.js';
import { nextWake, watchChanges } from './wake.js';
import { applyByteBudget, type ReadPartition } from './byte-budget.js';
import { tp } from '../coordinator/partition-set.js';

/**
 * An answer reads redelivered records' batches for at most this share of
 * their lock: what it has not read by then is given back rather than
 * handed out with less than half its lock left. Never less than
 * ANSWER_READ_MIN_MS: a lock of a few ms cannot be kept anyway, and a read
 * cut off that early would give the same records back on every fetch.
 */
const ANSWER_READ_LOCK_SHARE = 0.5;
const ANSWER_READ_MIN_MS = 100;

/** How long after acquiring an answer may read its records. */
function answerReadMs(lockMs: number): number {
  return Math.max(ANSWER_READ_MIN_MS, lockMs * ANSWER_READ_LOCK_SHARE);
}

/** Looks run again at once after a change during the previous one, at most this many times per ShareFetch (each takes records in, so it ends anyway). */
const LOOK_AGAIN_MAX = 32;

export interface ShareServiceOptions {
  readonly coordinator: GroupCoordinator;
  /** Where a partition's records are read (its leader, here or on another broker), or why they cannot be. */
  readonly lookup: (topic: string, index: number) => ShareSource | Error;
  /** Called when the coordinator closes (remote connections). */
  readonly onClose?: () => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface Wanted {
  readonly topic: string;
  readonly partition: number;
  acknowledgements: readonly ShareAcknowledgement[];
  readonly source: ShareSource | Error;
}

type Refused = { errorName: ErrorName; message: string };

export class ShareService {
  readonly coordinator: GroupCoordinator;
  readonly #lookup: ShareServiceOptions['lookup'];
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly deadLetters: DeadLetterCopier;

  constructor(opts: ShareServiceOptions) {
    this.coordinator = opts.coordinator;
    this.#lookup = opts.lookup;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.deadLetters = new DeadLetterCopier({ coordinator: opts.coordinator, lookup: opts.lookup, partitions: (topic) => opts.coordinator.image.topics.get(topic)?.partitions, clock: opts.clock, logger: opts.logger });
    opts.coordinator.onChange(() => this.deadLetters.kick());
    opts.coordinator.onClose(() => {
      this.deadLetters.close();
      opts.onClose?.();
    });
  }

  nowMs(): number {
    return this.#clock.nowMs();
  }

  /**
   * The describe's oldest unsettled record where the window has none
   * unsettled but records wait after it: the timestamp of the first record
   * at or after the window's end (read from the leader); -1 when it cannot
   * be read.
   */
  async completeOldest(group: DescribedShareGroup): Promise<DescribedShareGroup> {
    const partitions = await Promise.all(
      group.partitions.map(async (p) => {
        if (p.oldestUnsettledTimestampMs !== -1 || p.highWatermark <= p.endOffset) return p;
        const source = this.#lookup(p.topic, p.partition);
        if (source instanceof Error) return p;
        const first = (await readCandidates(source.data, p.endOffset, 1).catch(() => null))?.records[0];
        return first === undefined ? p : { ...p, oldestUnsettledTimestampMs: first.timestampMs };
      }),
    );
    return { ...group, partitions };
  }

  /** The high watermark of a partition led here, or -1. */
  highWatermark(topic: string, index: number): number {
    const partition = this.#lookup(topic, index);
    return partition instanceof Error ? -1 : partition.data.highWatermark;
  }

  /** ShareFetch (and, with maxRecords 0 and no wait, ShareAcknowledge). */
  async fetch(request: ShareFetchRequest, signal?: AbortSignal): Promise<ShareFetchResponse> {
    const { groupId, memberId, memberEpoch } = request;
    const deadline = monotonicMs(this.#clock) + Math.max(0, request.maxWaitMs);
    const wanted: Wanted[] = request.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, acknowledgements: p.acknowledgements, source: this.#lookup(t.topic, p.partition) })));
    const failed = new Map<Wanted, SharePartitionResult['failed']>();
    // What a waiting look listens for: changes of this group touching these partitions (coordinator/changes.ts).
    const keys = new Set(wanted.map((w) => tp(w.topic, w.partition)));
    const partitions = wanted.flatMap((w) => (w.source instanceof Error || w.source.partition === null ? [] : [w.source.partition]));
    const onChange = (listener: () => void): (() => void) => this.coordinator.onGroupChange(groupId, keys, listener);
    let lookedAgain = 0;
    for (;;) {
      // Armed before the look: what lands between reading the window and waiting is not missed (watchChanges in wake.ts).
      const watch = watchChanges({ partitions, onChange });
      try {
        let rooms: { fromOffset: number; records: number }[];
        try {
          const looked = this.coordinator.read(groupId, (shard) => {
            const refused = shard.shares.has(groupId) || !shard.group(groupId) ? shard.shares.checkMember(groupId, memberId, memberEpoch) : { errorName: 'INCONSISTENT_GROUP_PROTOCOL' as const, message: `group ${groupId} is a consumer group` };
            return refused !== null ? { refused, rooms: null } : { refused: null, rooms: shard.shares.rooms(groupId, wanted) };
          });
          if (looked.refused !== null) return this.#refusal(looked.refused);
          rooms = looked.rooms!;
        } catch (error) {
          return this.#refusal(groupWireError(error, this.#logger, { api: 'ShareFetch', group: groupId }));
        }
        // Per partition, the batches the candidates came from: the answer carries them without a second read.
        const reads: ReadPartition[] = await Promise.all(
          wanted.map(async (w, i): Promise<ReadPartition> => {
            const batches: Uint8Array[] = [];
            let candidates: Candidates | null = null;
            const room = rooms[i]!;
            if (!(w.source instanceof Error) && request.maxRecords > 0 && room.records > 0) {
              candidates = await readCandidates(w.source.data, room.fromOffset, Math.min(room.records, request.maxRecords), batches).catch(() => null);
            }
            return { candidates, batches };
          }),
        );
        applyByteBudget(reads, request.maxBytes);
        const read = reads.map((r) => r.batches);
        // Settling needs only the coordinator's state, not the partition's data: acknowledgements apply wherever its leader is.
        const inputs: SharePartitionInput[] = wanted.map((w, i) => ({ topic: w.topic, partition: w.partition, acknowledgements: w.acknowledgements, candidates: reads[i]!.candidates, readable: !(w.source instanceof Error) }));
        // Locks start at the write's time: the answer's reads are bounded from here, the wait for replication included.
        const acquiringAtMs = monotonicMs(this.#clock);
        let result;
        try {
          result = await this.coordinator.run(groupId, (shard, nowMs) => shard.shares.fetch(groupId, memberId, memberEpoch, request.maxRecords, inputs, nowMs));
        } catch (error) {
          return this.#refusal(groupWireError(error, this.#logger, { api: 'ShareFetch', group: groupId }));
        }
        if (!result.ok) return this.#refusal(result);
        result.partitions.forEach((r, i) => {
          if (r.failed.length > 0) failed.set(wanted[i]!, [...(failed.get(wanted[i]!) ?? []), ...r.failed]);
        });
        // Acknowledgements are applied once; a later look only acquires.
        for (const w of wanted) w.acknowledgements = [];
        const acquired = result.partitions.reduce((n, r) => n + r.acquired.length, 0);
        const left = deadline - monotonicMs(this.#clock);
        if (acquired > 0 || left <= 0 || request.maxRecords <= 0 || signal?.aborted === true) {
          return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, acquisitionLockTimeoutMs: result.lockMs, topics: await this.#answer(request, wanted, result.partitions, failed, read, acquiringAtMs + answerReadMs(result.lockMs)) };
        }
        // Something changed while this look ran (its own write taking records in included): look again rather than wait for a change already gone by.
        const dataForRoom = wanted.some((w, i) => !(w.source instanceof Error) && w.source.partition !== null && rooms[i]!.records > 0 && watch.advanced.has(w.source.partition));
        if ((watch.coordinatorChanged || dataForRoom) && lookedAgain < LOOK_AGAIN_MAX) {
          lookedAgain += 1;
          continue;
        }
        // A partition led by another broker: a long-polling Fetch there, from where the window ends, stands in for onAdvance.
        // Not while the window is full: records already past its end would answer at once, for ever; a settlement (onChange) wakes it instead.
        const remote = wanted.flatMap((w, i) => (w.source instanceof Error || w.source.partition !== null || rooms[i]!.records === 0 ? [] : [w.source.waitForData(inputs[i]!.candidates?.toOffset ?? rooms[i]!.fromOffset, left)]));
        this.#logger.trace({ event: 'shareFetchWaiting', group: groupId, member: memberId, ms: left }, `share fetch of ${memberId} in ${groupId} waits up to ${left} ms`);
        const woken = await nextWake({ clock: this.#clock, ms: left, partitions, also: remote, onChange, ...(signal === undefined ? {} : { signal }) });
        this.#logger.trace({ event: 'shareFetchWoken', group: groupId, member: memberId, by: woken }, `share fetch of ${memberId} in ${groupId} woken by ${woken}`);
      } finally {
        watch.stop();
      }
    }
  }

  /**
   * The answer: per partition, the batches holding what was acquired. New
   * records come in batches read before acquiring them; redelivered ones
   * are read now, while their locks run, the partitions side by side, and
   * no later than `readUntilMs` (monotonic): a record not read by then (its
   * leader cut off or paused) is given back (ShareGroups.undeliver),
   * uncounted, instead of handed out with its lock spent. One whose read
   * failed (no leader, a batch that does not check out) is left out and
   * stays locked: its lock ends and counts as for an answer lost on the
   * way, so a partition that stays unreadable neither spins the fetch nor
   * keeps its records from ever reaching their attempt limit.
   */
  async #answer(request: ShareFetchRequest, wanted: readonly Wanted[], results: readonly SharePartitionResult[], failed: Map<Wanted, SharePartitionResult['failed']>, read: readonly Uint8Array[][], readUntilMs: number): Promise<ShareFetchResponse['topics']> {
    let timer: TimerHandle | null = null;
    const readUntil = new Promise<void>((resolve) => (timer = this.#clock.schedule(Math.max(0, readUntilMs - monotonicMs(this.#clock)), resolve)));
    let answers: ShareFetchPartitionResult[];
    try {
      answers = await Promise.all(wanted.map((w, i) => this.#answerPartition(request, w, results[i]!, failed.get(w) ?? [], read[i]!, readUntil)));
    } finally {
      (timer as TimerHandle | null)?.cancel();
    }
    const byTopic = new Map<string, ShareFetchPartitionResult[]>();
    for (const t of request.topics) byTopic.set(t.topic, []);
    wanted.forEach((w, i) => byTopic.get(w.topic)!.push(answers[i]!));
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  async #answerPartition(request: ShareFetchRequest, w: Wanted, r: SharePartitionResult, failedAcks: SharePartitionResult['failed'], known: readonly Uint8Array[], readUntil: Promise<void>): Promise<ShareFetchPartitionResult> {
    const source = w.source;
    let acquired = r.acquired;
    let records: Buffer = Buffer.alloc(0);
    let error: { code: number; message: string | null } = { code: 0, message: null };
    if (source instanceof Error && (request.maxRecords > 0 || source instanceof UnknownTopicOrPartitionError)) {
      const wire = groupWireError(source, this.#logger, { api: 'ShareFetch', topic: w.topic, partition: w.partition });
      error = { code: wire.code, message: wire.message };
    } else if (!(source instanceof Error) && acquired.length > 0) {
      const held = await readBatchesHolding(source.data, ascendingOffsets(acquired), known, readUntil);
      records = held.bytes;
      const late = new Set(held.late);
      const lost = new Set(held.failed);
      if (late.size > 0) this.#undeliver(request, w, acquired.filter((a) => late.has(a.offset)));
      if (lost.size > 0) {
        const why = held.failure === null ? 'the leader has no records there yet' : held.failure.message;
        this.#logger.info({ event: 'shareRecordsUnread', group: request.groupId, member: request.memberId, topic: w.topic, partition: w.partition, records: lost.size, why }, `share fetch of ${request.memberId} in ${request.groupId}: ${lost.size} record(s) of ${w.topic}-${w.partition} could not be read (${why}); left out, their locks will end them`);
        if (held.failure !== null && records.byteLength === 0) {
          const wire = groupWireError(held.failure, this.#logger, { api: 'ShareFetch', topic: w.topic, partition: w.partition });
          error = { code: wire.code, message: wire.message };
        }
      }
      if (late.size > 0 || lost.size > 0) acquired = acquired.filter((a) => !late.has(a.offset) && !lost.has(a.offset));
    }
    return {
      partition: w.partition,
      errorCode: error.code,
      errorMessage: error.message,
      failedAcknowledgements: failedAcks.map((f) => ({ firstOffset: f.firstOffset, lastOffset: f.lastOffset, errorCode: Errors[f.errorName].code })),
      records,
      acquiredRecords: ranges(acquired),
    };
  }

  /** Gives back records acquired for an answer that does not carry them; should that write fail, their locks end them as for an answer lost on the way. */
  #undeliver(request: ShareFetchRequest, w: Wanted, acquired: readonly Acquired[]): void {
    const { groupId, memberId } = request;
    this.#logger.info(
      { event: 'shareRecordsNotCarried', group: groupId, member: memberId, topic: w.topic, partition: w.partition, records: acquired.length },
      `share fetch of ${memberId} in ${groupId}: ${acquired.length} redelivered record(s) of ${w.topic}-${w.partition} not read in time from the partition's leader; given back`,
    );
    this.coordinator.run(groupId, (shard, nowMs) => shard.shares.undeliver(groupId, memberId, w.topic, w.partition, acquired, nowMs)).catch((error: unknown) => {
      this.#logger.info({ event: 'shareUndeliverFailed', group: groupId, member: memberId, error: String(error) }, `giving back records of ${w.topic}-${w.partition} in ${groupId} failed (their locks will end them): ${String(error)}`);
    });
  }

  #refusal(refused: Refused | { code: number; message: string }): ShareFetchResponse {
    const code = 'code' in refused ? refused.code : Errors[refused.errorName].code;
    return { throttleTimeMs: 0, errorCode: code, errorMessage: refused.message, acquisitionLockTimeoutMs: 0, topics: [] };
  }
}

/** The offsets of `acquired`, ascending (they mostly come so: new records are taken in in offset order, and then no sort is needed). */
function ascendingOffsets(acquired: readonly Acquired[]): number[] {
  const offsets = acquired.map((a) => a.offset);
  for (let i = 1; i < offsets.length; i++) if (offsets[i]! < offsets[i - 1]!) return offsets.sort((a, b) => a - b);
  return offsets;
}

/** Acquired offsets as ranges of consecutive offsets with one delivery count, ascending. */
export function ranges(acquired: readonly Acquired[]): { firstOffset: number; lastOffset: number; deliveryCount: number }[] {
  let ascending = true;
  for (let i = 1; ascending && i < acquired.length; i++) ascending = acquired[i]!.offset > acquired[i - 1]!.offset;
  const sorted = ascending ? acquired : [...acquired].sort((a, b) => a.offset - b.offset);
  const out: { firstOffset: number; lastOffset: number; deliveryCount: number }[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.lastOffset + 1 === a.offset && last.deliveryCount === a.deliveryCount) last.lastOffset = a.offset;
    else out.push({ firstOffset: a.offset, lastOffset: a.offset, deliveryCount: a.deliveryCount });
  }
  return out;
}
