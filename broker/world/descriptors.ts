/**
 * The process's file-descriptor limit as broker code sees it: the only place
 * that reads it. On Linux, the soft "Max open files" of /proc/self/limits
 * (what `ulimit -n` set, after Node raised its soft limit to the hard one at
 * start, as it does) and the count of /proc/self/fd. Elsewhere both are
 * unknown (null) and the broker runs without a descriptor budget.
 */
import fs from 'node:fs';

export interface Descriptors {
  /** Most descriptors the process may hold (RLIMIT_NOFILE, soft); null when unknown. */
  limit(): number | null;
  /** Descriptors the process holds now; null when unknown. */
  inUse(): number | null;
}

/** The soft limit from the text of /proc/<pid>/limits, or null. */
export function parseOpenFilesLimit(limitsText: string): number | null {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d+$/.test(soft)) return null;
  return Number(soft);
}

export const systemDescriptors: Descriptors = {
  limit() {
    try {
      return parseOpenFilesLimit(fs.readFileSync('/proc/self/limits', 'utf8'));
    } catch {
      return null;
    }
  },
  inUse() {
    try {
      // readdir holds one descriptor on the directory itself while it reads
      return fs.readdirSync('/proc/self/fd').length - 1;
    } catch {
      return null;
    }
  },
};
