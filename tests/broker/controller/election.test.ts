/**
 * Elections and what fencing a broker changes: the leader is the first
 * replica of the assignment that is in the ISR and live; an out-of-ISR
 * replica leads only with unclean election enabled (and the ISR becomes just
 * it); every change bumps the partition epoch and a change of leader the
 * leader epoch; a fenced broker leaves ISRs unless it is the last member.
 */
import t from 'tap';
import { changesForFencing, changesForLeaderless, electLeader } from '../../../broker/controller/election.js';
import { EMPTY_IMAGE, type MetadataImage, type PartitionState } from '../../../broker/metadata/image.js';

function imageWith(states: PartitionState[], configs: Record<string, string> = {}): MetadataImage {
  return { ...EMPTY_IMAGE, topics: new Map([['t', { name: 't', topicId: 'id', partitions: states.length, replicationFactor: states[0]!.replicas.length, configs, internal: false, partitionStates: states }]]) };
}

t.test('election: the first replica in the ISR that is live, never one outside the ISR when clean', async (t) => {
  const live = (id: number): boolean => id !== 1;
  t.same(electLeader({ replicas: [1, 2, 3], isr: [1, 3] }, live, false), { leader: 3, isr: [1, 3] }, 'replica 2 is live but out of the ISR: 3 leads');
  t.same(electLeader({ replicas: [1, 2, 3], isr: [1] }, live, false), { leader: -1, isr: [1] }, 'no live ISR member: no leader');
  t.same(electLeader({ replicas: [1, 2, 3], isr: [1] }, live, true), { leader: 2, isr: [2] }, 'unclean: the first live replica, which becomes the whole ISR');
});

t.test('fencing a leader moves leadership with both epochs bumped and shrinks the ISR', async (t) => {
  const image = imageWith([
    { replicas: [1, 2, 3], leader: 1, leaderEpoch: 4, partitionEpoch: 7, isr: [1, 2, 3] },
    { replicas: [2, 1, 3], leader: 2, leaderEpoch: 0, partitionEpoch: 0, isr: [2, 1, 3] },
    { replicas: [1], leader: 1, leaderEpoch: 2, partitionEpoch: 2, isr: [1] },
  ]);
  const changes = changesForFencing(image, 1, () => true);
  t.same(changes.map((c) => [c.partition, c.leader, c.leaderEpoch, c.partitionEpoch, c.isr]), [
    [0, 2, 5, 8, [2, 3]],
    [1, 2, 0, 1, [2, 3]],
    [2, -1, 3, 3, [1]],
  ], 'p0: 2 leads at epoch 5; p1: same leader, ISR shrunk, partition epoch only; p2: no leader, the last ISR member stays');
});

t.test('unclean election is per topic', async (t) => {
  const states = [{ replicas: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0, isr: [1] }];
  t.equal(changesForFencing(imageWith(states), 1, () => true)[0]!.leader, -1, 'clean by default: no leader');
  t.equal(changesForFencing(imageWith(states, { 'unclean.leader.election.enable': 'true' }), 1, () => true)[0]!.leader, 2, 'unclean: replica 2 leads');
});

t.test('a returning ISR member leads partitions that had no leader', async (t) => {
  const image = imageWith([{ replicas: [1, 2], leader: -1, leaderEpoch: 3, partitionEpoch: 5, isr: [1] }]);
  t.same(changesForLeaderless(image, (id) => id === 2).length, 0, 'replica 2 is not in the ISR: still no leader');
  const [change] = changesForLeaderless(image, (id) => id === 1);
  t.same([change!.leader, change!.leaderEpoch, change!.partitionEpoch], [1, 4, 6], 'replica 1 leads again, epochs bumped');
});
