// Preloaded into a broker process by tests/broker/invariants.test.ts, never
// by the broker itself: plants a bug in broker-wide state, so the test can
// watch the process take the fatal path. The controller's config changes are
// committed naming the wrong topic id, which the metadata image refuses with
// a broken invariant. Only with BROKER_TEST_PLANT_INVARIANT set (not a
// RUNNEL_ variable, which the broker would refuse as an unknown setting).
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.BROKER_TEST_PLANT_INVARIANT === '1') {
  const { LocalMetadataStore } = await import(new URL('../../dist/broker/metadata/local-store.js', import.meta.url).href);
  const commit = LocalMetadataStore.prototype.commit;
  LocalMetadataStore.prototype.commit = function (changes, opts) {
    return commit.call(this, changes.map((change) => (change.kind === 'topicConfigAltered' ? { ...change, topicId: 'not-this-topic' } : change)), opts);
  };
}
