/**
 * How much a follower's fetch asks for per partition (replica-fetcher.ts,
 * `followerPartitionMaxBytes`): an equal share of `replica.fetch.max.bytes`,
 * at least the per-partition floor. A follower of one partition copies a
 * backlog of several MiB in one fetch (with acks=all each extra round trip
 * is producer latency); followers of several partitions split the response,
 * so none takes another's share and the response stays within the limit.
 * Either way the follower ends with the leader's exact bytes.
 */
import t, { type Test } from 'tap';
import { followerPartitionMaxBytes } from '../../broker/replication/replica-fetcher.js';
import type { Partition } from '../../broker/partition.js';
import { Errors } from '../../protocol/errors.js';
import { allBatches } from '../support/follower-sync.js';
import { hostOf, ReplicationRig } from '../support/replication-rig.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const TOPIC = 'bulk';
/** 4 MiB per fetch: the per-partition floor is then 1 MiB (max of 1 MiB and a tenth). */
const SETTINGS = { 'replica.fetch.max.bytes': 4 * MiB };

/** Records the size of every append the follower makes from its fetches. */
function appendSizes(partition: Partition): number[] {
  const sizes: number[] = [];
  const original = partition.appendAsFollower.bind(partition);
  partition.appendAsFollower = (records) => {
    sizes.push(records.byteLength);
    return original(records);
  };
  return sizes;
}

async function hexBatches(rig: ReplicationRig, id: number, index: number): Promise<string[]> {
  return (await allBatches(rig.log(id, TOPIC, index))).map((batch) => Buffer.from(batch).toString('hex'));
}

/** Record values of 200 KiB: a batch of four stays under the topic's 1 MiB max.message.bytes. */
const VALUE_BYTES = 200 * KiB;

/** `batches` batches of `valuesPerBatch` 200 KiB values to partition `index` of the leader (node 1), acks=1. */
async function backlog(t: Test, rig: ReplicationRig, index: number, batches: number, valuesPerBatch: number): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const values = Array.from({ length: valuesPerBatch }, (_, v) => String.fromCharCode(97 + ((b + v) % 26)).repeat(VALUE_BYTES));
    const result = await rig.world.settle(rig.produce(1, TOPIC, values, { index }));
    t.equal(result.errorCode, Errors.NONE.code, `batch ${b} of partition ${index} appended on the leader`);
  }
}

t.test('the share: all of maxBytes for one partition, an equal part for several, never below the floor', async (t) => {
  t.equal(followerPartitionMaxBytes(10 * MiB, MiB, 1), 10 * MiB);
  t.equal(followerPartitionMaxBytes(10 * MiB, MiB, 4), Math.floor(10 * MiB / 4));
  t.equal(followerPartitionMaxBytes(10 * MiB, MiB, 50), MiB, 'many partitions: the floor');
  t.equal(followerPartitionMaxBytes(10 * MiB, MiB, 0), 10 * MiB, 'no partition: no division by zero');
});

t.test('a follower of one partition copies a 3 MiB backlog in one fetch, byte for byte', async (t) => {
  const rig = await ReplicationRig.create([1, 2], { settings: SETTINGS });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2]]);
  rig.world.network.partition(hostOf(1), hostOf(2));
  await backlog(t, rig, 0, 4, 4); // four batches of 800 KiB and a little: one a fetch with the 1 MiB floor
  const sizes = appendSizes(rig.partition(2, TOPIC));
  rig.world.network.heal(hostOf(1), hostOf(2));
  const leaderEnd = rig.partition(1, TOPIC).logEndOffset;
  t.ok(await rig.until(() => rig.partition(2, TOPIC).logEndOffset === leaderEnd, 10_000), 'the follower catches up');
  t.equal(sizes.length, 1, `one fetch carried the whole backlog (appends of ${sizes.join(', ')} bytes)`);
  t.ok(sizes[0]! > 3 * MiB, 'all four batches in it');
  t.same(await hexBatches(rig, 2, 0), await hexBatches(rig, 1, 0), 'the follower has the leader\'s exact bytes');
});

t.test('followers of two partitions share one fetch: each takes at most half of replica.fetch.max.bytes', async (t) => {
  const rig = await ReplicationRig.create([1, 2], { settings: SETTINGS });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2], [1, 2]]);
  rig.world.network.partition(hostOf(1), hostOf(2));
  // Six batches of 400 KiB and a little per partition: five fit in a 2 MiB share, two in the 1 MiB floor.
  for (const index of [0, 1]) await backlog(t, rig, index, 6, 2);
  const sizes = [appendSizes(rig.partition(2, TOPIC, 0)), appendSizes(rig.partition(2, TOPIC, 1))];
  rig.world.network.heal(hostOf(1), hostOf(2));
  const ends = [0, 1].map((index) => rig.partition(1, TOPIC, index).logEndOffset);
  t.ok(await rig.until(() => [0, 1].every((index) => rig.partition(2, TOPIC, index).logEndOffset === ends[index]), 10_000), 'both partitions catch up');
  for (const index of [0, 1]) {
    t.ok(sizes[index]!.every((bytes) => bytes <= 2 * MiB), `partition ${index}: every fetch within its 2 MiB share (${sizes[index]!.join(', ')})`);
    t.equal(sizes[index]!.length, 2, `partition ${index}: five batches, then the last one, not two a fetch`);
    t.same(await hexBatches(rig, 2, index), await hexBatches(rig, 1, index), `partition ${index}: the leader's exact bytes`);
  }
});
