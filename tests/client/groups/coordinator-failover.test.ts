/**
 * A group member through the loss of its coordinator's broker, on real
 * processes (controller + 3 brokers, everything replicated 3 times): the
 * broker leading the group's `__consumer_offsets` partition is killed under
 * load; the member finds the new coordinator, which rebuilt the group from
 * the log, and carries on with its offsets: every record processed, and a
 * new member after a clean stop finds nothing left to read. Bounded waits.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runnel } from '../../../client/index.js';
import { FAST_CLUSTER, startProcessCluster } from '../../support/process-cluster.js';
import { newMemberReads, silent, until } from './support.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('the coordinator\'s broker is killed: the member carries on with its offsets', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-group-failover-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // One __consumer_offsets partition, so its leader is the coordinator of every group.
  const cluster = await startProcessCluster(t, { dir, brokers: 3, flags: [...FAST_CLUSTER, '--set', 'offsets.topic.num.partitions=1', '--set', 'group.consumer.heartbeat.interval.ms=200'] });
  const bootstrap = [1, 2, 3].map((id) => `127.0.0.1:${cluster.ports.get(id)}`);
  const runnel = new Runnel({ bootstrap, logger: silent, requestTimeoutMs: 5000, retry: { initialBackoffMs: 50, maxBackoffMs: 500 } });
  t.teardown(() => runnel.close());
  const admin = runnel.admin();
  await admin.createTopic({ name: 'ft', partitions: 3, replicationFactor: 3 });
  const producer = runnel.producer({ lingerMs: 2 });
  const processed = new Map<string, number>();
  const member = runnel.consumer({ groupId: 'fo', maxWaitMs: 100, autoCommitIntervalMs: 200 });
  member.subscribe({ topics: ['ft'], fromBeginning: true });
  const running = member.run({ eachMessage: (m) => void processed.set(m.value!.toString(), (processed.get(m.value!.toString()) ?? 0) + 1) });
  const sent: string[] = [];
  const send = async (from: number, count: number): Promise<void> => {
    for (let i = from; i < from + count; i += 20) {
      const messages = Array.from({ length: 20 }, (_, k) => ({ value: `r${i + k}` }));
      await producer.send({ topic: 'ft', messages });
      sent.push(...messages.map((m) => m.value));
      await sleep(10);
    }
  };
  await send(0, 300);
  await until('the first records processed', () => sent.every((id) => processed.has(id)), 30_000);
  await sleep(500);
  const offsetsTopic = await admin.describeTopic('__consumer_offsets');
  const coordinator = offsetsTopic.partitions[0]!.leader;
  t.ok(coordinator >= 1 && coordinator <= 3, `the coordinator is broker ${coordinator}`);
  const victim = cluster.brokers.get(coordinator)!;
  victim.child.kill('SIGKILL');
  await victim.exited;
  await send(300, 300);
  await until('every record processed after the failover', () => sent.every((id) => processed.has(id)), 60_000);
  t.equal(member.assignment().length, 3, 'the member still owns every partition');
  const twice = [...processed].filter(([, n]) => n > 1).length;
  // Only what was finished after the last commit before the kill may come again (the member was never fenced, so nothing at all is expected).
  t.ok(twice <= 20, `${twice} records processed twice`);
  await member.close();
  await running;

  const next = await newMemberReads(runnel, 'fo', 'ft', 3);
  t.equal(next.records, 0, 'the committed offsets survived the failover: nothing to read again');
});
