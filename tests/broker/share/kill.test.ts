/**
 * A share group survives a SIGKILL of its broker process mid-flight: every
 * acquisition and settlement that was answered is in the rebuilt state
 * (locks with their holders, delivery counts, accepted records), because
 * each was replicated to `__consumer_offsets` before its answer left.
 */
import t from 'tap';
import { startBrokerProcess } from '../../support/broker-process.js';
import { RawClient } from '../../support/raw-client.js';
import { ack, acknowledge, acquired, join, produce, settled, shareFetch } from '../../support/share-wire.js';

const TOPIC = 'tasks';

t.test('a share group after its broker is killed', async (t) => {
  let broker = await startBrokerProcess();
  t.teardown(() => broker.stop());
  let client = await RawClient.connect(broker.host, broker.port);
  await client.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  await produce(client, TOPIC, Array.from({ length: 40 }, (_, i) => `v${i}`));
  await settled(async () => (await client.request('FindCoordinator', { keyType: 0, keys: ['k'] })).coordinators[0]!);
  const a = await settled(() => join(client, 'k', 'A', [TOPIC], { visibilityTimeoutMs: 120_000 }));
  const b = await join(client, 'k', 'B', [TOPIC]);
  const A = { groupId: 'k', memberId: 'A', memberEpoch: a.memberEpoch };
  const B = { groupId: 'k', memberId: 'B', memberEpoch: b.memberEpoch };
  // Many small writes, the last ones moments before the kill.
  const heldByA: number[] = [];
  for (let round = 0; round < 10; round++) {
    const got = acquired(await shareFetch(client, A, TOPIC, { maxRecords: 3 })).map((r) => r.offset);
    await acknowledge(client, A, TOPIC, [ack(got[0]!, got[0]!, 'ACCEPT'), ack(got[1]!, got[1]!, 'RELEASE')]);
    heldByA.push(got[2]!);
  }
  const heldByB = acquired(await shareFetch(client, B, TOPIC, { maxRecords: 100 }));
  t.ok(heldByB.every((r) => !heldByA.includes(r.offset)));
  t.ok(heldByB.some((r) => r.deliveryCount >= 2), 'B got released records again, with their counts');
  const before = (await client.request('ShareGroupDescribe', { groupIds: ['k'] })).groups[0]!;
  t.match(before.partitions[0], { accepted: 10, acquired: heldByA.length + heldByB.length });

  client.close();
  await broker.kill('SIGKILL');
  broker = await startBrokerProcess({ dataDir: broker.dataDir });
  client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  await settled(async () => (await client.request('FindCoordinator', { keyType: 0, keys: ['k'] })).coordinators[0]!);
  const after = await settled(async () => (await client.request('ShareGroupDescribe', { groupIds: ['k'] })).groups[0]!);
  t.same(after.partitions, before.partitions, 'every answered acquisition and settlement survived');
  t.same(after.members.map((m) => [m.memberId, m.acquiredRecords]), [['A', heldByA.length], ['B', heldByB.length]], 'with their holders');
  t.same(acquired(await shareFetch(client, A, TOPIC, { maxRecords: 100 })), [], 'nothing is free: every record is still locked to its holder');
  const again = heldByB.find((r) => r.deliveryCount >= 2)!;
  t.same((await acknowledge(client, B, TOPIC, [ack(again.offset, again.offset, 'RELEASE')])).topics[0]!.partitions[0]!.failedAcknowledgements, []);
  t.same(acquired(await shareFetch(client, B, TOPIC, { maxRecords: 100 })).map((r) => [r.offset, r.deliveryCount]), [[again.offset, again.deliveryCount + 1]], 'its delivery count went on from where it was');
  const settleB = await acknowledge(client, B, TOPIC, heldByB.map((r) => ack(r.offset, r.offset, 'ACCEPT')));
  t.same(settleB.topics[0]!.partitions[0]!.failedAcknowledgements, [], 'B still holds its records');
  const settleA = await acknowledge(client, A, TOPIC, heldByA.map((o) => ack(o, o, 'ACCEPT')));
  t.same(settleA.topics[0]!.partitions[0]!.failedAcknowledgements, [], 'and A its');
  t.match((await client.request('ShareGroupDescribe', { groupIds: ['k'] })).groups[0]!.partitions[0], { startOffset: 40, accepted: 40, inFlight: 0 });
});
