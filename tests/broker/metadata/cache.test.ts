/**
 * MetadataCache, a broker's copy of the metadata: it folds received entries
 * with the store's applyChange, skips what it has, refuses gaps with a typed
 * error (the caller reads again from its version), and tells listeners.
 */
import t from 'tap';
import { MetadataCache, MetadataGapError } from '../../../broker/metadata/cache.js';
import type { MetadataImage } from '../../../broker/metadata/image.js';
import { LocalMetadataStore } from '../../../broker/metadata/local-store.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../../broker/world/file-system.js';
import { registered, topicCreated } from './store-contract.js';

async function storeWithEntries(): Promise<LocalMetadataStore> {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/data');
  const store = await LocalMetadataStore.open({ dataDir: '/data', fs, clock: new ManualClock(), localNodeId: 1 });
  await store.commit([{ kind: 'clusterCreated', clusterId: 'c' }, registered(1), registered(2)]);
  await store.commit([topicCreated('a', [[1, 2]]), topicCreated('b', [[2, 1], [1, 2]])]);
  await store.commit([{ kind: 'topicConfigAltered', name: 'a', topicId: 'id-a', configs: {} }]);
  return store;
}

t.test('a cache fed the store\'s entries in pages reaches the store\'s image; listeners hear each batch', async (t) => {
  const store = await storeWithEntries();
  const cache = new MetadataCache();
  const heard: [number, number][] = [];
  const unsubscribe = cache.onChange((previous, next) => heard.push([previous.version, next.version]));
  for (let rounds = 0; cache.version < store.image.version && rounds < 10; rounds++) {
    t.equal(cache.apply(await store.readFrom(cache.version, 2)), 2, 'each page is new');
  }
  t.same(cache.image, store.image);
  t.same(heard, [[0, 2], [2, 4], [4, 6]]);
  t.equal(cache.apply(await store.readFrom(3, 10)), 0, 'entries it has are skipped');
  t.same(heard.length, 3, 'and heard by no one');
  unsubscribe();
  await store.commit([topicCreated('c', [[1]])]);
  cache.apply(await store.readFrom(cache.version, 10));
  t.equal(heard.length, 3, 'an unsubscribed listener hears nothing');
  t.same(cache.image, store.image);
  await store.close();
});

t.test('a gap is refused whole with MetadataGapError; a bad entry leaves the image as it was', async (t) => {
  const store = await storeWithEntries();
  const entries = await store.readFrom(0, 10);
  const cache = new MetadataCache();
  cache.apply(entries.slice(0, 2));
  const before = cache.image;
  const error = t.throws(() => cache.apply([entries[2]!, entries[4]!]), MetadataGapError) as unknown as MetadataGapError;
  t.equal(error.cachedVersion, 3, 'the gap is after the version the batch reached');
  t.equal(error.receivedVersion, 5);
  t.match(error.message, /entries 4 to 4 are missing/);
  t.equal(cache.image, before, 'nothing of the batch was applied');
  t.throws(() => cache.apply([entries[3]!]), MetadataGapError, 'a batch starting past the next version');
  t.throws(() => cache.apply([{ version: 3, timestampMs: 0, change: { kind: 'clusterCreated', clusterId: 'again' } }]), /the cluster is created once/);
  t.equal(cache.image, before, 'an entry that does not fit changes nothing');
  cache.apply(entries.slice(2));
  t.same(cache.image, store.image, 're-synced from its version, it catches up');
  await store.close();
});

t.test('a throwing listener does not silence the others; the cache still moves on', async (t) => {
  const store = await storeWithEntries();
  const cache = new MetadataCache();
  const seen: MetadataImage[] = [];
  cache.onChange(() => { throw new Error('listener bug'); });
  cache.onChange((_previous, next) => seen.push(next));
  const entries = await store.readFrom(0, 10);
  t.throws(() => cache.apply(entries), /listener bug/);
  t.equal(seen.length, 1, 'the second listener heard the batch');
  t.equal(cache.version, store.image.version);
  await store.close();
});

t.test('a cache can start from an image', async (t) => {
  const store = await storeWithEntries();
  const cache = new MetadataCache(store.image);
  await store.commit([topicCreated('late', [[2]])]);
  cache.apply(await store.readFrom(cache.version, 10));
  t.same(cache.image, store.image);
  await store.close();
});
