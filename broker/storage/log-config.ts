/**
 * Per-topic storage settings, spelled as Kafka spells them so that people
 * (and tools) that know Kafka's topic configs can use them unchanged. One
 * table (`TOPIC_CONFIG_DEFS`) is the single source of names, defaults, docs
 * and parsing; the broker builds its `log.<name>` defaults from it.
 *
 * Differences from Kafka, on purpose:
 * - `fsync` (`always` | `interval`) is Runnel's: `always` fsyncs before an
 *   append is acknowledged (group commit), for single-node users who want
 *   every acknowledged batch on disk.
 * - `flush.ms` defaults to 1000 instead of "never": Runnel's default
 *   deployment is one node with no replicas to fall back on, so an OS crash
 *   should lose at most about a second of acknowledged data. It costs at
 *   most one fdatasync a second per partition that has new data.
 * - "Effectively infinite" longs (Kafka's 9223372036854775807) are clamped to
 *   Number.MAX_SAFE_INTEGER, since offsets and times are JS numbers.
 */

export interface LogConfig {
  /** `segment.bytes`: roll to a new segment before the active one would exceed this. */
  segmentBytes: number;
  /** `segment.ms`: roll when a new batch's timestamp is this far past the segment's first batch. */
  segmentMs: number;
  /** `index.interval.bytes`: log bytes between two sparse index entries. */
  indexIntervalBytes: number;
  /** `segment.index.bytes`: preallocated size of each index file; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** `flush.messages`: fsync once this many records are unflushed. */
  flushMessages: number;
  /** `flush.ms`: fsync at most this long after a record was appended. */
  flushMs: number;
  /** `fsync`: `always` = durable before acknowledged; `interval` = by flush.messages / flush.ms. */
  fsync: 'always' | 'interval';
  /** `retention.ms`: delete segments whose newest record is older than this; -1 = keep forever. */
  retentionMs: number;
  /** `retention.bytes`: delete oldest segments while the log is bigger than this; -1 = unlimited. */
  retentionBytes: number;
  /** `cleanup.policy`: `delete`, `compact` or both. */
  cleanupPolicy: { delete: boolean; compact: boolean };
  /** `delete.retention.ms`: how long compaction keeps tombstones. */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: records younger than this are never compacted. */
  minCompactionLagMs: number;
  /** `max.message.bytes`: largest record batch accepted. */
  maxMessageBytes: number;
  /** `message.timestamp.type`: keep the producer's timestamps, or stamp the broker's clock. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** `min.insync.replicas`: an acks=all produce needs at least this many in-sync replicas (the broker's replication, not storage, reads it). */
  minInsyncReplicas: number;
  /** `unclean.leader.election.enable`: with no live ISR member, a replica outside the ISR may lead (the controller, not storage, reads it). */
  uncleanLeaderElectionEnable: boolean;
  /** `encryption.enabled`: batches are written to disk AES-256-GCM encrypted under the broker's current key (storage/encryption/). */
  encryptionEnabled: boolean;
}

/** A setting with a bad value or an unknown name; the message says which and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    /** What is wrong with the value, without the setting's name. */
    readonly reason: string,
  ) {
    super(`invalid topic config ${key}: ${reason}`);
  }
}

export interface TopicConfigDef {
  /** Kafka's name, e.g. 'segment.bytes'. */
  readonly name: string;
  readonly defaultValue: string;
  readonly doc: string;
  /** Parses a raw string value; throws ConfigError naming the setting. */
  parse(value: string): unknown;
}

interface FieldDef<K extends keyof LogConfig> extends TopicConfigDef {
  readonly field: K;
  parse(value: string): LogConfig[K];
  format(value: LogConfig[K]): string;
}

const INT32_MAX = 0x7fffffff;
const INT64_MAX_TEXT = '9223372036854775807';

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim();
    if (!/^-?\d+$/.test(text)) throw new ConfigError(name, `'${value}' is not an integer`);
    // Kafka tools send Long.MAX_VALUE for "never"; it means the same here.
    const parsed = text === INT64_MAX_TEXT || (text.length > 16 && !text.startsWith('-')) ? Number.MAX_SAFE_INTEGER : Number(text);
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(name, `${value} is outside [${min}, ${max === Number.MAX_SAFE_INTEGER ? INT64_MAX_TEXT : max}]`);
    }
    return parsed;
  };
}

function oneOf<T extends string>(name: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    const found = choices.find((choice) => choice === value.trim());
    if (found === undefined) throw new ConfigError(name, `'${value}' is not one of ${choices.join(', ')}`);
    return found;
  };
}

function boolean(name: string): (value: string) => boolean {
  return (value) => {
    const text = value.trim().toLowerCase();
    if (text !== 'true' && text !== 'false') throw new ConfigError(name, `'${value}' is not true or false`);
    return text === 'true';
  };
}

function cleanupPolicy(value: string): LogConfig['cleanupPolicy'] {
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) throw new ConfigError('cleanup.policy', 'must name delete, compact, or both');
  for (const part of parts) {
    if (part !== 'delete' && part !== 'compact') throw new ConfigError('cleanup.policy', `'${part}' is not delete or compact`);
  }
  return { delete: parts.includes('delete'), compact: parts.includes('compact') };
}

function field<K extends keyof LogConfig>(
  def: { field: K; name: string; defaultValue: string; doc: string; parse(value: string): LogConfig[K] },
  format: (value: LogConfig[K]) => string = String,
): FieldDef<K> {
  return { ...def, format };
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX = Number.MAX_SAFE_INTEGER;

const FIELD_DEFS = [
  field({ field: 'segmentBytes', name: 'segment.bytes', defaultValue: String(1024 ** 3), parse: integer('segment.bytes', 1024, INT32_MAX),
    doc: 'Roll to a new segment file before the active one would grow past this many bytes. Retention and compaction work on whole segments, so smaller segments free space sooner.' }),
  field({ field: 'segmentMs', name: 'segment.ms', defaultValue: String(7 * DAY_MS), parse: integer('segment.ms', 1, MAX),
    doc: 'Roll to a new segment when an appended batch\'s timestamp is more than this after the first batch of the active segment (its age on the broker clock when batches carry no timestamps), so time-based retention can delete old data even on a quiet topic.' }),
  field({ field: 'indexIntervalBytes', name: 'index.interval.bytes', defaultValue: '4096', parse: integer('index.interval.bytes', 0, INT32_MAX),
    doc: 'Log bytes between two entries of the sparse offset and time indexes: smaller means faster lookups and bigger indexes.' }),
  field({ field: 'segmentIndexBytes', name: 'segment.index.bytes', defaultValue: String(10 * 1024 * 1024), parse: integer('segment.index.bytes', 4096, INT32_MAX),
    doc: 'Preallocated size of each index file; when an index is full the segment rolls.' }),
  field({ field: 'flushMessages', name: 'flush.messages', defaultValue: INT64_MAX_TEXT, parse: integer('flush.messages', 1, MAX),
    doc: 'With fsync=interval: fsync the log once this many records are unflushed. The default never flushes by count.' }),
  field({ field: 'flushMs', name: 'flush.ms', defaultValue: '1000', parse: integer('flush.ms', 0, MAX),
    doc: 'With fsync=interval: fsync the log at most this many milliseconds after a record was appended (one fsync covers every record before it).' }),
  field({ field: 'fsync', name: 'fsync', defaultValue: 'interval', parse: oneOf('fsync', ['always', 'interval'] as const),
    doc: 'always: an append is acknowledged only once it is fsynced (appends waiting together share one fsync); interval: fsync by flush.messages and flush.ms.' }),
  field({ field: 'retentionMs', name: 'retention.ms', defaultValue: String(7 * DAY_MS), parse: integer('retention.ms', -1, MAX),
    doc: 'Delete whole segments whose newest record is older than this; -1 keeps data forever.' }),
  field({ field: 'retentionBytes', name: 'retention.bytes', defaultValue: '-1', parse: integer('retention.bytes', -1, MAX),
    doc: 'Delete the oldest whole segments while the partition is bigger than this; -1 means no size limit.' }),
  field({ field: 'cleanupPolicy', name: 'cleanup.policy', defaultValue: 'delete', parse: cleanupPolicy,
    doc: 'delete: retention.ms / retention.bytes delete old segments; compact: keep the newest record per key; both can be combined as "compact,delete".' },
    (value) => [value.compact ? 'compact' : '', value.delete ? 'delete' : ''].filter((p) => p !== '').join(',')),
  field({ field: 'deleteRetentionMs', name: 'delete.retention.ms', defaultValue: String(DAY_MS), parse: integer('delete.retention.ms', 0, MAX),
    doc: 'How long compaction keeps a tombstone (null value), so slow consumers still see the delete.' }),
  field({ field: 'minCompactionLagMs', name: 'min.compaction.lag.ms', defaultValue: '0', parse: integer('min.compaction.lag.ms', 0, MAX),
    doc: 'Records younger than this are never compacted away.' }),
  field({ field: 'maxMessageBytes', name: 'max.message.bytes', defaultValue: String(1024 * 1024 + 12), parse: integer('max.message.bytes', 61, INT32_MAX),
    doc: 'Largest record batch (after compression) the partition accepts.' }),
  field({ field: 'messageTimestampType', name: 'message.timestamp.type', defaultValue: 'CreateTime', parse: oneOf('message.timestamp.type', ['CreateTime', 'LogAppendTime'] as const),
    doc: 'CreateTime keeps the producer\'s timestamps; LogAppendTime stamps each batch with the broker\'s clock when it is appended.' }),
  field({ field: 'minInsyncReplicas', name: 'min.insync.replicas', defaultValue: '1', parse: integer('min.insync.replicas', 1, INT32_MAX),
    doc: 'An acks=all produce is refused (NOT_ENOUGH_REPLICAS, nothing written) while fewer replicas than this are in sync; acks=0 and 1 are not affected.' }),
  field({ field: 'uncleanLeaderElectionEnable', name: 'unclean.leader.election.enable', defaultValue: 'false', parse: boolean('unclean.leader.election.enable'),
    doc: 'When no in-sync replica of a partition is alive, let a replica outside the ISR lead rather than leave the partition without a leader. That replica may lack records the old leader acknowledged (even with acks=all): they are lost, and their offsets are given to new records. false (the default) waits for an in-sync replica instead.' }),
  field({ field: 'encryptionEnabled', name: 'encryption.enabled', defaultValue: 'false', parse: boolean('encryption.enabled'),
    doc: 'Write this topic\'s batches to disk encrypted (AES-256-GCM) under the broker\'s current key: every broker hosting it needs encryption.key.file or encryption.keys, else its appends fail. Producers, consumers and followers still see plain record batches; each broker encrypts on its own disk. Segments written before a change keep their form and stay readable.' }),
] as const;

/** Every topic setting: name, default, doc and parser. */
export const TOPIC_CONFIG_DEFS: readonly TopicConfigDef[] = FIELD_DEFS;

const defsByName = new Map<string, (typeof FIELD_DEFS)[number]>(FIELD_DEFS.map((def) => [def.name, def]));

/**
 * The effective config: built-in defaults, then `base` (e.g. the broker's
 * `log.*` defaults), then `overrides`. An unknown name or a bad value throws
 * ConfigError naming it.
 */
export function parseLogConfig(overrides: Record<string, string>, base: Record<string, string> = {}): LogConfig {
  const config: Record<string, unknown> = {};
  for (const def of FIELD_DEFS) config[def.field] = def.parse(def.defaultValue);
  for (const layer of [base, overrides]) {
    for (const [name, value] of Object.entries(layer)) {
      const def = defsByName.get(name);
      if (def === undefined) throw new ConfigError(name, 'unknown topic config');
      config[def.field] = def.parse(value);
    }
  }
  // A batch bigger than segment.bytes is allowed (it gets a segment to itself), as in Kafka.
  return config as unknown as LogConfig;
}

/** The config back as Kafka-named strings (for DescribeConfigs and `runnel topics describe`). */
export function formatLogConfig(config: LogConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of FIELD_DEFS) {
    const value = config[def.field];
    out[def.name] = value === Number.MAX_SAFE_INTEGER ? INT64_MAX_TEXT : (def.format as (v: typeof value) => string)(value);
  }
  return out;
}

/** Kafka's defaults (with Runnel's flush.ms), as a ready LogConfig. */
export function defaultLogConfig(): LogConfig {
  return parseLogConfig({});
}
