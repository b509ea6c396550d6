/**
 * `runnel recover` on the broker's side of the line, the one broker module
 * the command (tools/commands/recover.ts) imports: it holds the data
 * directory's lock for the whole run, so no broker can open the partition
 * meanwhile (and it refuses to run while one does), then inspects the
 * partition and plans, or makes, the cut (storage/log-surgery.ts). A cut
 * that an earlier run began and did not finish (the partition still holds
 * its cut-in-progress marker) is reported, and finished by the same
 * command with `--execute`; no other cut is made before it is.
 */
import path from 'node:path';
import { acquireDataDirLock, DataDirLockedError } from './data-dir-lock.js';
import { parsePartitionDirName } from './storage/log-manager.js';
import {
  cutCommand,
  executeCut,
  finishCut,
  inspectPartition,
  LogSurgeryError,
  planCut,
  readCutInProgress,
  type CutDone,
  type CutInProgress,
  type CutPlan,
  type PartitionInspection,
} from './storage/log-surgery.js';
import { systemClock, type Clock } from './world/clock.js';
import { realFileSystem, type FileSystem } from './world/file-system.js';

export { LogSurgeryError };
export type { CutDone, CutInProgress, CutPlan, PartitionInspection };

export interface RecoverRequest {
  /** `<data.dir>/<topic>-<partition>`. */
  partitionDir: string;
  /** Cut the log so that it ends at or below this offset (the batch holding it goes too). */
  truncateAt?: number;
  /** Make the cut; without it only report what the cut would do. */
  execute: boolean;
}

export interface RecoverOutcome {
  /** The partition as it is now (part way through a cut, when `interrupted` is set and `done` is not). */
  inspection: PartitionInspection;
  /** A cut an earlier run began and did not finish; `plan` is then its plan. */
  interrupted: CutInProgress | null;
  /** With `truncateAt`, or the interrupted cut's. */
  plan: CutPlan | null;
  /** With `execute`. */
  done: CutDone | null;
}

export async function recoverPartition(request: RecoverRequest, world: { fs: FileSystem; clock: Clock } = { fs: realFileSystem, clock: systemClock }): Promise<RecoverOutcome> {
  const { fs, clock } = world;
  const dir = path.resolve(request.partitionDir);
  const stat = await fs.stat(dir);
  if (stat === null || !stat.isDirectory) throw new LogSurgeryError(`${dir} is not a directory; give a partition directory, <data.dir>/<topic>-<partition>`);
  if (parsePartitionDirName(path.basename(dir)) === null) {
    throw new LogSurgeryError(`${path.basename(dir)} is not named like a partition directory (<topic>-<partition>, inside the broker's data.dir)`);
  }
  if (request.execute && request.truncateAt === undefined) {
    throw new LogSurgeryError('--execute needs --truncate-at OFFSET; run without --execute first to see where the log can be cut');
  }
  const dataDir = path.dirname(dir);
  let lock;
  try {
    lock = await acquireDataDirLock(fs, dataDir);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    throw new LogSurgeryError(`${dataDir} is in use by ${err.holder}, which holds the lock on ${err.lockPath}; stop that broker first: recover works only on a data directory no broker has open`);
  }
  try {
    const interrupted = await readCutInProgress(fs, dir);
    if (interrupted !== null) {
      const { truncateAt } = interrupted.plan;
      if (request.truncateAt !== undefined && request.truncateAt !== truncateAt) {
        throw new LogSurgeryError(`a cut of this log at offset ${truncateAt} was interrupted; finish it first: ${cutCommand(dir, truncateAt)}`);
      }
      const done = request.execute ? await finishCut(fs, dir, interrupted, clock.nowMs()) : null;
      return { inspection: await inspectPartition(fs, dir), interrupted, plan: interrupted.plan, done };
    }
    const inspection = await inspectPartition(fs, dir);
    const plan = request.truncateAt === undefined ? null : planCut(fs, inspection, request.truncateAt);
    const done = plan !== null && request.execute ? await executeCut(fs, inspection, plan, clock.nowMs()) : null;
    return { inspection, interrupted: null, plan, done };
  } finally {
    await lock.release();
  }
}
