/**
 * min.insync.replicas after the append (Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND):
 * an acks=all produce taken while the ISR was large enough, whose records
 * then become committed only because the ISR shrank below
 * min.insync.replicas, is not acknowledged: fewer replicas than the topic
 * demands hold them. Found by the cluster fault test (a leader cut off from
 * its followers acknowledged what only it held, at the ISR shrink).
 */
import t from 'tap';
import { Errors } from '../../protocol/errors.js';
import { hostOf, ReplicationRig } from '../support/replication-rig.js';

const TOPIC = 'orders';

t.test('acks=all waiting when the ISR shrinks below min.insync.replicas gets NOT_ENOUGH_REPLICAS_AFTER_APPEND, not an acknowledgement', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { settings: { 'replica.lag.time.max.ms': 1_000 } });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]], { 'min.insync.replicas': '2' });
  const first = await rig.world.settle(rig.produce(1, TOPIC, ['a'], { acks: -1 }));
  t.equal(first.errorCode, Errors.NONE.code, 'with the full ISR acks=all works');

  // Both followers cut off from the leader: the next record waits for them, then the ISR shrinks to the leader alone.
  rig.world.network.partition(hostOf(1), hostOf(2));
  rig.world.network.partition(hostOf(1), hostOf(3));
  let answered: { errorCode: number; baseOffset: number } | null = null;
  void rig.produce(1, TOPIC, ['b'], { acks: -1, timeoutMs: 30_000 }).then((r) => (answered = r));
  t.ok(await rig.until(() => rig.partition(1, TOPIC).isr.length === 1, 5_000), 'the ISR shrinks to the leader alone');
  t.ok(await rig.until(() => answered !== null, 5_000), 'the waiting produce is answered');
  t.equal(answered!.errorCode, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code, 'not acknowledged: only the leader holds the record, fewer than min.insync.replicas');
  t.equal(rig.partition(1, TOPIC).highWatermark, 2, 'the record is committed as far as the shrunk ISR goes (a retry may write it twice)');

  const refused = await rig.world.settle(rig.produce(1, TOPIC, ['c'], { acks: -1 }));
  t.equal(refused.errorCode, Errors.NOT_ENOUGH_REPLICAS.code, 'a new acks=all produce is refused before the append');

  rig.world.network.heal(hostOf(1), hostOf(2));
  t.ok(await rig.until(() => rig.partition(1, TOPIC).isr.length === 2, 10_000), 'follower 2 catches up and joins again');
  const after = await rig.world.settle(rig.produce(1, TOPIC, ['d'], { acks: -1 }));
  t.equal(after.errorCode, Errors.NONE.code, 'with two in sync again, acks=all is acknowledged');
});
