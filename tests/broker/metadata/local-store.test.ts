/**
 * The local metadata store: the store contract (store-contract.ts), run with
 * the default number of kept entries and with only two kept (so every
 * readFrom past the last two is served from the file through the sparse
 * index), plus what only the local store has: filling in the replicas of
 * topics from logs written before schema v3.
 */
import t from 'tap';
import { encodeEntry, type MetadataEntry } from '../../../broker/metadata/changes.js';
import { frameEntry } from '../../../broker/metadata/entry-frame.js';
import { INDEX_INTERVAL, LocalMetadataStore, METADATA_DIR, METADATA_LOG_FILE } from '../../../broker/metadata/local-store.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../../broker/world/file-system.js';
import { fold, metadataStoreContract, topicCreated } from './store-contract.js';

async function simulatedPlaces(keptEntries?: number): Promise<(place: string) => Promise<LocalMetadataStore>> {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/');
  return async (place) => {
    await fs.mkdirp(`/${place}`);
    return LocalMetadataStore.open({ dataDir: `/${place}`, fs, clock: new ManualClock(), localNodeId: 1, ...(keptEntries === undefined ? {} : { keptEntries }) });
  };
}

t.test('contract, default kept entries', async (t) => metadataStoreContract(t, await simulatedPlaces()));
t.test('contract, two kept entries (reads from the file)', async (t) => metadataStoreContract(t, await simulatedPlaces(2)));

t.test('readFrom below the kept entries reads the file, from any version across index intervals', async (t) => {
  const open = await simulatedPlaces(3);
  let store = await open('long');
  await store.commit([{ kind: 'clusterCreated', clusterId: 'c' }]);
  const count = 3 * INDEX_INTERVAL + 5;
  for (let i = 1; i < count; i++) await store.commit([topicCreated(`t${i}`, [[1]])]);
  const all = await store.readFrom(0, count);
  t.equal(all.length, count);
  for (const after of [0, 1, INDEX_INTERVAL - 1, INDEX_INTERVAL, INDEX_INTERVAL + 1, 2 * INDEX_INTERVAL + 3, count - 4, count - 2]) {
    for (const max of [1, 2, INDEX_INTERVAL, 2 * INDEX_INTERVAL + 1]) {
      const got = await store.readFrom(after, max);
      t.same(got, all.slice(after, after + max), `after ${after}, at most ${max}`);
    }
  }
  // A reopened store rebuilds the index from the file, and answers the same.
  await store.close();
  store = await open('long');
  t.same(await store.readFrom(0, count), all, 'after a reopen, every entry again');
  t.same(await store.readFrom(INDEX_INTERVAL + 7, 9), all.slice(INDEX_INTERVAL + 7, INDEX_INTERVAL + 16));
  await store.close();
});

/** A log file of `entries`, each written as the build that wrote it would have (its own schema version). */
function logOf(entries: readonly MetadataEntry[]): Buffer {
  return Buffer.concat(entries.map((entry) => frameEntry(encodeEntry(entry))));
}

t.test('a log written before schema v3 replays with the local node as every partition\'s one replica', async (t) => {
  const fs = new SimulatedFileSystem();
  const dir = `/data/${METADATA_DIR}`;
  await fs.mkdirp(dir);
  // Entries without assignments encode with v1/v2, exactly as a v2 build wrote them (changes.test.ts pins those bytes).
  const old: MetadataEntry[] = [
    { version: 1, timestampMs: 1, change: { kind: 'clusterCreated', clusterId: 'c' } },
    { version: 2, timestampMs: 2, change: { kind: 'topicCreated', name: 'old', topicId: 'id-old', partitions: 2, replicationFactor: 1, configs: {}, assignments: [] } },
    { version: 3, timestampMs: 3, change: { kind: 'partitionsAdded', name: 'old', topicId: 'id-old', partitions: 3, assignments: [] } },
  ];
  t.same(old.map((entry) => encodeEntry(entry).schemaVersion), [1, 1, 2], 'written with the v1 and v2 schemas');
  await fs.writeFileAtomic(`${dir}/${METADATA_LOG_FILE}`, logOf(old));

  const store = await LocalMetadataStore.open({ dataDir: '/data', fs, clock: new ManualClock(), localNodeId: 7, keptEntries: 1 });
  const topic = store.image.topics.get('old')!;
  t.same(topic.partitionStates.map((state) => [state.replicas, state.leader, state.isr]), [[[7], 7, [7]], [[7], 7, [7]], [[7], 7, [7]]], 'node 7 hosts and leads every partition');
  const entries = await store.readFrom(0, 10);
  t.same(entries.map((entry) => 'assignments' in entry.change ? entry.change.assignments : null), [null, [[7], [7]], [[7]]], 'readFrom returns the entries as filled in (read from the file here)');
  t.same(fold(entries), store.image, 'so a broker folding them gets the same image');
  t.same(entries.slice(1).map((entry) => encodeEntry(entry).schemaVersion), [3, 3], 'and sent on, they carry their assignments (v3)');

  await store.commit([topicCreated('new', [[7], [7]])]);
  await store.close();
  const bytes = Buffer.from(await fs.readFile(`${dir}/${METADATA_LOG_FILE}`));
  t.same(bytes.subarray(0, logOf(old).byteLength), logOf(old), 'the old entries are never rewritten');
});
