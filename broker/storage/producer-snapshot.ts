/**
 * Producer state snapshots (Kafka's `<offset>.snapshot` files): a
 * partition's producer table as it stood at log offset `offset` (every
 * batch below it recorded, none at or after it). Written when the active
 * segment rolls and at a clean shutdown, so a load of the state (after a
 * crash, or after a truncation took a producer's kept batches) reads the
 * newest one and scans only the batches after it, not the whole log.
 *
 * Every snapshot file in a partition's directory describes the log as it
 * is; partition.ts keeps that true by deleting, before the log changes
 * under them, the snapshots a change would falsify:
 * - at open, those above the log end recovery left (they counted batches
 *   a torn tail lost, and the log may grow past them again with others);
 * - before a truncation to `offset`, those above `offset`;
 * - before the log is emptied and restarted, all of them.
 * A snapshot below the log start is still true but incomplete (the batches
 * between it and the start are gone), so a load ignores it. The newest
 * `SNAPSHOTS_KEPT` are kept; older ones are deleted after each write.
 *
 * Format: one line of JSON, `{ "v": 1, "offset", "crc", "producers" }`,
 * `crc` being the CRC-32C of the JSON of `producers`; a file that does not
 * parse or check is ignored (the scan covers for it). Entries written
 * before producers carried `lastTimestampMs` load without it (expiry then
 * starts their clock at the first check).
 */
import { crc32c } from '../../protocol/batch/crc32c.js';
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
  return crc32c(Buffer.from(producersJson, 'utf8'));
}

/** How many snapshots a partition keeps: the newest is the one a load uses; one more covers a truncation just below it. */
export const SNAPSHOTS_KEPT = 2;

/** The snapshot files in `dir`, by offset, oldest first. */
async function snapshotOffsets(fs: FileSystem, dir: string): Promise<number[]> {
  const offsets: number[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith(SNAPSHOT_SUFFIX)) continue;
    const offset = Number(name.slice(0, -SNAPSHOT_SUFFIX.length));
    if (Number.isSafeInteger(offset)) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}

/**
 * Writes `table` as the state at `offset` (atomically), then deletes all but
 * the newest SNAPSHOTS_KEPT. The JSON is built before the first await, so the
 * snapshot is the table as it is at the call, whatever is appended meanwhile.
 */
export async function writeProducerSnapshot(fs: FileSystem, dir: string, offset: number, table: ProducerStateTable): Promise<void> {
  const producers: StoredProducers = [...table.entries()];
  const producersJson = JSON.stringify(producers);
  const body = `{"v":${FORMAT_VERSION},"offset":${offset},"crc":${checksum(producersJson)},"producers":${producersJson}}\n`;
  await fs.writeFileAtomic(path.join(dir, snapshotFileName(offset)), Buffer.from(body, 'utf8'));
  const offsets = await snapshotOffsets(fs, dir);
  for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) await unlinkIfPresent(fs, path.join(dir, snapshotFileName(old)));
}

/**
 * Loads into `table` the newest snapshot within `logStartOffset..logEndOffset`
 * that parses and checks; the offset to scan the log from (the snapshot's, or
 * null when there was none usable). The files stay: they remain true.
 */
export async function loadProducerSnapshot(fs: FileSystem, dir: string, bounds: { logStartOffset: number; logEndOffset: number }, table: ProducerStateTable): Promise<number | null> {
  const offsets = await snapshotOffsets(fs, dir);
  for (let i = offsets.length - 1; i >= 0; i--) {
    const offset = offsets[i]!;
    if (offset > bounds.logEndOffset) continue;
    if (offset < bounds.logStartOffset) return null;
    const producers = parse(await fs.readFile(path.join(dir, snapshotFileName(offset))), offset);
    if (producers === null) continue;
    for (const [producerId, entry] of producers) table.restore(producerId, entry);
    return offset;
  }
  return null;
}

/** Deletes the snapshots above `offset` (all of them for -1): they would count batches the log is about to lose. */
export async function deleteProducerSnapshotsAbove(fs: FileSystem, dir: string, offset: number): Promise<void> {
  for (const at of await snapshotOffsets(fs, dir)) if (at > offset) await unlinkIfPresent(fs, path.join(dir, snapshotFileName(at)));
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
