/**
 * Peers of different versions over real sockets: this client (which knows
 * Fetch, Metadata and ListOffsets v1) against a broker that answers only v0,
 * and against one that answers v1; a client that knows only v0 against a v1
 * broker; and this client against this build's real broker, whose handlers
 * still answer v0. Each side must speak the version negotiated, and read what
 * an older peer does not send as the documented defaults.
 */
import t, { type Test } from 'tap';
import { Connection } from '../../client/connection.js';
import { ApiKey, type ApiName, type VersionRange } from '../../protocol/api-keys.js';
import { apiVersionsTable, encodeResponse, negotiateVersion, SUPPORTED_VERSIONS } from '../../protocol/codec.js';
import type { FetchRequest, ListOffsetsRequest, MetadataRequest, ResponseBodies } from '../../protocol/messages.js';
import { fakeBroker, v0Versions, type Answer } from '../client/fake-broker.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { RawClient } from '../support/raw-client.js';

/** Plain data for strict comparison (avsc decodes records as class instances). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function connection(port: number): Connection {
  return new Connection({
    host: '127.0.0.1', port, clientId: 'negotiation', connectTimeoutMs: 5000, requestTimeoutMs: 5000, maxInFlightRequests: 5,
    maxFrameBytes: 1 << 24, reconnect: { initialBackoffMs: 20, maxBackoffMs: 100 }, logger: silent,
  });
}

const fetchRequest: FetchRequest = {
  replicaId: 2,
  replicaEpoch: 41,
  maxWaitMs: 0,
  minBytes: 0,
  maxBytes: 1024,
  topics: [{ name: 't', partitions: [{ partition: 0, currentLeaderEpoch: 5, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
};
const metadataRequest: MetadataRequest = { topics: null, allowAutoTopicCreation: false, includeInternal: true };
const listOffsetsRequest: ListOffsetsRequest = { replicaId: -1, topics: [{ name: 't', partitions: [{ partition: 0, currentLeaderEpoch: 5, timestamp: -1 }] }] };

/** Every answer carries the fields v1 added, set: an answer at v0 must drop them. */
const answers: { [K in 'Fetch' | 'Metadata' | 'ListOffsets']: ResponseBodies[K] } = {
  Fetch: { throttleTimeMs: 0, errorCode: 0, topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0, leaderEpoch: 5, highWatermark: 3, logStartOffset: 0, records: [] }] }] },
  Metadata: {
    brokers: [{ nodeId: 1, host: '127.0.0.1', port: 1, rack: null }],
    clusterId: 'c',
    controllerId: 0,
    topics: [{ errorCode: 0, name: '__metadata', isInternal: true, partitions: [{ errorCode: 0, partition: 0, leader: 1, leaderEpoch: 5, replicas: [1, 2], isr: [1], offlineReplicas: [2] }] }],
  },
  ListOffsets: { topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: -1, offset: 3, leaderEpoch: 5 }] }] },
};

/** A scripted broker that records what it decoded, at which version, and answers in kind. */
async function scriptedBroker(t: Test, versions: ReturnType<typeof apiVersionsTable>) {
  const seen: { api: ApiName; version: number; body: unknown }[] = [];
  const answer: Answer = (api, correlationId, body, _socket, version) => {
    seen.push({ api, version, body });
    if (api !== 'Fetch' && api !== 'Metadata' && api !== 'ListOffsets') return null;
    return encodeResponse(api, version, correlationId, answers[api] as never);
  };
  return { broker: await fakeBroker(t, answer, versions), seen };
}

t.test('a client that knows v1 talks to a broker that answers v0: it sends v0 and reads the defaults', async (t) => {
  const { broker, seen } = await scriptedBroker(t, v0Versions());
  const conn = connection(broker.port);
  t.teardown(() => conn.close());
  await conn.connect();
  for (const api of ['Fetch', 'Metadata', 'ListOffsets'] as const) {
    t.equal(SUPPORTED_VERSIONS[api].max, 1, `this build knows ${api} v1`);
    t.equal(conn.versionOf(api), 0, `${api}: v0 is negotiated`);
  }

  const fetched = await conn.request('Fetch', fetchRequest);
  t.strictSame(seen.at(-1), {
    api: 'Fetch',
    version: 0,
    body: { ...fetchRequest, replicaEpoch: -1, topics: [{ name: 't', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1024 }] }] },
  }, 'the broker got a v0 Fetch: the epochs are not on the wire, and read as -1');
  t.equal(fetched.topics[0]!.partitions[0]!.leaderEpoch, -1, 'a v0 Fetch answer reads leaderEpoch as -1');
  t.equal(fetched.topics[0]!.partitions[0]!.highWatermark, 3);

  const metadata = await conn.request('Metadata', metadataRequest);
  t.strictSame((seen.at(-1)!.body as MetadataRequest).includeInternal, false, 'includeInternal is not on the v0 wire');
  t.strictSame([metadata.topics[0]!.isInternal, metadata.topics[0]!.partitions[0]!.offlineReplicas], [false, []], 'v0 Metadata: the v1 fields read as their defaults');
  t.strictSame(metadata.topics[0]!.partitions[0]!.isr, [1], 'what v0 carries arrives');

  const offsets = await conn.request('ListOffsets', listOffsetsRequest);
  t.equal((seen.at(-1)!.body as ListOffsetsRequest).topics[0]!.partitions[0]!.currentLeaderEpoch, -1, 'currentLeaderEpoch is not on the v0 wire');
  t.equal(offsets.topics[0]!.partitions[0]!.offset, 3);
});

t.test('a client that knows v1 talks to a broker that answers v1: every field crosses both ways', async (t) => {
  const { broker, seen } = await scriptedBroker(t, apiVersionsTable());
  const conn = connection(broker.port);
  t.teardown(() => conn.close());
  await conn.connect();
  t.equal(conn.versionOf('Fetch'), 1);
  const fetched = await conn.request('Fetch', fetchRequest);
  t.strictSame(seen.at(-1), { api: 'Fetch', version: 1, body: fetchRequest });
  t.equal(fetched.topics[0]!.partitions[0]!.leaderEpoch, 5);
  const metadata = await conn.request('Metadata', metadataRequest);
  t.equal((seen.at(-1)!.body as MetadataRequest).includeInternal, true);
  t.strictSame(plain(metadata.topics), answers.Metadata.topics);
  await conn.request('ListOffsets', listOffsetsRequest);
  t.strictSame(plain(seen.at(-1)!.body), listOffsetsRequest);
});

t.test('a client that knows only v0 talks to a broker that answers v1: the broker answers at v0', async (t) => {
  const { broker, seen } = await scriptedBroker(t, apiVersionsTable());
  // An older build's table: v0 of everything; it negotiates v0 and sends the v0 bytes (pinned by wire.test.ts's golden bytes).
  const oldClient: Record<string, VersionRange> = { Fetch: { min: 0, max: 0 }, Metadata: { min: 0, max: 0 } };
  const theirs = new Map(apiVersionsTable().map((v) => [v.apiKey, { min: v.minVersion, max: v.maxVersion }]));
  t.equal(negotiateVersion(oldClient.Fetch!, theirs.get(ApiKey.Fetch)!), 0);
  t.equal(negotiateVersion(oldClient.Metadata!, theirs.get(ApiKey.Metadata)!), 0);
  const raw = await RawClient.connect('127.0.0.1', broker.port);
  t.teardown(() => raw.close());
  const fetched = await raw.request('Fetch', fetchRequest, 0);
  t.equal(seen.at(-1)!.version, 0, 'the broker decoded the request at v0');
  t.equal((seen.at(-1)!.body as FetchRequest).replicaEpoch, -1);
  t.equal(fetched.topics[0]!.partitions[0]!.highWatermark, 3, 'the v0 answer decodes as v0');
  const metadata = await raw.request('Metadata', metadataRequest, 0);
  t.equal(metadata.topics[0]!.name, '__metadata');
});

t.test('this client and this build\'s broker: handlers still answer v0, so v0 is what is spoken', { timeout: 60_000 }, async (t) => {
  const broker = await startBrokerProcess();
  t.teardown(() => broker.stop());
  const raw = await RawClient.connect('127.0.0.1', broker.port);
  t.teardown(() => raw.close());
  const advertised = new Map((await raw.request('ApiVersions', { clientSoftwareName: 't', clientSoftwareVersion: '0' })).apiKeys.map((v) => [v.apiKey, v]));
  const conn = connection(broker.port);
  t.teardown(() => conn.close());
  await conn.connect();
  for (const api of ['Fetch', 'Metadata', 'ListOffsets'] as const) {
    const range = advertised.get(ApiKey[api])!;
    t.ok(range.maxVersion <= SUPPORTED_VERSIONS[api].max, `${api}: the broker answers no version protocol/ cannot decode`);
    t.equal(conn.versionOf(api), Math.min(range.maxVersion, SUPPORTED_VERSIONS[api].max), `${api}: min(ours, theirs)`);
  }
  const metadata = await conn.request('Metadata', metadataRequest);
  t.ok(metadata.clusterId.length > 0, 'Metadata answered');
  const fetched = await conn.request('Fetch', { ...fetchRequest, replicaId: -1, replicaEpoch: -1, topics: [{ name: 'absent', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1024 }] }] });
  t.not(fetched.topics[0]!.partitions[0]!.errorCode, 0, 'a Fetch for a missing topic is answered with an error, in the negotiated version');
});
