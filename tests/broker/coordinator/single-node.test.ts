/**
 * The group coordinator end to end on one broker process, over the wire:
 * FindCoordinator (creating __consumer_offsets), two members joining and
 * converging to disjoint halves, commits with member-epoch checks, fetch,
 * describe, list, delete, and the whole state rebuilt from the log after a
 * restart.
 */
import t from 'tap';
import { Errors } from '../../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, TopicPartitions } from '../../../protocol/messages.js';
import { startBrokerProcess } from '../../support/broker-process.js';
import { RawClient } from '../../support/raw-client.js';

const TOPIC = 'orders';

function heartbeat(memberId: string, memberEpoch: number, extra: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatRequest {
  return {
    groupId: 'g1',
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? [TOPIC] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: memberEpoch === 0 ? [] : null,
    ...extra,
  };
}

function partitionsOf(response: ConsumerGroupHeartbeatResponse): number[] {
  return (response.assignment?.topicPartitions ?? []).flatMap((tp) => tp.partitions).sort((a, b) => a - b);
}

function owned(partitions: number[]): TopicPartitions[] {
  return [{ topic: TOPIC, partitions }];
}

t.test('single-node coordinator over the wire, and its state after a restart', async (t) => {
  let broker = await startBrokerProcess({ args: ['--set', 'group.consumer.heartbeat.interval.ms=1000'] });
  t.teardown(() => broker.stop());
  let client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());

  const created = await client.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 4, replicationFactor: -1, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  t.equal(created.topics[0]!.errorCode, 0);

  const found = await client.request('FindCoordinator', { keyType: 0, keys: ['g1', ''] });
  t.match(found.coordinators[0], { key: 'g1', nodeId: 0, host: broker.host, port: broker.port, errorCode: 0 }, 'this broker coordinates g1');
  t.equal(found.coordinators[1]!.errorCode, Errors.INVALID_GROUP_ID.code, 'an empty group id is refused');
  const metadata = await client.request('Metadata', { topics: ['__consumer_offsets'], allowAutoTopicCreation: false, includeInternal: true });
  t.match(metadata.topics, [{ name: '__consumer_offsets', errorCode: 0, partitions: Array(5).fill({ leader: 0 }) }], '__consumer_offsets was created, 5 partitions by default');

  // A joins alone: everything, at a new epoch.
  const a1 = await client.request('ConsumerGroupHeartbeat', heartbeat('A', 0));
  t.equal(a1.errorCode, 0, a1.errorMessage ?? '');
  t.equal(a1.heartbeatIntervalMs, 1000, 'the interval is the broker setting');
  t.same(partitionsOf(a1), [0, 1, 2, 3]);
  const epochA = a1.memberEpoch;
  t.ok(epochA > 0);

  // B joins: nothing yet, A still owns everything.
  const b1 = await client.request('ConsumerGroupHeartbeat', heartbeat('B', 0));
  t.equal(b1.errorCode, 0);
  t.same(partitionsOf(b1), [], 'B gets nothing until A gives partitions up');
  // A is asked to give two up; its epoch stays until it has.
  const a2 = await client.request('ConsumerGroupHeartbeat', heartbeat('A', epochA, { topicPartitions: owned([0, 1, 2, 3]) }));
  t.equal(a2.memberEpoch, epochA, 'epoch kept while revoking');
  const kept = partitionsOf(a2);
  t.equal(kept.length, 2, 'A keeps two');
  const b2 = await client.request('ConsumerGroupHeartbeat', heartbeat('B', b1.memberEpoch, { topicPartitions: owned([]) }));
  t.equal(b2.assignment, null, 'still nothing for B while A has not reported');
  // A reports it let go: new epoch; then B gets the other two.
  const a3 = await client.request('ConsumerGroupHeartbeat', heartbeat('A', epochA, { topicPartitions: owned(kept) }));
  t.equal(a3.errorCode, 0);
  t.ok(a3.memberEpoch > epochA, 'A moved to the new epoch');
  const b3 = await client.request('ConsumerGroupHeartbeat', heartbeat('B', b2.memberEpoch, { topicPartitions: owned([]) }));
  const bParts = partitionsOf(b3);
  t.same([...kept, ...bParts].sort(), [0, 1, 2, 3], 'disjoint halves covering the topic');
  await client.request('ConsumerGroupHeartbeat', heartbeat('B', b3.memberEpoch, { topicPartitions: owned(bParts) }));

  // Commits: with the current epoch; a future epoch is fenced; a tool commit is refused while there are members.
  const commit = (memberId: string, memberEpoch: number, partition: number, offset: number) =>
    client.request('OffsetCommit', { groupId: 'g1', memberId, memberEpoch, groupInstanceId: null, topics: [{ name: TOPIC, partitions: [{ partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: 'm' }] }] });
  t.equal((await commit('A', a3.memberEpoch, kept[0]!, 42)).topics[0]!.partitions[0]!.errorCode, 0);
  t.equal((await commit('A', a3.memberEpoch + 5, kept[0]!, 1)).topics[0]!.partitions[0]!.errorCode, Errors.FENCED_MEMBER_EPOCH.code, 'a future epoch is fenced');
  t.equal((await commit('Z', 1, kept[0]!, 1)).topics[0]!.partitions[0]!.errorCode, Errors.UNKNOWN_MEMBER_ID.code);
  t.equal((await commit('', -1, kept[0]!, 1)).topics[0]!.partitions[0]!.errorCode, Errors.NON_EMPTY_GROUP.code, 'tools commit only into an empty group');
  t.equal((await commit('B', b3.memberEpoch, bParts[0]!, 7)).topics[0]!.partitions[0]!.errorCode, 0);
  const tooLarge = await client.request('OffsetCommit', { groupId: 'g1', memberId: 'B', memberEpoch: b3.memberEpoch, groupInstanceId: null, topics: [{ name: TOPIC, partitions: [{ partition: bParts[0]!, committedOffset: 9, committedLeaderEpoch: -1, committedMetadata: 'x'.repeat(5000) }] }] });
  t.equal(tooLarge.topics[0]!.partitions[0]!.errorCode, Errors.OFFSET_METADATA_TOO_LARGE.code);

  const fetchAll = () => client.request('OffsetFetch', { groupId: 'g1', memberId: null, memberEpoch: -1, topics: null, requireStable: true });
  const expected = [
    { partition: kept[0]!, committedOffset: 42, metadata: 'm' },
    { partition: bParts[0]!, committedOffset: 7, metadata: 'm' },
  ].sort((x, y) => x.partition - y.partition);
  const fetched = await fetchAll();
  t.equal(fetched.errorCode, 0);
  t.match(fetched.topics, [{ name: TOPIC, partitions: expected }]);

  const described = await client.request('ConsumerGroupDescribe', { groupIds: ['g1', 'nope'] });
  t.match(described.groups[0], { errorCode: 0, groupState: 'Stable', assignorName: 'uniform', groupEpoch: a3.memberEpoch, assignmentEpoch: a3.memberEpoch });
  t.equal(described.groups[0]!.members.length, 2);
  t.equal(described.groups[0]!.members[0]!.clientHost, '127.0.0.1', 'the member\'s address is described');
  t.equal(described.groups[1]!.errorCode, Errors.GROUP_ID_NOT_FOUND.code);
  const listed = await client.request('ListGroups', { statesFilter: [], typesFilter: [] });
  t.same(listed.groups, [{ groupId: 'g1', groupState: 'Stable', groupType: 'consumer' }]);
  const refusedDelete = await client.request('DeleteGroups', { groupsNames: ['g1'] });
  t.equal(refusedDelete.results[0]!.errorCode, Errors.NON_EMPTY_GROUP.code);

  // Restart: the coordinator rebuilds everything from __consumer_offsets.
  const before = described.groups[0]!;
  client.close();
  t.equal(await broker.stop(), 0);
  broker = await startBrokerProcess({ dataDir: broker.dataDir, args: ['--set', 'group.consumer.heartbeat.interval.ms=1000'] });
  client = await RawClient.connect(broker.host, broker.port);
  let after = (await client.request('ConsumerGroupDescribe', { groupIds: ['g1'] })).groups[0]!;
  for (let i = 0; i < 50 && after.errorCode === Errors.COORDINATOR_LOAD_IN_PROGRESS.code; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = (await client.request('ConsumerGroupDescribe', { groupIds: ['g1'] })).groups[0]!;
  }
  t.same(after, before, 'members, epochs and assignments are as before the restart');
  t.match((await fetchAll()).topics, [{ name: TOPIC, partitions: expected }], 'committed offsets too');
  // A member carries on with its epoch after the restart.
  const aAfter = await client.request('ConsumerGroupHeartbeat', heartbeat('A', a3.memberEpoch, { topicPartitions: owned(kept) }));
  t.equal(aAfter.errorCode, 0, aAfter.errorMessage ?? '');
  t.equal(aAfter.memberEpoch, a3.memberEpoch);

  // Both leave: the group is empty, tools may commit, and it can be deleted with its offsets.
  t.equal((await client.request('ConsumerGroupHeartbeat', heartbeat('A', -1))).errorCode, 0);
  t.equal((await client.request('ConsumerGroupHeartbeat', heartbeat('B', -1))).errorCode, 0);
  t.equal((await client.request('ConsumerGroupDescribe', { groupIds: ['g1'] })).groups[0]!.groupState, 'Empty');
  t.equal((await commit('', -1, 3, 100)).topics[0]!.partitions[0]!.errorCode, 0, 'a tool commit into the empty group');
  // A deleted topic's offsets go with it.
  await client.request('CreateTopics', { topics: [{ name: 'temp', partitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  const tempCommit = await client.request('OffsetCommit', { groupId: 'g1', memberId: '', memberEpoch: -1, groupInstanceId: null, topics: [{ name: 'temp', partitions: [{ partition: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  t.equal(tempCommit.topics[0]!.partitions[0]!.errorCode, 0);
  t.same((await fetchAll()).topics.map((topic) => topic.name), [TOPIC, 'temp']);
  t.equal((await client.request('DeleteTopics', { topics: ['temp'], timeoutMs: 10_000 })).topics[0]!.errorCode, 0);
  let names = (await fetchAll()).topics.map((topic) => topic.name);
  for (let i = 0; i < 50 && names.includes('temp'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    names = (await fetchAll()).topics.map((topic) => topic.name);
  }
  t.same(names, [TOPIC], 'the deleted topic\'s committed offsets are gone');
  t.equal((await client.request('DeleteGroups', { groupsNames: ['g1', 'nope'] })).results.map((r) => r.errorCode).join(), `0,${Errors.GROUP_ID_NOT_FOUND.code}`);
  t.same((await fetchAll()).topics, [], 'no offsets left');
  t.equal((await client.request('ConsumerGroupDescribe', { groupIds: ['g1'] })).groups[0]!.errorCode, Errors.GROUP_ID_NOT_FOUND.code);
  client.close();
});
