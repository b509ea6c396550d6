/**
 * The contract every MetadataStore implementation passes (store.ts states
 * it): run it from a `*.test.ts` with a function that opens a store. As
 * nats-server's store_test.go runs one suite over its memory and file stores.
 *
 * `open(place)` opens the store kept at `place`: a place not opened before
 * holds an empty log, and opening a place again (after closing the store
 * there) must show everything committed there before. Each subtest uses
 * places of its own.
 */
import type { Test } from 'tap';
import type { MetadataChange, MetadataEntry } from '../../../broker/metadata/changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../../broker/metadata/image.js';
import { brokerConfig } from '../../../broker/config.js';
import { Controller } from '../../../broker/controller/controller.js';
import { silentLogger } from '../../../broker/log.js';
import { ManualClock } from '../../../broker/world/clock.js';
import { seededRng } from '../../../broker/world/rng.js';
import { MetadataStoreClosedError, StaleMetadataError, type MetadataStore } from '../../../broker/metadata/store.js';

export type OpenStore = (place: string) => Promise<MetadataStore>;

export const topicCreated = (name: string, assignments: number[][], topicId = `id-${name}`): Extract<MetadataChange, { kind: 'topicCreated' }> => ({
  kind: 'topicCreated', name, topicId, partitions: assignments.length, replicationFactor: assignments[0]!.length, configs: { 'retention.ms': '1000' }, assignments,
});

export const registered = (brokerId: number, incarnationId = `inc-${brokerId}`, rack: string | null = null): MetadataChange => ({
  kind: 'brokerRegistered', brokerId, incarnationId, host: '127.0.0.1', port: 9000 + brokerId, rack,
});

/** The image that folding `entries` onto `from` gives. */
export function fold(entries: readonly MetadataEntry[], from: MetadataImage = EMPTY_IMAGE): MetadataImage {
  return entries.reduce((image, entry) => applyChange(image, entry.change, entry.version), from);
}

/** Whether `promise` has settled after the microtasks and immediates queued now have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

export function metadataStoreContract(t: Test, open: OpenStore): void {
  t.test('commits are consecutive versions; expectedVersion guards; a refused commit changes nothing', async (t) => {
    const store = await open('commits');
    t.equal(store.image.version, 0, 'a new store is empty');
    t.same(await store.readFrom(0, 10), [], 'and has no entries');
    t.equal(await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }], { expectedVersion: 0 }), 1);
    t.equal(await store.commit([topicCreated('a', [[1]]), topicCreated('b', [[1], [1]])]), 3, 'several changes commit as consecutive versions');
    await t.rejects(store.commit([topicCreated('c', [[1]])], { expectedVersion: 2 }), StaleMetadataError, 'a stale expected version is refused');
    await t.rejects(store.commit([topicCreated('d', [[1]]), topicCreated('a', [[1]])]), /a topic is created only when absent/, 'a change that does not fit is refused');
    t.equal(store.image.version, 3, 'refused commits change nothing');
    t.same([...store.image.topics.keys()], ['a', 'b'], 'not even the changes before the one that did not fit');
    t.equal((await store.readFrom(0, 100)).length, 3, 'and leave no entries');
    t.equal(await store.commit([topicCreated('c', [[1]])], { expectedVersion: 3 }), 4, 'the next commit takes the next version');
    await store.close();
  });

  t.test('concurrent commits apply one after the other, in call order', async (t) => {
    const store = await open('concurrent');
    const versions = await Promise.all([
      store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }]),
      store.commit([topicCreated('first', [[1]])]),
      store.commit([topicCreated('first', [[1]])]).catch((error: Error) => error.message),
      store.commit([topicCreated('second', [[1]]), topicCreated('third', [[1]])]),
    ]);
    t.same(versions.slice(0, 2), [1, 2]);
    t.match(versions[2], /a topic is created only when absent/, 'the third call saw the second one applied');
    t.equal(versions[3], 4);
    t.same((await store.readFrom(0, 10)).map((entry) => entry.change.kind === 'topicCreated' ? entry.change.name : entry.change.kind), ['clusterCreated', 'first', 'second', 'third']);
    await store.close();
  });

  t.test('readFrom returns the entries after a version, in order, at most maxEntries, and folds to the image', async (t) => {
    const store = await open('read-from');
    await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }]);
    const names = Array.from({ length: 150 }, (_, i) => `t${i}`);
    for (let i = 0; i < names.length; i += 10) await store.commit(names.slice(i, i + 10).map((name) => topicCreated(name, [[1], [1]])));
    t.equal(store.image.version, 151);

    const all = await store.readFrom(0, 1000);
    t.same(all.map((entry) => entry.version), Array.from({ length: 151 }, (_, i) => i + 1), 'from 0: every entry, consecutive');
    t.same(fold(all), store.image, 'folding them gives the store\'s image');
    t.ok(all.every((entry) => typeof entry.timestampMs === 'number' && entry.timestampMs >= 0), 'each with its time');

    const pages: MetadataEntry[] = [];
    for (let after = 0, rounds = 0; after < store.image.version && rounds < 100; rounds++) {
      const page = await store.readFrom(after, 7);
      t.ok(page.length >= 1 && page.length <= 7, `a page of 1 to 7 entries after ${after}`);
      pages.push(...page);
      after = page.at(-1)!.version;
    }
    t.same(pages, all, 'pages of 7 from any version reassemble the log');

    const middle = await store.readFrom(70, 5);
    t.same(middle.map((entry) => entry.version), [71, 72, 73, 74, 75]);
    t.same(fold(middle, fold(all.slice(0, 70))), fold(all.slice(0, 75)), 'entries after a version fold onto that version\'s image');
    t.same(await store.readFrom(151, 10), [], 'nothing after the latest version');
    t.same(await store.readFrom(500, 10), [], 'nor after a version beyond it');
    t.same((await store.readFrom(150, 10)).map((entry) => entry.version), [151]);
    await t.rejects(store.readFrom(-1, 10), RangeError);
    await t.rejects(store.readFrom(0, 0), RangeError);
    await t.rejects(store.readFrom(1.5, 1), RangeError);
    await store.close();
  });

  t.test('waitForVersion wakes a long poll when a version past it is committed', async (t) => {
    const store = await open('wait');
    await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }]);
    t.equal(await store.waitForVersion(0), 1, 'a version past it exists: at once');

    const waiting = store.waitForVersion(1);
    const further = store.waitForVersion(2);
    t.equal(await settled(waiting), false, 'nothing past version 1 yet: it waits');
    await store.commit([topicCreated('a', [[1]])]);
    t.equal(await waiting, 2, 'resolves with the latest version');
    t.equal(await settled(further), false, 'a poll beyond that version keeps waiting');
    await store.commit([topicCreated('b', [[1]]), topicCreated('c', [[1]])]);
    t.equal(await further, 4);

    await t.rejects(store.commit([topicCreated('a', [[1]])]), /created only when absent/);
    const untouched = store.waitForVersion(4);
    t.equal(await settled(untouched), false, 'a refused commit wakes no one');

    const controller = new AbortController();
    const aborted = store.waitForVersion(4, controller.signal);
    controller.abort(new Error('poll timed out'));
    await t.rejects(aborted, /poll timed out/, 'an abort rejects with its reason');
    const early = new AbortController();
    early.abort(new Error('already over'));
    await t.rejects(store.waitForVersion(4, early.signal), /already over/, 'an aborted signal rejects at once');
    t.equal(await store.waitForVersion(3, early.signal), 4, 'unless the version is already there');

    await store.close();
    await t.rejects(untouched, MetadataStoreClosedError, 'closing ends the polls still waiting');
    await t.rejects(store.waitForVersion(0), MetadataStoreClosedError, 'a closed store takes no polls');
    await t.rejects(store.readFrom(0, 1), MetadataStoreClosedError);
    await t.rejects(store.commit([topicCreated('d', [[1]])]), MetadataStoreClosedError);
  });

  t.test('the cluster: registrations, fencing and partition state, kept across a reopen', async (t) => {
    let store = await open('cluster');
    await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }, registered(1, 'inc-a', 'r1'), registered(2), registered(3)]);
    const epochOf = (id: number): number => store.image.brokers.get(id)!.epoch;
    t.same(store.image.brokers.get(1), { id: 1, incarnationId: 'inc-a', host: '127.0.0.1', port: 9001, rack: 'r1', epoch: 2, fenced: true }, 'the broker epoch is the registration\'s version; brokers start fenced');
    await store.commit([1, 2, 3].map((id) => ({ kind: 'brokerUnfenced', brokerId: id, brokerEpoch: epochOf(id) })));
    await store.commit([topicCreated('orders', [[1, 2, 3], [2, 3, 1]]), { kind: 'brokerFenced', brokerId: 2, brokerEpoch: epochOf(2) }]);
    t.same(store.image.topics.get('orders')!.partitionStates[1], { replicas: [2, 3, 1], leader: 2, leaderEpoch: 0, partitionEpoch: 0, isr: [2, 3, 1] }, 'created with the ISR = replicas and the first replica leading');
    await store.commit([{ kind: 'partitionChanged', name: 'orders', topicId: 'id-orders', partition: 1, replicas: [2, 3, 1], leader: 3, leaderEpoch: 1, partitionEpoch: 1, isr: [3, 1] }]);
    await t.rejects(store.commit([{ kind: 'partitionChanged', name: 'orders', topicId: 'id-orders', partition: 1, replicas: [2, 3, 1], leader: 3, leaderEpoch: 1, partitionEpoch: 1, isr: [3] }]), /partition epochs strictly increase/, 'a stale partition epoch is refused');
    await t.rejects(store.commit([{ kind: 'brokerUnfenced', brokerId: 2, brokerEpoch: 1 }]), /in the epoch named/, 'so is an unfencing for an older epoch');
    await store.commit([registered(2, 'inc-b')]);
    t.equal(epochOf(2), 11, 'a restart registers again with a larger epoch');
    t.equal(store.image.brokers.get(2)!.incarnationId, 'inc-b', 'replacing the old registration');
    const before = store.image;
    const entries = await store.readFrom(0, 100);
    await store.close();

    store = await open('cluster');
    t.same(store.image, before, 'a reopened store shows every committed change');
    t.same(await store.readFrom(0, 100), entries, 'and the same entries');
    await t.rejects(store.commit([{ kind: 'brokerUnfenced', brokerId: 2, brokerEpoch: 3 }]), /in the epoch named/, 'the epoch of the replaced registration stays stale');
    t.equal(await store.commit([{ kind: 'brokerUnfenced', brokerId: 2, brokerEpoch: 11 }]), 12, 'and commits continue after the reopen');
    await store.close();
  });

  t.test('producer id blocks: a controller on the store never hands out an id twice, not after a reopen either', async (t) => {
    const withController = async <T>(fn: (controller: Controller, store: MetadataStore) => Promise<T>): Promise<T> => {
      const store = await open('producer-ids');
      const controller = new Controller({ store, config: brokerConfig({ 'data.dir': '/meta', 'node.id': 0 }), rng: seededRng(5), logger: silentLogger(), local: null, clock: new ManualClock() });
      try {
        return await fn(controller, store);
      } finally {
        await controller.close();
        await store.close();
      }
    };
    const blocks = await withController(async (controller, store) => {
      await store.commit([{ kind: 'clusterCreated', clusterId: 'c1' }]);
      const one = await controller.registerBroker({ brokerId: 1, clusterId: 'c1', incarnationId: 'i1', host: '127.0.0.1', port: 9001, rack: null });
      const two = await controller.registerBroker({ brokerId: 2, clusterId: 'c1', incarnationId: 'i2', host: '127.0.0.1', port: 9002, rack: null });
      const got = await Promise.all([
        controller.allocateProducerIds({ brokerId: 1, brokerEpoch: one.brokerEpoch, count: 1000 }),
        controller.allocateProducerIds({ brokerId: 2, brokerEpoch: two.brokerEpoch, count: 1000 }),
        controller.allocateProducerIds({ brokerId: 1, brokerEpoch: one.brokerEpoch, count: 1000 }),
      ]);
      await t.rejects(controller.allocateProducerIds({ brokerId: 1, brokerEpoch: one.brokerEpoch - 1, count: 1000 }), /STALE_BROKER_EPOCH|registered with epoch/, 'a stale broker epoch gets no block');
      return got;
    });
    t.same(blocks, [{ firstProducerId: 0, count: 1000 }, { firstProducerId: 1000, count: 1000 }, { firstProducerId: 2000, count: 1000 }], 'concurrent requests get consecutive, disjoint blocks');
    const after = await withController(async (controller, store) => {
      t.equal(store.image.nextProducerId, 3000, 'the reopened store knows where the next block starts');
      const three = await controller.registerBroker({ brokerId: 3, clusterId: 'c1', incarnationId: 'i3', host: '127.0.0.1', port: 9003, rack: null });
      return controller.allocateProducerIds({ brokerId: 3, brokerEpoch: three.brokerEpoch, count: 5000 });
    });
    t.same(after, { firstProducerId: 3000, count: 1000 }, 'a controller started later goes on after them (and caps a block at 1000)');
  });

  t.test('places are separate stores', async (t) => {
    const one = await open('place-one');
    const two = await open('place-two');
    await one.commit([{ kind: 'clusterCreated', clusterId: 'one' }]);
    t.equal(two.image.version, 0);
    t.same(await two.readFrom(0, 10), []);
    await Promise.all([one.close(), two.close()]);
  });
}
