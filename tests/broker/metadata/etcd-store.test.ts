/**
 * The etcd metadata store on a real etcd (tests/support/etcd.ts): the store
 * contract (store-contract.ts) as the local store passes it, with the
 * default number of kept entries and with two (older reads go to etcd),
 * plus what only
 * a shared store has: a second store on the same keys follows the first's
 * commits by watch; two writers never both append a version; a writer whose
 * election key is gone (a deposed controller) has its commit refused by
 * etcd and nothing lands; a commit too large for one transaction is refused
 * whole.
 */
import t from 'tap';
import { parseEtcdAddress } from '../../../broker/metadata/etcd-address.js';
import { connectEtcd } from '../../../broker/metadata/etcd-client.js';
import { EtcdMetadataStore, MAX_COMMIT_BYTES, MetadataCommitTooLargeError, MetadataStoreFencedError } from '../../../broker/metadata/etcd-store.js';
import { StaleMetadataError } from '../../../broker/metadata/store.js';
import { systemClock } from '../../../broker/world/clock.js';
import { startEtcd } from '../../support/etcd.js';
import { fold, metadataStoreContract, registered, topicCreated } from './store-contract.js';

const etcd = await startEtcd(t);
const client = connectEtcd(parseEtcdAddress(etcd.url));
t.teardown(() => client.close());
const open = (prefix: string, opts: { requireFence?: boolean; keptEntries?: number } = {}): Promise<EtcdMetadataStore> => EtcdMetadataStore.open({ client, prefix, clock: systemClock, ...opts });

t.test('contract', async (t) => metadataStoreContract(t, (place) => open(`/contract/${place}/`)));
t.test('contract, two kept entries (older reads from etcd)', async (t) => metadataStoreContract(t, (place) => open(`/contract-kept-2/${place}/`, { keptEntries: 2 })));

t.test('readFrom below the kept entries reads etcd: from any version, any count, the entries as applied', async (t) => {
  const writer = await open('/kept/', { keptEntries: 3 });
  await writer.commit([{ kind: 'clusterCreated', clusterId: 'c' }, registered(1), registered(2)]);
  for (let i = 0; i < 40; i++) await writer.commit([topicCreated(`t${i}`, [[1, 2]])]);
  const reference = await open('/kept/', { keptEntries: 10_000 });
  const all = await reference.readFrom(0, 1000);
  t.equal(all.length, 43, 'a store that keeps everything has every entry');
  let mismatches = 0;
  for (const after of [0, 1, 2, 17, 38, 39, 40, 41, 42, 43]) {
    for (const max of [1, 2, 5, 700]) {
      const read = await writer.readFrom(after, max);
      if (JSON.stringify(read) !== JSON.stringify(all.slice(after, after + max))) {
        mismatches += 1;
        t.fail(`readFrom(${after}, ${max}) gave versions ${read.map((e) => e.version).join(',')}`);
      }
    }
  }
  t.equal(mismatches, 0, 'every read, below, across and within the kept entries, gives the entries as applied');
  t.same(fold(await writer.readFrom(0, 1000)), writer.image, 'the whole log read back folds to the image');
  // Keys deleted behind the store's back are reported, not skipped.
  await client.delete().key('/kept/log/0000000000000005').exec();
  await t.rejects(writer.readFrom(2, 10), /metadata entry 5 is missing from etcd/, 'a missing key is an error naming it');
  await Promise.all([writer.close(), reference.close()]);
});

/** Resolves once `test()` holds, polling every 10 ms for at most `withinMs`. */
async function eventually(test: () => boolean, withinMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < withinMs; waited += 10) {
    if (test()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return test();
}

t.test('a second store on the same keys follows the first by watch, and folds to the same image', async (t) => {
  const writer = await open('/follow/');
  const follower = await open('/follow/');
  await writer.commit([{ kind: 'clusterCreated', clusterId: 'c' }, registered(1), registered(2)]);
  t.equal(await follower.waitForVersion(2, AbortSignal.timeout(5000)), 3, 'the follower wakes for the writer\'s commit');
  await writer.commit([topicCreated('a', [[1, 2]])]);
  t.ok(await eventually(() => follower.image.version === 4), 'and follows the next one');
  t.same(follower.image, writer.image, 'same image');
  t.same(fold(await follower.readFrom(0, 100)), writer.image, 'its entries fold to it');
  await Promise.all([writer.close(), follower.close()]);
});

t.test('two writers never both append a version: the one behind is refused, then catches up', async (t) => {
  const one = await open('/two-writers/');
  const two = await open('/two-writers/');
  await one.commit([{ kind: 'clusterCreated', clusterId: 'c' }]);
  // Whatever two's watch has shown, a commit checked against version 0 is refused by etcd's compare on `last`.
  await t.rejects(two.commit([topicCreated('late', [[1]])], { expectedVersion: 0 }), StaleMetadataError);
  t.equal(two.image.version, 1, 'the refusal caught it up');
  t.equal(await two.commit([topicCreated('next', [[1]])]), 2, 'then it appends after the other\'s entry');
  t.ok(await eventually(() => one.image.version === 2));
  t.same(one.image, two.image);

  // Both at version 2 and writing at once: etcd's compare on `last` lets one through; the other catches up and goes after it.
  const both = await Promise.all([one.commit([topicCreated('from-one', [[1]])]), two.commit([topicCreated('from-two', [[1]])])]);
  t.same(both.sort(), [3, 4], 'two versions, not one written twice');
  t.ok(await eventually(() => one.image.version === 4 && two.image.version === 4));
  t.same(one.image, two.image, 'both stores agree');
  t.ok(one.image.topics.has('from-one') && one.image.topics.has('from-two'), 'and both changes landed');
  await Promise.all([one.close(), two.close()]);
});

t.test('a deposed writer (its election key gone) cannot commit; nothing it tried lands', async (t) => {
  const lease = client.lease(5, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  const key = '/deposed/election/candidate';
  const put = await client.put(key).value('node 1').lease(leaseId).exec();
  const fence = { key, createRevision: String(put.header.revision) };
  const controller = await open('/deposed/', { requireFence: true });
  await t.rejects(controller.commit([{ kind: 'clusterCreated', clusterId: 'c' }]), MetadataStoreFencedError, 'without a fence a controller\'s store writes nothing');
  controller.fence = fence;
  t.equal(await controller.commit([{ kind: 'clusterCreated', clusterId: 'c' }, registered(1)]), 2, 'with its election key present, it commits');

  await lease.revoke(); // the lease ends: etcd deletes the key, as when the controller paused past its TTL
  await t.rejects(controller.commit([topicCreated('zombie', [[1]])]), MetadataStoreFencedError, 'etcd refuses the deposed controller\'s commit');
  // A successor's key under the same name has another create revision: the old fence does not match it.
  await client.put(key).value('node 2').exec();
  await t.rejects(controller.commit([topicCreated('zombie', [[1]])]), /no longer the elected controller/, 'nor does a new key of the same name admit it');
  const reader = await open('/deposed/');
  t.equal(reader.image.version, 2, 'nothing the deposed controller tried landed');
  t.notOk(reader.image.topics.has('zombie'));
  t.equal(controller.image.version, 2, 'and its own image shows nothing of it either');
  await Promise.all([controller.close(), reader.close()]);
});

t.test('a commit too large for one etcd transaction is refused whole, naming the limit', async (t) => {
  const store = await open('/large/');
  await store.commit([{ kind: 'clusterCreated', clusterId: 'c' }]);
  const configs: Record<string, string> = {};
  const big = topicCreated('big', [[1]]);
  configs['retention.ms'] = '1000';
  const many = Array.from({ length: 3000 }, (_, i) => ({ ...big, name: `big-${i}`, topicId: `id-${i}`, configs: { ...configs, 'cleanup.policy': 'x'.repeat(400) } }));
  await t.rejects(store.commit(many), MetadataCommitTooLargeError);
  await t.rejects(store.commit(many), new RegExp(`more than the ${MAX_COMMIT_BYTES} bytes`));
  t.equal(store.image.version, 1, 'nothing of it is applied');
  await store.close();
});

t.test('a store reopened on the same keys sees everything, and follows a writer that is not it', async (t) => {
  const first = await open('/reopen/');
  await first.commit([{ kind: 'clusterCreated', clusterId: 'c' }, registered(1), topicCreated('a', [[1]])]);
  const image = first.image;
  await first.close();
  const again = await open('/reopen/');
  t.same(again.image, image, 'everything committed before');
  t.equal(await again.commit([topicCreated('b', [[1]])], { expectedVersion: 3 }), 4, 'and appends after it');
  await again.close();
});
