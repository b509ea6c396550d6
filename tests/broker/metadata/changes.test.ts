/**
 * The metadata change log's schema history (changes.ts): entries written by
 * v1 and v2 builds (the bytes below were produced by the v2 build of
 * changes.ts and must never change) still decode, into the current shape;
 * every kind round-trips; each entry is written with the oldest schema that
 * expresses it whole.
 */
import t from 'tap';
import { CURRENT_SCHEMA_VERSION, decodeEntry, encodeEntry, MetadataDecodeError, schemaVersionFor, type MetadataChange, type MetadataEntry } from '../../../broker/metadata/changes.js';
import { applyChange, EMPTY_IMAGE } from '../../../broker/metadata/image.js';

const ID = '0123456789abcdef0123456789abcdef';
const GONE = 'ffffffffffffffffffffffffffffffff';

/** [schema version, bytes as a v1/v2 build wrote them, what they decode to now]. */
const WRITTEN_BEFORE_V3: [number, string, MetadataEntry][] = [
  [1, '0280a0abfef9620012636c75737465722d31', { version: 1, timestampMs: 1700000000000, change: { kind: 'clusterCreated', clusterId: 'cluster-1' } }],
  [1, '0482a0abfef962020c6f726465727340303132333435363738396162636465663031323334353637383961626364656604020218726574656e74696f6e2e6d73083130303000',
    { version: 2, timestampMs: 1700000000001, change: { kind: 'topicCreated', name: 'orders', topicId: ID, partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '1000' }, assignments: [] } }],
  [1, '0684a0abfef962060c6f7264657273403031323334353637383961626364656630313233343536373839616263646566021c636c65616e75702e706f6c6963790e636f6d7061637400',
    { version: 3, timestampMs: 1700000000002, change: { kind: 'topicConfigAltered', name: 'orders', topicId: ID, configs: { 'cleanup.policy': 'compact' } } }],
  [2, '0886a0abfef962080c6f726465727340303132333435363738396162636465663031323334353637383961626364656606',
    { version: 4, timestampMs: 1700000000003, change: { kind: 'partitionsAdded', name: 'orders', topicId: ID, partitions: 3, assignments: [] } }],
  [1, '0a88a0abfef9620208676f6e65406666666666666666666666666666666666666666666666666666666666666666020200',
    { version: 5, timestampMs: 1700000000004, change: { kind: 'topicCreated', name: 'gone', topicId: GONE, partitions: 1, replicationFactor: 1, configs: {}, assignments: [] } }],
  [1, '0c8aa0abfef9620408676f6e65406666666666666666666666666666666666666666666666666666666666666666',
    { version: 6, timestampMs: 1700000000005, change: { kind: 'topicDeleted', name: 'gone', topicId: GONE } }],
];

t.test('entries written by v1 and v2 builds decode, with no assignments', async (t) => {
  for (const [schemaVersion, hex, expected] of WRITTEN_BEFORE_V3) {
    t.same(decodeEntry(Buffer.from(hex, 'hex'), schemaVersion), expected, `v${schemaVersion} ${expected.change.kind}`);
    t.same(encodeEntry(expected), { schemaVersion, bytes: Buffer.from(hex, 'hex') }, `and a change an older build could write is still written byte for byte as it wrote it`);
  }
});

const V3_CHANGES: MetadataChange[] = [
  { kind: 'topicCreated', name: 'orders', topicId: ID, partitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' }, assignments: [[1, 2, 3], [2, 3, 1]] },
  { kind: 'partitionsAdded', name: 'orders', topicId: ID, partitions: 3, assignments: [[3, 1, 2]] },
  { kind: 'brokerRegistered', brokerId: 2, incarnationId: 'inc', host: '127.0.0.1', port: 9092, rack: 'rack-a' },
  { kind: 'brokerRegistered', brokerId: 3, incarnationId: 'inc', host: 'localhost', port: 1, rack: null },
  { kind: 'brokerFenced', brokerId: 2, brokerEpoch: 2 ** 40 },
  { kind: 'brokerUnfenced', brokerId: 2, brokerEpoch: 17 },
  { kind: 'partitionChanged', name: 'orders', topicId: ID, partition: 1, replicas: [2, 3, 1], leader: -1, leaderEpoch: 4, partitionEpoch: 9, isr: [3] },
];

t.test('every v3 change round-trips, written with schema v3', async (t) => {
  V3_CHANGES.forEach((change, i) => {
    const entry = { version: i + 10, timestampMs: 1700000000000 + i, change };
    const { schemaVersion, bytes } = encodeEntry(entry);
    t.equal(schemaVersion, 3, `${change.kind} needs v3`);
    t.same(decodeEntry(bytes, schemaVersion), entry, `${change.kind} round-trips`);
    t.equal(Object.getPrototypeOf(decodeEntry(bytes, schemaVersion).change), Object.prototype, 'as plain data');
  });
});

t.test('each entry is written with the oldest schema that expresses it whole', async (t) => {
  const topic = V3_CHANGES[0] as Extract<MetadataChange, { kind: 'topicCreated' }>;
  t.equal(schemaVersionFor({ kind: 'clusterCreated', clusterId: 'c' }), 1);
  t.equal(schemaVersionFor({ ...topic, assignments: [] }), 1, 'a topic without assignments is a v1 entry');
  t.equal(schemaVersionFor(topic), 3, 'with assignments it needs v3 (v1 would drop them)');
  t.equal(schemaVersionFor({ kind: 'partitionsAdded', name: 'a', topicId: 'b', partitions: 2, assignments: [] }), 2);
  t.equal(schemaVersionFor({ kind: 'topicDeleted', name: 'a', topicId: 'b' }), 1);
});

/** A partitionChanged as the v3 build wrote it (bytes must never change): it reads back with no reassignment. */
const PARTITION_CHANGED_V3: [number, string, MetadataEntry] = [3, '0e8ca0abfef962100c6f726465727340303132333435363738396162636465663031323334353637383961626364656602060406020006081204060200',
  { version: 7, timestampMs: 1700000000006, change: { kind: 'partitionChanged', name: 'orders', topicId: ID, partition: 1, replicas: [2, 3, 1], leader: 3, leaderEpoch: 4, partitionEpoch: 9, isr: [3, 1] } }];

t.test('v4: a v3 partitionChanged reads back without a reassignment; reassignments and the throttle need v4 and round-trip', async (t) => {
  const [schemaVersion, hex, expected] = PARTITION_CHANGED_V3;
  t.same(decodeEntry(Buffer.from(hex, 'hex'), schemaVersion), expected, 'the v3 bytes decode, no addingReplicas/removingReplicas fields');
  t.same(encodeEntry(expected), { schemaVersion: 3, bytes: Buffer.from(hex, 'hex') }, 'and without a reassignment it is still written as v3 wrote it');
  const v4: MetadataChange[] = [
    { kind: 'partitionChanged', name: 'orders', topicId: ID, partition: 0, replicas: [4, 2, 3, 1], leader: 1, leaderEpoch: 2, partitionEpoch: 5, isr: [1, 2, 3], addingReplicas: [4], removingReplicas: [1] },
    { kind: 'partitionChanged', name: 'orders', topicId: ID, partition: 0, replicas: [1, 2], leader: 1, leaderEpoch: 2, partitionEpoch: 5, isr: [1, 2], addingReplicas: [], removingReplicas: [2] },
    { kind: 'reassignmentThrottleChanged', bytesPerSecond: 10 * 1024 * 1024 },
    { kind: 'reassignmentThrottleChanged', bytesPerSecond: 0 },
  ];
  v4.forEach((change, i) => {
    const entry = { version: i + 20, timestampMs: 1700000000000 + i, change };
    const encoded = encodeEntry(entry);
    t.equal(encoded.schemaVersion, 4, `${change.kind} needs v4 (v3 would drop the move)`);
    const decoded = decodeEntry(encoded.bytes, encoded.schemaVersion);
    // An empty list reads back absent (no reassignment on that side is the same state).
    const want = change.kind === 'partitionChanged' && change.addingReplicas?.length === 0 ? { ...entry, change: (({ addingReplicas: _a, ...rest }) => rest)(change) } : entry;
    t.same(decoded, want, `${change.kind} round-trips`);
  });
});

t.test('v5: producer id blocks need v5 and round-trip; older kinds are still written with their old schemas', async (t) => {
  t.equal(CURRENT_SCHEMA_VERSION, 8);
  const entry: MetadataEntry = { version: 40, timestampMs: 1700000000040, change: { kind: 'producerIdsAllocated', brokerId: 2, brokerEpoch: 17, firstProducerId: 3000, count: 1000 } };
  const encoded = encodeEntry(entry);
  t.equal(encoded.schemaVersion, 5);
  t.same(decodeEntry(encoded.bytes, 5), entry);
  t.equal(encodeEntry(PARTITION_CHANGED_V3[2]).schemaVersion, 3, 'a partitionChanged without a move is still v3');
});

t.test('an unknown schema version or garbage is a MetadataDecodeError', async (t) => {
  t.throws(() => decodeEntry(Buffer.from('00', 'hex'), 9), MetadataDecodeError);
  t.throws(() => decodeEntry(Buffer.from('00', 'hex'), 9), /schema version 9, which this build does not know \(newest: 8\)/);
  t.throws(() => decodeEntry(Buffer.from('02', 'hex'), 3), MetadataDecodeError);
});

t.test('v6: SCRAM credentials and broker listeners need v6 and round-trip; a registration without listeners keeps v3', async (t) => {
  const upsert: MetadataEntry = { version: 50, timestampMs: 1700000000050, change: { kind: 'scramCredentialUpserted', user: 'alice', mechanism: 'SCRAM-SHA-512', salt: Buffer.from('salt-salt-salt-1'), iterations: 4096, storedKey: Buffer.alloc(64, 1), serverKey: Buffer.alloc(64, 2) } };
  const remove: MetadataEntry = { version: 51, timestampMs: 1700000000051, change: { kind: 'scramCredentialDeleted', user: 'alice', mechanism: 'SCRAM-SHA-512' } };
  const listeners: MetadataEntry = { version: 52, timestampMs: 1700000000052, change: { kind: 'brokerRegistered', brokerId: 1, incarnationId: 'x', host: 'h', port: 9093, rack: null, listeners: [{ name: 'INTERNAL', securityProtocol: 'SASL_SSL', host: 'h', port: 9093 }, { name: 'EXTERNAL', securityProtocol: 'SSL', host: 'e', port: 9094 }] } };
  for (const entry of [upsert, remove, listeners]) {
    const encoded = encodeEntry(entry);
    t.equal(encoded.schemaVersion, 6, `${entry.change.kind} needs v6`);
    t.same(decodeEntry(encoded.bytes, 6), entry, `${entry.change.kind} round-trips`);
  }
  const plain: MetadataEntry = { version: 53, timestampMs: 1700000000053, change: { kind: 'brokerRegistered', brokerId: 1, incarnationId: 'x', host: 'h', port: 9093, rack: 'r' } };
  const encoded = encodeEntry(plain);
  t.equal(encoded.schemaVersion, 3, 'a registration without listeners is still written as v3 (older builds read it)');
  t.same(decodeEntry(encoded.bytes, 3), plain);
});

t.test('v7: ACL bindings need v7 and round-trip', async (t) => {
  const created: MetadataEntry = { version: 60, timestampMs: 1700000000060, change: { kind: 'aclCreated', resourceType: 'topic', resourceName: 'orders.', patternType: 'prefixed', principal: 'User:alice', host: '*', operation: 'read', permission: 'allow' } };
  const deleted: MetadataEntry = { version: 61, timestampMs: 1700000000061, change: { kind: 'aclDeleted', resourceType: 'cluster', resourceName: 'runnel-cluster', patternType: 'literal', principal: 'User:*', host: '10.0.0.1', operation: 'alter', permission: 'deny' } };
  for (const entry of [created, deleted]) {
    const encoded = encodeEntry(entry);
    t.equal(encoded.schemaVersion, 7, `${entry.change.kind} needs v7`);
    t.same(decodeEntry(encoded.bytes, 7), entry, `${entry.change.kind} round-trips`);
  }
});

t.test('v8: client quotas need v8 and round-trip, with default and absent entity parts; the image applies them whole', async (t) => {
  const set: MetadataEntry = { version: 60, timestampMs: 1700000000060, change: { kind: 'clientQuotaAltered', user: 'alice', clientId: '<default>', quotas: { producer_byte_rate: 1_048_576, request_rate: 50 } } };
  const clientOnly: MetadataEntry = { version: 61, timestampMs: 1700000000061, change: { kind: 'clientQuotaAltered', user: null, clientId: 'app', quotas: { consumer_byte_rate: 2048 } } };
  const removed: MetadataEntry = { version: 62, timestampMs: 1700000000062, change: { kind: 'clientQuotaAltered', user: 'alice', clientId: '<default>', quotas: {} } };
  for (const entry of [set, clientOnly, removed]) {
    const encoded = encodeEntry(entry);
    t.equal(encoded.schemaVersion, 8, `${JSON.stringify(entry.change)} needs v8`);
    t.same(decodeEntry(encoded.bytes, 8), entry, 'round-trips');
  }
  let image = { ...EMPTY_IMAGE, version: 59 };
  image = applyChange(image, set.change, 60);
  image = applyChange(image, clientOnly.change, 61);
  t.same([...image.clientQuotas!.values()].map((e) => [e.entity, e.quotas]), [[{ user: 'alice', clientId: '<default>' }, { producer_byte_rate: 1_048_576, request_rate: 50 }], [{ user: null, clientId: 'app' }, { consumer_byte_rate: 2048 }]]);
  image = applyChange(image, removed.change, 62);
  t.same([...image.clientQuotas!.values()].map((e) => e.entity), [{ user: null, clientId: 'app' }], 'an entity left with no rates is gone');
  t.throws(() => applyChange(image, { kind: 'clientQuotaAltered', user: 'bob', clientId: null, quotas: { producer_byte_rate: -1 } }, 63), /positive rate/, 'a rate the controller would refuse is a broken invariant');
});
