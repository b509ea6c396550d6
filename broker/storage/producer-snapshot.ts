/**
 * Producer state snapshots (Kafka's `<offset>.snapshot` files): a
 * partition's producer table as it stood at log offset `offset`, written
 * when the broker shuts down cleanly, so the next load of the state (when a
 * producer's batch first needs it after the start) reads it and scans only
 * the batches after it instead of the whole log.
 *
 * A snapshot is trusted only at or below the log end (a log cut below it by
 * recovery makes it useless: it is then ignored), only while the log has
 * not been truncated since it opened (partition.ts), and every snapshot
 * file is deleted once the state is loaded: a snapshot describes the log as
 * it was, and a later truncation (a follower's, after a leader change) could
 * otherwise leave one that claims batches the log lost. After a crash there
 * is none, and the state comes from a full scan.
 *
 * Format: one line of JSON, `{ "v": 1, "offset", "crc", "producers" }`,
 * `crc` being the CRC-32C of the JSON of `producers`; a file that does not
 * parse or check is ignored (the scan covers for it).
 */
import crc32c from 'fast-crc32c';
import path from 'node:path';
import type { FileSystem } from '../world/file-system.js';
import { unlinkIfPresent } from '../world/file-system.js';
import type { ProducerEntry, ProducerStateTable } from './producer-state.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
const FORMAT_VERSION = 1;

/** Kafka's name: the offset as 20 digits, then `.snapshot`. */
export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
}

type StoredProducers = [producerId: number, entry: ProducerEntry][];

function checksum(producersJson: string): number {
  return crc32c.calculate(Buffer.from(producersJson, 'utf8'), 0) >>> 0;
}

/** Writes `table` as the state at `offset` (atomically). */
export async function writeProducerSnapshot(fs: FileSystem, dir: string, offset: number, table: ProducerStateTable): Promise<void> {
  const producers: StoredProducers = [...table.entries()];
  const producersJson = JSON.stringify(producers);
  const body = `{"v":${FORMAT_VERSION},"offset":${offset},"crc":${checksum(producersJson)},"producers":${producersJson}}\n`;
  await fs.writeFileAtomic(path.join(dir, snapshotFileName(offset)), Buffer.from(body, 'utf8'));
}

/**
 * Loads the newest snapshot at or below `logEndOffset` into `table` (none
 * with `table` null) and deletes every snapshot file; the offset to scan the
 * log from (the snapshot's, or null when there was none usable).
 */
export async function takeProducerSnapshot(fs: FileSystem, dir: string, logEndOffset: number, table: ProducerStateTable | null): Promise<number | null> {
  const files = (await fs.readdir(dir)).filter((name) => name.endsWith(SNAPSHOT_SUFFIX)).sort();
  let loadedAt: number | null = null;
  for (let i = files.length - 1; i >= 0 && loadedAt === null && table !== null; i--) {
    const offset = Number(files[i]!.slice(0, -SNAPSHOT_SUFFIX.length));
    if (!Number.isSafeInteger(offset) || offset > logEndOffset) continue;
    const producers = parse(await fs.readFile(path.join(dir, files[i]!)), offset);
    if (producers === null) continue;
    for (const [producerId, entry] of producers) table.restore(producerId, entry);
    loadedAt = offset;
  }
  for (const name of files) await unlinkIfPresent(fs, path.join(dir, name));
  return loadedAt;
}

function parse(bytes: Uint8Array, offset: number): StoredProducers | null {
  try {
    const text = Buffer.from(bytes).toString('utf8');
    const start = text.indexOf('"producers":');
    const end = text.lastIndexOf('}');
    if (start < 0 || end < start) return null;
    const producersJson = text.slice(start + '"producers":'.length, end);
    const parsed = JSON.parse(text) as { v?: unknown; offset?: unknown; crc?: unknown; producers?: unknown };
    if (parsed.v !== FORMAT_VERSION || parsed.offset !== offset || parsed.crc !== checksum(producersJson) || !Array.isArray(parsed.producers)) return null;
    return parsed.producers as StoredProducers;
  } catch {
    return null;
  }
}
