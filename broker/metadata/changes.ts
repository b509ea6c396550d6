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
 *   v3: v2 plus BrokerRegistered, BrokerFenced, BrokerUnfenced and
 *       PartitionChanged; TopicCreated and PartitionsAdded gain `assignments`
 *       (replicas per partition, default `[]`: a v1/v2 entry reads back with
 *       none, and the store that replays it fills in the node that owns the
 *       data directory, local-store.ts).
 *   v4: v3 plus ReassignmentThrottleChanged; PartitionChanged gains
 *       `addingReplicas` and `removingReplicas` (a reassignment in progress,
 *       as Kafka's KIP-455 partition record; default `[]`: none).
 *   v5: v4 plus ProducerIdsAllocated (a block of idempotent-producer ids
 *       handed to a broker, Kafka's ProducerIdsRecord).
 *   v6: v5 plus ScramCredentialUpserted and ScramCredentialDeleted (SCRAM
 *       users, Kafka's UserScramCredentialRecord: salt, iterations,
 *       StoredKey, ServerKey; never a password); BrokerRegistered gains
 *       `listeners` (every listener's name, security protocol and
 *       endpoint; default `[]`: only host/port, one PLAINTEXT listener).
 *   v7: v6 plus AclCreated and AclDeleted (ACL bindings, Kafka's
 *       AccessControlEntryRecord: resource pattern, principal, host,
 *       operation, allow or deny; broker/acl/acl.ts).
 *   v8: v7 plus ClientQuotaAltered (client quotas of one entity, Kafka's
 *       ClientQuotaRecord: a user and/or client id, each a name or the
 *       default, with its whole set of rates after the change).
 *
 * Each entry is written with the oldest schema that can express it: the
 * first that has its kind, or a later one when it carries a field only that
 * one has (a TopicCreated with assignments needs v3). So a log that never
 * used a newer change stays readable by an older build (a downgrade keeps
 * working until a change needs the newer schema), and no field is ever
 * dropped by writing it with a schema that lacks it.
 *
 * A stored change is an `Entry`: the change, its version (1, 2, 3, ...: its
 * position in the log, never reused) and the wall-clock time it was made.
 */
import avro from 'avsc';
import type { ScramMechanism } from '../../client/security/scram.js';
import type { Operation, PatternType, Permission, ResourceType } from '../acl/acl.js';

export type MetadataChange =
  | { kind: 'clusterCreated'; clusterId: string }
  /** `assignments[i]`: the replicas of partition i, preferred leader first (empty only in a v1/v2 entry before replay fills it). */
  | { kind: 'topicCreated'; name: string; topicId: string; partitions: number; replicationFactor: number; configs: Record<string, string>; assignments: number[][] }
  | { kind: 'topicDeleted'; name: string; topicId: string }
  /** `configs` is the topic's whole set of overrides after the change. */
  | { kind: 'topicConfigAltered'; name: string; topicId: string; configs: Record<string, string> }
  /** `partitions` is the topic's new partition count (the new ones are numbered after the old). */
  | { kind: 'partitionsAdded'; name: string; topicId: string; partitions: number; assignments: number[][] }
  | BrokerRegistered
  | { kind: 'brokerFenced'; brokerId: number; brokerEpoch: number }
  | { kind: 'brokerUnfenced'; brokerId: number; brokerEpoch: number }
  | PartitionChanged
  /** The cluster-wide copy rate limit for replicas being added by a reassignment; 0: none. */
  | { kind: 'reassignmentThrottleChanged'; bytesPerSecond: number }
  | ProducerIdsAllocated
  | ScramCredentialUpserted
  | { kind: 'scramCredentialDeleted'; user: string; mechanism: ScramMechanism }
  | AclChange
  | ClientQuotaAltered;

/** An ACL binding added or removed (broker/acl/acl.ts; acl-binding.ts turns it into an AclBinding). */
export interface AclChange {
  kind: 'aclCreated' | 'aclDeleted';
  resourceType: ResourceType;
  resourceName: string;
  patternType: PatternType;
  principal: string;
  host: string;
  operation: Operation;
  permission: Permission;
}

/**
 * One client-quota entity's rates after a change, whole (not a delta): the
 * entity is a user and/or a client id, each a name, `<default>`, or null
 * (not part of the entity); broker/quota/quota-entities.ts. No rates left:
 * the entity's entry is gone.
 */
export interface ClientQuotaAltered {
  kind: 'clientQuotaAltered';
  user: string | null;
  clientId: string | null;
  /** Rates per second by quota kind (producer_byte_rate, consumer_byte_rate, request_rate). */
  quotas: Record<string, number>;
}

/** A user's SCRAM credential for one mechanism, created or replaced whole (client/security/scram.ts). */
export interface ScramCredentialUpserted {
  kind: 'scramCredentialUpserted';
  user: string;
  mechanism: ScramMechanism;
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

/** One listener of a broker as registered: clients are told the endpoints of the listener they came in through. */
export interface RegisteredListener {
  name: string;
  securityProtocol: string;
  host: string;
  port: number;
}

/**
 * Producer ids [firstProducerId, firstProducerId + count) belong to broker
 * `brokerId` (registration `brokerEpoch`) from now on; the next block starts
 * after them, so no id is ever handed out twice, whichever broker or
 * controller asks later.
 */
export interface ProducerIdsAllocated {
  kind: 'producerIdsAllocated';
  brokerId: number;
  brokerEpoch: number;
  firstProducerId: number;
  count: number;
}

/** A broker (re)joined; its broker epoch is this entry's version. */
export interface BrokerRegistered {
  kind: 'brokerRegistered';
  brokerId: number;
  /** Random per process start, so a second process with the same id is told apart from a restart. */
  incarnationId: string;
  host: string;
  port: number;
  rack: string | null;
  /** Every listener (v6); absent or empty: host/port is the one, PLAINTEXT. */
  listeners?: RegisteredListener[];
}

/** A partition's whole state after a change of its leader or ISR (not a delta). */
export interface PartitionChanged {
  kind: 'partitionChanged';
  name: string;
  topicId: string;
  partition: number;
  replicas: number[];
  /** -1: no leader. */
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: number[];
  /**
   * A reassignment in progress (KIP-455): `replicas` is then the original
   * replicas followed by these targets being added; absent or empty: none.
   */
  addingReplicas?: number[];
  /** Original replicas the reassignment removes once every target is in the ISR; absent or empty: none. */
  removingReplicas?: number[];
}

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
  brokerRegistered: 'BrokerRegistered',
  brokerFenced: 'BrokerFenced',
  brokerUnfenced: 'BrokerUnfenced',
  partitionChanged: 'PartitionChanged',
  reassignmentThrottleChanged: 'ReassignmentThrottleChanged',
  producerIdsAllocated: 'ProducerIdsAllocated',
  scramCredentialUpserted: 'ScramCredentialUpserted',
  scramCredentialDeleted: 'ScramCredentialDeleted',
  aclCreated: 'AclCreated',
  aclDeleted: 'AclDeleted',
  clientQuotaAltered: 'ClientQuotaAltered',
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

const [clusterCreatedV1, topicCreatedV1, topicDeletedV1, topicConfigAlteredV1, partitionsAddedV2] = METADATA_SCHEMA_V2.fields[2].type;
const assignmentsField = {
  name: 'assignments',
  type: { type: 'array', items: { type: 'array', items: 'int' } },
  default: [],
  doc: 'Broker ids of the replicas of each partition (the preferred leader first); empty in entries written before v3.',
};
const brokerEpochField = { name: 'brokerEpoch', type: 'long', doc: 'The broker epoch (version of its registration) this change is about.' };
const intArray = { type: 'array', items: 'int' };

/**
 * v2 plus the cluster: brokers and per-partition replica state. TopicCreated
 * and PartitionsAdded keep their names and gain a field with a default, so
 * v1/v2 entries resolve into v3; the new branches come after the old ones.
 */
export const METADATA_SCHEMA_V3 = {
  ...METADATA_SCHEMA_V2,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        clusterCreatedV1,
        { ...topicCreatedV1, fields: [...topicCreatedV1.fields, { ...assignmentsField, doc: 'Replicas of each partition, index = partition.' }] },
        topicDeletedV1,
        topicConfigAlteredV1,
        { ...partitionsAddedV2, fields: [...partitionsAddedV2.fields, { ...assignmentsField, doc: 'Replicas of each new partition, in partition order.' }] },
        {
          type: 'record', name: RECORD_NAMES.brokerRegistered, doc: 'A broker registered (or registered again after a restart); its broker epoch is this entry\'s version. It starts fenced.',
          fields: [
            { name: 'brokerId', type: 'int', doc: 'The node id.' },
            { name: 'incarnationId', type: 'string', doc: 'Random per process start.' },
            { name: 'host', type: 'string', doc: 'Address clients and other brokers reach it at.' },
            { name: 'port', type: 'int', doc: 'Port of that address.' },
            { name: 'rack', type: ['null', 'string'], default: null, doc: 'Rack (failure domain) for replica placement, or null.' },
          ],
        },
        {
          type: 'record', name: RECORD_NAMES.brokerFenced, doc: 'A broker may no longer lead or be counted in an ISR (missed heartbeats, or shut down).',
          fields: [{ name: 'brokerId', type: 'int', doc: 'The node id.' }, brokerEpochField],
        },
        {
          type: 'record', name: RECORD_NAMES.brokerUnfenced, doc: 'A broker caught up and may lead and join ISRs again.',
          fields: [{ name: 'brokerId', type: 'int', doc: 'The node id.' }, brokerEpochField],
        },
        {
          type: 'record', name: RECORD_NAMES.partitionChanged, doc: 'A partition\'s leader or ISR changed; the whole state after the change.',
          fields: [
            { name: 'name', type: 'string', doc: 'Topic name.' },
            { name: 'topicId', type: 'string', doc: 'The incarnation changed.' },
            { name: 'partition', type: 'int', doc: 'Partition index.' },
            { name: 'replicas', type: intArray, doc: 'Assigned replicas, preferred leader first.' },
            { name: 'leader', type: 'int', doc: 'Leader broker id, -1 for none.' },
            { name: 'leaderEpoch', type: 'int', doc: 'Bumped on every change of leader.' },
            { name: 'partitionEpoch', type: 'int', doc: 'Bumped on every change of this state; fences stale AlterPartition requests.' },
            { name: 'isr', type: intArray, doc: 'In-sync replicas.' },
          ],
        },
      ],
    },
  ],
} as const;

const [clusterCreatedV3, topicCreatedV3, topicDeletedV3, topicConfigAlteredV3, partitionsAddedV3, brokerRegisteredV3, brokerFencedV3, brokerUnfencedV3, partitionChangedV3] = METADATA_SCHEMA_V3.fields[2].type;

/**
 * v3 plus reassignment (KIP-455): PartitionChanged keeps its name and gains
 * two fields with defaults, so v1-v3 entries resolve into v4; the throttle
 * is a new branch after the old ones.
 */
export const METADATA_SCHEMA_V4 = {
  ...METADATA_SCHEMA_V3,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        clusterCreatedV3,
        topicCreatedV3,
        topicDeletedV3,
        topicConfigAlteredV3,
        partitionsAddedV3,
        brokerRegisteredV3,
        brokerFencedV3,
        brokerUnfencedV3,
        {
          ...partitionChangedV3,
          fields: [
            ...partitionChangedV3.fields,
            { name: 'addingReplicas', type: intArray, default: [], doc: 'Target replicas a reassignment is adding (they are in `replicas` already); empty: no reassignment.' },
            { name: 'removingReplicas', type: intArray, default: [], doc: 'Original replicas a reassignment removes once every target is in the ISR; empty: none.' },
          ],
        },
        {
          type: 'record', name: RECORD_NAMES.reassignmentThrottleChanged, doc: 'The copy rate limit for replicas a reassignment adds changed (applied by leaders to their fetches).',
          fields: [{ name: 'bytesPerSecond', type: 'long', doc: 'Bytes per second over all throttled fetches a leader serves; 0: no limit.' }],
        },
      ],
    },
  ],
} as const;

/** v4 plus producer id blocks: one more branch after the old ones, so v1-v4 entries resolve into v5. */
export const METADATA_SCHEMA_V5 = {
  ...METADATA_SCHEMA_V4,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        ...METADATA_SCHEMA_V4.fields[2].type,
        {
          type: 'record', name: RECORD_NAMES.producerIdsAllocated, doc: 'A block of idempotent-producer ids was handed to a broker; the next block starts after it.',
          fields: [
            { name: 'brokerId', type: 'int', doc: 'The broker that owns the block.' },
            { name: 'brokerEpoch', type: 'long', doc: 'Its registration epoch when it asked.' },
            { name: 'firstProducerId', type: 'long', doc: 'The first id of the block.' },
            { name: 'count', type: 'int', doc: 'How many ids the block holds.' },
          ],
        },
      ],
    },
  ],
} as const;

const [clusterCreatedV5, topicCreatedV5, topicDeletedV5, topicConfigAlteredV5, partitionsAddedV5, brokerRegisteredV5, ...afterBrokerRegisteredV5] = METADATA_SCHEMA_V5.fields[2].type;

/**
 * v5 plus SCRAM users (two branches after the old ones) and every listener
 * of a broker (a field with a default on BrokerRegistered, so v3-v5
 * registrations resolve into v6 with none).
 */
export const METADATA_SCHEMA_V6 = {
  ...METADATA_SCHEMA_V5,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        clusterCreatedV5,
        topicCreatedV5,
        topicDeletedV5,
        topicConfigAlteredV5,
        partitionsAddedV5,
        {
          ...brokerRegisteredV5,
          fields: [
            ...brokerRegisteredV5.fields,
            {
              name: 'listeners',
              default: [],
              doc: 'Every listener of the broker; empty: host/port is its one PLAINTEXT listener.',
              type: {
                type: 'array',
                items: {
                  type: 'record', name: 'RegisteredListener', doc: 'One listener: clients are told the endpoints of the listener they connected through.',
                  fields: [
                    { name: 'name', type: 'string', doc: 'The listener name (PLAINTEXT, SASL_SSL, INTERNAL...).' },
                    { name: 'securityProtocol', type: 'string', doc: 'PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.' },
                    { name: 'host', type: 'string', doc: 'Advertised host of the listener.' },
                    { name: 'port', type: 'int', doc: 'Its port.' },
                  ],
                },
              },
            },
          ],
        },
        ...afterBrokerRegisteredV5,
        {
          type: 'record', name: RECORD_NAMES.scramCredentialUpserted, doc: 'A user\'s SCRAM credential for one mechanism was created or replaced.',
          fields: [
            { name: 'user', type: 'string', doc: 'The user name.' },
            { name: 'mechanism', type: 'string', doc: 'SCRAM-SHA-256 or SCRAM-SHA-512.' },
            { name: 'salt', type: 'bytes', doc: 'The salt of the credential.' },
            { name: 'iterations', type: 'int', doc: 'PBKDF2 iterations.' },
            { name: 'storedKey', type: 'bytes', doc: 'H(ClientKey): checks a client\'s proof.' },
            { name: 'serverKey', type: 'bytes', doc: 'Signs the broker\'s final message, so the client knows the broker holds the credential.' },
          ],
        },
        {
          type: 'record', name: RECORD_NAMES.scramCredentialDeleted, doc: 'A user\'s SCRAM credential for one mechanism was deleted.',
          fields: [
            { name: 'user', type: 'string', doc: 'The user name.' },
            { name: 'mechanism', type: 'string', doc: 'SCRAM-SHA-256 or SCRAM-SHA-512.' },
          ],
        },
      ],
    },
  ],
} as const;

const aclFields = [
  { name: 'resourceType', type: 'string', doc: 'topic, group or cluster.' },
  { name: 'resourceName', type: 'string', doc: 'The name, the prefix, or * (the cluster: runnel-cluster).' },
  { name: 'patternType', type: 'string', doc: 'literal or prefixed.' },
  { name: 'principal', type: 'string', doc: 'User:<name> or User:*.' },
  { name: 'host', type: 'string', doc: 'An address or *.' },
  { name: 'operation', type: 'string', doc: 'all, read, write, create, delete, alter, describe, cluster_action, describe_configs, alter_configs or idempotent_write.' },
  { name: 'permission', type: 'string', doc: 'allow or deny.' },
];

/** v6 plus ACL bindings (two branches after the old ones). */
export const METADATA_SCHEMA_V7 = {
  ...METADATA_SCHEMA_V6,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        ...METADATA_SCHEMA_V6.fields[2].type,
        { type: 'record', name: RECORD_NAMES.aclCreated, doc: 'An ACL binding was added.', fields: aclFields },
        { type: 'record', name: RECORD_NAMES.aclDeleted, doc: 'An ACL binding was removed.', fields: aclFields },
      ],
    },
  ],
} as const;

/** v7 plus client quotas: one more branch after the old ones, so v1-v7 entries resolve into v8. */
export const METADATA_SCHEMA_V8 = {
  ...METADATA_SCHEMA_V7,
  fields: [
    versionField,
    timestampField,
    {
      ...changeField,
      type: [
        ...METADATA_SCHEMA_V7.fields[2].type,
        {
          type: 'record', name: RECORD_NAMES.clientQuotaAltered, doc: 'A client-quota entity\'s rates changed (all of them after the change; none: the entity was removed).',
          fields: [
            { name: 'user', type: ['null', 'string'], default: null, doc: 'A user name, <default>, or null (the entity does not name users).' },
            { name: 'clientId', type: ['null', 'string'], default: null, doc: 'A client id, <default>, or null (the entity does not name client ids).' },
            { name: 'quotas', type: { type: 'map', values: 'long' }, doc: 'Rates per second by kind: producer_byte_rate, consumer_byte_rate, request_rate.' },
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
  [3, typeOf(METADATA_SCHEMA_V3)],
  [4, typeOf(METADATA_SCHEMA_V4)],
  [5, typeOf(METADATA_SCHEMA_V5)],
  [6, typeOf(METADATA_SCHEMA_V6)],
  [7, typeOf(METADATA_SCHEMA_V7)],
  [8, typeOf(METADATA_SCHEMA_V8)],
]);
export const CURRENT_SCHEMA_VERSION = 8;
const currentType = WRITER_SCHEMAS.get(CURRENT_SCHEMA_VERSION)!;
/** The first schema version that has each kind of change. */
const FIRST_SCHEMA_WITH: Readonly<Record<MetadataChange['kind'], number>> = {
  clusterCreated: 1,
  topicCreated: 1,
  topicDeleted: 1,
  topicConfigAltered: 1,
  partitionsAdded: 2,
  brokerRegistered: 3,
  brokerFenced: 3,
  brokerUnfenced: 3,
  partitionChanged: 3,
  reassignmentThrottleChanged: 4,
  producerIdsAllocated: 5,
  scramCredentialUpserted: 6,
  scramCredentialDeleted: 6,
  aclCreated: 7,
  aclDeleted: 7,
  clientQuotaAltered: 8,
};
/** Fields added to a kind after its first schema: the version that has them. An entry that uses one is written with it. */
const ASSIGNMENTS_SCHEMA = 3;
const REASSIGNMENT_SCHEMA = 4;
const LISTENERS_SCHEMA = 6;

/** The oldest schema that expresses the change whole. */
export function schemaVersionFor(change: MetadataChange): number {
  if ((change.kind === 'topicCreated' || change.kind === 'partitionsAdded') && change.assignments.length > 0) return ASSIGNMENTS_SCHEMA;
  if (change.kind === 'partitionChanged' && ((change.addingReplicas?.length ?? 0) > 0 || (change.removingReplicas?.length ?? 0) > 0)) return REASSIGNMENT_SCHEMA;
  if (change.kind === 'brokerRegistered' && (change.listeners?.length ?? 0) > 0) return LISTENERS_SCHEMA;
  return FIRST_SCHEMA_WITH[change.kind];
}

/** wrapUnions: an optional string is written as { string: value } (null stays null). */
function optionalString(value: string | null): { string: string } | null {
  return value === null ? null : { string: value };
}

/** Readers for older writer schemas, resolved into the current one. */
const resolvers = new Map<number, avro.Resolver>();

const kindByRecord = new Map(Object.entries(RECORD_NAMES).map(([kind, record]) => [`${NAMESPACE}.${record}`, kind as MetadataChange['kind']]));

export class MetadataDecodeError extends Error {
  override name = 'MetadataDecodeError';
}

/** The entry's bytes, written with the oldest schema that expresses it whole (`schemaVersion`). */
export function encodeEntry(entry: MetadataEntry): { schemaVersion: number; bytes: Buffer } {
  const { kind, ...fields } = entry.change;
  const schemaVersion = schemaVersionFor(entry.change);
  // wrapUnions: an optional string is written as { string: value } (null stays null).
  let avroFields: Record<string, unknown> = fields;
  if (entry.change.kind === 'brokerRegistered') avroFields = { ...fields, rack: entry.change.rack === null ? null : { string: entry.change.rack }, ...(schemaVersion >= LISTENERS_SCHEMA ? { listeners: entry.change.listeners ?? [] } : {}) };
  if (entry.change.kind === 'brokerRegistered' && schemaVersion < LISTENERS_SCHEMA) delete avroFields['listeners'];
  if (entry.change.kind === 'clientQuotaAltered') {
    avroFields = { ...fields, user: optionalString(entry.change.user), clientId: optionalString(entry.change.clientId) };
  }
  if (entry.change.kind === 'partitionChanged' && schemaVersion >= REASSIGNMENT_SCHEMA) {
    avroFields = { ...fields, addingReplicas: entry.change.addingReplicas ?? [], removingReplicas: entry.change.removingReplicas ?? [] };
  }
  const bytes = WRITER_SCHEMAS.get(schemaVersion)!.toBuffer({
    version: entry.version,
    timestampMs: entry.timestampMs,
    change: { [`${NAMESPACE}.${RECORD_NAMES[kind]}`]: avroFields },
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
  if (change.kind === 'brokerRegistered') {
    change.rack = (fields.rack as { string: string } | null)?.string ?? null;
    change.listeners = (change.listeners ?? []).map((l) => ({ name: l.name, securityProtocol: l.securityProtocol, host: l.host, port: l.port }));
    if (change.listeners.length === 0) delete change.listeners;
  }
  if (change.kind === 'clientQuotaAltered') {
    change.user = (fields.user as { string: string } | null)?.string ?? null;
    change.clientId = (fields.clientId as { string: string } | null)?.string ?? null;
    change.quotas = { ...change.quotas };
  }
  if (change.kind === 'partitionChanged') {
    // No reassignment reads back as the fields absent, however the entry was written.
    if (change.addingReplicas?.length === 0) delete change.addingReplicas;
    if (change.removingReplicas?.length === 0) delete change.removingReplicas;
  }
  return { version: raw.version, timestampMs: raw.timestampMs, change };
}
