/**
 * The `local` metadata store: the change log in one append-only file on the
 * broker's own disk, for the embedded single-node default (and a controller
 * process's own directory).
 *
 * On-disk format, `<data.dir>/metadata/changes.log`, a sequence of entries
 * (entry-frame.ts has the frame):
 *
 * ```
 * u32 entryBytes     bytes after the crc field (schema version + payload), big-endian
 * u32 crc            CRC-32C of those entryBytes bytes
 * u8  schemaVersion  the Avro writer schema (changes.ts)
 *     payload        one Avro-encoded MetadataEntry
 * ```
 *
 * A commit writes its entries at the end of the file and fdatasyncs before it
 * resolves, so an acknowledged topic change survives a crash. The file's
 * directory entry is fsynced when the file is created.
 *
 * Recovery on open replays every entry. A torn tail (an entry that runs past
 * the end of the file, or fails its CRC as the very last entry, or is
 * followed only by zeros) is what a crash during a write leaves: it was never
 * acknowledged, so it is cut off. Anything else that does not read back (a
 * bad CRC in the middle, an entry that does not decode or does not fit the
 * state) stops the broker with `CorruptMetadataError`: guessing which topics
 * exist would be worse.
 *
 * Entries written before schema v3 carry no replica assignment; their topics
 * were hosted by the one node that owns this directory, so replay fills in
 * `[localNodeId]` for each partition. `readFrom` returns the entries as
 * replayed (filled), so an image folded from them equals this store's.
 *
 * Following the log (`readFrom`): the most recent `keptEntries` entries are
 * kept decoded in memory, which serves brokers that keep up; an older range
 * is read from the file, starting at the nearest entry of a sparse index of
 * byte positions (one every INDEX_INTERVAL versions), so the memory kept is
 * bounded by the kept entries plus one number per INDEX_INTERVAL entries.
 *
 * After a failed fdatasync the store refuses every later commit: the kernel
 * may have dropped the unsynced pages, so what is on disk is unknown until
 * the next start replays it.
 *
 * Not shared between processes (the data directory lock sees to that); within
 * one, commits run one at a time in call order.
 */
import path from 'node:path';
import { assert } from '../world/assert.js';
import type { Clock } from '../world/clock.js';
import type { FileHandle, FileSystem } from '../world/file-system.js';
import { decodeEntry, encodeEntry, type MetadataChange, type MetadataEntry } from './changes.js';
import { frameEntry, readFrame } from './entry-frame.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from './image.js';
import { CorruptMetadataError, DEFAULT_KEPT_ENTRIES, MetadataStoreClosedError, StaleMetadataError, checkReadFrom, type MetadataStore } from './store.js';
import { VersionWaiters } from './version-waiters.js';
import { SerialQueue } from '../serial-queue.js';

export const METADATA_DIR = 'metadata';
export const METADATA_LOG_FILE = 'changes.log';
/** Versions between two entries of the sparse position index. */
export const INDEX_INTERVAL = 64;

export interface LocalStoreOptions {
  dataDir: string;
  fs: FileSystem;
  clock: Clock;
  /** The node that owns this directory: the host of every partition of a topic written before schema v3. */
  localNodeId: number;
  /** Recent entries kept decoded for `readFrom`; older ones are read from the file. */
  keptEntries?: number;
}

export class LocalMetadataStore implements MetadataStore {
  #image: MetadataImage;
  readonly #handle: FileHandle;
  readonly #file: string;
  readonly #clock: Clock;
  #endPosition: number;
  readonly #index: LogIndex;
  /** Pre-v3 entries as replay filled them in, by version (a fixed set: new entries carry their assignments). */
  readonly #filled: ReadonlyMap<number, MetadataChange>;
  readonly #waiters = new VersionWaiters();
  readonly #queue = new SerialQueue();
  #failure: Error | undefined;
  #closed = false;

  private constructor(handle: FileHandle, replayed: Replayed, clock: Clock) {
    this.#handle = handle;
    this.#file = handle.path;
    this.#image = replayed.image;
    this.#endPosition = replayed.validBytes;
    this.#index = replayed.index;
    this.#filled = replayed.filled;
    this.#clock = clock;
  }

  static async open(opts: LocalStoreOptions): Promise<LocalMetadataStore> {
    const dir = path.join(opts.dataDir, METADATA_DIR);
    const file = path.join(dir, METADATA_LOG_FILE);
    const keptEntries = opts.keptEntries ?? DEFAULT_KEPT_ENTRIES;
    assert(Number.isInteger(keptEntries) && keptEntries >= 1, 'the metadata store keeps at least one entry', { keptEntries });
    await opts.fs.mkdirp(dir);
    if ((await opts.fs.stat(file)) === null) {
      const created = opts.fs.open(file, 'w+');
      await created.datasync();
      await opts.fs.fsyncDir(dir);
      await opts.fs.fsyncDir(opts.dataDir);
      return new LocalMetadataStore(created, { image: EMPTY_IMAGE, validBytes: 0, index: new LogIndex(keptEntries), filled: new Map() }, opts.clock);
    }
    const bytes = await opts.fs.readFile(file);
    const replayed = replay(bytes, file, { localNodeId: opts.localNodeId, keptEntries });
    const handle = opts.fs.open(file, 'r+');
    if (replayed.validBytes < bytes.byteLength) {
      handle.truncate(replayed.validBytes);
      await handle.datasync();
    }
    return new LocalMetadataStore(handle, replayed, opts.clock);
  }

  get image(): MetadataImage {
    return this.#image;
  }

  commit(changes: readonly MetadataChange[], opts: { expectedVersion?: number } = {}): Promise<number> {
    return this.#queue.run(() => this.#commitNow(changes, opts.expectedVersion));
  }

  async readFrom(afterVersion: number, maxEntries: number): Promise<MetadataEntry[]> {
    checkReadFrom(afterVersion, maxEntries);
    if (this.#closed) throw new MetadataStoreClosedError();
    const last = Math.min(this.#image.version, afterVersion + maxEntries);
    if (afterVersion >= last) return [];
    return this.#index.recent(afterVersion + 1, last) ?? this.#readFile(afterVersion + 1, last);
  }

  waitForVersion(afterVersion: number, signal?: AbortSignal): Promise<number> {
    if (this.#closed) return Promise.reject(new MetadataStoreClosedError());
    return this.#waiters.wait(this.#image.version, afterVersion, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.close(new MetadataStoreClosedError());
    await this.#queue.idle();
    this.#handle.close();
  }

  async #commitNow(changes: readonly MetadataChange[], expectedVersion: number | undefined): Promise<number> {
    if (this.#closed) throw new MetadataStoreClosedError();
    if (this.#failure !== undefined) throw new Error(`the metadata store failed earlier and takes no more changes until restart: ${this.#failure.message}`, { cause: this.#failure });
    if (expectedVersion !== undefined && expectedVersion !== this.#image.version) throw new StaleMetadataError(expectedVersion, this.#image.version);
    let image = this.#image;
    const entries: MetadataEntry[] = [];
    const frames: Uint8Array[] = [];
    const timestampMs = this.#clock.nowMs();
    for (const change of changes) {
      image = applyChange(image, change, image.version + 1);
      const entry = { version: image.version, timestampMs, change };
      entries.push(entry);
      frames.push(frameEntry(encodeEntry(entry)));
    }
    const bytes = Buffer.concat(frames);
    try {
      this.#handle.write(bytes, this.#endPosition);
      await this.#handle.datasync();
    } catch (error) {
      this.#failure = error as Error;
      throw error;
    }
    let position = this.#endPosition;
    entries.forEach((entry, i) => {
      this.#index.add(entry, position);
      position += frames[i]!.byteLength;
    });
    this.#endPosition = position;
    this.#image = image;
    this.#waiters.reached(image.version);
    return image.version;
  }

  /** Entries `first..last` from the file, from the nearest indexed position at or before `first`. */
  #readFile(first: number, last: number): MetadataEntry[] {
    const { start, end } = this.#index.byteRange(first, last, this.#endPosition);
    const bytes = Buffer.alloc(end - start);
    const read = this.#handle.read(bytes, 0, bytes.byteLength, start);
    if (read !== bytes.byteLength) throw new CorruptMetadataError(`the metadata log is shorter than its acknowledged entries (${read} of ${bytes.byteLength} bytes read)`, this.#file, start);
    const entries: MetadataEntry[] = [];
    let position = 0;
    while (position < bytes.byteLength && entries.length < last - first + 1) {
      const frame = readFrame(bytes, position);
      if (frame.kind !== 'entry') throw new CorruptMetadataError('an acknowledged metadata entry no longer reads back', this.#file, start + position);
      const entry = decodeAt(frame.body, this.#file, start + position);
      if (entry.version >= first) entries.push({ ...entry, change: this.#filled.get(entry.version) ?? entry.change });
      position = frame.end;
    }
    assert(entries.length === last - first + 1 && entries[0]?.version === first, 'a metadata log range reads back whole', { first, last, read: entries.length });
    return entries;
  }
}

/** Where each entry is: the recent ones decoded, the byte position of every INDEX_INTERVAL-th. */
class LogIndex {
  /** Byte position of the entry with version `k * INDEX_INTERVAL + 1` at index k. */
  readonly #positions: number[] = [];
  #recent: MetadataEntry[] = [];
  readonly #kept: number;

  constructor(kept: number) {
    this.#kept = kept;
  }

  add(entry: MetadataEntry, position: number): void {
    if ((entry.version - 1) % INDEX_INTERVAL === 0) {
      assert(this.#positions.length === (entry.version - 1) / INDEX_INTERVAL, 'the metadata index grows in version order', { version: entry.version });
      this.#positions.push(position);
    }
    this.#recent.push(entry);
    // Drop in batches, so adding stays O(1) amortized.
    if (this.#recent.length >= 2 * this.#kept) this.#recent = this.#recent.slice(-this.#kept);
  }

  /** Entries `first..last` when all are kept in memory, else undefined. */
  recent(first: number, last: number): MetadataEntry[] | undefined {
    const oldest = this.#recent[0]?.version;
    if (oldest === undefined || first < oldest) return undefined;
    return this.#recent.slice(first - oldest, last - oldest + 1);
  }

  /** File bytes [start, end) that hold entries `first..last` (and maybe a few around them). */
  byteRange(first: number, last: number, fileEnd: number): { start: number; end: number } {
    const start = this.#positions[Math.floor((first - 1) / INDEX_INTERVAL)];
    assert(start !== undefined, 'every acknowledged version has an indexed position at or before it', { first });
    const end = this.#positions[Math.floor((last - 1) / INDEX_INTERVAL) + 1] ?? fileEnd;
    return { start, end };
  }
}

interface Replayed {
  image: MetadataImage;
  validBytes: number;
  index: LogIndex;
  filled: ReadonlyMap<number, MetadataChange>;
}

function decodeAt(body: Uint8Array, file: string, position: number): MetadataEntry {
  try {
    return decodeEntry(Buffer.from(body.buffer, body.byteOffset + 1, body.byteLength - 1), body[0]!);
  } catch (error) {
    throw new CorruptMetadataError(`a metadata entry does not read back: ${(error as Error).message}`, file, position, { cause: error });
  }
}

/**
 * A pre-v3 topicCreated or partitionsAdded (no assignments) with the local
 * node as the one replica of each (new) partition; any other change as it is.
 */
export function withLocalAssignments(image: MetadataImage, change: MetadataChange, localNodeId: number): MetadataChange {
  if (change.kind !== 'topicCreated' && change.kind !== 'partitionsAdded') return change;
  if (change.assignments.length > 0) return change;
  const existing = change.kind === 'partitionsAdded' ? (image.topics.get(change.name)?.partitions ?? 0) : 0;
  return { ...change, assignments: Array.from({ length: Math.max(0, change.partitions - existing) }, () => [localNodeId]) };
}

/** Replays a whole log: the image, how many leading bytes are valid (the rest is a torn tail), and the index. */
export function replay(bytes: Uint8Array, file: string, opts: { localNodeId: number; keptEntries?: number }): Replayed {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const index = new LogIndex(opts.keptEntries ?? DEFAULT_KEPT_ENTRIES);
  const filled = new Map<number, MetadataChange>();
  let image = EMPTY_IMAGE;
  let position = 0;
  while (position < buffer.byteLength) {
    const frame = readFrame(buffer, position);
    if (frame.kind === 'torn') break;
    if (frame.kind === 'bad-crc') {
      if (frame.end === buffer.byteLength || onlyZerosFrom(buffer, position)) break;
      throw new CorruptMetadataError('a metadata entry fails its CRC and is not the last one; restore the metadata directory from a backup', file, position);
    }
    const stored = decodeAt(frame.body, file, position);
    try {
      assert(stored.version === image.version + 1, 'metadata entries are stored in version order', { version: stored.version, previous: image.version });
      const change = withLocalAssignments(image, stored.change, opts.localNodeId);
      if (change !== stored.change) filled.set(stored.version, change);
      image = applyChange(image, change, stored.version);
      index.add({ ...stored, change }, position);
    } catch (error) {
      throw new CorruptMetadataError(`a metadata entry does not read back: ${(error as Error).message}`, file, position, { cause: error });
    }
    position = frame.end;
  }
  return { image, validBytes: position, index, filled };
}

function onlyZerosFrom(bytes: Uint8Array, position: number): boolean {
  for (let i = position; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false;
  return true;
}
