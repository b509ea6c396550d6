/**
 * Setting bytes aside instead of deleting them: what `runnel recover`
 * (log-surgery.ts) does with the part of a log it cuts off, and what
 * recovery (recovery.ts) does with bytes it cuts that may hold data (a tail
 * after lost unsynced pages, valid-looking batches in a torn tail).
 *
 * The bytes go to `<topic>-<partition>.set-aside-<UTC time>` next to the
 * partition directory (`.2`, `.3`... when that name is taken), a name that
 * never parses as a partition directory, so the broker never opens it. The
 * tail of the cut segment is copied there (from the cut to the end of the
 * file), whole later segments are renamed into it, newest first, both
 * directories fsynced after each (an interruption leaves the partition a
 * prefix of its log, never a log with a hole), and a note says what it is;
 * then both directories and their parent are fsynced. Only after that may the caller cut the partition: a crash at any
 * moment leaves every byte in the partition, in the set-aside directory, or
 * in both. `runnel dump-log` reads the files.
 */
import path from 'node:path';
import { assert } from '../world/assert.js';
import { isErrno, mkdirDurable, type FileSystem } from '../world/file-system.js';
import { SEGMENT_SUFFIXES, segmentFileName } from './segment-names.js';

export const SET_ASIDE_INFIX = '.set-aside-';
export const SET_ASIDE_MANIFEST = 'SET-ASIDE.txt';

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

/** `20261129T101500Z`: a sortable UTC time for the directory's name. */
function compactUtc(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * The path of a set-aside directory for `partitionDir` that does not exist
 * yet (the caller creates it). Callers hold the data directory's lock, so
 * no one else picks the same name meanwhile.
 */
export async function freeSetAsideDir(fs: FileSystem, partitionDir: string, nowMs: number): Promise<string> {
  const base = `${partitionDir}${SET_ASIDE_INFIX}${compactUtc(nowMs)}`;
  let candidate = base;
  for (let n = 2; (await fs.stat(candidate)) !== null; n++) candidate = `${base}.${n}`;
  return candidate;
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
 * Moves `what` out of the partition directory `dir` into a new set-aside
 * directory, with the note `manifest(files)`, durably (see the file
 * comment); the caller cuts the partition afterwards.
 */
export async function setAside(fs: FileSystem, dir: string, what: SetAsideWhat, nowMs: number, manifest: (files: string[]) => Uint8Array): Promise<SetAsideDone> {
  const setAsideDir = await freeSetAsideDir(fs, dir, nowMs);
  await mkdirDurable(fs, setAsideDir);
  const files: string[] = [];
  if (what.tail !== null) {
    const tailPath = path.join(dir, what.tail.name);
    if (what.tail.position < ((await fs.stat(tailPath))?.sizeBytes ?? 0)) {
      await copyRange(fs, tailPath, what.tail.position, path.join(setAsideDir, what.tail.name));
      files.push(what.tail.name);
    }
  }
  if (files.length > 0) await fs.fsyncDir(setAsideDir);
  // Newest first, each one durable before the next: whenever a crash comes, the partition holds a prefix of its log.
  for (const base of [...what.wholeSegments].sort((a, b) => b - a)) {
    for (const suffix of SEGMENT_SUFFIXES) {
      const name = segmentFileName(base, suffix);
      try {
        await fs.rename(path.join(dir, name), path.join(setAsideDir, name));
        files.push(name);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    await fs.fsyncDir(setAsideDir);
    await fs.fsyncDir(dir);
  }
  await fs.writeFileAtomic(path.join(setAsideDir, SET_ASIDE_MANIFEST), manifest(files));
  await fs.fsyncDir(setAsideDir);
  await fs.fsyncDir(dir);
  await fs.fsyncDir(path.dirname(dir));
  return { dir: setAsideDir, files };
}
