/**
 * One partition's in-flight window for one share group: every record from
 * `startOffset` (all below it are settled) to `endOffset` (the next offset
 * not yet taken in), each with its state, delivery count, lock (holder and
 * absolute deadline on the coordinator's clock) and due time. Pure: time
 * comes in as `nowMs`, records from the log as RecordMeta the runtime read.
 *
 * The window never spans more than `maxInFlight` offsets: records past it
 * are not taken in until the oldest are settled (back-pressure, Kafka's
 * group.share.partition.max.record.locks). Offsets inside the window with no
 * entry are gaps (compacted away, or control records): nothing to deliver.
 *
 * The delay set: a delayed record (a future runnel.deliver.at, or released
 * with a delay) that has become the oldest unsettled record is parked out
 * of the window, so the start moves on and a record due in days does not
 * hold back the records after it (up to `maxDelayed` per partition; past
 * that, or with ordering "key", where a delayed record must hold its key
 * back, it stays in the window). A parked record is handed out from the
 * delay set when due, and settled there.
 *
 * Acquisitions look only at records that may be handed out (the
 * candidate index, candidate-index.ts), not at the whole window: O(records
 * handed out + stale offsets skipped), whatever the window holds.
 *
 * Every change marks the chunk (records.ts CHUNK_RECORDS offsets) or parked
 * record it touched; `flush` turns those and the bounds into records, so a
 * write is O(what changed), and `replay*` rebuilds the same window from them.
 */
import type { ShareAcknowledgement } from '../../protocol/messages.js';
import { CandidateIndex, KeyHeads } from './candidate-index.js';
import { OffsetTable } from './offset-table.js';
import { CHUNK_RECORDS, type ShareEntryValue, type SharePartitionValue } from './records.js';

export const RecordState = { AVAILABLE: 0, ACQUIRED: 1, ACCEPTED: 2, REJECTED: 3, DEAD_LETTER_REJECTED: 4, DEAD_LETTER_MAX_ATTEMPTS: 5 } as const;

export type Entry = ShareEntryValue;

/** What the coordinator needs to know of a record it takes into the window. */
export interface RecordMeta {
  readonly offset: number;
  /** A hash of the key (ordering=key); null: no key. */
  readonly keyHash: number | null;
  /** Not to be delivered before (runnel.deliver.at); 0: at once. */
  readonly dueMs: number;
  readonly timestampMs: number;
}

/** Records read from the partition: every record in [fromOffset, toOffset) there is (gaps and control records have none). */
export interface Candidates {
  readonly fromOffset: number;
  readonly toOffset: number;
  readonly records: readonly RecordMeta[];
}

export interface WindowPolicy {
  readonly lockMs: number;
  readonly maxAttempts: number;
  readonly deadLetter: boolean;
  readonly ordering: string;
  readonly maxInFlight: number;
  readonly maxDelayed: number;
}

export interface Acquired {
  readonly offset: number;
  readonly deliveryCount: number;
}

export interface PendingDeadLetter {
  readonly offset: number;
  readonly deliveryCount: number;
  readonly reason: 'rejected' | 'max-delivery-attempts';
  readonly error: string | null;
}

export type AckError = 'INVALID_RECORD_STATE' | 'INVALID_REQUEST';

const UNSETTLED: ReadonlySet<number> = new Set([RecordState.AVAILABLE, RecordState.ACQUIRED]);

/** When a window is loaded: now on this coordinator's clock, and when the record being replayed was written, on its writer's. */
export interface TimerRestart {
  nowMs: number;
  writtenAtMs: number;
}

/** A due time a release's delay set (the record was handed out before), not a producer's `deliver.at`. */
function isReleaseDelay(e: Entry): boolean {
  return e.state === RecordState.AVAILABLE && e.deliveryCount > 0 && e.dueMs > 0;
}

/**
 * A lock's end and a release's due time are instants on the clock of the
 * coordinator that wrote them, and after a failover this coordinator's
 * clock may disagree with it for good (a clock stepped by NTP or by hand):
 * ahead, a lock would end early and its record go to a second member while
 * the first still holds it; behind, a record would stay locked or delayed
 * long past its time. So each restarts at load with what was left of it
 * when it was written (its end minus the record's timestamp, both on the
 * writer's clock): never earlier than on the writer's clock, at the cost
 * of up to the time since that write more. A `deliver.at` stays an instant
 * the producer named. A record with no timestamp keeps its instants.
 */
function restartTimers(e: Entry, restart: TimerRestart | undefined): Entry {
  if (restart === undefined || restart.writtenAtMs <= 0) return e;
  const left = (atMs: number): number => restart.nowMs + Math.max(0, atMs - restart.writtenAtMs);
  if (e.state === RecordState.ACQUIRED && e.lockUntilMs > 0) e.lockUntilMs = left(e.lockUntilMs);
  else if (isReleaseDelay(e)) e.dueMs = left(e.dueMs);
  return e;
}

export class ShareWindow {
  /** -1 until the first fetch decides where the group starts reading. */
  startOffset = -1;
  endOffset = -1;
  accepted = 0;
  rejected = 0;
  deadLettered = 0;
  /** The window's records, by offset (in offset order). */
  readonly #entries = new OffsetTable<Entry>();
  /** The delay set: delayed records parked out of the window (offsets below the start), by offset. */
  readonly #parked = new Map<number, Entry>();
  #pruned = true;
  readonly #dirtyChunks = new Set<number>();
  readonly #dirtyParked = new Set<number>();
  #dirtyBounds = false;
  /** The ordering the candidate index was built for; null: to be rebuilt at the next acquisition (after a replay). */
  #indexedFor: 'key' | 'none' | null = null;
  /** Records of the window (the delay set) that may be available: every one that became so since the index was built. */
  readonly #windowCandidates = new CandidateIndex();
  readonly #parkedCandidates = new CandidateIndex();
  /** With ordering "key": each key's unsettled records, in offset order. */
  readonly #keyHeads = new KeyHeads();
  /** No lock ends and no delay comes due before this (a lower bound, kept on every change; null: recompute). */
  #deadlineHint: number | null = null;

  get started(): boolean {
    return this.startOffset >= 0;
  }

  /** Every record tracked, the delay set's first, then the window's, ascending by offset (for describe and tests). */
  entries(): Entry[] {
    this.#prune();
    return [...[...this.#parked.values()].sort((a, b) => a.offset - b.offset), ...this.#entries.values()];
  }

  get parkedCount(): number {
    return this.#parked.size;
  }

  entry(offset: number): Entry | undefined {
    return this.#entries.get(offset) ?? this.#parked.get(offset);
  }

  /**
   * Hands up to `max` records to `memberId`: available, due ones in the
   * window first (oldest first), then new ones from `candidates` (taken
   * into the window as far as it may grow). With ordering "key", a record
   * is handed out only while no earlier record of its key is unsettled.
   */
  acquire(memberId: string, max: number, nowMs: number, policy: WindowPolicy, candidates: Candidates | null): Acquired[] {
    const out: Acquired[] = [];
    if (max <= 0) return out;
    this.#prune();
    this.#ensureIndex(policy);
    const keyed = this.#indexedFor === 'key';
    /** Available and due, and with ordering "key" no earlier record of its key unsettled. */
    const eligible = (e: Entry): boolean =>
      e.state === RecordState.AVAILABLE && e.dueMs <= nowMs && (!keyed || e.keyHash === null || this.#keyHeads.head(e.keyHash, this.#isUnsettled) === e.offset);
    const take = (e: Entry): void => {
      e.state = RecordState.ACQUIRED;
      e.deliveryCount += 1;
      e.holder = memberId;
      e.lockUntilMs = nowMs + policy.lockMs;
      this.#hint(e.lockUntilMs);
      this.#touch(e.offset);
      out.push({ offset: e.offset, deliveryCount: e.deliveryCount });
    };
    // The delay set's first (they are older than the window), then the window's, oldest first; stale offsets are skipped.
    for (const [index, records] of [[this.#parkedCandidates, this.#parked], [this.#windowCandidates, this.#entries]] as const) {
      while (out.length < max) {
        const offset = index.next(nowMs);
        if (offset === undefined) break;
        const e = records.get(offset);
        if (e === undefined) continue;
        if (eligible(e)) take(e);
        // Popped as due, yet not due by this nowMs: the clock stepped back (Date.now() can). Offered again, or it would never come up.
        else if (e.state === RecordState.AVAILABLE && e.dueMs > nowMs) index.offer(offset, e.dueMs);
      }
    }
    if (candidates === null || out.length >= max) return out;
    if (!this.started) {
      this.startOffset = this.endOffset = candidates.fromOffset;
      this.#dirtyBounds = true;
    }
    if (candidates.fromOffset > this.endOffset) {
      // The log starts later than the window ends (retention or DeleteRecords took those records): nothing there to deliver.
      this.endOffset = candidates.fromOffset;
      this.#dirtyBounds = true;
    }
    if (candidates.fromOffset < this.endOffset && candidates.toOffset <= this.endOffset) return out;
    let all = true;
    for (const meta of candidates.records) {
      if (meta.offset < this.endOffset) continue;
      if (out.length >= max || meta.offset - this.startOffset >= policy.maxInFlight) {
        all = false;
        break;
      }
      const e: Entry = { offset: meta.offset, state: RecordState.AVAILABLE, deliveryCount: 0, holder: null, lockUntilMs: 0, dueMs: meta.dueMs, keyHash: meta.keyHash, timestampMs: meta.timestampMs, error: null };
      this.#entries.set(e.offset, e);
      this.#touch(e.offset);
      this.endOffset = meta.offset + 1;
      this.#dirtyBounds = true;
      if (keyed && e.keyHash !== null) this.#keyHeads.push(e.keyHash, e.offset);
      // Behind an unsettled record of its key it is not offered: the index offers it when that one settles (#keySettled).
      const blocked = keyed && e.keyHash !== null && this.#keyHeads.head(e.keyHash, this.#isUnsettled) !== e.offset;
      if (!blocked && e.dueMs <= nowMs) {
        take(e);
      } else {
        if (!blocked) this.#offer(e);
        this.#hint(e.dueMs);
      }
    }
    if (all && candidates.toOffset > this.endOffset) {
      this.endOffset = candidates.toOffset;
      this.#dirtyBounds = true;
    }
    this.#advance(nowMs, policy);
    return out;
  }

  /** How many more offsets the window may take in, and from where (for the runtime's read). */
  room(policy: WindowPolicy): { fromOffset: number; records: number } {
    if (!this.started) return { fromOffset: -1, records: policy.maxInFlight };
    return { fromOffset: this.endOffset, records: Math.max(0, policy.maxInFlight - (this.endOffset - this.startOffset)) };
  }

  /**
   * Applies one acknowledgement of `memberId`, all or nothing: every record
   * of the range must be held by the member with a live lock (gaps are
   * skipped); otherwise nothing changes and the error says why.
   */
  acknowledge(memberId: string, ack: ShareAcknowledgement, nowMs: number, policy: WindowPolicy): AckError | null {
    const { firstOffset, lastOffset, type } = ack;
    if (!Number.isSafeInteger(firstOffset) || !Number.isSafeInteger(lastOffset) || firstOffset > lastOffset || firstOffset < 0 || type < 1 || type > 4) return 'INVALID_REQUEST';
    if (type === 2 && ack.delayMs < 0) return 'INVALID_REQUEST';
    if (!this.started || lastOffset >= this.endOffset) return 'INVALID_RECORD_STATE';
    const held: Entry[] = [];
    const isHeld = (e: Entry): boolean => e.state === RecordState.ACQUIRED && e.holder === memberId && e.lockUntilMs > nowMs;
    if (firstOffset < this.startOffset) {
      // Below the window only parked records can be held, each of them: a range longer than the delay set cannot be.
      const below = Math.min(lastOffset, this.startOffset - 1) - firstOffset + 1;
      if (below > this.#parked.size) return 'INVALID_RECORD_STATE';
      for (let offset = firstOffset; offset < firstOffset + below; offset++) {
        const e = this.#parked.get(offset);
        if (e === undefined || !isHeld(e)) return 'INVALID_RECORD_STATE';
        held.push(e);
      }
    }
    for (let offset = Math.max(firstOffset, this.startOffset); offset <= lastOffset; offset++) {
      const e = this.#entries.get(offset);
      if (e === undefined) continue;
      if (!isHeld(e)) return 'INVALID_RECORD_STATE';
      held.push(e);
    }
    for (const e of held) {
      this.#touch(e.offset);
      switch (type) {
        case 1:
          e.state = RecordState.ACCEPTED;
          e.holder = null;
          this.accepted += 1;
          this.#dirtyBounds = true;
          this.#keySettled(e);
          break;
        case 2:
          this.#release(e, nowMs, ack.delayMs, ack.reason, policy);
          break;
        case 3:
          if (ack.reason !== null) e.error = ack.reason;
          this.#reject(e, 'rejected', policy);
          break;
        case 4:
          e.lockUntilMs = nowMs + (ack.lockMs < 0 ? policy.lockMs : ack.lockMs);
          this.#hint(e.lockUntilMs);
          break;
      }
    }
    this.#advance(nowMs, policy);
    return null;
  }

  /** Releases every record `memberId` holds (it left, or its session ended); true when something changed. */
  releaseHeldBy(memberId: string, nowMs: number, policy: WindowPolicy): boolean {
    let changed = false;
    for (const e of this.#all()) {
      if (e.state === RecordState.ACQUIRED && e.holder === memberId) {
        this.#release(e, nowMs, 0, null, policy);
        changed = true;
      }
    }
    if (changed) this.#advance(nowMs, policy);
    return changed;
  }

  /**
   * Gives back records acquired for `memberId` that its answer could not
   * carry (their batches were not read in time): available again at once,
   * and the delivery that never happened not counted. Only the acquisition
   * named (its delivery count): one that already ended, or was followed by
   * another, is left alone. Returns how many were given back.
   */
  undeliver(memberId: string, acquired: readonly Acquired[], nowMs: number, policy: WindowPolicy): number {
    let changed = 0;
    for (const a of acquired) {
      const e = this.entry(a.offset);
      if (e === undefined || e.state !== RecordState.ACQUIRED || e.holder !== memberId || e.deliveryCount !== a.deliveryCount) continue;
      e.deliveryCount -= 1;
      this.#release(e, nowMs, 0, null, policy);
      changed += 1;
    }
    if (changed > 0) this.#advance(nowMs, policy);
    return changed;
  }

  /** Releases records whose lock ended by `nowMs`; true when something changed. */
  expire(nowMs: number, policy: WindowPolicy): boolean {
    if (this.#deadlineHint !== null && this.#deadlineHint > nowMs) return false;
    let changed = false;
    for (const e of this.#all()) {
      if (e.state === RecordState.ACQUIRED && e.lockUntilMs <= nowMs) {
        this.#release(e, nowMs, 0, null, policy);
        changed = true;
      }
    }
    // Parking is decided against the time: a record at the start may have been due before and be delayed now.
    this.#advance(nowMs, policy);
    this.#deadlineHint = null;
    return changed;
  }

  /**
   * The coordinator's wall clock was stepped by `deltaMs`: a lock is a
   * visibility timeout, a duration from its acquisition, and a released
   * record's due time a delay from its release, so both move with the step
   * (and are written again with the window's next write). A `deliver.at`
   * stays: an instant the producer named.
   */
  wallClockStepped(deltaMs: number): boolean {
    let moved = false;
    for (const e of this.#all()) {
      if (e.state === RecordState.ACQUIRED && e.lockUntilMs > 0) {
        e.lockUntilMs += deltaMs;
      } else if (isReleaseDelay(e)) {
        e.dueMs += deltaMs;
        // Offered again at its new due time: the index still has the old one (a later one, after a step back, would hold it that long).
        this.#offer(e);
      } else {
        continue;
      }
      this.#touch(e.offset);
      moved = true;
    }
    this.#deadlineHint = null;
    return moved;
  }

  /** The earliest lock deadline, or due time after `afterMs` (a waiting fetch must learn of it), or null. */
  nextDeadlineMs(afterMs: number): number | null {
    if (this.#deadlineHint !== null && this.#deadlineHint > afterMs) return this.#deadlineHint === Infinity ? null : this.#deadlineHint;
    let next = Infinity;
    for (const e of this.#all()) {
      const at = e.state === RecordState.ACQUIRED ? e.lockUntilMs : e.state === RecordState.AVAILABLE && e.dueMs > afterMs ? e.dueMs : Infinity;
      if (at < next) next = at;
    }
    // Kept only while it lies ahead: a lock that ended but is not yet applied must come back at every look until the tick applies it.
    this.#deadlineHint = next > afterMs ? next : null;
    return next === Infinity ? null : next;
  }

  /** Rejected records whose copy to the dead-letter topic is still to be made. */
  pendingDeadLetters(): PendingDeadLetter[] {
    const out: PendingDeadLetter[] = [];
    for (const e of this.#all()) {
      if (e.state === RecordState.DEAD_LETTER_REJECTED || e.state === RecordState.DEAD_LETTER_MAX_ATTEMPTS) {
        out.push({ offset: e.offset, deliveryCount: e.deliveryCount, reason: e.state === RecordState.DEAD_LETTER_REJECTED ? 'rejected' : 'max-delivery-attempts', error: e.error });
      }
    }
    return out;
  }

  /** The copy of `offset` is in the dead-letter topic: it is settled. */
  deadLetterCopied(offset: number, nowMs: number, policy: WindowPolicy): boolean {
    const e = this.entry(offset);
    if (e === undefined || (e.state !== RecordState.DEAD_LETTER_REJECTED && e.state !== RecordState.DEAD_LETTER_MAX_ATTEMPTS)) return false;
    e.state = RecordState.REJECTED;
    this.deadLettered += 1;
    this.#dirtyBounds = true;
    this.#touch(offset);
    this.#advance(nowMs, policy);
    return true;
  }

  // ---- records ----

  value(): SharePartitionValue {
    return { startOffset: this.startOffset, endOffset: this.endOffset, accepted: this.accepted, rejected: this.rejected, deadLettered: this.deadLettered };
  }

  /** The bounds (when changed) and every chunk changed since the last flush: null entries for a chunk now empty. */
  flush(): { bounds: SharePartitionValue | null; chunks: { chunk: number; entries: Entry[] | null }[]; parked: { offset: number; entry: Entry | null }[] } {
    const bounds = this.#dirtyBounds ? this.value() : null;
    const chunks: { chunk: number; entries: Entry[] | null }[] = [];
    for (const chunk of [...this.#dirtyChunks].sort((a, b) => a - b)) {
      const entries: Entry[] = [];
      // A chunk wholly below the start holds nothing (pruned entries are all in [start, end)): no lookups for its tombstone.
      const below = this.#pruned && (chunk + 1) * CHUNK_RECORDS <= this.startOffset;
      for (let offset = chunk * CHUNK_RECORDS; !below && offset < (chunk + 1) * CHUNK_RECORDS; offset++) {
        const e = this.#entries.get(offset);
        if (e !== undefined) entries.push({ ...e });
      }
      chunks.push({ chunk, entries: entries.length > 0 ? entries : null });
    }
    const parked = [...this.#dirtyParked].sort((a, b) => a - b).map((offset) => {
      const e = this.#parked.get(offset);
      return { offset, entry: e === undefined ? null : { ...e } };
    });
    this.#dirtyBounds = false;
    this.#dirtyChunks.clear();
    this.#dirtyParked.clear();
    return { bounds, chunks, parked };
  }

  replayBounds(value: SharePartitionValue): void {
    this.startOffset = value.startOffset;
    this.endOffset = value.endOffset;
    this.accepted = value.accepted;
    this.rejected = value.rejected;
    this.deadLettered = value.deadLettered;
    this.#replayed();
  }

  /**
   * A chunk read back at load: `restart` (the load's time, and the time on
   * the writer's clock the record was written at) restarts its timers
   * (`restartTimers`); without it they are kept as written.
   */
  replayChunk(chunk: number, entries: readonly Entry[] | null, restart?: TimerRestart): void {
    for (let offset = chunk * CHUNK_RECORDS; offset < (chunk + 1) * CHUNK_RECORDS; offset++) this.#entries.delete(offset);
    for (const e of entries ?? []) this.#entries.set(e.offset, restartTimers({ ...e }, restart));
    this.#replayed();
  }

  replayParked(offset: number, entry: Entry | null, restart?: TimerRestart): void {
    if (entry === null) this.#parked.delete(offset);
    else this.#parked.set(offset, restartTimers({ ...entry, offset }, restart));
    this.#replayed();
  }

  #replayed(): void {
    this.#pruned = false;
    this.#indexedFor = null;
    this.#deadlineHint = null;
  }

  // ---- internals ----

  #release(e: Entry, nowMs: number, delayMs: number, reason: string | null, policy: WindowPolicy): void {
    e.holder = null;
    e.lockUntilMs = 0;
    if (reason !== null) e.error = reason;
    this.#touch(e.offset);
    if (e.deliveryCount >= policy.maxAttempts) {
      this.#reject(e, 'max-delivery-attempts', policy);
      return;
    }
    e.state = RecordState.AVAILABLE;
    e.dueMs = delayMs > 0 ? nowMs + delayMs : 0;
    this.#hint(e.dueMs);
    this.#offer(e);
  }

  #reject(e: Entry, why: 'rejected' | 'max-delivery-attempts', policy: WindowPolicy): void {
    e.holder = null;
    e.lockUntilMs = 0;
    this.rejected += 1;
    this.#dirtyBounds = true;
    this.#touch(e.offset);
    e.state = !policy.deadLetter ? RecordState.REJECTED : why === 'rejected' ? RecordState.DEAD_LETTER_REJECTED : RecordState.DEAD_LETTER_MAX_ATTEMPTS;
    this.#keySettled(e);
  }

  /**
   * Moves the start past settled records (their entries go; their chunks
   * are rewritten, or emptied), and past delayed ones, parked in the delay
   * set while it has room. Settled parked records leave the delay set.
   */
  #advance(nowMs: number, policy: WindowPolicy): void {
    this.#prune();
    // A parked record changes only through #touch, which marks it dirty: only those can have been settled since.
    for (const offset of this.#dirtyParked) {
      const e = this.#parked.get(offset);
      if (e !== undefined && (e.state === RecordState.ACCEPTED || e.state === RecordState.REJECTED)) this.#parked.delete(offset);
    }
    let start = this.endOffset;
    for (let e = this.#entries.first(); e !== undefined; e = this.#entries.first()) {
      const offset = e.offset;
      const settled = e.state === RecordState.ACCEPTED || e.state === RecordState.REJECTED;
      const park = !settled && e.state === RecordState.AVAILABLE && e.dueMs > nowMs && policy.ordering !== 'key' && this.#parked.size < policy.maxDelayed;
      if (settled || park) {
        this.#entries.delete(offset);
        this.#touch(offset);
        if (park) {
          this.#parked.set(offset, e);
          this.#dirtyParked.add(offset);
          this.#offer(e);
        }
        continue;
      }
      start = offset;
      break;
    }
    if (start !== this.startOffset) {
      this.startOffset = start;
      this.#dirtyBounds = true;
    }
  }

  /**
   * Builds the candidate index from every record, when there is none for
   * this ordering (a new window's is empty and built at once; after a
   * replay, once: O(window)).
   */
  #ensureIndex(policy: WindowPolicy): void {
    const ordering = policy.ordering === 'key' ? 'key' : 'none';
    if (this.#indexedFor === ordering) return;
    this.#windowCandidates.clear();
    this.#parkedCandidates.clear();
    this.#keyHeads.clear();
    this.#indexedFor = ordering;
    // Ascending offsets (the delay set's lie below the window's): each key's queue is in offset order.
    const all = [...[...this.#parked.values()].sort((a, b) => a.offset - b.offset), ...this.#entries.values()];
    for (const e of all) {
      if (ordering === 'key' && e.keyHash !== null && UNSETTLED.has(e.state)) this.#keyHeads.push(e.keyHash, e.offset);
      if (e.state === RecordState.AVAILABLE) this.#offer(e);
    }
  }

  /** `e` became available (or may be, its key freed): the index offers it to acquisitions, in the delay set's or the window's. */
  #offer(e: Entry): void {
    if (this.#indexedFor === null) return;
    (this.#parked.has(e.offset) ? this.#parkedCandidates : this.#windowCandidates).offer(e.offset, e.dueMs);
  }

  /** `e` is settled (or dead-letter pending): with ordering "key", the next record of its key may go out. */
  #keySettled(e: Entry): void {
    if (this.#indexedFor !== 'key' || e.keyHash === null) return;
    const head = this.#keyHeads.head(e.keyHash, this.#isUnsettled);
    const next = head === undefined ? undefined : this.entry(head);
    if (next !== undefined && next.state === RecordState.AVAILABLE) this.#offer(next);
  }

  readonly #isUnsettled = (offset: number): boolean => {
    const e = this.entry(offset);
    return e !== undefined && UNSETTLED.has(e.state);
  };

  /** The window's and the delay set's records. */
  *#all(): IterableIterator<Entry> {
    yield* this.#parked.values();
    yield* this.#entries.values();
  }

  /** A lock end or due time was set: the next deadline is no later than it. */
  #hint(atMs: number): void {
    if (atMs > 0 && this.#deadlineHint !== null && atMs < this.#deadlineHint) this.#deadlineHint = atMs;
  }

  #touch(offset: number): void {
    if (this.#parked.size > 0 && this.#parked.has(offset)) this.#dirtyParked.add(offset);
    else this.#dirtyChunks.add(Math.floor(offset / CHUNK_RECORDS));
  }

  /** After a replay: entries outside [start, end) (a chunk's records the start had passed, or the window never reached) are dropped. */
  #prune(): void {
    if (this.#pruned) return;
    for (const e of this.#entries.values()) if (e.offset < this.startOffset || e.offset >= this.endOffset) this.#entries.delete(e.offset);
    this.#pruned = true;
  }
}
