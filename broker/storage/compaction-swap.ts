/**
 * Putting a cleaned segment in place of the segments it replaces, so that a
 * crash at any moment leaves either the old set or the new one, never a mix;
 * and finishing (or rolling back) a swap that a crash interrupted.
 *
 * Files, for a group of old segments whose first has base offset B
 * (names from segment-names.ts):
 * ```
 *   B.log.cleaned  B.index.cleaned  B.timeindex.cleaned   being written: not part of the log
 *   B.log.swap     B.index.swap     B.timeindex.swap      committed: replaces every old segment X
 *                                                          with B <= X < the swap log's next offset
 * ```
 * The steps, each named for the failure hook (`SwapStep`) that runs after it:
 * 1. the `.cleaned` files are written and fdatasynced, then the directory
 *    (`cleaned-durable`);
 * 2. `.index.cleaned`, `.timeindex.cleaned`, then `.log.cleaned` are renamed
 *    to `.swap` (`swap-renamed`) and the directory fsynced (`swap-durable`).
 *    A durable `B.log.swap` is the commit point;
 * 3. every old segment's files are renamed to `.deleted` (`old-renamed`),
 *    directory fsync (`old-durable`);
 * 4. the `.swap` files take their final names, indexes first, log last
 *    (`installed`), directory fsync (`installed-durable`);
 * 5. (the log switches its segment list in memory, closes the old segments)
 *    the `.deleted` files are unlinked, directory fsync (`done`).
 *
 * Recovery (`finishInterruptedSwaps`, first thing when a log opens):
 * `.cleaned` files are removed (not committed). A `B.log.swap` is committed:
 * every segment it replaces (base in [B, its next offset)) is removed and
 * the swap files take their final names. Since the last batch of a cleaned
 * group is always kept (empty if need be), the swap ends exactly where the
 * last replaced segment ended, so that range names exactly the old set. An
 * index `.swap` left without its log is the tail of step 4 if the log
 * already has its final name (then it is installed too), or of step 2 if
 * `B.log.cleaned` was still there (then it is removed). If the swap's
 * indexes did not survive, they are rebuilt from its log.
 */
import path from 'node:path';
import type { FileHandle, FileSystem } from '../world/file-system.js';
import { renameIfPresent, unlinkIfPresent } from '../world/file-system.js';
import { BatchCursor } from './batch-cursor.js';
import { appendTimeEntry, freshIndexingState, indexBatch, type IndexSink } from './indexing.js';
import { OffsetIndex } from './offset-index.js';
import { Segment, type SegmentSettings } from './segment.js';
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, SWAP_SUFFIX, TIME_INDEX_SUFFIX, parseSegmentFileName } from './segment-names.js';
import type { StorageLogger } from './storage-logger.js';
import { TimeIndex } from './time-index.js';


/** The moments between swap steps at which a test can crash or fail the cleaner (see the file comment). */
export const SWAP_STEPS = ['cleaned-durable', 'swap-renamed', 'swap-durable', 'old-renamed', 'old-durable', 'installed', 'installed-durable', 'done'] as const;
export type SwapStep = (typeof SWAP_STEPS)[number];
/** Steps after which the new set is the log (a crash recovers to it). */
export const COMMITTED_STEPS: ReadonlySet<SwapStep> = new Set(['swap-durable', 'old-renamed', 'old-durable', 'installed', 'installed-durable', 'done']);

export type SwapStepHook = (step: SwapStep, baseOffset: number) => void | Promise<void>;

/** Index files in the order steps 2 and 4 rename them: indexes first, the log (the commit) last. */
const RENAME_ORDER = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX] as const;

/**
 * Builds a segment's two sparse indexes from its batches, by the same rule
 * as appends (indexing.ts). An entry that does not fit is dropped (the index
 * is then sparser, never wrong), except that the time index always keeps a
 * slot for the final entry, which records the segment's largest timestamp.
 */
class IndexBuilder {
  readonly #offsetIndex: OffsetIndex;
  readonly #timeIndex: TimeIndex;
  readonly #indexing = freshIndexingState();
  readonly #sink: IndexSink;

  constructor(offsetFile: FileHandle, timeFile: FileHandle, readonly baseOffset: number, readonly settings: SegmentSettings) {
    const offsetIndex = new OffsetIndex(offsetFile, settings.segmentIndexBytes);
    const timeIndex = new TimeIndex(timeFile, settings.segmentIndexBytes);
    this.#offsetIndex = offsetIndex;
    this.#timeIndex = timeIndex;
    this.#sink = {
      offsetEntry: (relOffset, position) => {
        if (!offsetIndex.wouldOverflow(1)) offsetIndex.append(relOffset, position);
      },
      timeEntry: (timestampMs, relOffset) => {
        if (!timeIndex.wouldOverflow(2)) timeIndex.maybeAppend(timestampMs, relOffset);
      },
    };
  }

  add(baseOffset: number, lastOffset: number, maxTimestampMs: number, position: number, sizeBytes: number): void {
    indexBatch(this.#indexing, this.#sink, this.baseOffset, this.settings.indexIntervalBytes, baseOffset, lastOffset, maxTimestampMs, position, sizeBytes);
  }

  /** Final time entry, both files trimmed to their entries and fdatasynced. */
  async finish(): Promise<void> {
    appendTimeEntry(this.#indexing, { offsetEntry: () => undefined, timeEntry: (t, o) => this.#timeIndex.maybeAppend(t, o) }, this.baseOffset);
    this.#offsetIndex.trim();
    this.#timeIndex.trim();
    await Promise.all([this.#offsetIndex.file.datasync(), this.#timeIndex.file.datasync()]);
  }
}

/** Writes one cleaned segment: `B.log.cleaned` and its two indexes. */
export class CleanedSegmentWriter {
  readonly paths: readonly string[];
  sizeBytes = 0;
  #files: FileHandle[] = [];
  #log: FileHandle;
  #indexes: IndexBuilder;

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    settings: SegmentSettings,
  ) {
    this.paths = RENAME_ORDER.map((suffix) => Segment.filePath(dir, baseOffset, suffix) + CLEANED_SUFFIX);
    for (const filePath of this.paths) this.#files.push(fs.open(filePath, 'w+'));
    const [offsetFile, timeFile, log] = this.#files as [FileHandle, FileHandle, FileHandle];
    this.#log = log;
    this.#indexes = new IndexBuilder(offsetFile, timeFile, baseOffset, settings);
  }

  /** Appends whole batches; `batches` holds (baseOffset, lastOffset, maxTimestamp, sizeBytes) per batch. */
  append(bytes: Uint8Array, batches: Float64Array): void {
    let position = this.sizeBytes;
    for (let i = 0; i < batches.length; i += 4) {
      const sizeBytes = batches[i + 3] as number;
      this.#indexes.add(batches[i] as number, batches[i + 1] as number, batches[i + 2] as number, position, sizeBytes);
      position += sizeBytes;
    }
    this.#log.write(bytes, this.sizeBytes);
    this.sizeBytes = position;
  }

  /** Everything written is on stable storage (the directory entries are the caller's step). */
  async finish(): Promise<void> {
    await this.#indexes.finish();
    await this.#log.datasync();
    this.#close();
  }

  #close(): void {
    for (const file of this.#files) file.close();
    this.#files = [];
  }

  /** Gives up: closes and removes the files (best effort; recovery removes `.cleaned` leftovers anyway). */
  async abandon(): Promise<void> {
    try {
      this.#close();
    } catch {
      // a handle of a crashed or failed disk: nothing more to close
    }
    for (const filePath of this.paths) await unlinkIfPresent(this.fs, filePath).catch(() => false);
  }
}

/** Step 2: the cleaned files become `.swap` files; durable on return (the commit). */
export async function commitCleaned(fs: FileSystem, dir: string, baseOffset: number, onStep: SwapStepHook): Promise<void> {
  for (const suffix of RENAME_ORDER) {
    const target = Segment.filePath(dir, baseOffset, suffix);
    await fs.rename(target + CLEANED_SUFFIX, target + SWAP_SUFFIX);
  }
  await onStep('swap-renamed', baseOffset);
  await fs.fsyncDir(dir);
  await onStep('swap-durable', baseOffset);
}

/** Step 4: the `.swap` files take their final names (indexes first); durable on return. */
export async function installSwap(fs: FileSystem, dir: string, baseOffset: number, onStep: SwapStepHook): Promise<{ missingIndexes: boolean }> {
  let missingIndexes = false;
  for (const suffix of RENAME_ORDER) {
    const target = Segment.filePath(dir, baseOffset, suffix);
    if (!(await renameIfPresent(fs, target + SWAP_SUFFIX, target)) && suffix !== LOG_SUFFIX) missingIndexes = true;
  }
  await onStep('installed', baseOffset);
  await fs.fsyncDir(dir);
  await onStep('installed-durable', baseOffset);
  return { missingIndexes };
}

/** The offset after the last batch of a (valid, fsynced) log file. */
function nextOffsetOf(fs: FileSystem, logPath: string, baseOffset: number): number {
  const file = fs.open(logPath, 'r');
  try {
    const cursor = new BatchCursor(file, 0, file.sizeBytes());
    let next = baseOffset;
    while (cursor.next()) next = cursor.lastOffset + 1;
    return next;
  } finally {
    file.close();
  }
}

/** Rebuilds both indexes of an installed segment from its log (their swap files were lost). */
async function rebuildIndexes(fs: FileSystem, dir: string, baseOffset: number, settings: SegmentSettings): Promise<void> {
  const log = fs.open(Segment.filePath(dir, baseOffset, LOG_SUFFIX), 'r');
  const offsetFile = fs.open(Segment.filePath(dir, baseOffset, INDEX_SUFFIX), 'w+');
  const timeFile = fs.open(Segment.filePath(dir, baseOffset, TIME_INDEX_SUFFIX), 'w+');
  try {
    const builder = new IndexBuilder(offsetFile, timeFile, baseOffset, settings);
    const cursor = new BatchCursor(log, 0, log.sizeBytes());
    while (cursor.next()) builder.add(cursor.baseOffset, cursor.lastOffset, cursor.maxTimestamp, cursor.position, cursor.sizeBytes);
    await builder.finish();
  } finally {
    log.close();
    offsetFile.close();
    timeFile.close();
  }
}

/**
 * Finishes or rolls back every swap a crash interrupted in `dir` (see the
 * file comment). Runs before anything else looks at the segment files;
 * returns how many swaps it finished.
 */
export async function finishInterruptedSwaps(fs: FileSystem, dir: string, settings: SegmentSettings, logger: StorageLogger): Promise<number> {
  const names = await fs.readdir(dir);
  if (!names.some((name) => name.endsWith(CLEANED_SUFFIX) || name.endsWith(SWAP_SUFFIX))) return 0;
  const logBases: number[] = [];
  const uncommitted = new Set<number>();
  const swaps: number[] = [];
  const indexSwaps = new Set<number>();
  for (const name of names) {
    const logBase = parseSegmentFileName(name, LOG_SUFFIX);
    if (logBase !== null) logBases.push(logBase);
    const cleanedLog = parseSegmentFileName(name, LOG_SUFFIX + CLEANED_SUFFIX);
    if (cleanedLog !== null) uncommitted.add(cleanedLog);
    const swapLog = parseSegmentFileName(name, LOG_SUFFIX + SWAP_SUFFIX);
    if (swapLog !== null) swaps.push(swapLog);
    const swapIndex = parseSegmentFileName(name, INDEX_SUFFIX + SWAP_SUFFIX) ?? parseSegmentFileName(name, TIME_INDEX_SUFFIX + SWAP_SUFFIX);
    if (swapIndex !== null) indexSwaps.add(swapIndex);
  }
  for (const name of names) if (name.endsWith(CLEANED_SUFFIX)) await unlinkIfPresent(fs, path.join(dir, name));

  swaps.sort((a, b) => a - b);
  for (const base of swaps) {
    const next = nextOffsetOf(fs, Segment.filePath(dir, base, LOG_SUFFIX) + SWAP_SUFFIX, base);
    const replaced = logBases.filter((other) => other >= base && other < next);
    const doomed: string[] = [];
    for (const other of new Set([base, ...replaced])) doomed.push(...(await Segment.renameFilesToDeleted(fs, dir, other)));
    await fs.fsyncDir(dir);
    const { missingIndexes } = await installSwap(fs, dir, base, async () => undefined);
    if (missingIndexes) await rebuildIndexes(fs, dir, base, settings);
    for (const file of doomed) await unlinkIfPresent(fs, file);
    logger.warn({ dir, baseOffset: base, nextOffset: next, replacedSegments: replaced.length }, 'finished a compaction swap that a crash interrupted');
    indexSwaps.delete(base);
  }
  for (const base of indexSwaps) {
    const logThere = (await fs.stat(Segment.filePath(dir, base, LOG_SUFFIX))) !== null;
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      const target = Segment.filePath(dir, base, suffix);
      if (logThere && !uncommitted.has(base)) await renameIfPresent(fs, target + SWAP_SUFFIX, target);
      else await unlinkIfPresent(fs, target + SWAP_SUFFIX);
    }
  }
  await fs.fsyncDir(dir);
  return swaps.length;
}
