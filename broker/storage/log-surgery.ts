/**
 * The storage side of `runnel recover`: the operator's way out when a
 * partition was taken offline for corruption (recovery.ts never cuts off
 * data that has valid batches after it). Runs on a partition directory with
 * no broker (broker/recover.ts holds the data directory's lock).
 *
 * - `inspectPartition` checks every batch of every segment with the same
 *   rules as recovery (batch-scan.ts: length, magic, CRC-32C, offsets rising,
 *   each segment starting at or after where the one before it ends), and
 *   reports the first damage (file, byte position, the offset the good
 *   prefix ends at) and what lies after it: the valid batches found by
 *   resynchronising (valid-batch-search.ts) and the bytes that are not batches.
 * - `planCut` works out what cutting the log at an offset keeps and sets
 *   aside: the batch holding that offset and everything after it, i.e. the
 *   tail of one segment from a batch boundary plus every later segment whole.
 *   It refuses a cut past the damage (the broker would refuse the log again).
 * - `executeCut` first records the cut in the partition (`cut-in-progress`:
 *   the plan and the set-aside directory's name, written atomically). From
 *   then on the broker keeps the partition offline (InterruptedCutError,
 *   answered as CORRUPT_SEGMENT) until the marker goes, and running the same
 *   command again finishes the cut from the record (`finishCut`) instead of
 *   planning a new one. Then, each step durable before the next: the
 *   clean-shutdown marker is removed and the recovery point lowered to the
 *   cut segment (so even a broker that ignored the marker would scan the
 *   files, not trust them); the tail bytes are copied into
 *   `<dir>.set-aside-<UTC time>/` (set-aside.ts: a name the broker never
 *   opens as a partition); later segments are renamed into it newest first,
 *   both directories fsynced after each, so the partition always holds a
 *   prefix of its log, never a log with a hole; a `SET-ASIDE.txt` note is
 *   written; only then is the segment truncated, its (derived) index files
 *   removed (the next open scans the segment and rebuilds them), and last
 *   the marker removed. A crash part way leaves every byte in the
 *   partition, in the set-aside directory, or in both.
 */
import path from 'node:path';
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH, BATCH_OFFSET_RECORD_COUNT } from '../../protocol/batch/header.js';
import { assert } from '../world/assert.js';
import { mkdirDurable, TMP_SUFFIX, unlinkIfPresent, withFileOpen, type FileHandle, type FileSystem } from '../world/file-system.js';
import { scanChunk, type ScanState } from './batch-scan.js';
import { BatchCursor } from './batch-cursor.js';
import { freshIndexingState } from './indexing.js';
import { InterruptedCutError } from './errors.js';
import { decodePartitionMeta, encodePartitionMeta } from './partition-meta.js';
import { overlapReason } from './recovery.js';
import {
  CLEAN_SHUTDOWN_FILE,
  CUT_IN_PROGRESS_FILE,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  PARTITION_META_FILE,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  parseSegmentFileName,
  segmentFileName,
} from './segment-names.js';
import { freeSetAsideDir, moveAside, SET_ASIDE_INFIX, SET_ASIDE_MANIFEST } from './set-aside.js';
import { claimedBatchAt, tallyValidBatches, type BatchTally } from './valid-batch-search.js';

export { SET_ASIDE_INFIX, SET_ASIDE_MANIFEST } from './set-aside.js';
export type { BatchTally } from './valid-batch-search.js';

/** Bytes read per scan step. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** A mistake or a state in which the operation cannot run; the message says what to do. */
export class LogSurgeryError extends Error {
  override name = 'LogSurgeryError';
}

export interface SegmentFile {
  baseOffset: number;
  /** File name within the partition directory. */
  name: string;
  sizeBytes: number;
}

export interface Damage {
  /** Segment file name and base offset. */
  file: string;
  segmentBaseOffset: number;
  /** Byte position of the bad batch in the file. */
  position: number;
  /** Where the good prefix ends: the offset the bad batch should have started at. */
  offset: number;
  reason: string;
  /** What the bad batch's header claims, when it reads as a header at all (its CRC or length may be what failed). */
  claimed: { baseOffset: number; lastOffset: number; recordCount: number } | null;
}

export interface PartitionInspection {
  dir: string;
  segments: SegmentFile[];
  logStartOffset: number;
  /** The log end if nothing is damaged, else where the good prefix ends (`damage.offset`). */
  goodEndOffset: number;
  /** The good prefix. */
  good: BatchTally;
  damage: Damage | null;
  /** From the damage to the end of the partition: valid batches found by resynchronising, and bytes that are not batches. */
  afterDamage: BatchTally & { unreadableBytes: number };
}

export interface CutPlan {
  truncateAt: number;
  /** Where the log will end once the cut is made. */
  logEndOffset: number;
  /** The segment cut within (it stays, maybe empty) and the byte position of the cut. */
  cutSegment: SegmentFile;
  cutPosition: number;
  /** Later segments, set aside whole. */
  laterSegments: SegmentFile[];
  /** Valid batches among what is set aside. */
  setAside: BatchTally;
  /** Every byte set aside (tail plus later segments). */
  setAsideBytes: number;
  /** Bytes set aside that are not valid batches (the damage, torn bytes). */
  unreadableBytes: number;
  /** The damage, when the cut removes it. */
  damage: Damage | null;
}

/** A cut `executeCut` began, as its cut-in-progress marker records it. */
export interface CutInProgress {
  /** Name (not path) of its set-aside directory, next to the partition. */
  setAsideDir: string;
  plan: CutPlan;
}

export interface CutDone {
  /** Absolute path of the directory the tail and later segments were moved to. */
  setAsideDir: string;
  /** What it holds, by file name. */
  files: string[];
}

async function segmentFiles(fs: FileSystem, dir: string): Promise<SegmentFile[]> {
  const names = await fs.readdir(dir);
  if (names.some((name) => name.endsWith(SWAP_SUFFIX))) {
    throw new LogSurgeryError(`${dir} holds a compaction swap that a crash interrupted (*${SWAP_SUFFIX}); start the broker once, which finishes it, then run this again`);
  }
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const baseOffset = parseSegmentFileName(name, LOG_SUFFIX);
    if (baseOffset === null) continue;
    const stat = await fs.stat(path.join(dir, name));
    segments.push({ baseOffset, name, sizeBytes: stat?.sizeBytes ?? 0 });
  }
  return segments.sort((a, b) => a.baseOffset - b.baseOffset);
}

/** Validates one segment from its start with recovery's rules; where its good bytes end, and why. */
function scanSegmentFile(file: FileHandle, segment: SegmentFile, state: ScanState, good: BatchTally): { validBytes: number; badReason: string | null } {
  let position = 0;
  let want = CHUNK_BYTES;
  while (position < segment.sizeBytes) {
    const length = Math.min(want, segment.sizeBytes - position);
    const bytes = new Uint8Array(length);
    file.read(bytes, 0, length, position);
    const before = state.nextOffset;
    const output = scanChunk(bytes, { filePosition: position, atFileEnd: position + length >= segment.sizeBytes, segmentBaseOffset: segment.baseOffset, indexIntervalBytes: Number.MAX_SAFE_INTEGER }, state);
    good.batches += output.batches;
    good.bytes += output.consumedBytes;
    good.records += recordsIn(bytes, output.consumedBytes);
    assert(state.nextOffset >= before, 'a scan only moves forward', { file: file.path, position });
    position += output.consumedBytes;
    if (output.stop === 'bad') return { validBytes: position, badReason: output.badReason };
    if (output.stop === 'end') break;
    want = Math.max(CHUNK_BYTES, output.needBytes);
  }
  return { validBytes: position, badReason: null };
}

/** Records in the whole batches of `bytes[0, end)` (by each header's record count). */
function recordsIn(bytes: Uint8Array, end: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let records = 0;
  for (let at = 0; at < end; at += BATCH_LOG_OVERHEAD + view.getInt32(at + BATCH_OFFSET_LENGTH)) records += view.getInt32(at + BATCH_OFFSET_RECORD_COUNT);
  return records;
}

/** Every batch of every segment of the partition in `dir`, checked; see the file comment. */
export async function inspectPartition(fs: FileSystem, dir: string): Promise<PartitionInspection> {
  const segments = await segmentFiles(fs, dir);
  if (segments.length === 0) throw new LogSurgeryError(`${dir} holds no segment (.log) files; is it a partition directory (<data.dir>/<topic>-<partition>)?`);
  const good: BatchTally = { batches: 0, records: 0, bytes: 0 };
  const afterDamage = { batches: 0, records: 0, bytes: 0, unreadableBytes: 0 };
  const state: ScanState = { ...freshIndexingState(), nextOffset: 0, latestEpoch: Number.MAX_SAFE_INTEGER, firstBatchMaxTimestampMs: -1 };
  let damage: Damage | null = null;
  let damagedIndex = -1;
  for (let i = 0; i < segments.length && damage === null; i++) {
    const segment = segments[i] as SegmentFile;
    const filePath = path.join(dir, segment.name);
    if (i > 0 && state.nextOffset > segment.baseOffset) {
      damage = { file: segment.name, segmentBaseOffset: segment.baseOffset, position: 0, offset: state.nextOffset, reason: overlapReason((segments[i - 1] as SegmentFile).baseOffset, state.nextOffset), claimed: null };
      damagedIndex = i;
      break;
    }
    state.nextOffset = Math.max(state.nextOffset, segment.baseOffset);
    Object.assign(state, freshIndexingState());
    const scan = withFileOpen(fs, filePath, (file) => scanSegmentFile(file, segment, state, good));
    if (scan.badReason !== null) {
      const claimed = withFileOpen(fs, filePath, (file) => claimedBatchAt(file, scan.validBytes, segment.sizeBytes));
      damage = { file: segment.name, segmentBaseOffset: segment.baseOffset, position: scan.validBytes, offset: state.nextOffset, reason: scan.badReason, claimed };
      damagedIndex = i;
    }
  }
  if (damage !== null) {
    // Counted as recovery judges "valid data after": only batches whose offsets continue the log (not one a record value carries).
    let minBaseOffset = damage.offset;
    for (let i = damagedIndex; i < segments.length; i++) {
      const segment = segments[i] as SegmentFile;
      const from = i === damagedIndex ? damage.position : 0;
      minBaseOffset = withFileOpen(fs, path.join(dir, segment.name), (file) => tallyValidBatches(file, from, segment.sizeBytes, afterDamage, Math.max(minBaseOffset, i === damagedIndex ? 0 : segment.baseOffset)));
    }
  }
  const first = segments[0] as SegmentFile;
  return { dir, segments, logStartOffset: first.baseOffset, goodEndOffset: damage?.offset ?? state.nextOffset, good, damage, afterDamage };
}

/** What cutting the log at `truncateAt` keeps and sets aside; throws LogSurgeryError for a cut that cannot help. */
export function planCut(fs: FileSystem, inspection: PartitionInspection, truncateAt: number): CutPlan {
  const { dir, segments, damage } = inspection;
  if (truncateAt < inspection.logStartOffset) {
    throw new LogSurgeryError(`offset ${truncateAt} is below the log start ${inspection.logStartOffset}; the lowest cut keeps nothing: --truncate-at ${inspection.logStartOffset}`);
  }
  if (damage !== null && truncateAt > damage.offset) {
    throw new LogSurgeryError(`the log is damaged at offset ${damage.offset} (${damage.file}, byte ${damage.position}); cut at that offset or below: --truncate-at ${damage.offset}`);
  }
  if (damage === null && truncateAt >= inspection.goodEndOffset) {
    throw new LogSurgeryError(`nothing to cut: the log is sound and ends at offset ${inspection.goodEndOffset}`);
  }
  // The cut lies in the last segment that starts at or below it, never past the damage, and never in a
  // segment that starts below where the one before it ends (that one goes whole).
  let lastUsable = segments.length - 1;
  if (damage !== null) {
    lastUsable = segments.findIndex((s) => s.name === damage.file);
    if (damage.position === 0 && damage.segmentBaseOffset < damage.offset) lastUsable -= 1;
  }
  let k = 0;
  for (let i = 0; i <= lastUsable; i++) if ((segments[i] as SegmentFile).baseOffset <= truncateAt) k = i;
  const cutSegment = segments[k] as SegmentFile;
  const goodBytes = damage !== null && damage.file === cutSegment.name ? damage.position : cutSegment.sizeBytes;
  let cutPosition = goodBytes;
  let logEndOffset = cutSegment.baseOffset;
  withFileOpen(fs, path.join(dir, cutSegment.name), (file) => {
    const cursor = new BatchCursor(file, 0, goodBytes);
    while (cursor.next()) {
      if (cursor.lastOffset >= truncateAt) {
        cutPosition = cursor.position;
        return;
      }
      logEndOffset = cursor.lastOffset + 1;
    }
  });
  const laterSegments = segments.slice(k + 1);
  const tally = { batches: 0, records: 0, bytes: 0, unreadableBytes: 0 };
  let minBaseOffset = withFileOpen(fs, path.join(dir, cutSegment.name), (file) => tallyValidBatches(file, cutPosition, cutSegment.sizeBytes, tally, logEndOffset));
  for (const later of laterSegments) {
    minBaseOffset = withFileOpen(fs, path.join(dir, later.name), (file) => tallyValidBatches(file, 0, later.sizeBytes, tally, Math.max(minBaseOffset, later.baseOffset)));
  }
  const setAsideBytes = cutSegment.sizeBytes - cutPosition + laterSegments.reduce((sum, s) => sum + s.sizeBytes, 0);
  return {
    truncateAt,
    logEndOffset,
    cutSegment,
    cutPosition,
    laterSegments,
    setAside: { batches: tally.batches, records: tally.records, bytes: tally.bytes },
    setAsideBytes,
    unreadableBytes: tally.unreadableBytes,
    damage,
  };
}

function manifest(dir: string, plan: CutPlan, files: string[], nowMs: number): Uint8Array {
  const lines = [
    `# Set aside by \`runnel recover\` at ${new Date(nowMs).toISOString()}. Nothing here is served by the broker.`,
    `partition.dir=${dir}`,
    `truncate.at=${plan.truncateAt}`,
    `log.end.offset=${plan.logEndOffset}`,
    `damage=${plan.damage === null ? 'none' : `${plan.damage.file} at byte ${plan.damage.position} (offset ${plan.damage.offset}): ${plan.damage.reason}`}`,
    `tail=${plan.cutPosition < plan.cutSegment.sizeBytes ? `${plan.cutSegment.name} holds bytes ${plan.cutPosition} to ${plan.cutSegment.sizeBytes} of the partition's ${plan.cutSegment.name}` : 'none'}`,
    `whole.segments=${plan.laterSegments.map((s) => s.name).join(',')}`,
    `valid.batches=${plan.setAside.batches}`,
    `valid.records=${plan.setAside.records}`,
    `bytes=${plan.setAsideBytes}`,
    `unreadable.bytes=${plan.unreadableBytes}`,
    `files=${files.join(',')}`,
  ];
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

/** The command that makes (or, run again, finishes) the cut `plan` of the partition in `dir`. */
export function cutCommand(dir: string, truncateAt: number): string {
  return `runnel recover ${dir} --truncate-at ${truncateAt} --execute`;
}

/** The cut-in-progress marker's content: enough to finish the cut without planning it again. */
function encodeCutInProgress(cut: CutInProgress): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(cut, null, 2) + '\n');
}

function isCutInProgress(value: unknown): value is CutInProgress {
  const cut = value as CutInProgress | null;
  const plan = cut?.plan;
  return typeof cut?.setAsideDir === 'string' && cut.setAsideDir.includes(SET_ASIDE_INFIX) && !cut.setAsideDir.includes('/')
    && typeof plan === 'object' && plan !== null && Number.isSafeInteger(plan.truncateAt) && Number.isSafeInteger(plan.cutPosition)
    && typeof plan.cutSegment?.name === 'string' && Number.isSafeInteger(plan.cutSegment.baseOffset)
    && Array.isArray(plan.laterSegments) && plan.laterSegments.every((s) => Number.isSafeInteger(s?.baseOffset));
}

/** The cut a `runnel recover --execute` began in `dir` and did not finish, or null when there is none. */
export async function readCutInProgress(fs: FileSystem, dir: string): Promise<CutInProgress | null> {
  const file = path.join(dir, CUT_IN_PROGRESS_FILE);
  if ((await fs.stat(file)) === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await fs.readFile(file)));
  } catch (err) {
    value = err;
  }
  if (!isCutInProgress(value)) {
    throw new LogSurgeryError(`${file} says a cut was interrupted but cannot be read; what the cut moved is in a ${path.basename(dir)}${SET_ASIDE_INFIX}* directory next to the partition. Compare it with the partition, then remove ${file} by hand`);
  }
  return value;
}

/**
 * Why the broker must not open the partition in `dir`: a cut in progress
 * (InterruptedCutError, which names the command that finishes it), or null.
 */
export async function interruptedCutIn(fs: FileSystem, dir: string): Promise<InterruptedCutError | null> {
  if ((await fs.stat(path.join(dir, CUT_IN_PROGRESS_FILE))) === null) return null;
  const cut = await readCutInProgress(fs, dir).catch(() => null);
  if (cut === null) return new InterruptedCutError(path.join(dir, CUT_IN_PROGRESS_FILE), 0, `runnel recover ${dir}`);
  return new InterruptedCutError(path.join(dir, cut.plan.cutSegment.name), cut.plan.cutPosition, cutCommand(dir, cut.plan.truncateAt));
}

/**
 * Makes the cut `plan` describes: records it in the partition
 * (cut-in-progress, so the broker refuses the partition and a second run
 * finishes it), then `finishCut`. `nowMs` names the set-aside directory.
 */
export async function executeCut(fs: FileSystem, inspection: PartitionInspection, plan: CutPlan, nowMs: number): Promise<CutDone> {
  const setAsideDir = await freeSetAsideDir(fs, inspection.dir, nowMs);
  const cut: CutInProgress = { setAsideDir: path.basename(setAsideDir), plan };
  await fs.writeFileAtomic(path.join(inspection.dir, CUT_IN_PROGRESS_FILE), encodeCutInProgress(cut));
  return finishCut(fs, inspection.dir, cut, nowMs);
}

/**
 * Every step of a cut, each one done again harmlessly if a crash
 * interrupted an earlier run (see the file comment for the order).
 */
export async function finishCut(fs: FileSystem, dir: string, cut: CutInProgress, nowMs: number): Promise<CutDone> {
  const { plan } = cut;
  const setAsideDir = path.join(path.dirname(dir), cut.setAsideDir);
  await distrustFiles(fs, dir, plan.cutSegment.baseOffset);
  await mkdirDurable(fs, setAsideDir);
  const cutLog = path.join(dir, plan.cutSegment.name);
  const cutBytes = (await fs.stat(cutLog))?.sizeBytes ?? -1;
  if (cutBytes < plan.cutPosition) {
    throw new LogSurgeryError(`${cutLog} is ${cutBytes < 0 ? 'gone' : `${cutBytes} bytes long`}, but the cut keeps its first ${plan.cutPosition} bytes: the partition changed since the cut began; compare it with ${setAsideDir} before going on`);
  }
  await moveAside(fs, dir, setAsideDir, {
    tail: cutBytes > plan.cutPosition ? { name: plan.cutSegment.name, position: plan.cutPosition } : null,
    wholeSegments: plan.laterSegments.map((later) => later.baseOffset),
  });
  const files = (await fs.readdir(setAsideDir)).filter((name) => name !== SET_ASIDE_MANIFEST && !name.endsWith(TMP_SUFFIX)).sort();
  await fs.writeFileAtomic(path.join(setAsideDir, SET_ASIDE_MANIFEST), manifest(dir, plan, files, nowMs));

  // Everything removed below is now durable in the set-aside directory.
  if (cutBytes > plan.cutPosition) {
    const log = fs.open(cutLog, 'r+');
    try {
      log.truncate(plan.cutPosition);
      await log.datasync();
    } finally {
      log.close();
    }
  }
  await unlinkIfPresent(fs, path.join(dir, segmentFileName(plan.cutSegment.baseOffset, INDEX_SUFFIX)));
  await unlinkIfPresent(fs, path.join(dir, segmentFileName(plan.cutSegment.baseOffset, TIME_INDEX_SUFFIX)));
  await fs.fsyncDir(dir);
  await fs.unlink(path.join(dir, CUT_IN_PROGRESS_FILE));
  await fs.fsyncDir(dir);
  return { setAsideDir, files };
}

/**
 * Before anything moves: no clean-shutdown marker, and a recovery point at
 * or below the cut segment, durably. Then even a broker that did not know
 * the cut-in-progress marker would scan the files from the cut on instead
 * of trusting them (and would find a prefix of the log, not a hole).
 */
async function distrustFiles(fs: FileSystem, dir: string, cutSegmentBase: number): Promise<void> {
  const metaPath = path.join(dir, PARTITION_META_FILE);
  const meta = (await fs.stat(metaPath)) === null ? null : decodePartitionMeta(await fs.readFile(metaPath));
  if (meta === null || meta.recoveryPoint > cutSegmentBase) {
    await fs.writeFileAtomic(metaPath, encodePartitionMeta({ topic: meta?.topic ?? null, partition: meta?.partition ?? null, recoveryPoint: Math.min(meta?.recoveryPoint ?? 0, cutSegmentBase) }));
  }
  if (await unlinkIfPresent(fs, path.join(dir, CLEAN_SHUTDOWN_FILE))) await fs.fsyncDir(dir);
}
