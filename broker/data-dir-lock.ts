/**
 * One broker per data directory. Two brokers appending to the same segment
 * files would corrupt them silently, so a broker takes an exclusive lock on
 * `<data.dir>/.lock` before it opens anything, as Kafka does with its
 * `.lock` file.
 *
 * The lock is the kernel's (`FileSystem.openLocked`: flock(2) on the real
 * disk), not the file's contents: taking it is one atomic step, so two
 * brokers started at the same instant cannot both win, and the kernel drops
 * it when the holder dies, however it dies (SIGKILL, a crash, a zombie not
 * yet reaped), so a restart never waits for anyone to delete a file. The pid
 * written into the file only feeds the message a refused broker prints; a
 * `.lock` left over from an older Runnel, or naming any pid at all, blocks
 * nothing while no process holds the lock.
 *
 * The file is never replaced or unlinked: a broker that locked the old inode
 * and one that created a new one at the same name would both hold "the"
 * lock. Release empties it and closes it (which drops the lock).
 */
import path from 'node:path';
import type { FileSystem } from './world/file-system.js';

export const LOCK_FILE = '.lock';

export interface DataDirLock {
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  /** Who holds it ("process 1234"), and the file locked: for callers that word their own advice. */
  constructor(message: string, readonly holder: string, readonly lockPath: string) {
    super(message);
  }
}

/** The pid the holder wrote, if it wrote one yet (it writes right after locking). */
function holderPid(fs: FileSystem, lockPath: string): Promise<number | null> {
  return fs.readFile(lockPath).then(
    (bytes) => {
      const pid = Number.parseInt(Buffer.from(bytes).toString('utf8').trim(), 10);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    },
    () => null,
  );
}

export async function acquireDataDirLock(fs: FileSystem, dataDir: string): Promise<DataDirLock> {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const handle = fs.openLocked(lockPath);
  if (handle === null) {
    const pid = await holderPid(fs, lockPath);
    const who = pid === null ? 'another process' : pid === process.pid ? 'another broker in this process' : `process ${pid}`;
    throw new DataDirLockedError(`data directory ${dataDir} is in use by ${who}, which holds the lock on ${lockPath}; stop that broker first, or give this one another data directory (--data)`, who, lockPath);
  }
  try {
    const pid = Buffer.from(`${process.pid}\n`);
    handle.truncate(0);
    handle.write(pid, 0);
  } catch (error) {
    handle.close();
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // Either step fails only on a handle that a crash (or a failed disk) already closed: its lock went with it.
      try {
        handle.truncate(0);
      } catch {
        // the stale pid then only names a process that holds nothing
      }
      try {
        handle.close();
      } catch {
        // already closed
      }
    },
  };
}
