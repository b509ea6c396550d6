/**
 * Log compaction of one partition log (`cleanup.policy` = compact or
 * compact,delete): Kafka's log cleaner, one pass at a time.
 *
 * What a pass cleans: the non-active segments from the log start up to the
 * first one that must stay dirty, i.e. the active segment, a segment whose
 * successor starts above `maxOffsetExclusive` (the high watermark), or a
 * segment holding a record younger than `min.compaction.lag.ms` (judged by
 * its largest timestamp). Everything below `firstDirtyOffset` was cleaned by
 * an earlier pass and holds at most one record per key; the part from there
 * on is the dirty head.
 *
 * A pass:
 * 1. decides whether cleaning pays: dirty bytes / cleanable bytes must reach
 *    `minCleanableRatio` (Kafka's min.cleanable.dirty.ratio), unless a
 *    tombstone kept by an earlier pass has since outlived delete.retention.ms;
 * 2. maps every key of the dirty head to its latest offset
 *    (compaction-offset-map.ts; bounded: if the map fills, the pass ends at
 *    the segment before);
 * 3. recopies the cleanable segments in groups (consecutive segments whose
 *    sizes add up to at most segment.bytes and whose offsets fit a u32 from
 *    the group's base), keeping a record unless its key has a later offset,
 *    and dropping tombstones whose batch's largest timestamp is older than
 *    now - delete.retention.ms and keyless records (compaction-chunk.ts).
 *    Offsets never change: kept records keep their batch's offsets, and each
 *    group's last batch is always kept, empty if need be;
 * 4. swaps each group's cleaned segment in (compaction-swap.ts), with the
 *    log's structural lock held, after checking that the group is still what
 *    it was (a truncation or retention that ran meanwhile voids the group).
 *
 * The chunk work runs on the runner's threads (cleaner-runner.ts); the
 * main thread reads chunks (through its own read handles, opened when the
 * pass starts, so retention deleting a segment underneath cannot break a
 * read) and writes the cleaned files. Reads of the log during a swap are
 * safe: `PartitionLog.read` runs synchronously from a consistent segment
 * list; the old segments keep serving (their indexes pinned in memory, their
 * files still open) until the new one is in place, and are closed only after
 * the switch.
 *
 * Failures: a bad batch is reported as CorruptLogError (file, position) and
 * nothing is swapped. A failure before the commit point leaves the log as
 * it was (the cleaned files are removed); after it the log goes offline, and
 * reopening finishes the swap.
 */
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH } from '../../protocol/batch/header.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES } from '../../protocol/batch/reader.js';
import type { Clock } from '../world/clock.js';
import type { FileHandle, FileSystem } from '../world/file-system.js';
import { inlineCleanerRunner, type CleanerRunner } from './cleaner-runner.js';
import { addFilterStats, emptyFilterStats, type CleanReply, type CleanRequest, type FilterChunkReply, type FilterStats, type MapChunkReply } from './compaction-chunk.js';
import { OffsetMap } from './compaction-offset-map.js';
import { CleanedSegmentWriter, commitCleaned, installSwap, type SwapStep, type SwapStepHook } from './compaction-swap.js';
import type { LogCipher } from './encryption/log-cipher.js';
import { CorruptLogError } from './errors.js';
import type { LogConfig } from './log-config.js';
import { segmentSettings } from './recovery.js';
import { Segment } from './segment.js';
import type { StorageLogger } from './storage-logger.js';

/** What the cleaner needs from the log it cleans (PartitionLog implements it). */
export interface CleanerHost {
  readonly dir: string;
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly logger: StorageLogger;
  readonly config: LogConfig;
  /** The log's segments, oldest first; the last one is active. */
  segments(): readonly Segment[];
  /** What earlier passes learned about this log (kept by the log, checkpointed in its directory). */
  readonly cleanerState: CleanerState;
  /** Persists `cleanerState` (atomically); called once the swaps it describes are durable. */
  checkpointCleanerState(): Promise<void>;
  /** Opens encrypted batches as chunks are read; seals the cleaned output when the topic is encrypted. */
  readonly cipher: LogCipher;
  /** Waits for truncation, retention and other swaps to finish; resolves to the release. */
  lockStructure(): Promise<() => void>;
  /** Puts `replacement` where the consecutive, inactive `old` segments are, in one synchronous step. */
  replaceSegments(old: readonly Segment[], replacement: Segment): void;
  /** Takes the log offline (a swap failed after its commit point); returns the error to throw. */
  goOffline(reason: string, cause: unknown): Error;
  /** True once the log is closing or offline: a pass stops at its next chunk. */
  readonly stopping: boolean;
}

export interface CompactOptions {
  /** Where chunk work runs (default: inline, on the calling thread). */
  runner?: CleanerRunner;
  /** Never clean a segment holding offsets at or above this (the high watermark); default the log end. */
  maxOffsetExclusive?: number;
  /** Clean only when dirty bytes / cleanable bytes reaches this (default 0: always, for a call by hand). */
  minCleanableRatio?: number;
  /** Bound on the key -> offset map (Kafka's log.cleaner.dedupe.buffer.size); default 64 MiB. */
  offsetMapBytes?: number;
  /** Bytes read per chunk task; default 1 MiB. */
  chunkBytes?: number;
  /** Test hook, awaited after each step of each swap (see compaction-swap.ts). */
  onSwapStep?: SwapStepHook;
}

export interface CompactResult {
  /** Why the pass did nothing (null when it ran). */
  skipped: string | null;
  /** The dirty head started here... */
  firstDirtyOffset: number;
  /** ...and the pass cleaned everything below this (the next pass's firstDirtyOffset). */
  endOffset: number;
  dirtyRatio: number;
  segmentsBefore: number;
  segmentsAfter: number;
  groupsSwapped: number;
  /** .log bytes of the cleanable segments read, and of the segments that hold them afterwards. */
  bytesRead: number;
  bytesWritten: number;
  mapKeys: number;
  stats: FilterStats;
  durationMs: number;
}

/**
 * What the cleaner remembers about one log between passes. The log keeps it
 * and checkpoints it (`cleaner-offset-checkpoint`, partition-meta.ts), so a
 * restart does not make the whole log dirty again.
 */
export class CleanerState {
  #truncations = 0;

  constructor(
    /** Offsets below it were cleaned by an earlier pass and not changed since. */
    public firstDirtyOffset = 0,
    /** When a tombstone kept by an earlier pass outlives delete.retention.ms (Infinity: none kept). */
    public tombstoneExpiryMs = Number.POSITIVE_INFINITY,
  ) {}

  get truncations(): number {
    return this.#truncations;
  }

  /** The log was truncated to `logEndOffset`: what lies above it is new data, hence dirty. True when that lowered firstDirtyOffset. */
  noteTruncation(logEndOffset: number): boolean {
    this.#truncations += 1;
    if (this.firstDirtyOffset <= logEndOffset) return false;
    this.firstDirtyOffset = logEndOffset;
    return true;
  }
}

/** The pass stopped because the log is closing or went offline. */
export class CleanerAbortedError extends Error {
  override name = 'CleanerAbortedError';
}

const DEFAULT_OFFSET_MAP_BYTES = 64 * 1024 * 1024;
/**
 * The main thread reads each chunk and writes its output synchronously, so
 * the chunk size bounds how long the cleaner holds up the event loop
 * (~0.3-0.5 ms a MiB here); 1 MiB and 8 MiB chunks measured the same
 * throughput (bench/storage.ts).
 */
const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const U32_MAX = 0xffffffff;

interface Chunk {
  buffer: ArrayBuffer;
  length: number;
  position: number;
  /** The chunk ends the segment. */
  last: boolean;
}

/** Bytes of whole batches at the start of `bytes` (all of them if a header is bad: the task reports it). */
function wholeBatchesLength(bytes: Uint8Array): { whole: number; firstBatchBytes: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let firstBatchBytes = 0;
  while (bytes.byteLength - pos >= BATCH_LOG_OVERHEAD) {
    const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
    if (sizeBytes < BATCH_HEADER_BYTES) return { whole: bytes.byteLength, firstBatchBytes };
    if (pos === 0) firstBatchBytes = sizeBytes;
    if (pos + sizeBytes > bytes.byteLength) break;
    pos += sizeBytes;
  }
  return { whole: pos, firstBatchBytes: pos === 0 && firstBatchBytes === 0 ? BATCH_HEADER_BYTES : firstBatchBytes };
}

/**
 * A segment's .log read in chunks of whole batches, through the cleaner's
 * own handle, encrypted batches opened in place (the chunk tasks see
 * plaintext; a position a task reports inside an opened chunk is then
 * approximate, the chunk's own is exact).
 */
class ChunkSource {
  #position = 0;
  constructor(
    readonly file: FileHandle,
    readonly sizeBytes: number,
    readonly chunkBytes: number,
    readonly cipher: LogCipher,
  ) {}

  next(spare: ArrayBuffer | undefined): Chunk | null {
    if (this.#position >= this.sizeBytes) return null;
    const left = this.sizeBytes - this.#position;
    let want = Math.min(this.chunkBytes, left);
    let buffer = spare;
    for (;;) {
      if (buffer === undefined || buffer.byteLength < want) buffer = new ArrayBuffer(want);
      const bytes = new Uint8Array(buffer, 0, want);
      const read = this.file.read(bytes, 0, want, this.#position);
      if (read < want) throw new CorruptLogError(this.file.path, this.#position + read, `the segment is shorter than its recorded ${this.sizeBytes} bytes`);
      const { whole, firstBatchBytes } = wholeBatchesLength(bytes);
      let length = whole;
      if (whole === 0) {
        // One batch longer than the chunk: read it whole, or hand over what is there so the task reports it.
        if (firstBatchBytes > want && firstBatchBytes <= left) {
          want = firstBatchBytes;
          continue;
        }
        length = want;
      }
      const opened = whole === 0 ? length : this.cipher.openInPlace(bytes, length, this.file.path, this.#position);
      const chunk = { buffer, length: opened, position: this.#position, last: this.#position + length >= this.sizeBytes };
      this.#position += length;
      return chunk;
    }
  }
}

interface SourceSegment {
  segment: Segment;
  sizeBytes: number;
  file: FileHandle;
}

/** Consecutive segments recopied into one cleaned segment (Kafka's groupSegmentsBySize). */
function groupSegments(sources: SourceSegment[], endOffset: number, config: LogConfig): SourceSegment[][] {
  const groups: SourceSegment[][] = [];
  let current: SourceSegment[] = [];
  let currentBytes = 0;
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i] as SourceSegment;
    const successorBase = sources[i + 1]?.segment.baseOffset ?? endOffset;
    const first = current[0];
    if (first !== undefined && (currentBytes + source.sizeBytes > config.segmentBytes || successorBase - 1 - first.segment.baseOffset > U32_MAX)) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(source);
    currentBytes += source.sizeBytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Index of the segment holding `offset` (0 below the first). */
function floorIndex(segments: readonly Segment[], offset: number): number {
  let at = 0;
  while (at + 1 < segments.length && (segments[at + 1] as Segment).baseOffset <= offset) at += 1;
  return at;
}

class Pass {
  readonly #host: CleanerHost;
  readonly #runner: CleanerRunner;
  readonly #chunkBytes: number;
  readonly #onStep: SwapStepHook;
  readonly #maxUncompressedBytes: number;
  #spares: ArrayBuffer[] = [];

  constructor(host: CleanerHost, opts: CompactOptions) {
    this.#host = host;
    this.#runner = opts.runner ?? inlineCleanerRunner;
    this.#chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.#onStep = opts.onSwapStep ?? (() => undefined);
    this.#maxUncompressedBytes = Math.max(DEFAULT_MAX_UNCOMPRESSED_BYTES, host.config.maxMessageBytes);
  }

  #checkRunning(): void {
    if (this.#host.stopping) throw new CleanerAbortedError(`compaction of ${this.#host.dir} stopped: the log is closing or offline`);
  }

  /**
   * Feeds a segment's chunks to the runner one at a time (each task may
   * depend on the one before), reading the next chunk while a task runs.
   * `handle` returns false to stop early.
   */
  async eachChunk<R extends CleanReply>(source: SourceSegment, request: (chunk: Chunk) => CleanRequest, handle: (reply: R, chunk: Chunk) => boolean): Promise<boolean> {
    const reader = new ChunkSource(source.file, source.sizeBytes, this.#chunkBytes, this.#host.cipher);
    let chunk = reader.next(this.#spares.pop());
    while (chunk !== null) {
      this.#checkRunning();
      const pending = this.#runner.run(request(chunk));
      let next: Chunk | null;
      try {
        next = reader.next(this.#spares.pop());
      } catch (err) {
        await pending.catch(() => undefined);
        throw err;
      }
      const reply = (await pending) as R;
      this.#spares.push(reply.buffer);
      if (!handle(reply, chunk)) {
        if (next !== null) this.#spares.push(next.buffer);
        return false;
      }
      chunk = next;
    }
    return true;
  }

  /** Maps the dirty head's keys; returns how many sources it covered fully (fewer if the map filled). */
  async buildMap(map: OffsetMap, sources: SourceSegment[]): Promise<{ mapped: number; state: OffsetMap }> {
    let state = map;
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i] as SourceSegment;
      const complete = await this.eachChunk<MapChunkReply>(
        source,
        (chunk) => ({ kind: 'map', buffer: chunk.buffer, length: chunk.length, params: this.#params(chunk), map: state.state }),
        (reply, chunk) => {
          state = OffsetMap.attach(reply.map);
          if (reply.stop === 'bad') throw new CorruptLogError(source.file.path, chunk.position + reply.consumedBytes, `compaction found a bad batch: ${reply.badReason}`);
          return reply.stop !== 'full';
        },
      );
      if (!complete) return { mapped: i, state };
    }
    return { mapped: sources.length, state };
  }

  #params(chunk: Chunk): { filePosition: number; maxUncompressedBytes: number } {
    return { filePosition: chunk.position, maxUncompressedBytes: this.#maxUncompressedBytes };
  }

  /** Recopies a group into `.cleaned` files; returns the writer (finished) or null when nothing would change. */
  async cleanGroup(group: SourceSegment[], map: OffsetMap, tombstoneHorizonMs: number, stats: FilterStats, oldestTombstone: { ms: number }): Promise<CleanedSegmentWriter | null> {
    const host = this.#host;
    const writer = new CleanedSegmentWriter(host.fs, host.dir, (group[0] as SourceSegment).segment.baseOffset, segmentSettings(host.config));
    const groupStats = emptyFilterStats();
    try {
      for (let i = 0; i < group.length; i++) {
        const source = group[i] as SourceSegment;
        const endsGroup = i === group.length - 1;
        await this.eachChunk<FilterChunkReply>(
          source,
          (chunk) => ({
            kind: 'filter',
            buffer: chunk.buffer,
            length: chunk.length,
            params: this.#params(chunk),
            map: map.state,
            tombstoneHorizonMs,
            keepLastBatch: endsGroup && chunk.last,
          }),
          (reply, chunk) => {
            if (reply.stop === 'bad') throw new CorruptLogError(source.file.path, chunk.position + reply.consumedBytes, `compaction found a bad batch: ${reply.badReason}`);
            this.#append(writer, new Uint8Array(reply.output, 0, reply.outputBytes), reply.batches);
            addFilterStats(groupStats, reply.stats);
            oldestTombstone.ms = Math.min(oldestTombstone.ms, reply.oldestTombstoneMs);
            return true;
          },
        );
      }
      addFilterStats(stats, groupStats);
      const unchanged = groupStats.recordsKept === groupStats.recordsRead && groupStats.batchesDropped === 0 && groupStats.batchesRewritten === 0;
      if (group.length === 1 && unchanged) {
        await writer.abandon();
        return null;
      }
      await writer.finish();
      return writer;
    } catch (err) {
      await writer.abandon();
      throw err;
    }
  }

  /** Writes cleaned batches, sealed under the current key first when the topic is encrypted (their sizes then grow). */
  #append(writer: CleanedSegmentWriter, bytes: Uint8Array, batches: Float64Array): void {
    if (!this.#host.config.encryptionEnabled || bytes.byteLength === 0) {
      writer.append(bytes, batches);
      return;
    }
    const sealed = this.#host.cipher.seal(bytes);
    const sized = batches.slice();
    const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    for (let i = 0, pos = 0; i < sized.length; i += 4) {
      const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      sized[i + 3] = sizeBytes;
      pos += sizeBytes;
    }
    writer.append(sealed, sized);
  }

  /** True when the group's segments are still in the log, in order, inactive and unchanged. */
  #stillInPlace(group: SourceSegment[]): boolean {
    const list = this.#host.segments();
    const at = list.indexOf((group[0] as SourceSegment).segment);
    if (at < 0 || at + group.length >= list.length) return false;
    return group.every((source, i) => list[at + i] === source.segment && !source.segment.isActive && source.segment.sizeBytes === source.sizeBytes);
  }

  /** Steps 1-5 of compaction-swap.ts for one group; false if the group changed meanwhile (nothing swapped). */
  async swap(group: SourceSegment[], writer: CleanedSegmentWriter): Promise<boolean> {
    const host = this.#host;
    const { fs, dir } = host;
    const baseOffset = writer.baseOffset;
    const step = async (name: SwapStep): Promise<void> => this.#onStep(name, baseOffset);
    const release = await host.lockStructure();
    let committed = false;
    try {
      this.#checkRunning();
      if (!this.#stillInPlace(group)) {
        await writer.abandon();
        return false;
      }
      // The old segments keep serving reads until the switch; their index files are renamed away below.
      for (const source of group) source.segment.pinIndexes();
      await fs.fsyncDir(dir);
      await step('cleaned-durable');
      committed = true; // from the first rename on, only recovery may decide which set is the log
      await commitCleaned(fs, dir, baseOffset, this.#onStep);
      const doomed: string[] = [];
      for (const source of group) doomed.push(...(await Segment.renameFilesToDeleted(fs, dir, source.segment.baseOffset)));
      await step('old-renamed');
      await fs.fsyncDir(dir);
      await step('old-durable');
      await installSwap(fs, dir, baseOffset, this.#onStep);
      const replacement = Segment.openExisting(fs, dir, baseOffset, segmentSettings(host.config), host.clock.nowMs());
      replacement.loadSummary();
      host.replaceSegments(group.map((source) => source.segment), replacement);
      for (const source of group) await source.segment.close();
      for (const file of doomed) await fs.unlink(file);
      await fs.fsyncDir(dir);
      await step('done');
      return true;
    } catch (err) {
      if (!committed) {
        await writer.abandon();
        throw err;
      }
      throw host.goOffline('a compaction swap failed after its commit point (reopening the log finishes it)', err);
    } finally {
      release();
    }
  }
}

function skipped(reason: string, host: CleanerHost, dirtyRatio = 0): CompactResult {
  const segments = host.segments().length;
  const { firstDirtyOffset } = host.cleanerState;
  return {
    skipped: reason,
    firstDirtyOffset,
    endOffset: firstDirtyOffset,
    dirtyRatio,
    segmentsBefore: segments,
    segmentsAfter: segments,
    groupsSwapped: 0,
    bytesRead: 0,
    bytesWritten: 0,
    mapKeys: 0,
    stats: emptyFilterStats(),
    durationMs: 0,
  };
}

/** One compaction pass over the log behind `host` (see the file comment). */
export async function cleanLog(host: CleanerHost, opts: CompactOptions = {}): Promise<CompactResult> {
  const config = host.config;
  const state = host.cleanerState;
  if (!config.cleanupPolicy.compact) return skipped('cleanup.policy does not include compact', host);
  if (host.stopping) return skipped('the log is closing or offline', host);
  const truncationsBefore = state.truncations;
  const startedNs = host.clock.monotonicNs();
  const nowMs = host.clock.nowMs();
  const segments = [...host.segments()];
  const bound = opts.maxOffsetExclusive ?? Number.POSITIVE_INFINITY;
  const lagHorizonMs = nowMs - config.minCompactionLagMs;
  let end = 0;
  while (end + 1 < segments.length) {
    const segment = segments[end] as Segment;
    if ((segments[end + 1] as Segment).baseOffset > bound) break;
    if (config.minCompactionLagMs > 0 && segment.indexing.maxTimestampMs > lagHorizonMs) break;
    end += 1;
  }
  if (end === 0) return skipped('no inactive segment is below the bound and older than min.compaction.lag.ms', host);
  const logStart = (segments[0] as Segment).baseOffset;
  const firstDirty = Math.min(Math.max(state.firstDirtyOffset, logStart), (segments[end] as Segment).baseOffset);
  const dirtyStart = Math.min(floorIndex(segments, firstDirty), end);
  let totalBytes = 0;
  let dirtyBytes = 0;
  for (let i = 0; i < end; i++) {
    totalBytes += (segments[i] as Segment).sizeBytes;
    if (i >= dirtyStart) dirtyBytes += (segments[i] as Segment).sizeBytes;
  }
  const dirtyRatio = totalBytes === 0 ? 0 : dirtyBytes / totalBytes;
  const tombstonesDue = nowMs >= state.tombstoneExpiryMs;
  if (totalBytes === 0) return skipped('the cleanable segments are empty', host);
  if (dirtyRatio < (opts.minCleanableRatio ?? 0) && !tombstonesDue) return skipped(`dirty ratio ${dirtyRatio.toFixed(3)} is below min.cleanable.dirty.ratio`, host, dirtyRatio);

  // Own read handles, opened in the same synchronous step as the snapshot: valid whatever happens to the files.
  const sources: SourceSegment[] = [];
  const pass = new Pass(host, opts);
  try {
    for (let i = 0; i < end; i++) {
      const segment = segments[i] as Segment;
      sources.push({ segment, sizeBytes: segment.sizeBytes, file: host.fs.open(segment.log.path, 'r') });
    }
    const built = await pass.buildMap(OffsetMap.create(opts.offsetMapBytes ?? DEFAULT_OFFSET_MAP_BYTES), sources.slice(dirtyStart));
    const cleanable = sources.slice(0, dirtyStart + built.mapped);
    if (built.mapped < end - dirtyStart) {
      host.logger.warn({ dir: host.dir, keys: built.state.size, mapBytes: built.state.sizeBytes, cleanedSegments: cleanable.length }, 'the compaction offset map filled up: this pass cleans fewer segments');
    }
    if (cleanable.length === 0) return skipped('the offset map cannot hold the keys of one dirty segment', host, dirtyRatio);
    const endOffset = (segments[cleanable.length] as Segment).baseOffset;
    const stats = emptyFilterStats();
    const oldestTombstone = { ms: Number.POSITIVE_INFINITY };
    const tombstoneHorizonMs = nowMs - config.deleteRetentionMs;
    let groupsSwapped = 0;
    let bytesRead = 0;
    let bytesWritten = 0;
    let voided = false;
    for (const group of groupSegments(cleanable, endOffset, config)) {
      const writer = await pass.cleanGroup(group, built.state, tombstoneHorizonMs, stats, oldestTombstone);
      for (const source of group) bytesRead += source.sizeBytes;
      if (writer === null) {
        for (const source of group) bytesWritten += source.sizeBytes;
        continue;
      }
      if (await pass.swap(group, writer)) {
        groupsSwapped += 1;
        bytesWritten += writer.sizeBytes;
      } else {
        voided = true;
        host.logger.info({ dir: host.dir, baseOffset: writer.baseOffset }, 'a truncation or retention changed the segments being compacted; that group is left for the next pass');
      }
    }
    // Read and set in one synchronous step: a truncation that ran during the pass has lowered it itself.
    const before = { firstDirtyOffset: state.firstDirtyOffset, tombstoneExpiryMs: state.tombstoneExpiryMs };
    if (!voided && state.truncations === truncationsBefore) state.firstDirtyOffset = Math.max(state.firstDirtyOffset, endOffset);
    state.tombstoneExpiryMs = oldestTombstone.ms === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : oldestTombstone.ms + config.deleteRetentionMs + 1;
    // Every swap above is durable by now, so the checkpoint never claims more than the files hold.
    if (state.firstDirtyOffset !== before.firstDirtyOffset || state.tombstoneExpiryMs !== before.tombstoneExpiryMs) await host.checkpointCleanerState();
    const result: CompactResult = {
      skipped: null,
      firstDirtyOffset: firstDirty,
      endOffset,
      dirtyRatio,
      segmentsBefore: segments.length,
      segmentsAfter: host.segments().length,
      groupsSwapped,
      bytesRead,
      bytesWritten,
      mapKeys: built.state.size,
      stats,
      durationMs: Number(host.clock.monotonicNs() - startedNs) / 1e6,
    };
    host.logger.info({ dir: host.dir, ...result, stats: undefined, ...stats }, 'compacted the log');
    return result;
  } finally {
    for (const source of sources) {
      try {
        source.file.close();
      } catch {
        // the handle of a crashed or failed disk
      }
    }
  }
}
