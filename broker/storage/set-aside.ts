/**
 * Setting bytes aside instead of deleting them: what `runnel recover`
 * (log-surgery.ts) does with the part of a log it cuts off, and what
 * recovery (recovery.ts) does with bytes it cuts that may hold data (a tail
 * after lost unsynced pages, valid-looking batches in a torn tail).
 *
 * The bytes go to `<topic>-<partition>.set-aside-<UTC time>` next to the
 * partition directory, `…Z.2`, `…Z.3` when that name is taken (two in the
 * same second). No such name can parse as a partition directory: those end
 * in `-<digits>` (log-manager.ts `parsePartitionDirName`), these in `Z` or
 * `Z.<digits>`. The broker never opens one: LogManager.open skips them by
 * `isSetAsideDirName` (which also knows the `…Z-<n>` form that an earlier
 * version gave a second directory in the same second, which did parse as a
 * partition) and logs that they are there. Topic names may not contain
 * `.set-aside-` (metadata/topic-name.ts), so no partition is mistaken for one.
 *
 * Moving aside (`moveAside`): the tail of the cut segment is copied (from
 * the cut to the end of the file), whole later segments are renamed in,
 * newest first, both directories fsynced after each (an interruption leaves
 * the partition a prefix of its log, never a log with a hole). Only after
 * that, and the note, may the caller cut the partition: a crash at any
 * moment leaves every byte in the partition, in the set-aside directory, or
 * in both. `runnel dump-log` reads the files.
 */
import path from 'node:path';
import { assert } from '../world/assert.js';
import { mkdirDurable, renameIfPresent, type FileSystem } from '../world/file-system.js';
import { SEGMENT_SUFFIXES, segmentFileName } from './segment-names.js';

export const SET_ASIDE_INFIX = '.set-aside-';
export const SET_ASIDE_MANIFEST = 'SET-ASIDE.txt';
/** `<anything>-<partition>.set-aside-<yyyymmdd>T<hhmmss>Z`, maybe with `.<n>` (or the older `-<n>`). */
const SET_ASIDE_NAME = /^.+-\d+\.set-aside-\d{8}T\d{6}Z(?:[.-]\d+)?$/;

const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

/** What a cut removes from a partition directory. */
export interface SetAsideWhat {
  /** The segment .log cut within, and the byte position the cut starts at (null: no segment is cut within). */
  tail: { name: string; position: number } | null;
  /** Base offsets of later segments that go whole (their .log and index files). */
  wholeSegments: number[];
}

export interface SetAsideDone {
  /** Absolute path of the new directory. */
  dir: string;
  /** What it holds, by file name (the note excluded). */
  files: string[];
}

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

/** Copies `from[position, end)` to a new file `to` and fdatasyncs it. */
export async function copyRange(fs: FileSystem, from: string, position: number, to: string): Promise<void> {
  const source = fs.open(from, 'r');
  const target = fs.open(to, 'w+');
  try {
    const end = source.sizeBytes();
    const buffer = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(1, end - position)));
    for (let at = position; at < end;) {
      const n = source.read(buffer, 0, Math.min(buffer.byteLength, end - at), at);
      assert(n > 0, 'a file reads back to its size', { file: from, at, end });
      target.write(buffer.subarray(0, n), at - position);
      at += n;
    }
    await target.datasync();
  } finally {
    source.close();
    target.close();
  }
}

/**
 * Moves `what` out of the partition directory `dir` into the existing
 * directory `setAsideDir`, durably and in the order the file comment gives.
 * Harmless to run again after an interruption (a segment already moved is
 * skipped). Returns the names it copied or moved.
 */
export async function moveAside(fs: FileSystem, dir: string, setAsideDir: string, what: SetAsideWhat): Promise<string[]> {
  const files: string[] = [];
  if (what.tail !== null) {
    const tailPath = path.join(dir, what.tail.name);
    if (what.tail.position < ((await fs.stat(tailPath))?.sizeBytes ?? 0)) {
      await copyRange(fs, tailPath, what.tail.position, path.join(setAsideDir, what.tail.name));
      files.push(what.tail.name);
      await fs.fsyncDir(setAsideDir);
    }
  }
  // Newest first, each one durable before the next: whenever a crash comes, the partition holds a prefix of its log.
  for (const base of [...what.wholeSegments].sort((a, b) => b - a)) {
    for (const suffix of SEGMENT_SUFFIXES) {
      const name = segmentFileName(base, suffix);
      if (await renameIfPresent(fs, path.join(dir, name), path.join(setAsideDir, name))) files.push(name);
    }
    await fs.fsyncDir(setAsideDir);
    await fs.fsyncDir(dir);
  }
  return files;
}

/**
 * Moves `what` out of the partition directory `dir` into a new set-aside
 * directory, with the note `manifest(files)`, durably; the caller cuts the
 * partition afterwards.
 */
export async function setAside(fs: FileSystem, dir: string, what: SetAsideWhat, nowMs: number, manifest: (files: string[]) => Uint8Array): Promise<SetAsideDone> {
  const setAsideDir = await freeSetAsideDir(fs, dir, nowMs);
  await mkdirDurable(fs, setAsideDir);
  const files = await moveAside(fs, dir, setAsideDir, what);
  await fs.writeFileAtomic(path.join(setAsideDir, SET_ASIDE_MANIFEST), manifest(files));
  await fs.fsyncDir(setAsideDir);
  await fs.fsyncDir(dir);
  await fs.fsyncDir(path.dirname(dir));
  return { dir: setAsideDir, files };
}
