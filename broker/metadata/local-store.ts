/**
 * The `local` metadata store: the change log in one append-only file on the
 * broker's own disk, for the embedded single-node default.
 *
 * On-disk format, `<data.dir>/metadata/changes.log`, a sequence of entries:
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
 * After a failed fdatasync the store refuses every later commit: the kernel
 * may have dropped the unsynced pages, so what is on disk is unknown until
 * the next start replays it.
 */
import crc32c from 'fast-crc32c';
import path from 'node:path';
import { assert } from '../world/assert.js';
import type { Clock } from '../world/clock.js';
import type { FileHandle, FileSystem } from '../world/file-system.js';
import { decodeEntry, encodeEntry, type MetadataChange } from './changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from './image.js';
import { CorruptMetadataError, StaleMetadataError, type MetadataStore } from './store.js';

export const METADATA_DIR = 'metadata';
export const METADATA_LOG_FILE = 'changes.log';
const ENTRY_HEADER_BYTES = 8;

function crcOf(bytes: Uint8Array): number {
  return crc32c.calculate(bytes as Buffer, 0) >>> 0;
}

export class LocalMetadataStore implements MetadataStore {
  #image: MetadataImage;
  readonly #handle: FileHandle;
  readonly #clock: Clock;
  #endPosition: number;
  #queue: Promise<unknown> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;

  private constructor(handle: FileHandle, image: MetadataImage, endPosition: number, clock: Clock) {
    this.#handle = handle;
    this.#image = image;
    this.#endPosition = endPosition;
    this.#clock = clock;
  }

  static async open(opts: { dataDir: string; fs: FileSystem; clock: Clock }): Promise<LocalMetadataStore> {
    const dir = path.join(opts.dataDir, METADATA_DIR);
    const file = path.join(dir, METADATA_LOG_FILE);
    await opts.fs.mkdirp(dir);
    if ((await opts.fs.stat(file)) === null) {
      const created = opts.fs.open(file, 'w+');
      await created.datasync();
      await opts.fs.fsyncDir(dir);
      await opts.fs.fsyncDir(opts.dataDir);
      return new LocalMetadataStore(created, EMPTY_IMAGE, 0, opts.clock);
    }
    const bytes = await opts.fs.readFile(file);
    const { image, validBytes } = replay(bytes, file);
    const handle = opts.fs.open(file, 'r+');
    if (validBytes < bytes.byteLength) {
      handle.truncate(validBytes);
      await handle.datasync();
    }
    return new LocalMetadataStore(handle, image, validBytes, opts.clock);
  }

  get image(): MetadataImage {
    return this.#image;
  }

  commit(changes: readonly MetadataChange[], opts: { expectedVersion?: number } = {}): Promise<number> {
    const run = this.#queue.then(() => this.#commitNow(changes, opts.expectedVersion));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#handle.close();
  }

  async #commitNow(changes: readonly MetadataChange[], expectedVersion: number | undefined): Promise<number> {
    if (this.#closed) throw new Error('the metadata store is closed');
    if (this.#failure !== undefined) throw new Error(`the metadata store failed earlier and takes no more changes until restart: ${this.#failure.message}`, { cause: this.#failure });
    if (expectedVersion !== undefined && expectedVersion !== this.#image.version) throw new StaleMetadataError(expectedVersion, this.#image.version);
    let image = this.#image;
    const frames: Uint8Array[] = [];
    const timestampMs = this.#clock.nowMs();
    for (const change of changes) {
      image = applyChange(image, change, image.version + 1);
      frames.push(frameEntry(encodeEntry({ version: image.version, timestampMs, change })));
    }
    const bytes = Buffer.concat(frames);
    try {
      this.#handle.write(bytes, this.#endPosition);
      await this.#handle.datasync();
    } catch (error) {
      this.#failure = error as Error;
      throw error;
    }
    this.#endPosition += bytes.byteLength;
    this.#image = image;
    return image.version;
  }
}

function frameEntry({ schemaVersion, bytes: payload }: { schemaVersion: number; bytes: Uint8Array }): Uint8Array {
  const frame = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + 1 + payload.byteLength);
  frame.writeUInt32BE(1 + payload.byteLength, 0);
  frame[ENTRY_HEADER_BYTES] = schemaVersion;
  frame.set(payload, ENTRY_HEADER_BYTES + 1);
  frame.writeUInt32BE(crcOf(frame.subarray(ENTRY_HEADER_BYTES)), 4);
  return frame;
}

function onlyZerosFrom(bytes: Uint8Array, position: number): boolean {
  for (let i = position; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Replays a whole log: the image, and how many leading bytes are valid (the rest is a torn tail). */
export function replay(bytes: Uint8Array, file: string): { image: MetadataImage; validBytes: number } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let image = EMPTY_IMAGE;
  let position = 0;
  while (position < buffer.byteLength) {
    const remaining = buffer.byteLength - position;
    if (remaining < ENTRY_HEADER_BYTES) break; // torn header
    const entryBytes = buffer.readUInt32BE(position);
    const end = position + ENTRY_HEADER_BYTES + entryBytes;
    if (end > buffer.byteLength) break; // torn body
    const body = buffer.subarray(position + ENTRY_HEADER_BYTES, end);
    if (entryBytes < 2 || buffer.readUInt32BE(position + 4) !== crcOf(body)) {
      if (end === buffer.byteLength || onlyZerosFrom(buffer, position)) break;
      throw new CorruptMetadataError('a metadata entry fails its CRC and is not the last one; restore the metadata directory from a backup', file, position);
    }
    try {
      const entry = decodeEntry(body.subarray(1), body[0]!);
      assert(entry.version === image.version + 1, 'metadata entries are stored in version order', { version: entry.version, previous: image.version });
      image = applyChange(image, entry.change, entry.version);
    } catch (error) {
      throw new CorruptMetadataError(`a metadata entry does not read back: ${(error as Error).message}`, file, position, { cause: error });
    }
    position = end;
  }
  return { image, validBytes: position };
}
