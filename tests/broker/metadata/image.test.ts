/**
 * applyChange's cluster state and the invariants replication rests on
 * (apply-broker.ts, apply-partition.ts): each refused change is one a buggy
 * controller could try; none may get into the image.
 */
import t from 'tap';
import type { MetadataChange, PartitionChanged } from '../../../broker/metadata/changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../../broker/metadata/image.js';
import { partitionState, unfencedBrokers } from '../../../broker/metadata/queries.js';
import { InvariantError } from '../../../broker/world/assert.js';
import { registered, topicCreated } from './store-contract.js';

function applyAll(changes: readonly MetadataChange[], image: MetadataImage = EMPTY_IMAGE): MetadataImage {
  return changes.reduce((next, change) => applyChange(next, change, next.version + 1), image);
}

/** Brokers 1..3 registered (epochs 2..4) and unfenced, topic `t` with one partition on [1, 2, 3]. */
const cluster = applyAll([
  { kind: 'clusterCreated', clusterId: 'c' },
  registered(1), registered(2), registered(3),
  { kind: 'brokerUnfenced', brokerId: 1, brokerEpoch: 2 },
  { kind: 'brokerUnfenced', brokerId: 2, brokerEpoch: 3 },
  { kind: 'brokerUnfenced', brokerId: 3, brokerEpoch: 4 },
  topicCreated('t', [[1, 2, 3]]),
]);

const changed = (fields: Partial<PartitionChanged>): PartitionChanged => ({
  kind: 'partitionChanged', name: 't', topicId: 'id-t', partition: 0, replicas: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2, 3], ...fields,
});

t.test('brokers: registration gives the epoch, starts fenced; a registration again replaces it', async (t) => {
  const image = applyAll([registered(5, 'first', 'r1')]);
  t.same(image.brokers.get(5), { id: 5, incarnationId: 'first', host: '127.0.0.1', port: 9005, rack: 'r1', epoch: 1, fenced: true });
  const unfenced = applyAll([{ kind: 'brokerUnfenced', brokerId: 5, brokerEpoch: 1 }], image);
  t.same(unfencedBrokers(unfenced).map((broker) => broker.id), [5]);
  const again = applyAll([registered(5, 'second', null)], unfenced);
  t.same(again.brokers.get(5), { id: 5, incarnationId: 'second', host: '127.0.0.1', port: 9005, rack: null, epoch: 3, fenced: true }, 'new epoch, fenced until unfenced again');
  t.same(unfencedBrokers(again), []);
  t.throws(() => applyAll([{ kind: 'brokerUnfenced', brokerId: 5, brokerEpoch: 1 }], again), /in the epoch named/, 'a decision for the old epoch does not touch the new one');
  t.throws(() => applyAll([{ kind: 'brokerFenced', brokerId: 5, brokerEpoch: 3 }], again), /change the state/, 'fencing a fenced broker is a controller bug');
  t.throws(() => applyAll([{ kind: 'brokerFenced', brokerId: 6, brokerEpoch: 1 }]), /is registered/);
  t.throws(() => applyAll([{ ...registered(7), port: 0 } as MetadataChange]), /has a port/);
  t.throws(() => applyAll([{ ...registered(7), host: '' } as MetadataChange]), /has a host/);
  t.throws(() => applyAll([registered(-1)]), /non-negative integer/);
});

t.test('a created partition: ISR = replicas, epochs 0, the first replica not fenced leads', async (t) => {
  t.same(partitionState(cluster, 't', 0), { replicas: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0, isr: [1, 2, 3] });
  t.equal(partitionState(cluster, 't', 1), undefined);
  t.equal(partitionState(cluster, 'nope', 0), undefined);
  const oneFenced = applyAll([{ kind: 'brokerFenced', brokerId: 1, brokerEpoch: 2 }, topicCreated('u', [[1, 2], [3, 1]])], cluster);
  t.same(oneFenced.topics.get('u')!.partitionStates.map((state) => state.leader), [2, 3], 'a fenced broker does not lead a new partition');
  const allFenced = applyAll([{ kind: 'brokerFenced', brokerId: 1, brokerEpoch: 2 }, { kind: 'brokerFenced', brokerId: 3, brokerEpoch: 4 }, topicCreated('v', [[1, 3]])], cluster);
  t.same(partitionState(allFenced, 'v', 0), { replicas: [1, 3], leader: -1, leaderEpoch: 0, partitionEpoch: 0, isr: [1, 3] }, 'no leader when every replica is fenced');
  t.equal(partitionState(applyAll([topicCreated('w', [[9]])], cluster), 'w', 0)?.leader, 9, 'an unregistered id (the embedded node) may lead');
  const grown = applyAll([{ kind: 'partitionsAdded', name: 't', topicId: 'id-t', partitions: 3, assignments: [[2, 3, 1], [3, 1, 2]] }], cluster);
  t.same(grown.topics.get('t')!.partitionStates.map((state) => state.leader), [1, 2, 3], 'added partitions start the same way');
  t.equal(grown.topics.get('t')!.partitions, 3);
  t.equal(applyAll([topicCreated('__consumer_offsets', [[1]])], cluster).topics.get('__consumer_offsets')!.internal, true, '__ names are internal');
  t.equal(cluster.topics.get('t')!.internal, false);

  t.throws(() => applyAll([{ ...topicCreated('x', [[1]]), partitions: 2 }], cluster), /each new partition has an assignment/);
  t.throws(() => applyAll([topicCreated('x', [[1, 1]])], cluster), /name each broker once/);
  t.throws(() => applyAll([topicCreated('x', [[]])], cluster), /are not empty/);
  t.throws(() => applyAll([{ ...topicCreated('x', [[1, 2]]), replicationFactor: 3 }], cluster), /replication-factor replicas/);
  t.throws(() => applyAll([{ kind: 'partitionsAdded', name: 't', topicId: 'id-t', partitions: 3, assignments: [[1, 2, 3]] }], cluster), /each new partition has an assignment/);
});

t.test('a partition change: the whole state after, with its invariants', async (t) => {
  const shrunk = applyAll([changed({ isr: [1, 3] })], cluster);
  t.same(partitionState(shrunk, 't', 0), { replicas: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 3] }, 'an ISR change raises the partition epoch only');
  const moved = applyAll([changed({ leader: 3, leaderEpoch: 1, partitionEpoch: 2, isr: [3] })], shrunk);
  t.same(partitionState(moved, 't', 0), { replicas: [1, 2, 3], leader: 3, leaderEpoch: 1, partitionEpoch: 2, isr: [3] });
  t.same(partitionState(applyAll([changed({ leader: -1, leaderEpoch: 2, partitionEpoch: 3, isr: [3] })], moved), 't', 0)?.leader, -1, 'no leader is allowed');

  const refused: [Partial<PartitionChanged>, RegExp][] = [
    [{ partitionEpoch: 0 }, /partition epochs strictly increase/],
    [{ leader: 2, leaderEpoch: 0 }, /a change of leader raises the leader epoch/],
    [{ leaderEpoch: -1 }, /leader epochs never decrease/],
    [{ leader: 4, leaderEpoch: 1 }, /the leader is in the ISR, or -1/],
    [{ isr: [2, 3] }, /the leader is in the ISR, or -1/],
    [{ isr: [1, 4] }, /the ISR is a subset of the replicas/],
    [{ isr: [] }, /ISR are not empty/],
    [{ isr: [1, 1] }, /ISR name each broker once/],
    [{ replicas: [1, 2, 2] }, /replicas name each broker once/],
    [{ partition: 1 }, /a changed partition exists/],
    [{ topicId: 'id-other' }, /a changed topic exists, in the incarnation named/],
  ];
  for (const [fields, why] of refused) {
    t.throws(() => applyAll([changed(fields)], cluster), why, JSON.stringify(fields));
  }
  t.throws(() => applyAll([changed({ partitionEpoch: 0 })], cluster), InvariantError, 'as invariant failures');
  t.same(partitionState(cluster, 't', 0)?.partitionEpoch, 0, 'the image a refused change was applied to is untouched');
});
