/**
 * The file system as broker code sees it: the only place storage touches
 * `node:fs`. Two implementations share one contract:
 *
 * - `realFileSystem`: positional *synchronous* reads and writes (a write into
 *   the page cache costs a few microseconds; a hop through libuv's thread
 *   pool would cost more than the write), asynchronous `fdatasync` and
 *   directory fsync (those wait for the disk and must not block the loop).
 * - `SimulatedFileSystem`: everything in memory, with the durability rules of
 *   a POSIX disk made explicit. A file's bytes survive `crash()` only up to its
 *   last `datasync()`; a directory entry (create, rename, unlink) survives only
 *   once its directory was `fsyncDir`ed. `crash()` may keep some of the
 *   unsynced appended bytes, as a real page cache might: a random prefix (a
 *   torn tail), or (`loss: 'pages'`) the file at its full or a random length
 *   with each unsynced 4 KiB page written back or not, independently: a page
 *   not written back reads as it was at the last sync, zeros past the synced
 *   bytes (what ext4 and xfs show for a block never written).
 *   Faults (EIO, or another code such as ENOSPC or EMFILE) can be injected
 *   into `open`, `datasync`, `write`, `fsyncDir`, `rename` and `unlink`; a
 *   failing write may first write part of its data, as a write that runs out
 *   of space does.
 *
 * `openLocked` is the one lock: an exclusive lock that the kernel holds for
 * the open file (flock(2), through fs-ext) and drops when the handle is
 * closed or the process dies, however it dies. The simulated disk keeps the
 * same rule: a lock dies with its handle, and every lock dies in `crash()`.
 *
 * Paths are POSIX paths; the simulated tree starts at `/`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import fsExt from 'fs-ext';
import type { Rng } from './rng.js';

/** An open file. Positional only: there is no file cursor to share between callers. */
export interface FileHandle {
  readonly path: string;
  /** Writes all of `data` at `position` (into the page cache; durable only after `datasync`). */
  write(data: Uint8Array, position: number): void;
  /** Reads up to `length` bytes at `position` into `target[offset..]`; fewer only at end of file. */
  read(target: Uint8Array, offset: number, length: number, position: number): number;
  sizeBytes(): number;
  /** Sets the file's length (shrinks, or grows with zeros: the "preallocate" of index files). */
  truncate(sizeBytes: number): void;
  /** fdatasync: resolves once every write and truncate before it is on stable storage. */
  datasync(): Promise<void>;
  /**
   * fdatasync on the calling thread: it blocks the event loop for a disk
   * flush. Only for a descriptor that must be closed now and holds writes no
   * sync has covered (the descriptor cache out of descriptors).
   */
  datasyncSync(): void;
  /**
   * Names the file this handle has open (its inode), so that a handle that
   * reopens by path can tell whether the path still leads to the same file.
   */
  identity(): string;
  /**
   * Holds the descriptor until `close`: the file may then be renamed or
   * unlinked and this handle still reads it. A plain handle always holds
   * its descriptor (a no-op); a handle from a descriptor cache
   * (storage/handle-cache.ts) otherwise closes it when idle and reopens the
   * file by path.
   */
  keepOpen(): void;
  /**
   * Says whether what is written through this handle from now on is
   * derived data whose durability nothing relies on (an active segment's
   * indexes: recovery rebuilds them from the log). A descriptor cache may
   * close a derived file's descriptor without an fdatasync of those writes;
   * a handle that always holds its descriptor has nothing to do (so the
   * method is optional). Turn it off before writes a later `datasync` must
   * make durable: unsynced writes then count as unsynced again.
   */
  setDerived?(derived: boolean): void;
  close(): void;
}

/** 'r' read-only; 'r+' read-write, must exist; 'w+' read-write, created or emptied. */
export type OpenFlags = 'r' | 'r+' | 'w+';

export interface FileStat {
  sizeBytes: number;
  isDirectory: boolean;
}

export interface FileSystem {
  /** Synchronous so that a segment roll can happen inside a synchronous append. */
  open(filePath: string, flags: OpenFlags): FileHandle;
  /**
   * Opens `filePath` read-write (created if missing, never emptied) and takes
   * an exclusive lock on it that lasts until the handle is closed or the
   * process dies; null, at once, when another open file holds the lock (in
   * this process or another). The lock belongs to the file, not its name:
   * never replace or unlink a lock file.
   */
  openLocked(filePath: string): FileHandle | null;
  /** null when nothing exists at `filePath`. */
  stat(filePath: string): Promise<FileStat | null>;
  readdir(dir: string): Promise<string[]>;
  /** mkdir -p. */
  mkdirp(dir: string): Promise<void>;
  /** Replaces `to` if it exists; durable once the directory is fsynced. */
  rename(from: string, to: string): Promise<void>;
  unlink(filePath: string): Promise<void>;
  /** rm -rf of a directory tree (no error if it is already gone). */
  removeTree(dir: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
  readFile(filePath: string): Promise<Uint8Array>;
  /** Writes `path.tmp`, fdatasyncs it, renames it over `path`, fsyncs the directory. */
  writeFileAtomic(filePath: string, data: Uint8Array): Promise<void>;
}

/** True for a Node-style error with that errno code (both implementations raise them). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export const TMP_SUFFIX = '.tmp';

/** unlink that finds nothing to remove is no error; true when it removed something. */
export async function unlinkIfPresent(fileSystem: FileSystem, filePath: string): Promise<boolean> {
  try {
    await fileSystem.unlink(filePath);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** rename whose source is already gone is no error; true when it moved something. */
export async function renameIfPresent(fileSystem: FileSystem, from: string, to: string): Promise<boolean> {
  try {
    await fileSystem.rename(from, to);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Opens `filePath` read-only, runs `use` on it, and closes it whatever happens. */
export function withFileOpen<T>(fileSystem: FileSystem, filePath: string, use: (file: FileHandle) => T): T {
  const file = fileSystem.open(filePath, 'r');
  try {
    return use(file);
  } finally {
    file.close();
  }
}

/** mkdir -p whose new directories survive a crash: each one's parent is fsynced after it is made. */
export async function mkdirDurable(fileSystem: FileSystem, dir: string): Promise<void> {
  if ((await fileSystem.stat(dir)) !== null) return;
  const parent = path.dirname(dir);
  if (parent !== dir) await mkdirDurable(fileSystem, parent);
  await fileSystem.mkdirp(dir);
  await fileSystem.fsyncDir(parent);
}

/** `writeFileAtomic` through `fileSystem`'s own calls (for file systems that wrap another). */
export async function writeFileAtomicVia(fileSystem: FileSystem, filePath: string, data: Uint8Array): Promise<void> {
  const tmpPath = filePath + TMP_SUFFIX;
  const handle = fileSystem.open(tmpPath, 'w+');
  try {
    handle.write(data, 0);
    await handle.datasync();
  } finally {
    handle.close();
  }
  await fileSystem.rename(tmpPath, filePath);
  await fileSystem.fsyncDir(path.dirname(filePath));
}

/* ------------------------------------------------------------------ real */

class RealFileHandle implements FileHandle {
  #fd: number;
  constructor(readonly path: string, fd: number) {
    this.#fd = fd;
  }

  write(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.byteLength) {
      done += fs.writeSync(this.#fd, data, done, data.byteLength - done, position + done);
    }
  }

  read(target: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.#fd, target, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  sizeBytes(): number {
    return fs.fstatSync(this.#fd).size;
  }

  truncate(sizeBytes: number): void {
    fs.ftruncateSync(this.#fd, sizeBytes);
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.#fd, (err) => (err ? reject(err) : resolve())));
  }

  datasyncSync(): void {
    fs.fdatasyncSync(this.#fd);
  }

  identity(): string {
    const stat = fs.fstatSync(this.#fd, { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  }

  keepOpen(): void {}

  close(): void {
    fs.closeSync(this.#fd);
    this.#fd = -1;
  }
}

function openLockedReal(filePath: string): FileHandle | null {
  const fd = fs.openSync(filePath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  try {
    fsExt.flockSync(fd, 'exnb');
  } catch (err) {
    fs.closeSync(fd);
    if (isErrno(err, 'EAGAIN') || isErrno(err, 'EWOULDBLOCK')) return null;
    throw err;
  }
  return new RealFileHandle(filePath, fd);
}

/**
 * mkdir -p one level at a time. Not `fs.mkdir(dir, { recursive: true })`:
 * on Node 20 that spins at full CPU forever under a directory that refuses
 * new entries with ENOENT (`/proc/x/y`), so `runnel start --data /proc/x`
 * hung instead of failing.
 */
async function mkdirEachLevel(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const stat = await fsp.stat(at).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    });
    if (stat !== null) {
      if (!stat.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}' (${at} is a file)`), { code: 'ENOTDIR', path: at });
      break;
    }
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  for (const level of missing.reverse()) {
    await fsp.mkdir(level).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST')) throw err;
    });
  }
}

export const realFileSystem: FileSystem = {
  open: (filePath, flags) => new RealFileHandle(filePath, fs.openSync(filePath, flags)),
  openLocked: openLockedReal,
  async stat(filePath) {
    try {
      const s = await fsp.stat(filePath);
      return { sizeBytes: s.size, isDirectory: s.isDirectory() };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  },
  readdir: (dir) => fsp.readdir(dir),
  mkdirp: async (dir) => {
    await mkdirEachLevel(dir);
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (filePath) => fsp.unlink(filePath),
  removeTree: (dir) => fsp.rm(dir, { recursive: true, force: true }),
  async fsyncDir(dir) {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  readFile: async (filePath) => new Uint8Array(await fsp.readFile(filePath)),
  writeFileAtomic: (filePath, data) => writeFileAtomicVia(realFileSystem, filePath, data),
};

/* ------------------------------------------------------------- simulated */

function errno(code: string, op: string, filePath: string): Error {
  return Object.assign(new Error(`${code}: ${op} '${filePath}'`), { code });
}

let nextSimFileId = 1;

/** How `SimulatedFileSystem.crash` keeps unsynced appended bytes: a prefix, or pages in any order. */
export type CrashLoss = 'prefix' | 'pages';

const SIM_PAGE_BYTES = 4096;

/**
 * One inode: what the process sees (`bytes`) and what a crash would leave
 * (`durable`). Sparse: a buffer may be shorter than the file, and every byte
 * past it reads as zero (a preallocated 10 MiB index costs nothing until it
 * is written); every byte of a buffer past the file's size is zero too.
 */
class SimFile {
  readonly id = nextSimFileId++;
  bytes = new Uint8Array(0);
  sizeBytes = 0;
  durable = new Uint8Array(0);
  durableSizeBytes = 0;
  /** Lowest position changed since the last datasync (Infinity when clean). */
  dirtyFrom = Infinity;

  ensureCapacity(sizeBytes: number): void {
    if (sizeBytes <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(sizeBytes, this.bytes.byteLength * 2, 4096));
    grown.set(this.bytes.subarray(0, Math.min(this.sizeBytes, this.bytes.byteLength)));
    this.bytes = grown;
  }

  resize(sizeBytes: number): void {
    // Shrinking zeroes what was cut (in the buffer), so that growing again reads zeros there.
    if (sizeBytes < this.sizeBytes) this.bytes.fill(0, sizeBytes, Math.min(this.sizeBytes, this.bytes.byteLength));
    this.dirtyFrom = Math.min(this.dirtyFrom, sizeBytes, this.sizeBytes);
    this.sizeBytes = sizeBytes;
  }

  /** Reads `length` bytes at `position` (within the file) into `target[offset..]`. */
  readInto(target: Uint8Array, offset: number, length: number, position: number): void {
    const stored = Math.max(0, Math.min(position + length, this.bytes.byteLength) - position);
    if (stored > 0) target.set(this.bytes.subarray(position, position + stored), offset);
    if (stored < length) target.fill(0, offset + stored, offset + length);
  }

  /** The whole content now, as a view when the buffer holds it all, else a zero-padded copy. */
  content(): Uint8Array {
    if (this.sizeBytes <= this.bytes.byteLength) return this.bytes.subarray(0, this.sizeBytes);
    const copy = new Uint8Array(this.sizeBytes);
    copy.set(this.bytes);
    return copy;
  }

  /** Copies only what changed since the last sync, so a growing log syncs in O(appended bytes). */
  sync(): void {
    if (this.dirtyFrom === Infinity) return;
    const from = Math.min(this.dirtyFrom, this.sizeBytes);
    const stored = Math.min(this.sizeBytes, this.bytes.byteLength);
    if (this.durable.byteLength < stored) {
      const grown = new Uint8Array(Math.max(stored, this.durable.byteLength * 2));
      grown.set(this.durable.subarray(0, Math.min(this.durable.byteLength, from)));
      this.durable = grown;
    }
    if (from < stored) this.durable.set(this.bytes.subarray(from, stored), from);
    if (Math.max(from, stored) < this.durable.byteLength) this.durable.fill(0, Math.max(from, stored));
    this.durableSizeBytes = this.sizeBytes;
    this.dirtyFrom = Infinity;
  }

  /**
   * Back to the last synced state, plus (with `rng`, when everything since
   * was appended) some of the bytes appended since: a random prefix, or
   * with `loss: 'pages'` the full or a random length, of which each unsynced
   * page is kept or lost (zeros past the synced bytes) at random.
   */
  crash(rng: Rng | undefined, loss: CrashLoss): void {
    let keep = this.durableSizeBytes;
    if (rng !== undefined && this.dirtyFrom >= this.durableSizeBytes && this.sizeBytes > keep) {
      // Pages lost: the new size reached the disk half the time (then the file ends where the last write did).
      keep = loss === 'pages' && rng.int(2) === 0 ? this.sizeBytes : keep + rng.int(this.sizeBytes - keep + 1);
    }
    const storedKeep = Math.min(keep, Math.max(this.durable.byteLength, this.bytes.byteLength));
    const survived = new Uint8Array(Math.max(storedKeep, 4096));
    survived.set(this.durable.subarray(0, Math.min(this.durableSizeBytes, storedKeep)));
    if (keep > this.durableSizeBytes) {
      const unsyncedEnd = Math.min(keep, this.bytes.byteLength);
      if (unsyncedEnd > this.durableSizeBytes) survived.set(this.bytes.subarray(this.durableSizeBytes, unsyncedEnd), this.durableSizeBytes);
      if (loss === 'pages') {
        for (let page = this.durableSizeBytes - (this.durableSizeBytes % SIM_PAGE_BYTES); page < keep; page += SIM_PAGE_BYTES) {
          if ((rng as Rng).int(2) === 0) survived.fill(0, Math.max(page, this.durableSizeBytes), Math.min(page + SIM_PAGE_BYTES, storedKeep));
        }
      }
    }
    this.bytes = survived;
    this.sizeBytes = keep;
    this.durable = survived.slice();
    this.durableSizeBytes = keep;
    this.dirtyFrom = Infinity;
  }
}

class SimDir {
  entries = new Map<string, SimNode>();
  durable = new Map<string, SimNode>();
}

type SimNode = SimFile | SimDir;

export type SimulatedFaultOp = 'open' | 'datasync' | 'write' | 'fsyncDir' | 'rename' | 'unlink';

/** One injected fault (see `SimulatedFileSystem.injectFault`). */
export interface SimulatedFault {
  op: SimulatedFaultOp;
  pathIncludes: string;
  remaining: number;
  code: string;
  /** For `write`: bytes of the data written before the error. */
  partialBytes: number;
}

class SimFileHandle implements FileHandle {
  #closed = false;
  constructor(
    readonly path: string,
    private readonly file: SimFile,
    private readonly writable: boolean,
    private readonly owner: SimulatedFileSystem,
    private readonly generation: number,
  ) {}

  #check(op: string): void {
    if (this.#closed || this.generation !== this.owner.generation) throw errno('EBADF', op, this.path);
  }

  write(data: Uint8Array, position: number): void {
    this.#check('write');
    if (!this.writable) throw errno('EBADF', 'write', this.path);
    const fault = this.owner.takeFault('write', this.path);
    if (fault !== null) {
      if (fault.partialBytes > 0) this.#write(data.subarray(0, Math.min(fault.partialBytes, data.byteLength)), position);
      throw errno(fault.code, 'write', this.path);
    }
    this.#write(data, position);
  }

  #write(data: Uint8Array, position: number): void {
    const end = position + data.byteLength;
    this.file.ensureCapacity(end);
    this.file.bytes.set(data, position);
    this.file.dirtyFrom = Math.min(this.file.dirtyFrom, Math.min(position, this.file.sizeBytes));
    this.file.sizeBytes = Math.max(this.file.sizeBytes, end);
  }

  read(target: Uint8Array, offset: number, length: number, position: number): number {
    this.#check('read');
    const n = Math.max(0, Math.min(length, this.file.sizeBytes - position));
    if (n > 0) this.file.readInto(target, offset, n, position);
    return n;
  }

  sizeBytes(): number {
    this.#check('fstat');
    return this.file.sizeBytes;
  }

  truncate(sizeBytes: number): void {
    this.#check('ftruncate');
    if (!this.writable) throw errno('EBADF', 'ftruncate', this.path);
    this.file.resize(sizeBytes);
  }

  async datasync(): Promise<void> {
    this.#check('fdatasync');
    await Promise.resolve();
    this.owner.maybeFail('datasync', this.path);
    this.#check('fdatasync');
    this.file.sync();
  }

  datasyncSync(): void {
    this.#check('fdatasync');
    this.owner.maybeFail('datasync', this.path);
    this.file.sync();
  }

  /** The inode, and the life of the disk it was opened in: after `crash()` the same path is another open file. */
  identity(): string {
    this.#check('fstat');
    return `${this.file.id}@${this.generation}`;
  }

  keepOpen(): void {}

  /** False once closed or once a crash killed it (a lock it held is then free). */
  get live(): boolean {
    return !this.#closed && this.generation === this.owner.generation;
  }

  close(): void {
    this.#check('close');
    this.#closed = true;
  }
}

/**
 * An in-memory disk for tests: deterministic, fast, and honest about what a
 * crash keeps. Not for production (no size limits beyond memory).
 */
export class SimulatedFileSystem implements FileSystem {
  #root = new SimDir();
  #faults: SimulatedFault[] = [];
  /** Which handle holds each locked file (a lock is free again once its handle is not `live`). */
  #locks = new Map<SimFile, SimFileHandle>();
  /** Bumped by `crash()`: handles opened before it fail with EBADF, like a dead process's fds. */
  generation = 0;

  /**
   * Makes the next `times` calls of `op` on a path containing `pathIncludes`
   * fail with `code` (EIO by default); a failing `write` first writes
   * `partialBytes` of its data.
   */
  injectFault(op: SimulatedFaultOp, pathIncludes = '', times = 1, opts: { code?: string; partialBytes?: number } = {}): void {
    this.#faults.push({ op, pathIncludes, remaining: times, code: opts.code ?? 'EIO', partialBytes: opts.partialBytes ?? 0 });
  }

  /** Drops every injected fault not yet met. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** @internal used by handles: the fault this call meets, if any (counted as used). */
  takeFault(op: SimulatedFaultOp, filePath: string): SimulatedFault | null {
    const fault = this.#faults.find((f) => f.op === op && f.remaining > 0 && filePath.includes(f.pathIncludes));
    if (fault === undefined) return null;
    fault.remaining -= 1;
    return fault;
  }

  /** @internal used by handles */
  maybeFail(op: SimulatedFaultOp, filePath: string): void {
    const fault = this.takeFault(op, filePath);
    if (fault !== null) throw errno(fault.code, op, filePath);
  }

  /**
   * The machine loses power: every file falls back to its last synced bytes
   * (with `rng`, plus some of what was appended since: a random prefix, or
   * with `loss: 'pages'` random unsynced pages, the others reading as
   * zeros), every directory to its last fsynced entries, and every open
   * handle dies.
   */
  crash(opts: { rng?: Rng; loss?: CrashLoss } = {}): void {
    this.generation += 1;
    this.#locks.clear();
    const restore = (dir: SimDir): void => {
      dir.entries = new Map(dir.durable);
      for (const node of dir.entries.values()) {
        if (node instanceof SimDir) restore(node);
        else node.crash(opts.rng, opts.loss ?? 'prefix');
      }
    };
    restore(this.#root);
  }

  /**
   * The process dies but the machine stays up (SIGKILL, an OOM kill): every
   * open handle dies and every lock is released, as `crash()`, but the page
   * cache stays: every write and every directory entry is still there,
   * exactly as unsynced as before (a later `crash()` can still lose them).
   */
  killProcess(): void {
    this.generation += 1;
    this.#locks.clear();
  }

  /** What a reader sees in `filePath` now (the page cache, not the durable bytes), or null; for simulations' checks. */
  peek(filePath: string): Uint8Array | null {
    const node = this.#lookup(filePath);
    return node instanceof SimFile ? node.content() : null;
  }

  /** The entries of `dir` now, sorted, or null when it is no directory; for simulations' checks. */
  list(dir: string): string[] | null {
    const node = this.#lookup(dir);
    return node instanceof SimDir ? [...node.entries.keys()].sort() : null;
  }

  /**
   * Flips one bit of `filePath` as the disk stores it (both the page cache
   * and the durable copy: a medium error, not a lost write); false when the
   * file has no byte at `position`.
   */
  flipBit(filePath: string, position: number, bit: number): boolean {
    const node = this.#lookup(filePath);
    if (!(node instanceof SimFile) || position < 0 || position >= node.sizeBytes) return false;
    node.ensureCapacity(position + 1);
    node.bytes[position]! ^= 1 << (bit & 7);
    if (position < Math.min(node.durableSizeBytes, node.durable.byteLength)) node.durable[position]! ^= 1 << (bit & 7);
    return true;
  }

  #split(filePath: string): string[] {
    const normal = path.posix.resolve('/', filePath);
    return normal.split('/').filter((part) => part.length > 0);
  }

  #lookup(filePath: string): SimNode | undefined {
    let node: SimNode = this.#root;
    for (const part of this.#split(filePath)) {
      if (!(node instanceof SimDir)) return undefined;
      const next: SimNode | undefined = node.entries.get(part);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  #parentOf(filePath: string, op: string): { dir: SimDir; name: string } {
    const parts = this.#split(filePath);
    const name = parts.pop();
    if (name === undefined) throw errno('EINVAL', op, filePath);
    const dir = this.#lookup('/' + parts.join('/'));
    if (dir === undefined) throw errno('ENOENT', op, filePath);
    if (!(dir instanceof SimDir)) throw errno('ENOTDIR', op, filePath);
    return { dir, name };
  }

  #file(filePath: string, op: string): SimFile {
    const node = this.#lookup(filePath);
    if (node === undefined) throw errno('ENOENT', op, filePath);
    if (node instanceof SimDir) throw errno('EISDIR', op, filePath);
    return node;
  }

  open(filePath: string, flags: OpenFlags): FileHandle {
    this.maybeFail('open', filePath);
    let file: SimFile;
    if (flags === 'w+') {
      const { dir, name } = this.#parentOf(filePath, 'open');
      const existing = dir.entries.get(name);
      if (existing instanceof SimDir) throw errno('EISDIR', 'open', filePath);
      file = existing ?? new SimFile();
      if (existing === undefined) dir.entries.set(name, file);
      file.resize(0);
    } else {
      file = this.#file(filePath, 'open');
    }
    return new SimFileHandle(filePath, file, flags !== 'r', this, this.generation);
  }

  openLocked(filePath: string): FileHandle | null {
    this.maybeFail('open', filePath);
    const { dir, name } = this.#parentOf(filePath, 'open');
    let file = dir.entries.get(name);
    if (file instanceof SimDir) throw errno('EISDIR', 'open', filePath);
    if (file === undefined) {
      file = new SimFile();
      dir.entries.set(name, file);
    }
    if (this.#locks.get(file)?.live === true) return null;
    const handle = new SimFileHandle(filePath, file, true, this, this.generation);
    this.#locks.set(file, handle);
    return handle;
  }

  async stat(filePath: string): Promise<FileStat | null> {
    const node = this.#lookup(filePath);
    if (node === undefined) return null;
    return node instanceof SimDir ? { sizeBytes: 0, isDirectory: true } : { sizeBytes: node.sizeBytes, isDirectory: false };
  }

  async readdir(dir: string): Promise<string[]> {
    const node = this.#lookup(dir);
    if (node === undefined) throw errno('ENOENT', 'readdir', dir);
    if (!(node instanceof SimDir)) throw errno('ENOTDIR', 'readdir', dir);
    return [...node.entries.keys()].sort();
  }

  async mkdirp(dir: string): Promise<void> {
    let node: SimDir = this.#root;
    for (const part of this.#split(dir)) {
      let next = node.entries.get(part);
      if (next === undefined) {
        next = new SimDir();
        node.entries.set(part, next);
      }
      if (!(next instanceof SimDir)) throw errno('ENOTDIR', 'mkdir', dir);
      node = next;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.maybeFail('rename', from);
    const source = this.#parentOf(from, 'rename');
    const node = source.dir.entries.get(source.name);
    if (node === undefined) throw errno('ENOENT', 'rename', from);
    const target = this.#parentOf(to, 'rename');
    const existing = target.dir.entries.get(target.name);
    if (existing instanceof SimDir && existing.entries.size > 0) throw errno('ENOTEMPTY', 'rename', to);
    source.dir.entries.delete(source.name);
    target.dir.entries.set(target.name, node);
  }

  async unlink(filePath: string): Promise<void> {
    this.maybeFail('unlink', filePath);
    const { dir, name } = this.#parentOf(filePath, 'unlink');
    const node = dir.entries.get(name);
    if (node === undefined) throw errno('ENOENT', 'unlink', filePath);
    if (node instanceof SimDir) throw errno('EISDIR', 'unlink', filePath);
    dir.entries.delete(name);
  }

  async removeTree(dir: string): Promise<void> {
    const parts = this.#split(dir);
    if (parts.length === 0) throw errno('EPERM', 'rm', dir);
    const parent = this.#lookup('/' + parts.slice(0, -1).join('/'));
    if (parent instanceof SimDir) parent.entries.delete(parts[parts.length - 1] as string);
  }

  async fsyncDir(dir: string): Promise<void> {
    const node = this.#lookup(dir);
    if (node === undefined) throw errno('ENOENT', 'fsync', dir);
    if (!(node instanceof SimDir)) throw errno('ENOTDIR', 'fsync', dir);
    await Promise.resolve();
    this.maybeFail('fsyncDir', dir);
    node.durable = new Map(node.entries);
  }

  async readFile(filePath: string): Promise<Uint8Array> {
    const file = this.#file(filePath, 'read');
    return file.content().slice();
  }

  writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    return writeFileAtomicVia(this, filePath, data);
  }
}
