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
 *   a handle with one in flight is never evicted.
 * - A handle written since its last fdatasync ("dirty") is never simply
 *   closed: eviction first fdatasyncs it, then closes it if it was not used
 *   again. Past the budget that sync runs in the background (the budget is
 *   exceeded meanwhile); past the budget plus `overdraft` (a burst of writes
 *   to more files than the budget, e.g. one Produce to hundreds of
 *   partitions with fsync=interval) it runs on the calling thread
 *   (`datasyncSync`): the event loop waits for a disk flush rather than the
 *   process running out of descriptors. A failed sync, the owner's or the
 *   eviction's, poisons the handle: every later write, truncate and
 *   datasync on it throws that error, so a write that may not have reached
 *   the disk is never reported durable (a new descriptor's fdatasync might
 *   not see an error an old one's writeback met).
 * - A reopen checks that the path still leads to the file first opened
 *   (`identity()`: device and inode). A file renamed or removed while its
 *   handle was idle fails loudly (ESTALE / ENOENT) instead of reading
 *   whatever now has that name. Code that renames a file it still reads
 *   (a compaction swap) calls `keepOpen()` first.
 * - EMFILE/ENFILE on an open (sockets or other code took descriptors the
 *   budget counted on): every idle clean handle is closed and the open is
 *   tried once more.
 *
 * The budget is soft: syncing handles and handles kept open may hold more
 * descriptors than it for a while, dirty ones up to `overdraft` more; the
 * broker leaves headroom for that (broker/descriptor-budget.ts). Not
 * thread-safe: the event loop only.
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
  /** Evictions that had to fdatasync first. */
  syncedEvictions: number;
  /** Of those, fdatasyncs that ran on the event loop (past the overdraft). */
  blockingSyncs: number;
  /** Opens that found nothing to evict and went over the budget. */
  overBudget: number;
}

export const DEFAULT_TRANSIENT_SLOTS = 8;
export const DEFAULT_OVERDRAFT = 8;
/** How many of the least recently used handles an open looks at for one to evict. */
const EVICTION_SCAN_MAX = 32;
/** Background syncs of idle dirty files at once (each holds its descriptor until done). */
const BACKGROUND_SYNCS_MAX = 4;

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
  /** Written or truncated since the last fdatasync started. */
  dirty = false;
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
    this.dirty = true;
    return inner;
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
    if (this.#failure !== null) throw this.#failure;
    const inner = this.#descriptor();
    // Syncs already in flight (an eviction's among them) cover writes this one must not report durable if they fail.
    const earlier = [...this.syncs];
    await this.sync(inner);
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
    const done = inner.datasync().catch((err: unknown) => {
      this.#failure ??= err;
      throw err;
    });
    const tracked = done.catch(() => undefined).finally(() => {
      this.syncs.delete(tracked);
      this.cache.synced(this);
    });
    this.syncs.add(tracked);
    return done;
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
  readonly #logger: StorageLogger;
  /** Most and least recently used handles holding a descriptor (or syncing to give it back). */
  #newest: CachedHandle | null = null;
  #oldest: CachedHandle | null = null;
  #open = 0;
  #handles = 0;
  #reopens = 0;
  #evictions = 0;
  #syncedEvictions = 0;
  #blockingSyncs = 0;
  #backgroundSyncs = 0;
  #overBudget = 0;
  #transientFree: number;
  readonly #transientWaiters: (() => void)[] = [];

  constructor(inner: FileSystem, opts: HandleCacheOptions) {
    assert(Number.isInteger(opts.budget) && opts.budget >= 1, 'a descriptor budget holds at least one file', { budget: opts.budget });
    this.#inner = inner;
    this.#budget = opts.budget;
    this.#overdraft = opts.overdraft ?? DEFAULT_OVERDRAFT;
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
      syncedEvictions: this.#syncedEvictions,
      blockingSyncs: this.#blockingSyncs,
      overBudget: this.#overBudget,
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

  /** @internal an fdatasync on `handle` finished: a closed handle may now give its descriptor back */
  synced(handle: CachedHandle): void {
    if (handle.closed && handle.syncs.size === 0) this.#release(handle);
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
      const closed = this.#evictIdle(Number.POSITIVE_INFINITY, 'now');
      this.#logger.warn({ file: filePath, closed, open: this.#open, budget: this.#budget, err: String(err) },
        'the process ran out of file descriptors; closed idle segment files and tried again');
      inner = this.#inner.open(filePath, flags);
    }
    this.#open += 1;
    return inner;
  }

  /**
   * Gives back descriptors until one more fits in the budget: idle clean
   * ones at once, idle dirty ones after a background sync; past the
   * overdraft, idle dirty ones after a sync on this thread.
   */
  #makeRoom(): void {
    if (this.#open < this.#budget) return;
    this.#evictIdle(this.#open - this.#budget + 1, 'background');
    if (this.#open >= this.#budget + this.#overdraft) this.#evictIdle(this.#open - this.#budget - this.#overdraft + 1, 'now');
    if (this.#open >= this.#budget) this.#overBudget += 1;
  }

  /**
   * Closes up to `wanted` idle descriptors, least recently used first: clean
   * ones at once; dirty ones after a background sync (`background`: not
   * counted as freed) or after a sync here (`now`). Looks at no more than
   * EVICTION_SCAN_MAX handles unless `wanted` is unbounded.
   */
  #evictIdle(wanted: number, dirtyOnes: 'background' | 'now'): number {
    let freed = 0;
    let looked = 0;
    const scanMax = wanted === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : EVICTION_SCAN_MAX;
    for (let handle = this.#oldest; handle !== null && freed < wanted && looked < scanMax; looked++) {
      const next: CachedHandle | null = handle.newer;
      if (handle.evictable) {
        if (!handle.dirty) {
          this.#evict(handle);
          freed += 1;
        } else if (dirtyOnes === 'background') {
          if (this.#backgroundSyncs < BACKGROUND_SYNCS_MAX) this.#syncThenEvict(handle);
        } else {
          this.#syncNowThenEvict(handle);
          freed += 1;
        }
      }
      handle = next;
    }
    return freed;
  }

  /** Past the overdraft: the loop waits for this file's fdatasync, then the descriptor goes (even if the sync failed: the handle keeps the failure). */
  #syncNowThenEvict(handle: CachedHandle): void {
    this.#syncedEvictions += 1;
    this.#blockingSyncs += 1;
    try {
      handle.syncNow(handle.inner as FileHandle);
    } catch (err) {
      this.#logger.error({ file: handle.path, err: String(err) }, 'fdatasync before closing a segment file failed; the next sync of that file reports it');
    }
    this.#evict(handle);
  }

  #evict(handle: CachedHandle): void {
    this.#unlink(handle);
    this.#release(handle);
    this.#evictions += 1;
  }

  /** "Sync before closing": the descriptor goes once an fdatasync covers every write made through it. */
  #syncThenEvict(handle: CachedHandle): void {
    const inner = handle.inner as FileHandle;
    const usesBefore = handle.uses;
    this.#syncedEvictions += 1;
    this.#backgroundSyncs += 1;
    handle.sync(inner).then(
      () => {
        if (handle.closed || handle.uses !== usesBefore || !handle.evictable || handle.dirty) return;
        if (this.#open >= this.#budget) this.#evict(handle);
      },
      (err: unknown) => this.#logger.error({ file: handle.path, err: String(err) }, 'fdatasync before closing an idle segment file failed; the next sync of that file reports it'),
    ).finally(() => {
      this.#backgroundSyncs -= 1;
    });
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
