/**
 * The records of the internal topic `__usage` (usage metering, for billing):
 * one record per broker, principal, topic and minute, saying what that
 * principal did with that topic through that broker in that minute.
 *
 * Key: the broker id, the minute, the principal and topic, and the
 * broker's incarnation (when this run of it started), so a record written
 * twice (a broker retrying its write after a lost answer) is the same key
 * with the same value: a reader that keeps the last value per key counts it
 * once. A broker restarted within a minute writes that minute again, with
 * what it counted since the restart: a new incarnation, so a different key,
 * and both count. Value: the counts. Both Avro, after one byte naming the
 * schema version, as the other internal records (coordinator/records.ts),
 * so a later build can add fields and still read every record written
 * before (a version 1 key, without the incarnation, reads as incarnation 0).
 *
 * `topic` is empty for requests that name no topic (metadata, group and
 * admin requests): they still count as requests of the principal.
 */
import avro from 'avsc';

/** The internal topic every broker writes its usage to. */
export const USAGE_TOPIC = '__usage';

export interface UsageKey {
  brokerId: number;
  /** The minute, as epoch milliseconds at its start. */
  minuteMs: number;
  /** `User:<name>` (`User:ANONYMOUS` without authentication). */
  principal: string;
  topic: string;
  /** When this run of the broker started (epoch ms); 0 in keys written before it was recorded. */
  incarnation: number;
}

export interface UsageCounts {
  /** Record bytes produced (the batches as sent). */
  bytesIn: number;
  /** Record bytes fetched by consumers (followers' replication is not a client's usage). */
  bytesOut: number;
  recordsIn: number;
  recordsOut: number;
  requests: number;
}

export interface UsageRecord {
  key: UsageKey;
  counts: UsageCounts;
}

export const ZERO_COUNTS: Readonly<UsageCounts> = { bytesIn: 0, bytesOut: 0, recordsIn: 0, recordsOut: 0, requests: 0 };

const KEY_V1_FIELDS = [
  { name: 'brokerId', type: 'int' },
  { name: 'minuteMs', type: 'long' },
  { name: 'principal', type: 'string' },
  { name: 'topic', type: 'string' },
];

const KEY_V1 = avro.Type.forSchema({ type: 'record', name: 'UsageKey', namespace: 'runnel.usage', fields: KEY_V1_FIELDS });

const KEY_V2 = avro.Type.forSchema({ type: 'record', name: 'UsageKey', namespace: 'runnel.usage', fields: [...KEY_V1_FIELDS, { name: 'incarnation', type: 'long' }] });

const COUNTS_V1 = avro.Type.forSchema({
  type: 'record',
  name: 'UsageCounts',
  namespace: 'runnel.usage',
  fields: [
    { name: 'bytesIn', type: 'long' },
    { name: 'bytesOut', type: 'long' },
    { name: 'recordsIn', type: 'long' },
    { name: 'recordsOut', type: 'long' },
    { name: 'requests', type: 'long' },
  ],
});

const VERSION = 1;
const KEY_VERSION = 2;

export class UsageRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageRecordError';
  }
}

function encode(type: avro.Type, value: unknown, version = VERSION): Buffer {
  return Buffer.concat([Buffer.of(version), type.toBuffer(value)]);
}

function decode<T>(types: ReadonlyMap<number, avro.Type>, bytes: Uint8Array, what: string): T {
  const type = bytes.byteLength < 1 ? undefined : types.get(bytes[0]!);
  if (type === undefined) throw new UsageRecordError(`a __usage ${what} of version ${bytes[0] ?? 'none'}; this build reads version(s) ${[...types.keys()].join(', ')}`);
  try {
    return type.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1)) as T;
  } catch (error) {
    throw new UsageRecordError(`a __usage ${what} does not decode: ${(error as Error).message}`);
  }
}

const KEY_TYPES = new Map([[1, KEY_V1], [KEY_VERSION, KEY_V2]]);
const COUNTS_TYPES = new Map([[VERSION, COUNTS_V1]]);

export const encodeUsageKey = (key: UsageKey): Buffer => encode(KEY_V2, key, KEY_VERSION);
export const encodeUsageCounts = (counts: UsageCounts): Buffer => encode(COUNTS_V1, counts);
export const decodeUsageKey = (bytes: Uint8Array): UsageKey => ({ incarnation: 0, ...decode<Omit<UsageKey, 'incarnation'> & { incarnation?: number }>(KEY_TYPES, bytes, 'key') });
export const decodeUsageCounts = (bytes: Uint8Array): UsageCounts => decode<UsageCounts>(COUNTS_TYPES, bytes, 'value');
