/**
 * Client quotas across a cluster: `runnel controller` and two `runnel
 * broker`s. Quotas live in the controller's metadata; a broker answers
 * AlterClientQuotas by forwarding it to the controller, and enforces what
 * reaches its own copy of the metadata. So:
 * - a quota set through broker 1 shows in broker 2's DescribeClientQuotas
 *   (each asked directly, no SDK routing in between), and a producer over
 *   it is throttled by both brokers, each leading one partition;
 * - removed through broker 2, it is gone from broker 1's answer, and the
 *   same producer then sends well past the old rate with no throttle from
 *   either broker.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runnel } from '../../client/index.js';
import type { DescribeClientQuotasResponse } from '../../protocol/messages.js';
import { freshDataDir } from '../support/broker-process.js';
import { startProcessCluster } from '../support/process-cluster.js';
import { RawClient } from '../support/raw-client.js';

const RATE = 64 * 1024;
const VALUE = Buffer.alloc(32 * 1024, 9);
const entity = [{ entityType: 'client-id', entityName: 'capped' }];

/** DescribeClientQuotas, asked of one broker, for the client id 'capped': its rates by key. */
async function quotasOn(raw: RawClient): Promise<Record<string, number>> {
  const res: DescribeClientQuotasResponse = await raw.request('DescribeClientQuotas', { components: [{ entityType: 'client-id', matchType: 0, match: 'capped' }], strict: true });
  if (res.errorCode !== 0) throw new Error(`DescribeClientQuotas: ${res.errorMessage ?? res.errorCode}`);
  return Object.fromEntries((res.entries ?? []).flatMap((e) => e.values.map((v) => [v.key, v.value])));
}

/** Polls a broker's DescribeClientQuotas until `ok` holds (bounded: 15 s). */
async function until(raw: RawClient, ok: (quotas: Record<string, number>) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (ok(await quotasOn(raw))) return;
    await sleep(100);
  }
  throw new Error(`${what} within 15 s`);
}

t.test('a quota set through one broker is enforced by every broker; removed through another, it ends everywhere', async (t) => {
  const cluster = await startProcessCluster(t, { dir: freshDataDir('runnel-quota-cluster-'), brokers: 2 });
  const [b1, b2] = await Promise.all([1, 2].map((id) => RawClient.connect('127.0.0.1', cluster.ports.get(id)!)));
  t.teardown(() => {
    b1!.close();
    b2!.close();
  });
  const bootstrap = [...cluster.ports.values()].map((port) => `127.0.0.1:${port}`);
  const admin = new Runnel({ bootstrap, clientId: 'quota-admin' });
  t.teardown(() => admin.close());
  for (let i = 0; (await admin.admin().describeCluster()).brokers.length < 2; i++) {
    if (i >= 150) throw new Error('two brokers did not register within 15 s');
    await sleep(100);
  }
  await admin.admin().createTopic({ name: 'metered', partitions: 2, replicationFactor: 1 });
  const leaders = (await admin.admin().describeTopic('metered')).partitions.map((p) => p.leader).sort();
  t.same(leaders, [1, 2], 'each broker leads one partition');

  const set = await b1!.request('AlterClientQuotas', { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: RATE, remove: false }] }], validateOnly: false });
  t.equal(set.entries[0]!.errorCode, 0, 'broker 1 forwarded the change and the controller took it');
  await until(b2!, (q) => q['producer_byte_rate'] === RATE, 'the quota set through broker 1 did not reach broker 2');
  t.pass('broker 2 describes the quota set through broker 1');

  /** Sends `count` records of 32 KiB to each partition from a fresh client 'capped'; the throttled responses per broker. */
  const produce = async (count: number): Promise<Map<number, number>> => {
    const runnel = new Runnel({ bootstrap, clientId: 'capped', requestTimeoutMs: 30_000 });
    try {
      const producer = runnel.producer({ lingerMs: 0 });
      for (let i = 0; i < count; i++) {
        await Promise.all([0, 1].map((partition) => producer.send({ topic: 'metered', messages: [{ partition, value: VALUE }] })));
      }
      const throttled = new Map(producer.brokerStats().map((b) => [b.nodeId ?? -1, b.throttledResponses]));
      await producer.close();
      return throttled;
    } finally {
      await runnel.close();
    }
  };
  // 6 x 32 KiB to each broker is three seconds of the rate: past the one-second burst on both.
  const capped = await produce(6);
  t.ok((capped.get(1) ?? 0) > 0, `broker 1 throttled the capped producer (${capped.get(1) ?? 0} responses)`);
  t.ok((capped.get(2) ?? 0) > 0, `broker 2 throttled the capped producer (${capped.get(2) ?? 0} responses)`);

  const removed = await b2!.request('AlterClientQuotas', { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }], validateOnly: false });
  t.equal(removed.entries[0]!.errorCode, 0, 'broker 2 forwarded the removal');
  await until(b1!, (q) => Object.keys(q).length === 0, 'the removal through broker 2 did not reach broker 1');
  t.pass('broker 1 no longer describes the quota');
  // Twelve seconds of the old rate to each broker, at once: none of it throttled.
  const free = await produce(24);
  t.same([free.get(1) ?? 0, free.get(2) ?? 0], [0, 0], 'with the quota removed, neither broker throttles');
});
