/**
 * Opening a partition directory, after a clean close or a crash.
 *
 * 1. Leftovers first: a compaction swap that a crash interrupted is finished
 *    or rolled back (compaction-swap.ts: `.swap` files are committed,
 *    `.cleaned` ones are not); then `*.deleted` files (a delete that was
 *    interrupted) and `*.tmp` files (an atomic write that was) are removed,
 *    as are index files whose .log is gone.
 * 2. Clean shutdown (`clean-shutdown` present, and the log end it records
 *    matches the files): trust every file; only the active segment's tail
 *    after its last index entry is read to find the log end.
 * 3. Otherwise recover: segments before the one holding the recovery point
 *    are trusted (they were fsynced, indexes included); every later segment
 *    is scanned batch by batch (batch-scan.ts, on the scanner's threads) and
 *    its indexes and the epoch cache are rebuilt. At the first bad batch:
 *    - if it lies below the recovery point (data that was fsynced), or it is
 *      whole with a good CRC (bad only for its offsets), or valid data that
 *      continues the log follows it anywhere in the partition (later in its
 *      segment, or in any later segment: valid-batch-search.ts), it is
 *      corruption: the open fails with CorruptLogError (file, byte position)
 *      and no log data is changed or deleted (the partition stays offline
 *      until an operator runs `runnel recover`, log-surgery.ts);
 *    - except in the last segment, when what lies between the bad batch and
 *      that valid data is lost unsynced pages (zeros, lost-pages.ts): pages
 *      written back out of order by a power loss, nothing of it acknowledged
 *      as durable. The log is cut at the bad batch and everything after it
 *      is set aside (set-aside.ts), with a warning;
 *    - otherwise it is a torn tail: the .log is truncated there, and later
 *      segments, which then hold no valid batch at all (files a crash left
 *      behind during a roll), are removed. Cut bytes that still hold a batch
 *      with a good CRC (a batch a record value carried, or data the rules
 *      above judged not to continue the log) are set aside, not deleted.
 *    A torn tail can only be in the last segment after any crash, because a
 *    roll writes the new segment only once the old one is durable
 *    (pending-segment.ts); so damage anywhere else is never mistaken for
 *    one. A scanned segment that ends past the next segment's base offset is
 *    corruption too.
 *    The recovered files are then fsynced and the recovery point moved to
 *    the log end.
 *    Trusted segments (inactive ones after a clean close, those before the
 *    recovery point after a crash) keep their index files only if both are
 *    there and match the log (segment.ts `loadSummary`); otherwise they are
 *    rebuilt from the .log and fsynced here, as Kafka rebuilds missing indexes.
 * 4. The clean-shutdown marker is deleted (durably) before any write, so a
 *    crash from here on is recovered as a crash.
 */
import path from 'node:path';
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH } from '../../protocol/batch/header.js';
import { assert } from '../world/assert.js';
import type { Clock } from '../world/clock.js';
import { isErrno, TMP_SUFFIX, withFileOpen, type FileHandle, type FileSystem } from '../world/file-system.js';
import type { ScanState } from './batch-scan.js';
import { EpochCache } from './epoch-cache.js';
import { finishInterruptedSwaps } from './compaction-swap.js';
import { CorruptLogError } from './errors.js';
import { freshIndexingState } from './indexing.js';
import type { LogConfig } from './log-config.js';
import { decodeCleanShutdown, decodeCleanerCheckpoint, decodeLogStart, decodePartitionMeta, type CleanerCheckpoint, type PartitionMeta } from './partition-meta.js';
import { Segment, type SegmentSettings } from './segment.js';
import type { SegmentScanner } from './segment-scanner.js';
import {
  CLEANER_CHECKPOINT_FILE,
  LOG_START_FILE,
  CLEAN_SHUTDOWN_FILE,
  DELETED_SUFFIX,
  EPOCH_CHECKPOINT_FILE,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  PARTITION_META_FILE,
  TIME_INDEX_SUFFIX,
  parseSegmentFileName,
  segmentFileName,
} from './segment-names.js';
import type { StorageLogger } from './storage-logger.js';
import { lostPagesExplain } from './lost-pages.js';
import { setAside } from './set-aside.js';
import { findChainedBatch, findValidBatch, tallyValidBatches, validBatchAt, type BatchTally, type FoundBatch } from './valid-batch-search.js';

/** Bytes read per scan chunk (one transfer to a worker). */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

export interface LoadOptions {
  dir: string;
  fs: FileSystem;
  clock: Clock;
  config: LogConfig;
  scanner: SegmentScanner;
  logger: StorageLogger;
  /** Bytes per scan chunk (default 4 MiB); small values exercise chunk boundaries in tests. */
  scanChunkBytes?: number;
}

export interface RecoveryReport {
  cleanShutdown: boolean;
  scannedSegments: number;
  scannedBytes: number;
  /** Bytes cut off torn tails (including deleted later segments). */
  truncatedBytes: number;
  deletedSegments: number;
  /**
   * What a cut moved aside instead of deleting, or null: bytes after pages a
   * power loss did not write back (`lostPages`), or a torn tail that held
   * batches with a valid CRC.
   */
  setAside: (BatchTally & { dir: string; unreadableBytes: number; lostPages: boolean }) | null;
}

export interface LoadedLog {
  /** Sorted by base offset; the last one is active. */
  segments: Segment[];
  epochs: EpochCache;
  meta: PartitionMeta | null;
  /** The compaction checkpoint as stored (null when absent or damaged); the log clamps it to its end. */
  cleanerCheckpoint: CleanerCheckpoint | null;
  /** Where DeleteRecords moved the log start (0 when it never did); the log clamps it to its segments. */
  logStartFloor: number;
  /** True when the caller must persist the epoch cache and recovery point (recovery ran). */
  stateChanged: boolean;
  report: RecoveryReport;
}

export function segmentSettings(config: LogConfig): SegmentSettings {
  return { segmentIndexBytes: config.segmentIndexBytes, indexIntervalBytes: config.indexIntervalBytes };
}

async function readOptional(fs: FileSystem, filePath: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(filePath);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

/** Removes what interrupted deletes and atomic writes left behind; returns the .log base offsets. */
async function sweepLeftovers(fs: FileSystem, dir: string, logger: StorageLogger): Promise<number[]> {
  const names = await fs.readdir(dir);
  const bases = new Set<number>();
  for (const name of names) {
    const base = parseSegmentFileName(name, LOG_SUFFIX);
    if (base !== null) bases.add(base);
  }
  let removed = 0;
  for (const name of names) {
    const indexBase = parseSegmentFileName(name, INDEX_SUFFIX) ?? parseSegmentFileName(name, TIME_INDEX_SUFFIX);
    const orphanIndex = indexBase !== null && !bases.has(indexBase);
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith(TMP_SUFFIX) || orphanIndex) {
      await fs.unlink(path.join(dir, name)).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
      removed += 1;
    }
  }
  if (removed > 0) {
    await fs.fsyncDir(dir);
    logger.info({ dir, removed }, 'removed leftovers of interrupted deletes and writes');
  }
  return [...bases].sort((a, b) => a - b);
}

async function closeAll(segments: Segment[]): Promise<void> {
  for (const segment of segments) await segment.close();
}

export async function loadLog(opts: LoadOptions): Promise<LoadedLog> {
  const { dir, fs, clock, config, logger } = opts;
  const settings = segmentSettings(config);
  await finishInterruptedSwaps(fs, dir, settings, logger);
  const bases = await sweepLeftovers(fs, dir, logger);
  const metaBytes = await readOptional(fs, path.join(dir, PARTITION_META_FILE));
  const meta = metaBytes === null ? null : decodePartitionMeta(metaBytes);
  const markerBytes = await readOptional(fs, path.join(dir, CLEAN_SHUTDOWN_FILE));
  const cleanEnd = markerBytes === null ? null : decodeCleanShutdown(markerBytes);
  const cleanerBytes = await readOptional(fs, path.join(dir, CLEANER_CHECKPOINT_FILE));
  const cleanerCheckpoint = cleanerBytes === null ? null : decodeCleanerCheckpoint(cleanerBytes);
  if (cleanerBytes !== null && cleanerCheckpoint === null) logger.warn({ dir }, 'cleaner-offset-checkpoint is damaged; the whole log counts as dirty');
  const logStartBytes = await readOptional(fs, path.join(dir, LOG_START_FILE));
  const logStartFloor = logStartBytes === null ? null : decodeLogStart(logStartBytes);
  if (logStartBytes !== null && logStartFloor === null) logger.warn({ dir }, 'log-start-offset is damaged; the log starts at its first segment');
  const checkpoint = await readOptional(fs, path.join(dir, EPOCH_CHECKPOINT_FILE));
  let epochs = new EpochCache();
  let epochsTrusted = true;
  if (checkpoint !== null) {
    try {
      epochs = EpochCache.parse(checkpoint);
    } catch (err) {
      epochsTrusted = false;
      logger.warn({ dir, err: String(err) }, 'leader-epoch-checkpoint is damaged; rebuilding it from every segment');
    }
  }
  const report: RecoveryReport = { cleanShutdown: false, scannedSegments: 0, scannedBytes: 0, truncatedBytes: 0, deletedSegments: 0, setAside: null };
  const nowMs = clock.nowMs();

  let loaded: { segments: Segment[]; stateChanged: boolean } | null = null;
  if (bases.length === 0) {
    const segment = Segment.create(fs, dir, 0, settings, nowMs);
    await fs.fsyncDir(dir);
    loaded = { segments: [segment], stateChanged: true };
  } else if (cleanEnd !== null && epochsTrusted) {
    loaded = await openClean(opts, bases, settings, cleanEnd);
    if (loaded !== null) {
      report.cleanShutdown = true;
      epochs.truncateFromEnd((loaded.segments.at(-1) as Segment).nextOffset);
    } else {
      logger.warn({ dir, cleanEnd }, 'clean-shutdown marker does not match the files; recovering as after a crash');
    }
  }
  if (loaded === null) {
    const recoveryPoint = epochsTrusted ? (meta?.recoveryPoint ?? 0) : 0;
    loaded = await recover(opts, bases, settings, recoveryPoint, epochs, report);
  }
  try {
    // Indexes rebuilt because a trusted segment's were missing or wrong: durable (entries included) before use.
    const rebuilt = loaded.segments.filter((segment) => segment.indexesUnsynced);
    if (rebuilt.length > 0) {
      await Promise.all(rebuilt.map((segment) => segment.sync()));
      await fs.fsyncDir(dir);
      logger.warn({ dir, segments: rebuilt.map((segment) => segment.baseOffset) }, 'rebuilt missing or inconsistent indexes from the log');
    }
    if (markerBytes !== null) {
      await fs.unlink(path.join(dir, CLEAN_SHUTDOWN_FILE));
      await fs.fsyncDir(dir);
    }
  } catch (err) {
    await closeAll(loaded.segments).catch(() => undefined);
    throw err;
  }
  return { segments: loaded.segments, epochs, meta, cleanerCheckpoint, logStartFloor: logStartFloor ?? 0, stateChanged: loaded.stateChanged, report };
}

/** Every file trusted; null if the active segment does not end where the marker says. */
async function openClean(opts: LoadOptions, bases: number[], settings: SegmentSettings, cleanEnd: number): Promise<{ segments: Segment[]; stateChanged: boolean } | null> {
  const nowMs = opts.clock.nowMs();
  const segments: Segment[] = [];
  try {
    for (const base of bases) segments.push(Segment.openExisting(opts.fs, opts.dir, base, settings, nowMs));
    for (const segment of segments.slice(0, -1)) segment.loadSummary();
    const active = segments.at(-1) as Segment;
    active.makeActive();
    active.loadActiveTail();
    if (active.nextOffset === cleanEnd) return { segments, stateChanged: false };
  } catch (err) {
    if (!(err instanceof CorruptLogError)) {
      await closeAll(segments);
      throw err;
    }
    opts.logger.warn({ dir: opts.dir, err: err.message }, 'a cleanly closed segment does not read back');
  }
  await closeAll(segments);
  return null;
}

async function recover(
  opts: LoadOptions,
  bases: number[],
  settings: SegmentSettings,
  recoveryPoint: number,
  epochs: EpochCache,
  report: RecoveryReport,
): Promise<{ segments: Segment[]; stateChanged: boolean }> {
  const { fs, dir, clock, logger } = opts;
  const nowMs = clock.nowMs();
  let firstScanned = 0;
  for (let i = 0; i < bases.length; i++) if ((bases[i] as number) <= recoveryPoint) firstScanned = i;
  const segments: Segment[] = [];
  try {
    for (let i = 0; i < firstScanned; i++) {
      const segment = Segment.openExisting(fs, dir, bases[i] as number, settings, nowMs);
      segments.push(segment);
      segment.loadSummary();
    }
    epochs.truncateFromEnd(bases[firstScanned] as number);
    const spare: ArrayBuffer[] = [];
    for (let i = firstScanned; i < bases.length; i++) {
      const segment = Segment.openExisting(fs, dir, bases[i] as number, settings, nowMs);
      segments.push(segment);
      const fileBytes = segment.sizeBytes;
      const later = bases.slice(i + 1);
      const result = await scanSegment(opts, segment, epochs, recoveryPoint, spare, later.length === 0);
      if (result.validBytes < fileBytes) {
        // A torn tail only if nothing valid follows in the whole partition; checked before anything is cut.
        await checkNothingValidAfter(fs, dir, segment.log.path, result, later);
      } else if (later.length > 0 && result.state.nextOffset > (later[0] as number)) {
        throw new CorruptLogError(Segment.filePath(dir, later[0] as number, LOG_SUFFIX), 0, overlapReason(segment.baseOffset, result.state.nextOffset));
      }
      report.scannedSegments += 1;
      report.scannedBytes += result.validBytes;
      let movedAside = false;
      if (result.validBytes < fileBytes) {
        report.truncatedBytes += fileBytes - result.validBytes;
        movedAside = await setAsideIfData(opts, segment, result, later, report);
        if (!movedAside) logger.warn({ file: segment.log.path, position: result.validBytes, cutBytes: fileBytes - result.validBytes, reason: result.badReason }, 'truncated a torn tail');
      }
      segment.finishRecovery(result.state, result.validBytes);
      if (movedAside) break;
      if (result.validBytes < fileBytes && later.length > 0) {
        // Later segments holding no valid batch at all: files a crash left behind (checked above).
        for (const base of later) {
          report.truncatedBytes += (await fs.stat(Segment.filePath(dir, base, LOG_SUFFIX)))?.sizeBytes ?? 0;
          const renamed = await Segment.renameFilesToDeleted(fs, dir, base);
          await fs.fsyncDir(dir);
          for (const doomed of renamed) await fs.unlink(doomed);
          report.deletedSegments += 1;
        }
        logger.warn({ dir, deletedSegments: later.length }, 'removed the later segments after a torn tail: they held no valid batch');
        break;
      }
    }
    const active = segments.at(-1) as Segment;
    for (const segment of segments.slice(firstScanned, -1)) segment.seal();
    active.makeActive();
    epochs.truncateFromEnd(active.nextOffset);
    await Promise.all(segments.slice(firstScanned).map((segment) => segment.sync()));
    await fs.fsyncDir(dir);
    return { segments, stateChanged: true };
  } catch (err) {
    await closeAll(segments);
    throw err;
  }
}

/**
 * Throws CorruptLogError unless every later segment (`laterBases`) holds no
 * valid batch that continues the log: then the bad bytes at the end of
 * `file` are a torn tail. A later segment that exists but is empty or
 * garbage (a crash during a roll) does not count; one valid batch in any of
 * them does, if its offsets could follow the log (at or past the segment's
 * base and where the scan stopped; see valid-batch-search.ts).
 */
async function checkNothingValidAfter(fs: FileSystem, dir: string, file: string, scan: SegmentScan, laterBases: number[]): Promise<void> {
  if (scan.lostPages) return; // only ever found in the last segment
  for (const base of laterBases) {
    const laterPath = Segment.filePath(dir, base, LOG_SUFFIX);
    const handle = fs.open(laterPath, 'r');
    let found: FoundBatch | null;
    try {
      found = findValidBatch(handle, 0, handle.sizeBytes(), Math.max(base, scan.state.nextOffset));
    } finally {
      handle.close();
    }
    if (found !== null) {
      throw new CorruptLogError(file, scan.validBytes,
        `${scan.badReason}, and a later segment holds a valid batch (${path.basename(laterPath)} at byte ${found.position}, ${describeBatch(found)}), so this is damage, not a torn tail`);
    }
  }
}

/** Why a segment whose predecessor ends past its base offset is damage (the same words as log-surgery.ts). */
export function overlapReason(previousBase: number, previousEnd: number): string {
  return `the segment before it (${segmentFileName(previousBase, LOG_SUFFIX)}) ends at offset ${previousEnd}, past this segment's base offset`;
}

export function describeBatch(batch: Pick<FoundBatch, 'baseOffset' | 'lastOffset'>): string {
  return batch.baseOffset === batch.lastOffset ? `offset ${batch.baseOffset}` : `offsets ${batch.baseOffset}-${batch.lastOffset}`;
}

interface SegmentScan {
  validBytes: number;
  state: ScanState;
  badReason: string;
  /** The bytes after the bad batch are lost unsynced pages with valid batches after them (lost-pages.ts): set aside, then cut. */
  lostPages: boolean;
}

/**
 * Before a cut at `scan.validBytes` of `segment` (and the removal of the
 * later segments, crash leftovers): when what would go holds data (lost
 * pages with valid batches after them, or any batch with a good CRC),
 * moves it aside (set-aside.ts) and says so; returns whether it did. The
 * later segments are then gone from the directory too.
 */
async function setAsideIfData(opts: LoadOptions, segment: Segment, scan: SegmentScan, laterBases: number[], report: RecoveryReport): Promise<boolean> {
  const { fs, dir, logger } = opts;
  const logPath = segment.log.path;
  const paths = [logPath, ...laterBases.map((base) => Segment.filePath(dir, base, LOG_SUFFIX))];
  const holdsBatch = scan.lostPages || paths.some((filePath, i) => withFileOpen(fs, filePath, (file) => findValidBatch(file, i === 0 ? scan.validBytes : 0, file.sizeBytes()) !== null));
  if (!holdsBatch) return false;
  const tally = { batches: 0, records: 0, bytes: 0, unreadableBytes: 0 };
  let expected = scan.state.nextOffset;
  for (const [i, filePath] of paths.entries()) {
    const from = i === 0 ? scan.validBytes : 0;
    expected = withFileOpen(fs, filePath, (file) => tallyValidBatches(file, from, file.sizeBytes(), tally, Math.max(expected, i === 0 ? 0 : (laterBases[i - 1] as number))));
  }
  const why = scan.lostPages
    ? 'pages the power loss did not write back (zeros) with valid batches after them: writes that were never fsynced, so never acknowledged as durable'
    : 'a torn tail that still holds batches with a valid CRC (not continuing the log: a batch a record carried, or data past a second tear)';
  const name = path.basename(logPath);
  const nowMs = opts.clock.nowMs();
  const done = await setAside(fs, dir, { tail: { name, position: scan.validBytes }, wholeSegments: laterBases }, nowMs, (files) => new TextEncoder().encode([
    `# Set aside by the broker's recovery at ${new Date(nowMs).toISOString()}. Nothing here is served by the broker (docs/STORAGE.md, "Recovery").`,
    `partition.dir=${dir}`,
    `reason=${why}`,
    `cut=${name} at byte ${scan.validBytes} (offset ${scan.state.nextOffset}): ${scan.badReason}`,
    `log.end.offset=${scan.state.nextOffset}`,
    `valid.batches=${tally.batches}`,
    `valid.records=${tally.records}`,
    `unreadable.bytes=${tally.unreadableBytes}`,
    `files=${files.join(',')}`,
  ].join('\n') + '\n'));
  report.setAside = { dir: done.dir, ...tally, lostPages: scan.lostPages };
  logger.warn({ file: logPath, position: scan.validBytes, offset: scan.state.nextOffset, setAsideDir: done.dir, batches: tally.batches, records: tally.records, unreadableBytes: tally.unreadableBytes, reason: scan.badReason },
    scan.lostPages
      ? `cut the last segment where a power loss left unsynced pages unwritten; ${tally.records} records in ${tally.batches} batches after them (never acknowledged as durable) were moved to ${done.dir}, not deleted`
      : `truncated a torn tail that held ${tally.batches} batches with a valid CRC (${tally.records} records); the cut bytes were moved to ${done.dir}, not deleted`);
  return true;
}

/** A chunk of a .log read into a transferable buffer, cut at the last whole batch unless it ends the file. */
interface Chunk {
  buffer: ArrayBuffer;
  position: number;
  length: number;
  atFileEnd: boolean;
}

/**
 * Reads [position, ...) into `buffer` and cuts it after the last batch that
 * is whole in it (by the length fields alone; the scan checks the rest), so
 * the next chunk can be read before this one's scan returns. When not even
 * one batch fits, the whole buffer goes: the scan asks for more room.
 */
function readChunk(file: FileHandle, sizeBytes: number, position: number, buffer: ArrayBuffer): Chunk {
  const length = Math.min(buffer.byteLength, sizeBytes - position);
  const bytes = new Uint8Array(buffer, 0, length);
  const read = file.read(bytes, 0, length, position);
  assert(read === length, 'a segment reads back its own size', { file: file.path, position, length, read });
  const atFileEnd = position + length >= sizeBytes;
  if (atFileEnd) return { buffer, position, length, atFileEnd };
  const view = new DataView(buffer, 0, length);
  let whole = 0;
  while (whole + BATCH_HEADER_BYTES <= length) {
    const batchBytes = BATCH_LOG_OVERHEAD + view.getInt32(whole + BATCH_OFFSET_LENGTH);
    if (batchBytes < BATCH_HEADER_BYTES || whole + batchBytes > length) break;
    whole += batchBytes;
  }
  return { buffer, position, length: whole > 0 ? whole : length, atFileEnd };
}

/**
 * Scans one segment chunk by chunk (reading the next chunk while the scanner
 * works on this one); throws CorruptLogError for damage that is not a torn tail.
 */
async function scanSegment(opts: LoadOptions, segment: Segment, epochs: EpochCache, recoveryPoint: number, spare: ArrayBuffer[], lastSegment: boolean): Promise<SegmentScan> {
  segment.prepareForRecovery();
  const file = segment.log;
  const sizeBytes = segment.sizeBytes;
  const take = (minBytes: number): ArrayBuffer => {
    const buffer = spare.pop();
    return buffer !== undefined && buffer.byteLength >= minBytes ? buffer : new ArrayBuffer(Math.max(minBytes, opts.scanChunkBytes ?? SCAN_CHUNK_BYTES));
  };
  let state: ScanState = { ...freshIndexingState(), nextOffset: segment.baseOffset, latestEpoch: epochs.latestEpoch, firstBatchMaxTimestampMs: -1 };
  let position = 0;
  let chunk: Chunk | null = sizeBytes > 0 ? readChunk(file, sizeBytes, 0, take(0)) : null;
  while (chunk !== null) {
    const scanning = opts.scanner.scan({
      buffer: chunk.buffer,
      length: chunk.length,
      params: { filePosition: chunk.position, atFileEnd: chunk.atFileEnd, segmentBaseOffset: segment.baseOffset, indexIntervalBytes: opts.config.indexIntervalBytes },
      state,
    });
    const aheadAt = chunk.position + chunk.length;
    const ahead = chunk.atFileEnd || aheadAt >= sizeBytes ? null : readChunk(file, sizeBytes, aheadAt, take(0));
    const reply = await scanning;
    spare.push(reply.buffer);
    state = reply.state;
    const { output } = reply;
    segment.addRecoveredEntries(output.offsetEntries, output.timeEntries);
    for (let i = 0; i < output.epochStarts.length; i += 2) epochs.assign(output.epochStarts[i] as number, output.epochStarts[i + 1] as number);
    position = chunk.position + output.consumedBytes;
    if (output.stop === 'end') return { validBytes: sizeBytes, state, badReason: '', lostPages: false };
    if (output.stop === 'more') {
      if (ahead !== null && ahead.position === position) {
        chunk = ahead;
      } else {
        if (ahead !== null) spare.push(ahead.buffer);
        chunk = readChunk(file, sizeBytes, position, take(output.needBytes));
      }
      continue;
    }
    if (ahead !== null) spare.push(ahead.buffer);
    if (state.nextOffset < recoveryPoint) {
      throw new CorruptLogError(file.path, position, `${output.badReason}, below the recovery point ${recoveryPoint} (this data was fsynced)`);
    }
    // The bad batch itself, whole with a good CRC and bad only for its offsets (outside the CRC), is no tear.
    const itself = validBatchAt(file, position, sizeBytes);
    if (itself !== null) throw new CorruptLogError(file.path, position, `${output.badReason}, and it is whole with a valid CRC (${describeBatch(itself)})`);
    // After it: a batch that continues the log; where a tear can be, one that also starts a chain (valid-batch-search.ts).
    const validAfter = lastSegment ? findChainedBatch(file, position + 1, sizeBytes, state.nextOffset) : findValidBatch(file, position + 1, sizeBytes, state.nextOffset);
    if (validAfter === null) return { validBytes: position, state, badReason: output.badReason, lostPages: false };
    if (lastSegment && lostPagesExplain(file, position, validAfter.position, opts.config.maxMessageBytes)) {
      return { validBytes: position, state, badReason: output.badReason, lostPages: true };
    }
    throw new CorruptLogError(file.path, position, `${output.badReason}, and a valid batch follows at byte ${validAfter.position} (${describeBatch(validAfter)})`);
  }
  return { validBytes: 0, state, badReason: '', lostPages: false };
}
