/**
 * One broker per data directory. Two brokers appending to the same segment
 * files would corrupt them silently, so a broker takes `<data.dir>/.lock`
 * (holding its pid) before it opens anything, and refuses to start while
 * another live process holds it. A lock left by a process that no longer
 * exists (a crash, SIGKILL) is taken over. Within one process, a set of held
 * directories stops two embedded brokers from sharing one.
 */
import path from 'node:path';
import type { FileSystem } from './world/file-system.js';

export const LOCK_FILE = '.lock';

export interface DataDirLock {
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

const heldInThisProcess = new Set<string>();

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireDataDirLock(fs: FileSystem, dataDir: string, isAlive: (pid: number) => boolean = processIsAlive): Promise<DataDirLock> {
  const lockPath = path.join(dataDir, LOCK_FILE);
  if (heldInThisProcess.has(lockPath)) throw new DataDirLockedError(`data directory ${dataDir} is already used by another broker in this process`);
  if ((await fs.stat(lockPath)) !== null) {
    const holder = Number.parseInt(Buffer.from(await fs.readFile(lockPath)).toString('utf8').trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new DataDirLockedError(`data directory ${dataDir} is in use by process ${holder}; stop that broker first (if no broker runs there, delete ${lockPath})`);
    }
  }
  heldInThisProcess.add(lockPath);
  await fs.writeFileAtomic(lockPath, Buffer.from(`${process.pid}\n`));
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldInThisProcess.delete(lockPath);
      await fs.unlink(lockPath).catch(() => undefined);
    },
  };
}
