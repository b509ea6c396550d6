/**
 * A process's view of a shared simulated disk, for power-loss tests: when
 * the machine loses power, the process that used the disk dies with it.
 * Without this, a log object a test abandons at a crash would carry on
 * (its flush rounds, a pending segment it writes) against the disk the next
 * process recovers, which no real crash allows.
 */
import type { FileHandle, FileStat, FileSystem, OpenFlags } from '../../broker/world/file-system.js';

/**
 * One process's view of the shared simulated disk. `die()` is the power
 * cut as that process sees it: from then on every call it makes, through
 * the file system or a handle it holds, fails, so work it still had queued
 * (a flush, a state file) cannot reach the disk the next broker uses.
 */
export class ProcessDisk implements FileSystem {
  #dead = false;
  /**
   * `syncTurns`: event-loop turns an fdatasync takes before it reaches the
   * disk (the simulated one completes in microtasks, so a power cut from the
   * test could otherwise never fall between a write and its sync).
   */
  constructor(
    private readonly disk: FileSystem,
    private readonly syncTurns = 0,
  ) {}

  die(): void {
    this.#dead = true;
  }

  #alive(op: string): void {
    if (this.#dead) throw Object.assign(new Error(`EIO: ${op} by a process that lost its machine`), { code: 'EIO' });
  }

  open(filePath: string, flags: OpenFlags): FileHandle {
    this.#alive('open');
    const handle = this.disk.open(filePath, flags);
    return {
      path: handle.path,
      write: (data, position) => {
        this.#alive('write');
        handle.write(data, position);
      },
      read: (target, offset, length, position) => {
        this.#alive('read');
        return handle.read(target, offset, length, position);
      },
      sizeBytes: () => {
        this.#alive('fstat');
        return handle.sizeBytes();
      },
      truncate: (sizeBytes) => {
        this.#alive('ftruncate');
        handle.truncate(sizeBytes);
      },
      datasync: async () => {
        this.#alive('fdatasync');
        for (let i = 0; i < this.syncTurns; i++) await new Promise((resolve) => setImmediate(resolve));
        this.#alive('fdatasync');
        await handle.datasync();
      },
      datasyncSync: () => {
        this.#alive('fdatasync');
        handle.datasyncSync();
      },
      identity: () => handle.identity(),
      keepOpen: () => handle.keepOpen(),
      close: () => {
        if (!this.#dead) handle.close();
      },
    };
  }

  /** The lock dies with the machine (the simulated disk drops every lock in `crash()`). */
  openLocked(filePath: string): FileHandle | null {
    this.#alive('open');
    return this.disk.openLocked(filePath);
  }

  async #call<T>(op: string, run: () => Promise<T>): Promise<T> {
    this.#alive(op);
    return run();
  }

  stat(filePath: string): Promise<FileStat | null> {
    return this.#call('stat', () => this.disk.stat(filePath));
  }
  readdir(dir: string): Promise<string[]> {
    return this.#call('readdir', () => this.disk.readdir(dir));
  }
  mkdirp(dir: string): Promise<void> {
    return this.#call('mkdir', () => this.disk.mkdirp(dir));
  }
  rename(from: string, to: string): Promise<void> {
    return this.#call('rename', () => this.disk.rename(from, to));
  }
  unlink(filePath: string): Promise<void> {
    return this.#call('unlink', () => this.disk.unlink(filePath));
  }
  removeTree(dir: string): Promise<void> {
    return this.#call('rm', () => this.disk.removeTree(dir));
  }
  fsyncDir(dir: string): Promise<void> {
    return this.#call('fsync', () => this.disk.fsyncDir(dir));
  }
  readFile(filePath: string): Promise<Uint8Array> {
    return this.#call('read', () => this.disk.readFile(filePath));
  }
  writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    return this.#call('write', () => this.disk.writeFileAtomic(filePath, data));
  }
}
