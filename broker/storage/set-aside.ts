/**
 * Set-aside directories: bytes taken out of a partition and kept, never
 * deleted, for an operator to read (`runnel dump-log`) and delete once they
 * no longer matter. `runnel recover` moves the tail it cuts off a damaged
 * log into one (log-surgery.ts).
 *
 * Named `<topic>-<partition>.set-aside-<UTC time>` next to the partition
 * directory, `…Z.2`, `…Z.3` when that name is taken (two in the same
 * second). No such name can parse as a partition directory: those end in
 * `-<digits>` (log-manager.ts `parsePartitionDirName`), these in `Z` or
 * `Z.<digits>`. The broker never opens one: LogManager.open skips them by
 * `isSetAsideDirName` (which also knows the `…Z-<n>` form that an earlier
 * version gave a second directory in the same second, which did parse as a
 * partition) and logs that they are there. Topic names may not contain
 * `.set-aside-` (metadata/topic-name.ts), so no partition is mistaken for one.
 */
import type { FileSystem } from '../world/file-system.js';

export const SET_ASIDE_INFIX = '.set-aside-';
/** `<anything>-<partition>.set-aside-<yyyymmdd>T<hhmmss>Z`, maybe with `.<n>` (or the older `-<n>`). */
const SET_ASIDE_NAME = /^.+-\d+\.set-aside-\d{8}T\d{6}Z(?:[.-]\d+)?$/;

/** `20261129T101500Z`: a sortable UTC time. */
function compactUtc(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * The path of a set-aside directory for `partitionDir` that does not exist
 * yet (the caller creates it, e.g. with `mkdirDurable`). Callers hold the
 * data directory's lock, so no one else picks the same name meanwhile.
 */
export async function freeSetAsideDir(fs: FileSystem, partitionDir: string, nowMs: number): Promise<string> {
  const base = `${partitionDir}${SET_ASIDE_INFIX}${compactUtc(nowMs)}`;
  let candidate = base;
  for (let n = 2; (await fs.stat(candidate)) !== null; n++) candidate = `${base}.${n}`;
  return candidate;
}

/** True for the name (not the path) of a set-aside directory in a data directory. */
export function isSetAsideDirName(name: string): boolean {
  return SET_ASIDE_NAME.test(name);
}

/** The partition directory name a set-aside directory name belongs to (`orders-0` for `orders-0.set-aside-…`). */
export function setAsideOwner(name: string): string {
  return name.slice(0, name.lastIndexOf(SET_ASIDE_INFIX));
}
