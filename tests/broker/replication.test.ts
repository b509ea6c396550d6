/**
 * Replication in process: three (or two) brokers on one ManualClock and one
 * MemoryNetwork, each with its own simulated disk, ReplicaManager, replica
 * fetchers and handler table; the metadata is moved by the test
 * (tests/support/replication-rig.ts). Followers catch up; the high
 * watermark is the minimum over the ISR; acks=all waits for it; a lagging
 * follower leaves the ISR and joins again when it catches up;
 * min.insync.replicas refuses acks=all with nothing appended; a divergent
 * tail is truncated by leader epochs (the KIP-101 and KIP-279 scenarios,
 * with exact offsets).
 */
import t from 'tap';
import { Errors } from '../../protocol/errors.js';
import { allBatches, epochOf, lastOffsetOf } from '../support/follower-sync.js';
import { hostOf, ReplicationRig } from '../support/replication-rig.js';

const TOPIC = 'orders';

/** [lastOffset, epoch] per batch of node `id`'s log. */
async function shape(rig: ReplicationRig, id: number): Promise<[number, number][]> {
  return (await allBatches(rig.log(id, TOPIC))).map((batch) => [lastOffsetOf(batch), epochOf(batch)]);
}

async function bytesOf(rig: ReplicationRig, id: number): Promise<string[]> {
  return (await allBatches(rig.log(id, TOPIC))).map((batch) => Buffer.from(batch).toString('hex'));
}

t.test('followers catch up with the leader, byte for byte, and learn its high watermark', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  t.equal(rig.partition(1, TOPIC).role, 'leader');
  t.equal(rig.partition(2, TOPIC).role, 'follower');
  for (const values of [['a'], ['b', 'c'], ['d']]) {
    const result = await rig.world.settle(rig.produce(1, TOPIC, values));
    t.equal(result.errorCode, Errors.NONE.code);
  }
  t.ok(await rig.until(() => [2, 3].every((id) => rig.partition(id, TOPIC).logEndOffset === 4)), 'both followers reach offset 4');
  t.ok(await rig.until(() => [1, 2, 3].every((id) => rig.partition(id, TOPIC).highWatermark === 4)), 'the high watermark reaches 4 on every replica');
  const leader = await bytesOf(rig, 1);
  t.same(await bytesOf(rig, 2), leader, 'follower 2 has the leader\'s exact bytes');
  t.same(await bytesOf(rig, 3), leader, 'follower 3 has the leader\'s exact bytes');
  const metered = rig.metered.get(1)!;
  t.match(metered, { recordsIn: 4, recordsOut: 0, bytesOut: 0 }, 'the leader metered four records in, none to consumers');
  t.ok(metered.replicatedBytes >= 2 * metered.bytesIn, `both followers' fetches metered as replication (${metered.replicatedBytes} bytes)`);
});

t.test('the high watermark is the lowest log end over the ISR; a consumer reads only below it', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b']));
  t.ok(await rig.until(() => rig.partition(1, TOPIC).highWatermark === 2), 'replicated to all: HW 2');

  rig.world.network.partition(hostOf(1), hostOf(3));
  const result = await rig.world.settle(rig.produce(1, TOPIC, ['c', 'd', 'e']));
  t.equal(result.baseOffset, 2, 'acks=1 answers after the leader\'s append');
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 5), 'follower 2 has it');
  await rig.world.run(1_000);
  const leader = rig.partition(1, TOPIC);
  t.equal(leader.logEndOffset, 5, 'the leader\'s log ends at 5');
  t.equal(rig.partition(3, TOPIC).logEndOffset, 2, 'follower 3, cut off, is at 2');
  t.equal(leader.highWatermark, 2, 'the HW stays at follower 3\'s end: it is still in the ISR');
  const consumer = await rig.world.settle(rig.connection(1).request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 2, partitionMaxBytes: 1 << 20 }] }] }));
  t.same(consumer.topics[0]!.partitions[0]!.records, [], 'a consumer reads nothing at or past the HW');
  t.equal(consumer.topics[0]!.partitions[0]!.highWatermark, 2);

  rig.world.network.heal(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => leader.highWatermark === 5), 'once follower 3 catches up the HW reaches 5');
});

t.test('acks=all answers only once every ISR member has the records; acks=1 at once', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }));
  rig.world.network.partition(hostOf(1), hostOf(3));
  let answered: { errorCode: number; baseOffset: number } | null = null;
  void rig.produce(1, TOPIC, ['b', 'c'], { acks: -1 }).then((r) => (answered = r));
  await rig.world.run(2_000);
  t.equal(answered, null, 'acks=all is not answered while follower 3 lacks the records (and is in the ISR)');
  t.equal(rig.partition(1, TOPIC).logEndOffset, 3, 'though the leader appended them');
  const quick = await rig.world.settle(rig.produce(1, TOPIC, ['d'], { acks: 1 }), { maxSteps: 50 });
  t.equal(quick.baseOffset, 3, 'acks=1 meanwhile answers at once');
  rig.world.network.heal(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => answered !== null), 'acks=all answers once follower 3 caught up');
  t.same(answered, { ...answered!, errorCode: Errors.NONE.code, baseOffset: 1 });
});

t.test('a follower that lags past replica.lag.time.max.ms leaves the ISR through AlterPartition, and joins again once caught up', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.lag.time.max.ms': 1_000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }));
  rig.world.network.partition(hostOf(1), hostOf(3));
  let answered: { errorCode: number; baseOffset: number } | null = null;
  void rig.produce(1, TOPIC, ['b'], { acks: -1 }).then((r) => (answered = r));
  await rig.world.run(900);
  t.equal(answered, null, 'within the lag limit, follower 3 is waited for');
  t.same(rig.image.topics.get(TOPIC)!.partitionStates[0]!.isr, [1, 2, 3], 'the ISR is whole within the limit');
  t.ok(await rig.until(() => rig.image.topics.get(TOPIC)!.partitionStates[0]!.isr.length === 2, 2_000), 'past the limit the ISR shrinks');
  const shrink = rig.alterRequests[0]!;
  t.same(shrink.topics[0]!.partitions[0], { partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] }, 'the leader asked for ISR [1,2] at partition epoch 0');
  t.equal(shrink.brokerId, 1);
  t.ok(await rig.until(() => answered !== null), 'acks=all then answers: every remaining ISR member has the records');
  t.equal(answered!.errorCode, Errors.NONE.code);
  t.same(rig.partition(1, TOPIC).isr, [1, 2], 'the leader took the committed ISR');

  rig.world.network.heal(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => rig.image.topics.get(TOPIC)!.partitionStates[0]!.isr.length === 3), 'once follower 3 reaches the HW it joins again');
  t.same(rig.alterRequests.at(-1)!.topics[0]!.partitions[0], { partition: 0, leaderEpoch: 0, partitionEpoch: 1, newIsr: [1, 2, 3] });
  t.same(rig.partition(1, TOPIC).isr, [1, 2, 3]);
  t.equal(rig.partition(1, TOPIC).partitionEpoch, 2);
  t.same(rig.isrChanges, ['1:shrink', '1:expand'], 'the leader reported one committed shrink and one expansion (runnel_isr_shrinks_total, _expands_total)');
});

t.test('acks=all is refused with NOT_ENOUGH_REPLICAS, nothing appended, while the ISR is below min.insync.replicas', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.lag.time.max.ms': 1_000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]], { 'min.insync.replicas': '3' });
  const first = await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }));
  t.equal(first.errorCode, Errors.NONE.code, 'with the full ISR acks=all works');
  rig.world.network.partition(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => rig.partition(1, TOPIC).isr.length === 2, 3_000), 'follower 3 leaves the ISR');
  const end = rig.partition(1, TOPIC).logEndOffset;
  const refused = await rig.world.settle(rig.produce(1, TOPIC, ['b'], { acks: -1 }));
  t.equal(refused.errorCode, Errors.NOT_ENOUGH_REPLICAS.code, 'acks=all: NOT_ENOUGH_REPLICAS');
  t.equal(rig.partition(1, TOPIC).logEndOffset, end, 'nothing was appended');
  const one = await rig.world.settle(rig.produce(1, TOPIC, ['c'], { acks: 1 }));
  t.equal(one.errorCode, Errors.NONE.code, 'acks=1 is not affected');
  t.equal(one.baseOffset, end);
});

t.test('acks=all waiting while the ISR shrinks below min.insync.replicas answers NOT_ENOUGH_REPLICAS_AFTER_APPEND (the records stay written)', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.lag.time.max.ms': 1_000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]], { 'min.insync.replicas': '3' });
  t.equal((await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }))).errorCode, Errors.NONE.code);
  rig.world.network.partition(hostOf(1), hostOf(3));
  let answered: { errorCode: number; errorMessage: string | null } | null = null;
  void rig.produce(1, TOPIC, ['b'], { acks: -1 }).then((r) => (answered = r));
  await rig.world.run(500);
  t.equal(answered, null, 'appended with the full ISR: waiting for follower 3');
  t.equal(rig.partition(1, TOPIC).logEndOffset, 2, 'the leader wrote it');
  t.ok(await rig.until(() => answered !== null, 3_000), 'answered once follower 3 left the ISR (the HW then covers the batch)');
  t.same(rig.partition(1, TOPIC).isr, [1, 2]);
  t.equal(answered!.errorCode, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND, not success: only 2 of the 3 required replicas have it');
  t.match(answered!.errorMessage, /shrank to \[1,2\], fewer than min.insync.replicas 3/);
  t.equal(rig.partition(1, TOPIC).highWatermark, 2, 'the records are committed on the smaller ISR (readable), as in Kafka');
  const next = await rig.world.settle(rig.produce(1, TOPIC, ['c'], { acks: -1 }));
  t.equal(next.errorCode, Errors.NOT_ENOUGH_REPLICAS.code, 'a new acks=all produce is refused before the append');
});

t.test('KIP-101: a deposed leader\'s unreplicated tail is truncated by leader epoch when it returns as a follower', async (t) => {
  const rig = await ReplicationRig.create([1, 2]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b'], { acks: -1 }));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).highWatermark === 2), 'offsets 0-1 (epoch 0) are on both, HW 2');

  // Broker 1 is cut off and writes offsets 2-3 at epoch 0 that never replicate.
  rig.world.network.partition(hostOf(1), hostOf(2));
  await rig.world.settle(rig.produce(1, TOPIC, ['x'], { acks: 1 }));
  await rig.world.settle(rig.produce(1, TOPIC, ['y'], { acks: 1 }));
  t.same(await shape(rig, 1), [[1, 0], [2, 0], [3, 0]], 'broker 1: offsets 0-3, all epoch 0');

  // Broker 2 is elected (epoch 1) and writes offsets 2-4; broker 1 follows it but cannot reach it yet.
  await rig.elect(TOPIC, 0, 2, [2]);
  t.equal(rig.partition(1, TOPIC).role, 'follower');
  const written = await rig.world.settle(rig.produce(2, TOPIC, ['p', 'q', 'r'], { acks: -1 }));
  t.equal(written.baseOffset, 2, 'the new leader writes from offset 2');
  t.same(await shape(rig, 2), [[1, 0], [4, 1]], 'broker 2: offsets 0-1 at epoch 0, 2-4 at epoch 1');

  rig.world.network.heal(hostOf(1), hostOf(2));
  t.ok(await rig.until(() => rig.partition(1, TOPIC).logEndOffset === 5 && rig.partition(1, TOPIC).highWatermark === 5), 'broker 1 converges to offset 5');
  t.same(await shape(rig, 1), [[1, 0], [4, 1]], 'its epoch-0 records at 2-3 are gone; it holds the new leader\'s 2-4');
  t.same(await bytesOf(rig, 1), await bytesOf(rig, 2), 'byte for byte the new leader\'s log');
  t.same(rig.log(1, TOPIC).epochEntries(), [{ epoch: 0, startOffset: 0 }, { epoch: 1, startOffset: 2 }], 'and its epochs');
});

t.test('KIP-279: a follower holding an epoch the new leader never had truncates to where the leader\'s older epoch ends', async (t) => {
  const rig = await ReplicationRig.create([1, 2]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b'], { acks: -1 }));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 2), 'offsets 0-1 at epoch 0 on both');

  rig.world.network.partition(hostOf(1), hostOf(2));
  // Broker 2 leads at epoch 1 and writes 2-3, which broker 1 never gets.
  await rig.elect(TOPIC, 0, 2, [2]);
  await rig.world.settle(rig.produce(2, TOPIC, ['m', 'n'], { acks: 1 }));
  // Broker 1 leads again at epoch 2 (broker 2 "failed") and writes offset 2.
  await rig.elect(TOPIC, 0, 1, [1]);
  await rig.world.settle(rig.produce(1, TOPIC, ['z'], { acks: 1 }));
  t.same(await shape(rig, 1), [[1, 0], [2, 2]], 'broker 1: 0-1 at epoch 0, 2 at epoch 2');
  t.same(await shape(rig, 2), [[1, 0], [3, 1]], 'broker 2: 0-1 at epoch 0, 2-3 at epoch 1');

  rig.world.network.heal(hostOf(1), hostOf(2));
  // Broker 2 asks about epoch 1; broker 1 never had it: epoch 0 ends at 2 there, so broker 2 truncates to 2.
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 3 && rig.partition(2, TOPIC).highWatermark === 3), 'broker 2 converges to offset 3');
  t.same(await shape(rig, 2), [[1, 0], [2, 2]], 'its epoch-1 records are gone');
  t.same(await bytesOf(rig, 2), await bytesOf(rig, 1), 'byte for byte the leader\'s log');
  t.same(rig.log(2, TOPIC).epochEntries(), [{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 2 }]);
});

t.test('OffsetForLeaderEpoch answers Kafka\'s way, and an epoch newer than the leader\'s with UNKNOWN_LEADER_EPOCH', async (t) => {
  const rig = await ReplicationRig.create([1, 2]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b'], { acks: -1 }));
  await rig.elect(TOPIC, 0, 1, [1, 2]);
  await rig.world.settle(rig.produce(1, TOPIC, ['c'], { acks: -1 }));
  const ask = (leaderEpoch: number, currentLeaderEpoch = -1) =>
    rig.world.settle(rig.connection(1).request('OffsetForLeaderEpoch', { replicaId: -1, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] })).then((r) => r.topics[0]!.partitions[0]!);
  t.match(await ask(0), { errorCode: 0, leaderEpoch: 0, endOffset: 2 }, 'epoch 0 ends where epoch 1 starts');
  t.match(await ask(1), { errorCode: 0, leaderEpoch: 1, endOffset: 3 }, 'the latest epoch ends at the log end');
  t.match(await ask(2), { errorCode: Errors.UNKNOWN_LEADER_EPOCH.code, leaderEpoch: -1, endOffset: -1 }, 'an epoch newer than the leader\'s: UNKNOWN_LEADER_EPOCH');
  t.match(await ask(1, 0), { errorCode: Errors.FENCED_LEADER_EPOCH.code }, 'an older current epoch is fenced');
  const follower = await rig.world.settle(rig.connection(2).request('OffsetForLeaderEpoch', { replicaId: -1, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] }));
  t.equal(follower.topics[0]!.partitions[0]!.errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code, 'a follower does not answer');
});

t.test('a leader that loses its leadership fails the acks=all produces still waiting, with NOT_LEADER_OR_FOLLOWER', async (t) => {
  const rig = await ReplicationRig.create([1, 2]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]]);
  rig.world.network.partition(hostOf(1), hostOf(2));
  let answered: { errorCode: number } | null = null;
  void rig.produce(1, TOPIC, ['a'], { acks: -1 }).then((r) => (answered = r));
  await rig.world.run(500);
  t.equal(answered, null, 'waiting for follower 2');
  await rig.elect(TOPIC, 0, 2, [2], { to: [1] });
  t.ok(await rig.until(() => answered !== null, 100), 'answered as soon as broker 1 follows');
  t.equal(answered!.errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code);
});

t.test('a replica fetch is refused from a broker outside the assignment and from a stale broker epoch', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]]);
  const fetch = (replicaId: number, replicaEpoch: number) =>
    rig.world.settle(rig.connection(1).request('Fetch', { replicaId, replicaEpoch, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] })).then((r) => r.topics[0]!.partitions[0]!);
  t.equal((await fetch(3, rig.image.brokers.get(3)!.epoch)).errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code, 'broker 3 holds no replica');
  t.equal((await fetch(2, rig.image.brokers.get(2)!.epoch - 1)).errorCode, Errors.STALE_BROKER_EPOCH.code, 'an epoch older than broker 2\'s registration');
  t.equal((await fetch(2, rig.image.brokers.get(2)!.epoch)).errorCode, Errors.NONE.code, 'broker 2 at its epoch fetches');
  t.equal(rig.partition(1, TOPIC).leadership!.follower(2)!.logEndOffset, 0, 'and its position is recorded');
});

t.test('a follower whose end is below the leader\'s log start (retention ran there) starts over at the leader\'s start', async (t) => {
  const rig = await ReplicationRig.create([1, 2]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]], { 'segment.bytes': '1024', 'retention.bytes': '1024' });
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b'], { acks: -1 }));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 2));
  rig.world.network.partition(hostOf(1), hostOf(2));
  await rig.elect(TOPIC, 0, 1, [1]);
  for (let i = 0; i < 20; i++) await rig.world.settle(rig.produce(1, TOPIC, ['v'.repeat(300)], { acks: -1 }));
  const leaderLog = rig.log(1, TOPIC);
  await rig.world.settle(leaderLog.applyRetention(rig.partition(1, TOPIC).highWatermark));
  const start = leaderLog.logStartOffset;
  t.ok(start > 2, `retention moved the leader's log start past the follower's end (to ${start})`);
  rig.world.network.heal(hostOf(1), hostOf(2));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 22), 'the follower catches up to 22');
  t.equal(rig.log(2, TOPIC).logStartOffset, start, 'its log restarted at the leader\'s start');
  t.same(await bytesOf(rig, 2), await bytesOf(rig, 1), 'and holds what the leader holds');
});

t.test('while an ISR expansion is pending, the joining follower already holds back the high watermark (the maximal ISR)', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.lag.time.max.ms': 1_000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.elect(TOPIC, 0, 1, [1, 2]);
  const leader = rig.partition(1, TOPIC);
  let release = (): void => undefined;
  rig.alterGate = new Promise((resolve) => (release = resolve));
  await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }));
  t.ok(await rig.until(() => leader.leadership?.pendingIsr !== null), 'follower 3 reached the HW: the leader asked to add it');
  t.same(leader.leadership!.pendingIsr, [1, 2, 3]);
  t.same(leader.isr, [1, 2], 'not committed yet');
  rig.world.network.partition(hostOf(1), hostOf(3));
  await rig.world.settle(rig.produce(1, TOPIC, ['b'], { acks: 1 }));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 2), 'follower 2 has offset 1');
  await rig.world.run(200);
  t.equal(leader.highWatermark, 1, 'the HW waits for follower 3, which is joining, though the committed ISR is [1,2]');
  release();
  rig.alterGate = null;
  t.ok(await rig.until(() => leader.isr.length === 3), 'the expansion commits');
  rig.world.network.heal(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => leader.highWatermark === 2), 'and the HW moves once follower 3 has offset 1');
});
