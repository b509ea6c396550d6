/**
 * When a partition's appends become durable: group fsync.
 *
 * One flush round at a time. A round (`FlushTarget.flushRound`) syncs every
 * file with unsynced writes (and the directory, after a segment was
 * created) and reports the offset below which everything is now durable:
 * where the written bytes ended when its sync started (the log end, unless a
 * rolled segment is still pending in memory). A round may report progress
 * more than once: when segments are pending it makes them durable one after
 * another, each written only once the one before it is (the roll barrier),
 * and every step's waiters are released as soon as that step is durable.
 * Appends and waiters that arrive while a round is in flight are covered by
 * the next round, so under load one fdatasync serves many appends.
 *
 * Rounds start when:
 * - `fsync=always`: after every append (in a microtask, so appends made in
 *   the same tick share a round) and whenever someone waits for durability;
 * - `fsync=interval`: once `flush.messages` records are unflushed, or
 *   `flush.ms` after the first unflushed append (a Clock timer), or when
 *   someone calls `flush()` / `waitDurable()`.
 *
 * A failed round is final: the error goes to `onFailure` (which takes the
 * log offline), every waiter is rejected, and nothing is ever retried as if
 * the lost writes had been saved. Truncation lowers the durable offset and
 * caps the round in flight, whose sync may predate the truncation.
 */
import { assert } from '../world/assert.js';
import type { Clock, TimerHandle } from '../world/clock.js';
import type { LogConfig } from './log-config.js';

export interface FlushTarget {
  /** Where the log ends: waiters for offsets up to here are kept until a round covers them. */
  logEndOffset(): number;
  /**
   * Syncs every file written so far, and resolves with the offset below
   * which everything is then on stable storage (where the written bytes
   * ended when the sync started). It may make more durable in steps (pending
   * segments written and synced one after another), reporting each step's
   * durable end to `progress` before the next begins.
   */
  flushRound(progress: (durableEndOffset: number) => void): Promise<number>;
  /** Everything below `durableEndOffset` is now on stable storage. */
  onDurable(durableEndOffset: number): void;
  onFailure(err: unknown): Error;
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupFlusher {
  #durableEndOffset: number;
  #inFlight = false;
  #again = false;
  #kickQueued = false;
  #waiters: Waiter[] = [];
  #failure: Error | null = null;
  /** Lowest truncation point since the round in flight started. */
  #truncatedTo = Infinity;
  #timer: TimerHandle | null = null;
  #unflushedRecords = 0;
  #closed = false;

  constructor(
    private readonly target: FlushTarget,
    private readonly clock: Clock,
    private config: Pick<LogConfig, 'fsync' | 'flushMessages' | 'flushMs'>,
    durableEndOffset: number,
  ) {
    this.#durableEndOffset = durableEndOffset;
  }

  get durableEndOffset(): number {
    return this.#durableEndOffset;
  }

  updateConfig(config: Pick<LogConfig, 'fsync' | 'flushMessages' | 'flushMs'>): void {
    this.config = config;
    this.#timer?.cancel();
    this.#timer = null;
    if (this.target.logEndOffset() > this.#durableEndOffset) this.#afterAppend(0);
  }

  /** Called after every append with the number of records it added. */
  noteAppend(records: number): void {
    this.#unflushedRecords += records;
    this.#afterAppend(records);
  }

  #afterAppend(records: number): void {
    if (this.#failure !== null || this.#closed) return;
    if (this.config.fsync === 'always' || this.#unflushedRecords >= this.config.flushMessages) {
      this.#kick();
    } else if (this.#timer === null && this.config.flushMs < Number.MAX_SAFE_INTEGER && (records > 0 || this.target.logEndOffset() > this.#durableEndOffset)) {
      this.#timer = this.clock.schedule(this.config.flushMs, () => {
        this.#timer = null;
        this.request();
      });
    }
  }

  /** Starts a round at the end of this tick, so appends made in the same tick share it. */
  #kick(): void {
    if (this.#kickQueued) return;
    this.#kickQueued = true;
    queueMicrotask(() => {
      this.#kickQueued = false;
      this.request();
    });
  }

  /** Starts a round now, or makes sure another one follows the round in flight. */
  request(): void {
    if (this.#failure !== null) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#startRound();
  }

  /** Resolves once every offset below `offsetExclusive` (capped at the log end) is durable. */
  waitDurable(offsetExclusive: number): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const offset = Math.min(offsetExclusive, this.target.logEndOffset());
    if (offset <= this.#durableEndOffset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ offset, resolve, reject });
      this.request();
    });
  }

  /**
   * The log was truncated to `endOffset`: nothing at or above it is durable
   * any more, and whoever waited for offsets above it is told they are gone.
   */
  noteTruncation(endOffset: number, gone: (offset: number) => Error): void {
    this.#durableEndOffset = Math.min(this.#durableEndOffset, endOffset);
    if (this.#inFlight) this.#truncatedTo = Math.min(this.#truncatedTo, endOffset);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.offset <= endOffset) return true;
      waiter.reject(gone(waiter.offset));
      return false;
    });
  }

  /**
   * Everything below `offset` was synced outside a round (a truncation's own
   * sync, with no append since it began). Not capped like a round's report:
   * that sync covered the log as the truncation left it, even when it
   * restarted the log above a round's truncation point.
   */
  noteSynced(offset: number): void {
    this.#raise(offset);
  }

  #startRound(): void {
    assert(!this.#inFlight, 'one flush round at a time');
    this.#inFlight = true;
    this.#again = false;
    this.#truncatedTo = Infinity;
    this.#unflushedRecords = 0;
    this.#timer?.cancel();
    this.#timer = null;
    this.target.flushRound((reached) => this.#advance(reached)).then(
      (reached) => this.#roundDone(reached),
      (err: unknown) => this.#fail(this.target.onFailure(err)),
    );
  }

  /** Everything below `reached` (capped by a truncation during the round) is durable: tell the log, release waiters. */
  #advance(reached: number): void {
    this.#raise(Math.min(reached, this.#truncatedTo));
  }

  /** Everything below `durable` is durable: move the durable end up to it (never down), release waiters. */
  #raise(durable: number): void {
    if (this.#failure !== null) return;
    if (durable > this.#durableEndOffset) {
      this.#durableEndOffset = durable;
      this.target.onDurable(durable);
      // onDurable writes what waited for this point; if that failed, the log is offline now
      if (this.#failure !== null) return;
    }
    const stillWaiting: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.offset <= this.#durableEndOffset) waiter.resolve();
      else stillWaiting.push(waiter);
    }
    this.#waiters = stillWaiting;
  }

  #roundDone(reached: number): void {
    this.#inFlight = false;
    this.#advance(reached);
    if (this.#failure !== null) return;
    if (this.#again || this.#waiters.length > 0) this.#startRound();
    else if (this.target.logEndOffset() > this.#durableEndOffset) this.#afterAppend(0);
  }

  #fail(err: Error): void {
    this.#inFlight = false;
    this.#failure = err;
    this.#timer?.cancel();
    this.#timer = null;
    for (const waiter of this.#waiters) waiter.reject(err);
    this.#waiters = [];
  }

  /** Takes the flusher down with `err` (the log went offline for another reason). */
  fail(err: Error): void {
    if (this.#failure === null) this.#fail(err);
  }

  /** No more timers; rounds already started finish. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
  }
}
