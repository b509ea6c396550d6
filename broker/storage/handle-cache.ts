/**
 * A budget of open file descriptors for the partition logs, so the number of
 * partitions a broker holds is not bounded by `ulimit -n` / 3 (as Redpanda's
 * descriptor cache, and unlike Kafka, which keeps every segment open).
 *
 * `HandleCache` is a FileSystem that wraps another. Its `open` returns a
 * handle that opens its file at once (so a missing file fails where it
 * always did, and `w+` empties the file once), then may give its descriptor
 * back while idle and take one again, by path, on its next use. Least
 * recently used handles give theirs back first, whenever opening one more
 * would pass the budget. Everything else passes through; the operations that
 * need a descriptor only for a moment (`fsyncDir`, `writeFileAtomic`,
 * `readFile`) wait for one of a few transient slots, so a burst of them
 * (every partition checkpointing at once) cannot run the process out.
 *
 * What makes that safe:
 *
 * - Reads and writes are synchronous (file-system.ts), so nothing can evict
 *   a handle while a read or write on it is running: a read "pins" the
 *   descriptor for exactly as long as it runs. An fdatasync is asynchronous:
 *   a handle with one in flight is never evicted (the descriptor may not
 *   close under the thread pool's fdatasync, its number could be reused).
 * - A handle written since its last fdatasync ("dirty") is never simply
 *   closed: it is fdatasynced first, and closed only if it was not used
 *   again meanwhile. A failed sync, the owner's or the cache's, poisons the
 *   handle: every later write, truncate and datasync on it throws that
 *   error, so a write that may not have reached the disk is never reported
 *   durable (a new descriptor's fdatasync might not see an error an old
 *   one's writeback met).
 * - Derived files (`setDerived(true)`: the active segment's indexes, which
 *   recovery rebuilds from the log and nothing trusts after a crash) are
 *   not dirty for their writes: they close like clean ones. Their owner
 *   turns that off before writes it will make durable (a roll's sealed
 *   indexes); writes made while derived still reach the disk with the next
 *   fdatasync of the file through any descriptor (the page cache belongs to
 *   the file, not the descriptor).
 * - A reopen checks that the path still leads to the file first opened
 *   (`identity()`: device and inode). A file renamed or removed while its
 *   handle was idle fails loudly (ESTALE / ENOENT) instead of reading
 *   whatever now has that name. Code that renames a file it still reads
 *   (a compaction swap) calls `keepOpen()` first.
 *
 * When the disk is flushed, so that the event loop waits for it only as a
 * last resort:
 *
 * - Ahead of need: once the cache holds `budget - cleanReserve`
 *   descriptors, every open starts background fdatasyncs (while sync
 *   slots are free, see below) of the dirty idle handles among the
 *   `cleanReserve` least recently used, so the next opens find clean
 *   handles to close at once. A handle synced ahead stays open while the
 *   cache is within its budget.
 * - At the budget: an open closes clean idle handles, least recently used
 *   first. Dirty ones it meets are synced in the background and closed when
 *   the sync ends if the cache is still at or over its budget; meanwhile the
 *   open goes over the budget.
 * - Past the budget plus `overdraft` (opens faster than the disk syncs, or
 *   a burst of writes to more files than `cleanReserve + overdraft` in one
 *   turn of the event loop, e.g. one Produce to hundreds of partitions with
 *   fsync=interval), or owners' syncs holding every sync slot: the least
 *   recently used idle handle is synced on the calling thread
 *   (`datasyncSync`) if dirty, and closed. The event loop waits
 *   for a disk flush rather than the process running out of descriptors.
 * - Handles syncing, the owner's fdatasyncs or the cache's, are bounded: at
 *   most `#syncsMax` (the clean reserve, at least 4, fewer than budget +
 *   overdraft) hold their descriptor for a sync at once. An owner's
 *   `datasync` waits for a slot, first come first served, before it takes a
 *   descriptor (one on a handle already syncing needs none), and the
 *   cache's syncs ahead start only when a slot is free and nobody waits.
 *   So an open past the overdraft always finds a handle it may sync and
 *   close, however slow the disk or late the event loop: without the bound,
 *   a flush round of every partition at once (their flush.ms timers firing
 *   together on a busy event loop) held a descriptor per partition, past
 *   the budget and into EMFILE. A `datasync` on a handle without a
 *   descriptor and not written since does nothing: every write went through
 *   descriptors that were synced before they closed.
 * - EMFILE/ENFILE on an open (sockets or other code took descriptors the
 *   budget counted on): every idle clean handle is closed, background syncs
 *   start on idle dirty ones (closed when they end), and the open is tried
 *   once more. Only if no clean handle could be closed is one dirty handle
 *   synced on the calling thread and closed first.
 *
 * The budget is soft: opens may pass it by up to `overdraft` descriptors
 * while written files are synced to be closed; the broker leaves headroom
 * for that (broker/descriptor-budget.ts). Only handles kept open
 * (`keepOpen`, a few per compaction) can push it further. `stats().peak`
 * says how many the cache held at most. Not thread-safe: the event loop
 * only.
 */
import { assert } from '../world/assert.js';
import { isErrno, type FileHandle, type FileStat, type FileSystem, type OpenFlags } from '../world/file-system.js';
import { silentLogger, type StorageLogger } from './storage-logger.js';

export interface HandleCacheOptions {
  /** Descriptors the cached handles may hold at once (soft, see above). */
  budget: number;
  /** Concurrent fsyncDir / writeFileAtomic / readFile calls (each needs a descriptor for its duration). */
  transientSlots?: number;
  /** Descriptors past the budget that written files may hold before they are synced and closed on the spot. */
  overdraft?: number;
  /** How many least recently used handles are synced ahead of need once the cache nears its budget (default: see `defaultCleanReserve`). */
  cleanReserve?: number;
  logger?: StorageLogger;
}

export interface HandleCacheStats {
  /** Descriptors held by cached handles now. */
  open: number;
  budget: number;
  /** Handles open (not yet closed by their owner), with or without a descriptor. */
  handles: number;
  /** Descriptors taken again by a handle that had given its own back. */
  reopens: number;
  /** Descriptors given back while idle. */
  evictions: number;
  /** fdatasyncs the cache ran in the background: ahead of need, or to close a written file. */
  backgroundSyncs: number;
  /** fdatasyncs the cache ran on the event loop (past the overdraft, or out of descriptors with nothing clean to close). */
  blockingSyncs: number;
  /** Opens that found nothing to evict and went over the budget. */
  overBudget: number;
  /** The most descriptors the cached handles held at once (at most budget + overdraft, see the file comment). */
  peak: number;
}

export const DEFAULT_TRANSIENT_SLOTS = 8;
export const DEFAULT_OVERDRAFT = 8;
/** Least recently used handles an open looks at for one to close, past the clean reserve and the handles syncing. */
const EVICTION_SCAN_MAX = 32;
/**
 * Handles syncing at once (the owners' fdatasyncs and the cache's), at
 * least: each holds its descriptor until done. The cache allows as many as
 * its clean reserve, so one round of syncs can make the whole reserve clean
 * again; the libuv thread pool runs 4 at a time anyway.
 */
const SYNCS_MIN = 4;

/** An eighth of the budget, at least twice the overdraft, at most the budget. */
export function defaultCleanReserve(budget: number, overdraft: number): number {
  return Math.min(budget, Math.max(2 * overdraft, Math.ceil(budget / 8)));
}

function staleError(filePath: string): Error {
  return Object.assign(new Error(`ESTALE: ${filePath} is no longer the file this handle opened (renamed or replaced while its descriptor was closed)`), { code: 'ESTALE' });
}

function isOutOfDescriptors(err: unknown): boolean {
  return isErrno(err, 'EMFILE') || isErrno(err, 'ENFILE');
}

/** A handle whose descriptor comes and goes; one per `HandleCache.open`. */
class CachedHandle implements FileHandle {
  /** The descriptor, when this handle holds one. */
  inner: FileHandle | null;
  readonly #identity: string;
  readonly #reopenFlags: OpenFlags;
  /** Written or truncated since the last fdatasync started (writes made while `derived` do not count). */
  dirty = false;
  /** Derived data: closing the descriptor needs no fdatasync first (see the file comment). */
  derived = false;
  /** Written while derived since the last fdatasync started: dirty again if the owner turns `derived` off. */
  #derivedWrites = false;
  kept = false;
  closed = false;
  /** fdatasyncs in flight (the owner's and the cache's): the descriptor stays until they finish. */
  readonly syncs = new Set<Promise<void>>();
  #failure: unknown = null;
  /** Bumped by every use: an eviction sync does not close a handle used meanwhile. */
  uses = 0;
  /** LRU links: `newer` toward the most recently used end. */
  newer: CachedHandle | null = null;
  older: CachedHandle | null = null;

  constructor(
    private readonly cache: HandleCache,
    readonly path: string,
    flags: OpenFlags,
    inner: FileHandle,
    identity: string,
  ) {
    this.inner = inner;
    this.#identity = identity;
    // `w+` empties the file: only the first open may do that.
    this.#reopenFlags = flags === 'r' ? 'r' : 'r+';
  }

  get evictable(): boolean {
    return this.inner !== null && !this.kept && this.syncs.size === 0;
  }

  #descriptor(): FileHandle {
    if (this.closed) throw Object.assign(new Error(`EBADF: ${this.path} is closed`), { code: 'EBADF' });
    this.uses += 1;
    if (this.inner === null) this.inner = this.#reopen();
    this.cache.touch(this);
    return this.inner;
  }

  /** A descriptor again, for the same file (see `identity()`). */
  #reopen(): FileHandle {
    const inner = this.cache.reopen(this.path, this.#reopenFlags);
    let identity: string;
    try {
      identity = inner.identity();
    } catch (err) {
      this.cache.discard(inner);
      throw err;
    }
    if (identity !== this.#identity) {
      this.cache.discard(inner);
      throw staleError(this.path);
    }
    return inner;
  }

  #writable(): FileHandle {
    if (this.#failure !== null) throw this.#failure;
    const inner = this.#descriptor();
    if (this.derived) this.#derivedWrites = true;
    else this.dirty = true;
    return inner;
  }

  setDerived(derived: boolean): void {
    if (derived === this.derived) return;
    this.derived = derived;
    if (derived) {
      this.#derivedWrites ||= this.dirty;
      this.dirty = false;
    } else {
      // From here on the owner will ask for durability: what is still unsynced is synced before the descriptor goes.
      this.dirty = this.#derivedWrites;
      this.#derivedWrites = false;
    }
  }

  write(data: Uint8Array, position: number): void {
    this.#writable().write(data, position);
  }

  read(target: Uint8Array, offset: number, length: number, position: number): number {
    return this.#descriptor().read(target, offset, length, position);
  }

  sizeBytes(): number {
    return this.#descriptor().sizeBytes();
  }

  truncate(sizeBytes: number): void {
    this.#writable().truncate(sizeBytes);
  }

  async datasync(): Promise<void> {
    // The descriptor is held until the fdatasync ends: that takes one of the cache's sync slots (see the file comment).
    if (!this.cache.reserveSync(this)) await this.cache.syncSlotFreed();
    let started: Promise<void>;
    let earlier: Promise<void>[];
    try {
      if (this.#failure !== null) throw this.#failure;
      // No descriptor and nothing written since: every write went through descriptors synced before they closed.
      if (this.inner === null && !this.closed && !this.dirty && !this.#derivedWrites) return;
      const inner = this.#descriptor();
      // Syncs already in flight (an eviction's among them) cover writes this one must not report durable if they fail.
      earlier = [...this.syncs];
      started = this.sync(inner);
    } finally {
      // Started or not, the reservation ends here: a sync in flight holds its handle's slot itself.
      this.cache.unreserveSync();
    }
    await started;
    await Promise.all(earlier);
    if (this.#failure !== null) throw this.#failure;
  }

  datasyncSync(): void {
    if (this.#failure !== null) throw this.#failure;
    this.syncNow(this.#descriptor());
  }

  /** fdatasync on this thread (none may be in flight on `inner`); a failure poisons the handle. */
  syncNow(inner: FileHandle): void {
    this.dirty = false;
    this.#derivedWrites = false;
    try {
      inner.datasyncSync();
    } catch (err) {
      this.#failure ??= err;
      throw err;
    }
  }

  /** One fdatasync on `inner`, tracked; a failure poisons the handle. */
  sync(inner: FileHandle): Promise<void> {
    this.dirty = false;
    this.#derivedWrites = false;
    const done = inner.datasync().catch((err: unknown) => {
      this.#failure ??= err;
      throw err;
    });
    const tracked = done.catch(() => undefined).finally(() => {
      this.syncs.delete(tracked);
      this.cache.synced(this);
    });
    if (this.syncs.size === 0) this.cache.syncStarted();
    this.syncs.add(tracked);
    // Settles once the bookkeeping is done: a caller sees the handle no longer syncing.
    return tracked.then(() => done);
  }

  identity(): string {
    return this.#identity;
  }

  keepOpen(): void {
    this.#descriptor();
    this.kept = true;
  }

  close(): void {
    if (this.closed) throw Object.assign(new Error(`EBADF: ${this.path} is closed twice`), { code: 'EBADF' });
    this.closed = true;
    this.cache.forget(this);
  }
}

export class HandleCache implements FileSystem {
  readonly #inner: FileSystem;
  readonly #budget: number;
  readonly #overdraft: number;
  readonly #cleanReserve: number;
  /** Handles that may hold their descriptor for an fdatasync at once. */
  readonly #syncsMax: number;
  readonly #logger: StorageLogger;
  /** Most and least recently used handles holding a descriptor (or syncing to give it back). */
  #newest: CachedHandle | null = null;
  #oldest: CachedHandle | null = null;
  #open = 0;
  #handles = 0;
  #reopens = 0;
  #evictions = 0;
  #backgroundSyncsRun = 0;
  #blockingSyncs = 0;
  /** Handles with an fdatasync in flight (the owner's or the cache's): their descriptors cannot be given back. */
  #syncing = 0;
  /** Sync slots promised to owners' `datasync` calls about to start one. */
  #syncsReserved = 0;
  /** Owners' `datasync` calls waiting for a sync slot, first come first served. */
  readonly #syncWaiters: (() => void)[] = [];
  #overBudget = 0;
  #peak = 0;
  #transientFree: number;
  readonly #transientWaiters: (() => void)[] = [];

  constructor(inner: FileSystem, opts: HandleCacheOptions) {
    assert(Number.isInteger(opts.budget) && opts.budget >= 1, 'a descriptor budget holds at least one file', { budget: opts.budget });
    this.#inner = inner;
    this.#budget = opts.budget;
    this.#overdraft = opts.overdraft ?? DEFAULT_OVERDRAFT;
    this.#cleanReserve = opts.cleanReserve ?? defaultCleanReserve(this.#budget, this.#overdraft);
    assert(Number.isInteger(this.#cleanReserve) && this.#cleanReserve >= 0 && this.#cleanReserve <= this.#budget, 'the clean reserve lies within the budget', { cleanReserve: this.#cleanReserve, budget: this.#budget });
    // Fewer than budget + overdraft, so that an open past the overdraft always finds a descriptor it may close.
    this.#syncsMax = Math.max(1, Math.min(Math.max(SYNCS_MIN, this.#cleanReserve), this.#budget + this.#overdraft - 1));
    this.#transientFree = opts.transientSlots ?? DEFAULT_TRANSIENT_SLOTS;
    this.#logger = opts.logger ?? silentLogger;
  }

  stats(): HandleCacheStats {
    return {
      open: this.#open,
      budget: this.#budget,
      handles: this.#handles,
      reopens: this.#reopens,
      evictions: this.#evictions,
      backgroundSyncs: this.#backgroundSyncsRun,
      blockingSyncs: this.#blockingSyncs,
      overBudget: this.#overBudget,
      peak: this.#peak,
    };
  }

  /* ------------------------------------------------------ FileSystem */

  open(filePath: string, flags: OpenFlags): FileHandle {
    const inner = this.#openInner(filePath, flags);
    let identity: string;
    try {
      identity = inner.identity();
    } catch (err) {
      this.discard(inner);
      throw err;
    }
    const handle = new CachedHandle(this, filePath, flags, inner, identity);
    this.#handles += 1;
    this.touch(handle);
    return handle;
  }

  /** Locks are not cached: the descriptor is the lock. */
  openLocked(filePath: string): FileHandle | null {
    return this.#inner.openLocked(filePath);
  }

  stat(filePath: string): Promise<FileStat | null> {
    return this.#inner.stat(filePath);
  }

  readdir(dir: string): Promise<string[]> {
    return this.#transient(() => this.#inner.readdir(dir));
  }

  mkdirp(dir: string): Promise<void> {
    return this.#inner.mkdirp(dir);
  }

  rename(from: string, to: string): Promise<void> {
    return this.#inner.rename(from, to);
  }

  unlink(filePath: string): Promise<void> {
    return this.#inner.unlink(filePath);
  }

  removeTree(dir: string): Promise<void> {
    return this.#transient(() => this.#inner.removeTree(dir));
  }

  fsyncDir(dir: string): Promise<void> {
    return this.#transient(() => this.#inner.fsyncDir(dir));
  }

  readFile(filePath: string): Promise<Uint8Array> {
    return this.#transient(() => this.#inner.readFile(filePath));
  }

  writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    return this.#transient(() => this.#inner.writeFileAtomic(filePath, data));
  }

  /* ------------------------------------------- for CachedHandle only */

  /** @internal a descriptor again for a handle that gave its own back (counted as held) */
  reopen(filePath: string, flags: OpenFlags): FileHandle {
    this.#reopens += 1;
    return this.#openInner(filePath, flags);
  }

  /** @internal closes a descriptor from `reopen` that no handle took */
  discard(inner: FileHandle): void {
    this.#open -= 1;
    inner.close();
  }

  /** @internal `handle` is being used: it becomes the most recently used */
  touch(handle: CachedHandle): void {
    if (this.#newest === handle) return;
    if (handle.newer !== null || handle.older !== null || this.#oldest === handle) this.#unlink(handle);
    handle.older = this.#newest;
    handle.newer = null;
    if (this.#newest !== null) this.#newest.newer = handle;
    this.#newest = handle;
    this.#oldest ??= handle;
  }

  /**
   * @internal A sync slot for an owner's `datasync` on `handle`, taken at
   * once if nobody waits and one is free (or `handle` is syncing already:
   * its descriptor is held anyway); false: wait for `syncSlotFreed`.
   * Either way the caller ends with `unreserveSync`.
   */
  reserveSync(handle: CachedHandle): boolean {
    if (this.#syncWaiters.length > 0 || (handle.syncs.size === 0 && !this.#syncSlotFree())) return false;
    this.#syncsReserved += 1;
    return true;
  }

  /** @internal resolves once a sync slot is reserved for the caller */
  syncSlotFreed(): Promise<void> {
    return new Promise<void>((resolve) => this.#syncWaiters.push(resolve));
  }

  /** @internal the sync a reservation was for has started (holding its handle's slot), or will not */
  unreserveSync(): void {
    this.#syncsReserved -= 1;
    this.#wakeSyncWaiters();
  }

  /** @internal `handle` starts its first fdatasync in flight: it holds a sync slot until the last one ends */
  syncStarted(): void {
    this.#syncing += 1;
  }

  /** @internal an fdatasync on `handle` finished: a closed handle may now give its descriptor back */
  synced(handle: CachedHandle): void {
    if (handle.syncs.size > 0) return;
    this.#syncing -= 1;
    if (handle.closed) this.#release(handle);
    this.#wakeSyncWaiters();
  }

  /** @internal the owner closed `handle` */
  forget(handle: CachedHandle): void {
    this.#handles -= 1;
    this.#unlink(handle);
    if (handle.syncs.size === 0) this.#release(handle);
  }

  /* --------------------------------------------------------- private */

  /** A descriptor, counted as held from here on. */
  #openInner(filePath: string, flags: OpenFlags): FileHandle {
    this.#makeRoom();
    let inner: FileHandle;
    try {
      inner = this.#inner.open(filePath, flags);
    } catch (err) {
      if (!isOutOfDescriptors(err)) throw err;
      const closed = this.#outOfDescriptors();
      this.#logger.warn({ file: filePath, closed, open: this.#open, budget: this.#budget, err: String(err) },
        'the process ran out of file descriptors; closed idle segment files and tried again');
      inner = this.#inner.open(filePath, flags);
    }
    this.#open += 1;
    this.#peak = Math.max(this.#peak, this.#open);
    return inner;
  }

  /**
   * Room for one more descriptor (see the file comment): syncs ahead of need
   * near the budget, clean idle handles closed at it, one dirty handle
   * synced on this thread only past the overdraft.
   */
  #makeRoom(): void {
    if (this.#open >= this.#budget) this.#closeIdle(this.#open - this.#budget + 1, this.#scanMax());
    // Ahead of need, the reserve; at the budget, also every dirty handle the clean pass could not close.
    if (this.#open >= this.#budget) this.#syncAhead(this.#scanMax(), false);
    else if (this.#open >= this.#budget - this.#cleanReserve) this.#syncAhead(this.#cleanReserve + this.#syncing, false);
    // Unbounded scan: at most #syncsMax handles syncing and the few kept open stand before an idle one.
    if (this.#open >= this.#budget + this.#overdraft) this.#syncNowAndClose(this.#open - this.#budget - this.#overdraft + 1, Number.POSITIVE_INFINITY);
    if (this.#open >= this.#budget) this.#overBudget += 1;
  }

  /** EMFILE: every idle clean handle closed, syncs started so dirty ones close soon, and at worst one synced here. */
  #outOfDescriptors(): number {
    let closed = this.#closeIdle(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
    this.#syncAhead(Number.POSITIVE_INFINITY, true);
    if (closed === 0) closed = this.#syncNowAndClose(1, Number.POSITIVE_INFINITY);
    return closed;
  }

  /** How many least recently used handles an open looks at: past those being synced and the reserve kept clean. */
  #scanMax(): number {
    return EVICTION_SCAN_MAX + this.#cleanReserve + this.#syncing;
  }

  /** Closes up to `wanted` idle clean descriptors among the `scanMax` least recently used; returns how many. */
  #closeIdle(wanted: number, scanMax: number): number {
    let freed = 0;
    let looked = 0;
    for (let handle = this.#oldest; handle !== null && freed < wanted && looked < scanMax; looked++) {
      const next: CachedHandle | null = handle.newer;
      if (handle.evictable && !handle.dirty) {
        this.#evict(handle);
        freed += 1;
      }
      handle = next;
    }
    return freed;
  }

  /**
   * Starts background fdatasyncs of the dirty idle handles among the
   * `scanMax` least recently used, up to `#syncsMax` in flight.
   * Each handle is closed when its sync ends if the cache is then at or
   * over its budget (or always, `closeWhenDone`: out of descriptors).
   */
  #syncAhead(scanMax: number, closeWhenDone: boolean): void {
    let looked = 0;
    for (let handle = this.#oldest; handle !== null && looked < scanMax && this.#syncWaiters.length === 0 && this.#syncSlotFree(); looked++) {
      const next: CachedHandle | null = handle.newer;
      if (handle.evictable && handle.dirty) this.#syncThenMaybeClose(handle, closeWhenDone);
      handle = next;
    }
  }

  /** The last resort: up to `wanted` dirty idle handles among the `scanMax` least recently used, synced on this thread and closed. */
  #syncNowAndClose(wanted: number, scanMax: number): number {
    let freed = 0;
    let looked = 0;
    for (let handle = this.#oldest; handle !== null && freed < wanted && looked < scanMax; looked++) {
      const next: CachedHandle | null = handle.newer;
      if (handle.evictable) {
        if (handle.dirty) this.#syncNow(handle);
        this.#evict(handle);
        freed += 1;
      }
      handle = next;
    }
    return freed;
  }

  /** The loop waits for this file's fdatasync (the descriptor goes even if the sync failed: the handle keeps the failure). */
  #syncNow(handle: CachedHandle): void {
    this.#blockingSyncs += 1;
    try {
      handle.syncNow(handle.inner as FileHandle);
    } catch (err) {
      this.#logger.error({ file: handle.path, err: String(err) }, 'fdatasync before closing a segment file failed; the next sync of that file reports it');
    }
  }

  #evict(handle: CachedHandle): void {
    this.#unlink(handle);
    this.#release(handle);
    this.#evictions += 1;
  }

  /** "Sync before closing": the descriptor may go once an fdatasync covers every write made through it. */
  #syncThenMaybeClose(handle: CachedHandle, closeWhenDone: boolean): void {
    const inner = handle.inner as FileHandle;
    const usesBefore = handle.uses;
    this.#backgroundSyncsRun += 1;
    handle.sync(inner).then(
      () => {
        if (handle.closed || handle.uses !== usesBefore || !handle.evictable || handle.dirty) return;
        if (closeWhenDone || this.#open >= this.#budget) this.#evict(handle);
      },
      (err: unknown) => this.#logger.error({ file: handle.path, err: String(err) }, 'fdatasync of an idle segment file failed; the next sync of that file reports it'),
    );
  }

  #syncSlotFree(): boolean {
    return this.#syncing + this.#syncsReserved < this.#syncsMax;
  }

  /** Hands free sync slots to the owners' `datasync` calls waiting, in order. */
  #wakeSyncWaiters(): void {
    while (this.#syncWaiters.length > 0 && this.#syncSlotFree()) {
      this.#syncsReserved += 1;
      this.#syncWaiters.shift()!();
    }
  }

  /** Closes `handle`'s descriptor, if it has one. */
  #release(handle: CachedHandle): void {
    const inner = handle.inner;
    if (inner === null) return;
    handle.inner = null;
    this.#open -= 1;
    try {
      inner.close();
    } catch (err) {
      this.#logger.warn({ file: handle.path, err: String(err) }, 'closing an idle segment file failed');
    }
  }

  #unlink(handle: CachedHandle): void {
    if (handle.newer !== null) handle.newer.older = handle.older;
    else if (this.#newest === handle) this.#newest = handle.older;
    if (handle.older !== null) handle.older.newer = handle.newer;
    else if (this.#oldest === handle) this.#oldest = handle.newer;
    handle.newer = null;
    handle.older = null;
  }

  async #transient<T>(work: () => Promise<T>): Promise<T> {
    while (this.#transientFree === 0) await new Promise<void>((resolve) => this.#transientWaiters.push(resolve));
    this.#transientFree -= 1;
    try {
      return await work();
    } finally {
      this.#transientFree += 1;
      this.#transientWaiters.shift()?.();
    }
  }
}
