/**
 * Small per-partition state files, each written atomically (tmp, fsync,
 * rename, fsync dir) and each plain `key=value` lines so an operator can read
 * them:
 *
 * - `partition.meta`: `version=1`, `topic=<name>`, `partition=<n>`,
 *   `recovery.point=<offset>`. Every offset below the recovery point was
 *   fsynced (with the indexes of every segment before the one holding it),
 *   so recovery scans only from the segment that holds it. It only moves
 *   forward after an fsync, never optimistically (it moves back on truncation).
 * - `clean-shutdown`: `log.end.offset=<offset>`. Written last by a clean
 *   close and deleted (durably) by the next open before any write, so its
 *   presence proves the files are exactly as that close left them.
 * - `cleaner-offset-checkpoint`: `version=1`, `first.dirty.offset=<offset>`
 *   and, while a kept tombstone is waiting to expire,
 *   `tombstone.expiry.ms=<ms>` (Kafka keeps the first per log directory in
 *   its own cleaner-offset-checkpoint). Offsets below first.dirty.offset
 *   were compacted and hold one record per key, so a restart does not make
 *   the whole log dirty again. Written only after the swaps it describes
 *   are durable; lowered (and written) by truncation before it returns.
 * - `log-start-offset`: `version=1`, `log.start.offset=<offset>` (Kafka's
 *   log-start-offset-checkpoint, per partition here): where DeleteRecords
 *   moved the log start, which may fall inside a segment. Absent: the log
 *   starts at its first segment. Written before the records below it are
 *   reported gone; lowered (and written) when a truncation cuts below it.
 */

export interface PartitionMeta {
  topic: string | null;
  partition: number | null;
  recoveryPoint: number;
}

const META_VERSION = '1';

function encodeLines(values: Record<string, string>): Uint8Array {
  return new TextEncoder().encode(Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
}

function decodeLines(data: Uint8Array): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of new TextDecoder().decode(data).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}

function offsetValue(values: Map<string, string>, key: string): number | null {
  const raw = values.get(key);
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
}

export function encodePartitionMeta(meta: PartitionMeta): Uint8Array {
  const values: Record<string, string> = { version: META_VERSION };
  if (meta.topic !== null) values['topic'] = meta.topic;
  if (meta.partition !== null) values['partition'] = String(meta.partition);
  values['recovery.point'] = String(meta.recoveryPoint);
  return encodeLines(values);
}

/** null when the file is damaged or from an unknown version: recovery then scans everything. */
export function decodePartitionMeta(data: Uint8Array): PartitionMeta | null {
  const values = decodeLines(data);
  const recoveryPoint = offsetValue(values, 'recovery.point');
  if (values.get('version') !== META_VERSION || recoveryPoint === null) return null;
  return { topic: values.get('topic') ?? null, partition: offsetValue(values, 'partition'), recoveryPoint };
}

export function encodeCleanShutdown(logEndOffset: number): Uint8Array {
  return encodeLines({ 'log.end.offset': String(logEndOffset) });
}

/** The log end offset the clean close recorded, or null if the marker is damaged. */
export function decodeCleanShutdown(data: Uint8Array): number | null {
  return offsetValue(decodeLines(data), 'log.end.offset');
}

export function encodeLogStart(logStartOffset: number): Uint8Array {
  return encodeLines({ version: META_VERSION, 'log.start.offset': String(logStartOffset) });
}

/** null when the file is damaged or from an unknown version: the log then starts at its first segment. */
export function decodeLogStart(data: Uint8Array): number | null {
  const values = decodeLines(data);
  return values.get('version') === META_VERSION ? offsetValue(values, 'log.start.offset') : null;
}

export interface CleanerCheckpoint {
  firstDirtyOffset: number;
  /** Number.POSITIVE_INFINITY when no kept tombstone is waiting to expire. */
  tombstoneExpiryMs: number;
}

export function encodeCleanerCheckpoint(checkpoint: CleanerCheckpoint): Uint8Array {
  const values: Record<string, string> = { version: META_VERSION, 'first.dirty.offset': String(checkpoint.firstDirtyOffset) };
  if (Number.isFinite(checkpoint.tombstoneExpiryMs)) values['tombstone.expiry.ms'] = String(checkpoint.tombstoneExpiryMs);
  return encodeLines(values);
}

/** null when the file is damaged or from an unknown version: the whole log then counts as dirty. */
export function decodeCleanerCheckpoint(data: Uint8Array): CleanerCheckpoint | null {
  const values = decodeLines(data);
  const firstDirtyOffset = offsetValue(values, 'first.dirty.offset');
  if (values.get('version') !== META_VERSION || firstDirtyOffset === null) return null;
  const expiry = values.has('tombstone.expiry.ms') ? offsetValue(values, 'tombstone.expiry.ms') : Number.POSITIVE_INFINITY;
  return expiry === null ? null : { firstDirtyOffset, tombstoneExpiryMs: expiry };
}
