/**
 * The cluster metadata as an ordered, versioned log of changes (as Kafka's
 * KRaft `__cluster_metadata`): the state is what replaying every change, in
 * version order, produces. Each change is declared once here as an Avro
 * record, so a later version of the schema can add fields (with defaults) and
 * still read every log written before it, through Avro schema resolution.
 *
 * Schema history:
 *   v1: ClusterCreated, TopicCreated, TopicDeleted, TopicConfigAltered.
 *   v2: v1 plus PartitionsAdded.
 *
 * Each entry is written with the oldest schema that can express it, so a
 * log that never added partitions stays readable by a build that knows only
 * v1 (a downgrade keeps working until a change needs v2).
 *
 * A stored change is an `Entry`: the change, its version (1, 2, 3, ...: its
 * position in the log, never reused) and the wall-clock time it was made.
 */
import avro from 'avsc';

export type MetadataChange =
  | { kind: 'clusterCreated'; clusterId: string }
  | { kind: 'topicCreated'; name: string; topicId: string; partitions: number; replicationFactor: number; configs: Record<string, string> }
  | { kind: 'topicDeleted'; name: string; topicId: string }
  /** `configs` is the topic's whole set of overrides after the change. */
  | { kind: 'topicConfigAltered'; name: string; topicId: string; configs: Record<string, string> }
  /** `partitions` is the topic's new partition count (the new ones are numbered after the old). */
  | { kind: 'partitionsAdded'; name: string; topicId: string; partitions: number };

export interface MetadataEntry {
  version: number;
  timestampMs: number;
  change: MetadataChange;
}

const NAMESPACE = 'runnel.metadata';

/** Kind <-> Avro record name; the union branch is the record's full name. */
const RECORD_NAMES = {
  clusterCreated: 'ClusterCreated',
  topicCreated: 'TopicCreated',
  topicDeleted: 'TopicDeleted',
  topicConfigAltered: 'TopicConfigAltered',
  partitionsAdded: 'PartitionsAdded',
} as const satisfies Record<MetadataChange['kind'], string>;

const configsField = { name: 'configs', type: { type: 'map', values: 'string' }, doc: 'Topic setting overrides by name (segment.bytes, retention.ms, ...).' };

export const METADATA_SCHEMA_V1 = {
  type: 'record',
  name: 'MetadataEntry',
  namespace: NAMESPACE,
  doc: 'One change in the cluster metadata log.',
  fields: [
    { name: 'version', type: 'long', doc: 'Position in the log, from 1; each change gets the next.' },
    { name: 'timestampMs', type: 'long', doc: 'Wall-clock time the change was made.' },
    {
      name: 'change',
      doc: 'What changed.',
      type: [
        {
          type: 'record', name: RECORD_NAMES.clusterCreated, doc: 'First entry of every log: the cluster\'s identity.',
          fields: [{ name: 'clusterId', type: 'string', doc: 'Random id, fixed for the life of the data directory.' }],
        },
        {
          type: 'record', name: RECORD_NAMES.topicCreated, doc: 'A topic came into being.',
          fields: [
            { name: 'name', type: 'string', doc: 'Topic name.' },
            { name: 'topicId', type: 'string', doc: 'Unique per incarnation: a topic deleted and created again gets a new id.' },
            { name: 'partitions', type: 'int', doc: 'Partition count.' },
            { name: 'replicationFactor', type: 'int', doc: 'Replicas per partition.' },
            configsField,
          ],
        },
        {
          type: 'record', name: RECORD_NAMES.topicDeleted, doc: 'A topic was deleted; its logs are removed after this entry is durable.',
          fields: [
            { name: 'name', type: 'string', doc: 'Topic name.' },
            { name: 'topicId', type: 'string', doc: 'The incarnation deleted.' },
          ],
        },
        {
          type: 'record', name: RECORD_NAMES.topicConfigAltered, doc: 'A topic\'s overrides changed.',
          fields: [
            { name: 'name', type: 'string', doc: 'Topic name.' },
            { name: 'topicId', type: 'string', doc: 'The incarnation altered.' },
            { ...configsField, doc: 'Every override after the change (not a delta).' },
          ],
        },
      ],
    },
  ],
} as const;

const [versionField, timestampField, changeField] = METADATA_SCHEMA_V1.fields;

/** v1 with one more branch in the `change` union; v1's branches keep their names, so v1 entries resolve into it. */
export const METADATA_SCHEMA_V2 = {
  ...METADATA_SCHEMA_V1,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        ...changeField.type,
        {
          type: 'record', name: RECORD_NAMES.partitionsAdded, doc: 'A topic got more partitions; their logs are created after this entry is durable.',
          fields: [
            { name: 'name', type: 'string', doc: 'Topic name.' },
            { name: 'topicId', type: 'string', doc: 'The incarnation grown.' },
            { name: 'partitions', type: 'int', doc: 'The new partition count.' },
          ],
        },
      ],
    },
  ],
} as const;

function typeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });
}

/** The schema each stored entry was written with, by its one-byte schema version. */
const WRITER_SCHEMAS: ReadonlyMap<number, avro.Type> = new Map([
  [1, typeOf(METADATA_SCHEMA_V1)],
  [2, typeOf(METADATA_SCHEMA_V2)],
]);
export const CURRENT_SCHEMA_VERSION = 2;
const currentType = WRITER_SCHEMAS.get(CURRENT_SCHEMA_VERSION)!;
/** The first schema version that has each kind of change: what an entry of that kind is written with. */
const FIRST_SCHEMA_WITH: Readonly<Record<MetadataChange['kind'], number>> = {
  clusterCreated: 1,
  topicCreated: 1,
  topicDeleted: 1,
  topicConfigAltered: 1,
  partitionsAdded: 2,
};
/** Readers for older writer schemas, resolved into the current one. */
const resolvers = new Map<number, avro.Resolver>();

const kindByRecord = new Map(Object.entries(RECORD_NAMES).map(([kind, record]) => [`${NAMESPACE}.${record}`, kind as MetadataChange['kind']]));

export class MetadataDecodeError extends Error {
  override name = 'MetadataDecodeError';
}

/** The entry's bytes, written with the oldest schema that has its kind of change (`schemaVersion`). */
export function encodeEntry(entry: MetadataEntry): { schemaVersion: number; bytes: Buffer } {
  const { kind, ...fields } = entry.change;
  const schemaVersion = FIRST_SCHEMA_WITH[kind];
  const bytes = WRITER_SCHEMAS.get(schemaVersion)!.toBuffer({
    version: entry.version,
    timestampMs: entry.timestampMs,
    change: { [`${NAMESPACE}.${RECORD_NAMES[kind]}`]: fields },
  });
  return { schemaVersion, bytes };
}

export function decodeEntry(bytes: Buffer, schemaVersion: number): MetadataEntry {
  const writer = WRITER_SCHEMAS.get(schemaVersion);
  if (writer === undefined) {
    throw new MetadataDecodeError(`metadata entry written with schema version ${schemaVersion}, which this build does not know (newest: ${CURRENT_SCHEMA_VERSION}); run a newer broker`);
  }
  let raw: { version: number; timestampMs: number; change: Record<string, Record<string, unknown>> };
  try {
    if (writer === currentType) {
      raw = currentType.fromBuffer(bytes);
    } else {
      let resolver = resolvers.get(schemaVersion);
      if (resolver === undefined) {
        resolver = currentType.createResolver(writer);
        resolvers.set(schemaVersion, resolver);
      }
      raw = currentType.fromBuffer(bytes, resolver);
    }
  } catch (error) {
    throw new MetadataDecodeError(`metadata entry does not decode: ${(error as Error).message}`, { cause: error });
  }
  const [branch, fields] = Object.entries(raw.change)[0] ?? [];
  const kind = branch === undefined ? undefined : kindByRecord.get(branch);
  if (kind === undefined || fields === undefined) throw new MetadataDecodeError(`metadata entry has an unknown change ${String(branch)}`);
  // avsc decodes Avro maps as plain objects and records as class instances; copy to plain data.
  const change = { kind, ...fields } as MetadataChange;
  if ('configs' in change) change.configs = { ...change.configs };
  return { version: raw.version, timestampMs: raw.timestampMs, change };
}
