/**
 * Replica placement: replicas of a partition on distinct brokers, leaders and
 * replicas balanced across brokers (also over topics created one after
 * another), racks covered before any rack holds two, and a replication
 * factor above the live brokers refused naming both numbers.
 */
import t from 'tap';
import { placeReplicas } from '../../../broker/controller/placement.js';
import { EMPTY_IMAGE, type MetadataImage } from '../../../broker/metadata/image.js';

const three = [1, 2, 3].map((id) => ({ id, rack: null }));

function counts(assignments: number[][]): { leaders: Map<number, number>; replicas: Map<number, number> } {
  const leaders = new Map<number, number>();
  const replicas = new Map<number, number>();
  for (const a of assignments) {
    leaders.set(a[0]!, (leaders.get(a[0]!) ?? 0) + 1);
    for (const id of a) replicas.set(id, (replicas.get(id) ?? 0) + 1);
  }
  return { leaders, replicas };
}

t.test('RF 3 over 3 brokers: distinct replicas, one leadership each per 3 partitions', async (t) => {
  const placed = placeReplicas({ brokers: three, count: 6, replicationFactor: 3, image: EMPTY_IMAGE });
  for (const a of placed) t.same([...a].sort(), [1, 2, 3], `partition ${a.join(',')} has each broker once`);
  const { leaders } = counts(placed);
  t.same([...leaders.entries()].sort(), [[1, 2], [2, 2], [3, 2]], 'leaders balanced');
});

t.test('topics created one after another spread their leaders too', async (t) => {
  const first = placeReplicas({ brokers: three, count: 1, replicationFactor: 1, image: EMPTY_IMAGE });
  const image: MetadataImage = {
    ...EMPTY_IMAGE,
    topics: new Map([['a', { name: 'a', topicId: 'x', partitions: 1, replicationFactor: 1, configs: {}, internal: false, partitionStates: [{ replicas: first[0]!, leader: first[0]![0]!, leaderEpoch: 0, partitionEpoch: 0, isr: first[0]! }] }]]),
  };
  const second = placeReplicas({ brokers: three, count: 1, replicationFactor: 1, image });
  t.not(second[0]![0], first[0]![0], 'the second topic leads elsewhere');
});

t.test('racks: a partition covers every rack before any rack holds two of its replicas', async (t) => {
  const brokers = [
    { id: 1, rack: 'a' },
    { id: 2, rack: 'a' },
    { id: 3, rack: 'b' },
    { id: 4, rack: 'b' },
  ];
  const placed = placeReplicas({ brokers, count: 8, replicationFactor: 2, image: EMPTY_IMAGE });
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
  for (const a of placed) t.not(rackOf.get(a[0]!), rackOf.get(a[1]!), `partition [${a.join(',')}] spans both racks`);
  const { replicas, leaders } = counts(placed);
  t.same([...replicas.values()], [4, 4, 4, 4], 'replicas balanced');
  t.same([...leaders.values()], [2, 2, 2, 2], 'leaders balanced');
});

t.test('a replication factor above the live brokers is refused, naming both numbers', async (t) => {
  t.throws(() => placeReplicas({ brokers: three, count: 1, replicationFactor: 4, image: EMPTY_IMAGE }), { name: 'InvalidReplicationFactorError', message: /replication factor 4 requested, but only 3 broker/ });
  t.throws(() => placeReplicas({ brokers: [], count: 1, replicationFactor: 1, image: EMPTY_IMAGE }), { name: 'InvalidReplicationFactorError', message: /only 0 broker/ });
});
