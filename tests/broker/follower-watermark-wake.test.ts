/**
 * When a follower's waiting fetch is answered for a new high watermark
 * alone (broker/handlers/fetch.ts, FOLLOWER_WATERMARK_WAKE_MS): under a
 * stream of appends the new high watermark rides with the next records, so
 * followers get (almost) no empty responses; once appends stop, every
 * follower still learns the final high watermark within a few ms, long
 * before its fetch's replica.fetch.wait.max.ms would answer it.
 */
import t from 'tap';
import { FOLLOWER_WATERMARK_WAKE_MS } from '../../broker/handlers/fetch.js';
import type { Partition } from '../../broker/partition.js';
import { Errors } from '../../protocol/errors.js';
import { ReplicationRig } from '../support/replication-rig.js';

const TOPIC = 'stream';
/** The rig's fetch wait, far above the wake: a follower told nothing would learn only after it. */
const FETCH_WAIT_MS = 500;
const PRODUCES = 40;

/** Counts a follower's fetch responses: those with records (appends) and all of them (each tells the high watermark). */
function responses(partition: Partition): { withRecords: number; all: number } {
  const counts = { withRecords: 0, all: 0 };
  const append = partition.appendAsFollower.bind(partition);
  const learn = partition.updateLeaderHighWatermark.bind(partition);
  partition.appendAsFollower = (records) => {
    counts.withRecords += 1;
    return append(records);
  };
  partition.updateLeaderHighWatermark = (highWatermark) => {
    counts.all += 1;
    learn(highWatermark);
  };
  return counts;
}

t.test('under a stream of appends a follower gets the new high watermark with the next records, not in empty responses', async (t) => {
  // No network delay: each append is copied and its high watermark moves within the millisecond it is sent.
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.fetch.wait.max.ms': FETCH_WAIT_MS }, maxDelayMs: 0 });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]]);
  t.equal((await rig.world.settle(rig.produce(1, TOPIC, ['first']))).errorCode, Errors.NONE.code);
  const leader = rig.partition(1, TOPIC);
  t.ok(await rig.until(() => [2, 3].every((id) => rig.partition(id, TOPIC).highWatermark === 1)), 'both followers start level with the leader');

  const counted = [2, 3].map((id) => responses(rig.partition(id, TOPIC)));
  // One append a millisecond: the followers copy each at once, and the high watermark moves each time.
  for (let i = 0; i < PRODUCES; i++) {
    const sent = rig.produce(1, TOPIC, [`v${i}`]);
    await rig.world.run(1);
    t.equal((await rig.world.settle(sent)).errorCode, Errors.NONE.code);
  }
  t.ok(await rig.until(() => leader.highWatermark === PRODUCES + 1, 50), 'the leader\'s high watermark covers the stream');
  const streamed = counted.map((c) => ({ ...c }));
  for (const [i, c] of streamed.entries()) {
    t.ok(c.withRecords >= PRODUCES / 2, `follower ${i + 2} fetched the stream (${c.withRecords} responses with records)`);
    // Immediate wakes would answer about one empty response per append; with the wake's wait the next records carry it.
    t.equal(c.all - c.withRecords, 0, `follower ${i + 2}: no empty responses for ${PRODUCES} appends`);
  }

  // Appends have stopped: the last high watermark reaches every follower within the wake's wait, not the fetch's.
  t.ok(await rig.until(() => [2, 3].every((id) => rig.partition(id, TOPIC).highWatermark === PRODUCES + 1), FOLLOWER_WATERMARK_WAKE_MS + 10), 'every follower learns the final high watermark within a few ms');
});
