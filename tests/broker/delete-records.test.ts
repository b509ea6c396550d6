/**
 * DeleteRecords (21) on a three-replica partition: the leader moves its log
 * start, durably, deletes the segments wholly below it, and answers only
 * once every in-sync follower has moved its start too; reads below the
 * start fail, ListOffsets earliest says it, a restarted replica keeps it.
 * The refusals: past the high watermark, internal topics, a follower asked,
 * and a follower that cannot follow in time (REQUEST_TIMED_OUT, the
 * leader's start in lowWatermark).
 */
import t, { type Test } from 'tap';
import { Errors } from '../../protocol/errors.js';
import type { DeleteRecordsResponse } from '../../protocol/messages.js';
import { hostOf, ReplicationRig } from '../support/replication-rig.js';

const TOPIC = 'dlq';

async function setup(t: Test, settings: Record<string, string | number> = {}): Promise<ReplicationRig> {
  const rig = await ReplicationRig.create([1, 2, 3], { settings });
  t.teardown(() => rig.close());
  // Small segments: ten one-record batches of ~600 bytes spread over several.
  await rig.createTopic(TOPIC, [[1, 2, 3]], { 'segment.bytes': '1500' });
  for (let i = 0; i < 10; i++) t.equal((await rig.world.settle(rig.produce(1, TOPIC, [`r${i}-${'x'.repeat(500)}`], { acks: -1 }))).errorCode, Errors.NONE.code);
  t.ok(await rig.until(() => [1, 2, 3].every((id) => rig.partition(id, TOPIC).highWatermark === 10)), 'every replica has the ten records committed');
  return rig;
}

function deleteRecords(rig: ReplicationRig, node: number, topic: string, offset: number, timeoutMs = 10_000): Promise<DeleteRecordsResponse['topics'][number]['partitions'][number]> {
  return rig.connection(node).request('DeleteRecords', { timeoutMs, topics: [{ name: topic, partitions: [{ partition: 0, offset }] }] }).then((r) => r.topics[0]!.partitions[0]!);
}

t.test('the leader moves its start, deletes whole segments below it, and answers once the ISR followers moved theirs', async (t) => {
  const rig = await setup(t);
  const segmentsBefore = rig.log(1, TOPIC).segmentCount;
  t.ok(segmentsBefore >= 4, `several segments (${segmentsBefore})`);
  let answer: Awaited<ReturnType<typeof deleteRecords>> | null = null;
  const followerStartsAtAnswer: number[] = [];
  void deleteRecords(rig, 1, TOPIC, 7).then((a) => {
    answer = a;
    followerStartsAtAnswer.push(rig.partition(2, TOPIC).logStartOffset, rig.partition(3, TOPIC).logStartOffset);
  });
  t.ok(await rig.until(() => answer !== null, 5_000), 'answered');
  t.same(answer, { partition: 0, lowWatermark: 7, errorCode: Errors.NONE.code, errorMessage: null });
  t.same(followerStartsAtAnswer, [7, 7], 'when the answer left, both followers already started at 7');
  for (const id of [1, 2, 3]) {
    t.equal(rig.partition(id, TOPIC).logStartOffset, 7, `replica ${id} starts at 7`);
    t.ok(rig.log(id, TOPIC).segmentBaseOffsets()[0]! <= 7 && rig.log(id, TOPIC).segmentBaseOffsets()[1]! > 7, `replica ${id} deleted every segment wholly below 7 (${rig.log(id, TOPIC).segmentBaseOffsets().join(',')})`);
  }

  const conn = rig.connection(1);
  const fetchAt = (offset: number) => rig.world.settle(conn.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }] }));
  t.equal((await fetchAt(6)).topics[0]!.partitions[0]!.errorCode, Errors.OFFSET_OUT_OF_RANGE.code, 'a read below the start is out of range');
  const from7 = (await fetchAt(7)).topics[0]!.partitions[0]!;
  t.equal(from7.errorCode, Errors.NONE.code);
  t.equal(from7.logStartOffset, 7, 'fetch answers carry the new start');
  const earliest = await rig.world.settle(conn.request('ListOffsets', { replicaId: -1, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, timestamp: -2 }] }] }));
  t.equal(earliest.topics[0]!.partitions[0]!.offset, 7, 'ListOffsets earliest is the new start');

  t.same(await rig.world.settle(deleteRecords(rig, 1, TOPIC, 3)), { partition: 0, lowWatermark: 7, errorCode: Errors.NONE.code, errorMessage: null }, 'an offset below the start changes nothing');

  // Durable: a restarted follower and a restarted leader still start at 7.
  await rig.stop(3);
  await rig.restart(3);
  t.equal(rig.partition(3, TOPIC).logStartOffset, 7, 'a restarted replica keeps the start');
  await rig.stop(1);
  await rig.restart(1);
  t.equal(rig.log(1, TOPIC).logStartOffset, 7, 'so does the restarted leader');
});

t.test('-1 deletes everything committed; past the high watermark, internal topics and followers are refused', async (t) => {
  const rig = await setup(t);
  const past = await rig.world.settle(deleteRecords(rig, 1, TOPIC, 11));
  t.equal(past.errorCode, Errors.OFFSET_OUT_OF_RANGE.code, 'past the high watermark');
  t.match(past.errorMessage, /high watermark 10/);
  t.equal(past.lowWatermark, -1);
  t.equal((await rig.world.settle(deleteRecords(rig, 1, TOPIC, -2))).errorCode, Errors.OFFSET_OUT_OF_RANGE.code, 'below -1');
  t.equal((await rig.world.settle(deleteRecords(rig, 2, TOPIC, 5))).errorCode, Errors.NOT_LEADER_OR_FOLLOWER.code, 'a follower does not take it');
  const internal = await rig.world.settle(deleteRecords(rig, 1, '__consumer_offsets', 1));
  t.equal(internal.errorCode, Errors.POLICY_VIOLATION.code, 'internal topics are refused');
  const all = await rig.world.settle(deleteRecords(rig, 1, TOPIC, -1));
  t.same(all, { partition: 0, lowWatermark: 10, errorCode: Errors.NONE.code, errorMessage: null }, '-1: up to the high watermark');
  t.ok(await rig.until(() => [2, 3].every((id) => rig.partition(id, TOPIC).logStartOffset === 10)), 'the followers start at 10 too');
  t.equal((await rig.world.settle(rig.produce(1, TOPIC, ['after'], { acks: -1 }))).baseOffset, 10, 'the log goes on at 10');
});

t.test('a follower that cannot follow in time: REQUEST_TIMED_OUT with the leader\'s new start; it follows once back', async (t) => {
  const rig = await setup(t, { 'replica.lag.time.max.ms': 30_000 });
  rig.world.network.partition(hostOf(1), hostOf(3));
  const answer = await rig.world.settle(deleteRecords(rig, 1, TOPIC, 4, 1_000));
  t.equal(answer.errorCode, Errors.REQUEST_TIMED_OUT.code);
  t.equal(answer.lowWatermark, 4, 'the leader moved');
  t.equal(rig.partition(3, TOPIC).logStartOffset, 0, 'the cut-off follower did not');
  rig.world.network.heal(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => rig.partition(3, TOPIC).logStartOffset === 4, 10_000), 'back in touch, it follows');
  t.same(await rig.world.settle(deleteRecords(rig, 1, TOPIC, 4)), { partition: 0, lowWatermark: 4, errorCode: Errors.NONE.code, errorMessage: null }, 'asked again: confirmed');
});
