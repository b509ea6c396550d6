/**
 * The high watermark checkpoint (Kafka's replication-offset-checkpoint):
 * the file's format; the replica manager writes it periodically on the
 * Clock and at clean shutdown; and a restarted replica resumes at it, so a
 * leader whose ISR has not confirmed its tail does not show that tail to
 * consumers after a restart, and a follower restarted and then elected does
 * not either (tests/support/replication-rig.ts, three brokers in process).
 */
import t from 'tap';
import { checkpointKey, formatCheckpoint, HW_CHECKPOINT_FILE, parseCheckpoint } from '../../broker/replication/hw-checkpoint.js';
import { Errors } from '../../protocol/errors.js';
import { hostOf, ReplicationRig } from '../support/replication-rig.js';

const TOPIC = 'orders';

/** What a consumer (replicaId -1) reads from node `id` at `offset`: record count and the high watermark it is told. */
async function consume(rig: ReplicationRig, id: number, offset: number): Promise<{ errorCode: number; batches: number; highWatermark: number }> {
  const response = await rig.world.settle(rig.connection(id).request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }] }));
  const partition = response.topics[0]!.partitions[0]!;
  return { errorCode: partition.errorCode, batches: partition.records.length, highWatermark: partition.highWatermark };
}

async function checkpointOf(rig: ReplicationRig, id: number): Promise<Map<string, number>> {
  return parseCheckpoint(Buffer.from(await rig.disk(id).readFile(`/data/${HW_CHECKPOINT_FILE}`)).toString('utf8'));
}

t.test('the file format is Kafka\'s, and a malformed file is refused with the reason', async (t) => {
  const entries = new Map([[checkpointKey('b.topic', 3), 17], [checkpointKey('a', 0), 0]]);
  const text = formatCheckpoint(entries);
  t.equal(text, '0\n2\na 0 0\nb.topic 3 17\n');
  t.same([...parseCheckpoint(text)], [...entries].reverse());
  t.throws(() => parseCheckpoint('1\n0\n'), /unknown version/);
  t.throws(() => parseCheckpoint('0\n2\na 0 1\n'), /count line/);
  t.throws(() => parseCheckpoint('0\n1\na x 1\n'), /malformed entry/);
  t.throws(() => parseCheckpoint('0\n1\na 0 -4\n'), /malformed entry/);
});

t.test('the replica manager checkpoints every hosted partition\'s high watermark on its interval, and only the hosted ones', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.high.watermark.checkpoint.interval.ms': 1000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2], [2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b', 'c'], { acks: -1 }));
  await rig.world.run(1_100);
  t.same([...(await checkpointOf(rig, 1))], [[checkpointKey(TOPIC, 0), 3]], 'node 1 hosts partition 0 only: HW 3');
  t.same([...(await checkpointOf(rig, 2))], [[checkpointKey(TOPIC, 0), 3], [checkpointKey(TOPIC, 1), 0]], 'node 2 hosts both; its follower HW came from the leader');
  await rig.world.settle(rig.produce(1, TOPIC, ['d'], { acks: -1 }));
  t.equal((await checkpointOf(rig, 1)).get(checkpointKey(TOPIC, 0)), 3, 'not rewritten before the interval');
  await rig.world.run(1_100);
  t.equal((await checkpointOf(rig, 1)).get(checkpointKey(TOPIC, 0)), 4, 'rewritten on the next tick');
});

t.test('a leader restarted while its followers are away keeps its unconfirmed tail hidden until the ISR has it', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b'], { acks: -1 }));
  rig.world.network.partition(hostOf(1), hostOf(2));
  rig.world.network.partition(hostOf(1), hostOf(3));
  const quick = await rig.world.settle(rig.produce(1, TOPIC, ['c', 'd', 'e'], { acks: 1 }));
  t.equal(quick.errorCode, Errors.NONE.code, 'acks=1 answered after the leader\'s append');
  t.equal(rig.partition(1, TOPIC).highWatermark, 2, 'HW 2: no follower has c, d, e');

  await rig.stop(1);
  t.same([...(await checkpointOf(rig, 1))], [[checkpointKey(TOPIC, 0), 2]], 'the clean stop wrote HW 2 (no interval had passed)');
  await rig.restart(1);
  const leader = rig.partition(1, TOPIC);
  t.equal(leader.role, 'leader', 'node 1 leads again (same epoch, ISR 1,2,3)');
  t.equal(leader.logEndOffset, 5);
  t.equal(leader.highWatermark, 2, 'the restarted leader resumes at its checkpointed HW, not its log end');
  const hidden = await consume(rig, 1, 2);
  t.same([hidden.errorCode, hidden.batches, hidden.highWatermark], [0, 0, 2], 'a consumer reads nothing past offset 2');
  await rig.world.run(2_000);
  t.equal(leader.highWatermark, 2, 'still 2 while the ISR followers cannot fetch');

  rig.world.network.heal(hostOf(1), hostOf(2));
  rig.world.network.heal(hostOf(1), hostOf(3));
  t.ok(await rig.until(() => leader.highWatermark === 5), 'once the followers have c, d, e the HW reaches 5');
  t.equal((await consume(rig, 1, 2)).batches, 1, 'and the consumer reads them');
});

t.test('a follower restarted and then elected does not show records its ISR never confirmed', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3]);
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  await rig.world.settle(rig.produce(1, TOPIC, ['a', 'b'], { acks: -1 }));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).highWatermark === 2), 'follower 2 learned HW 2');
  rig.world.network.partition(hostOf(1), hostOf(3));
  await rig.world.settle(rig.produce(1, TOPIC, ['c', 'd', 'e'], { acks: 1 }));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === 5), 'follower 2 has c, d, e');
  await rig.world.run(1_000);
  t.equal(rig.partition(2, TOPIC).highWatermark, 2, 'but knows them uncommitted: HW 2 (3 lacks them)');

  await rig.stop(2);
  await rig.stop(1);
  await rig.restart(2);
  t.equal(rig.partition(2, TOPIC).highWatermark, 2, 'restarted follower 2 resumes at HW 2, not its log end 5');
  // Node 1 is gone; the controller elects 2 from the ISR; 3 cannot reach 2 yet.
  rig.world.network.partition(hostOf(2), hostOf(3));
  await rig.elect(TOPIC, 0, 2, [2, 3]);
  t.equal(rig.partition(2, TOPIC).role, 'leader');
  const consumed = await consume(rig, 2, 2);
  t.same([consumed.errorCode, consumed.batches, consumed.highWatermark], [0, 0, 2], 'the new leader shows nothing past 2 until 3 has it');
  rig.world.network.heal(hostOf(2), hostOf(3));
  t.ok(await rig.until(() => rig.partition(2, TOPIC).highWatermark === 5), 'then the HW moves to 5 with 3 caught up');
});
