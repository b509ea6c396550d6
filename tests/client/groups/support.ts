/** Shared set-up of the consumer-group SDK tests: a fake cluster with a fake coordinator, records, bounded waits. */
import type { Test } from 'tap';
import { Runnel, type ConsumerOptions, type Message } from '../../../client/index.js';
import { FakeCluster } from '../fake-cluster.js';
import { FakeCoordinator } from './fake-coordinator.js';

export const silent = { debug() {}, info() {}, warn() {}, error() {} };
export const fastRetry = { initialBackoffMs: 10, maxBackoffMs: 50 };

/** Resolves once `cond()` holds, checking every 10 ms; rejects after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface GroupWorld {
  cluster: FakeCluster;
  coordinator: FakeCoordinator;
  runnel: Runnel;
  /** Appends `count` records ("<topic>-<partition>-<i>") to each partition of `topic`. */
  produce(topic: string, count: number): Promise<void>;
  consumer(opts?: ConsumerOptions): ReturnType<Runnel['consumer']>;
}

export async function groupWorld(t: Test, topics: Record<string, number>): Promise<GroupWorld> {
  const spec = Object.fromEntries(Object.entries(topics).map(([name, partitions]) => [name, { partitions, replicas: [1] }]));
  const cluster = await FakeCluster.start(t, [1], spec);
  const coordinator = new FakeCoordinator(cluster, 1);
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0 });
  return {
    cluster,
    coordinator,
    runnel,
    async produce(topic, count) {
      const partitions = cluster.topics.get(topic)!.length;
      for (let p = 0; p < partitions; p++) {
        const base = cluster.logEnd(topic, p);
        await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `${topic}-${p}-${base + i}`, partition: p })) });
      }
    },
    consumer: (opts = {}) => runnel.consumer({ maxWaitMs: 50, ...(opts.groupId !== undefined ? { autoCommitIntervalMs: 200 } : {}), ...opts }),
  };
}

/** "topic-partition-offset" of each message. */
export const ids = (messages: readonly Message[]): string[] => messages.map((m) => `${m.topic}-${m.partition}-${m.offset}`);

/** Iterates `consumer` in the background into `into` until it is closed. */
export function consumeInto(consumer: AsyncIterable<Message>, into: Message[]): Promise<void> {
  return (async () => {
    for await (const m of consumer) into.push(m);
  })();
}

/**
 * A new member of `groupId` once the group is stopped: waits until it owns
 * all `partitions` of `topic` at their committed offsets, then a moment
 * more, and says how many records it was given (0 when everything was
 * committed) and its lag.
 */
export async function newMemberReads(runnel: Runnel, groupId: string, topic: string, partitions: number): Promise<{ records: number; lag: (number | null)[] }> {
  const member = runnel.consumer({ groupId, maxWaitMs: 100 });
  member.subscribe({ topics: [topic], fromBeginning: true });
  let records = 0;
  const running = member.run({ eachMessage: () => void records++ });
  await until('the new member at the committed offsets', () => member.assignment().length === partitions && member.assignment().every((p) => member.position(p.topic, p.partition) !== undefined), 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const lag = (await member.lag()).map((l) => l.lag);
  await member.close();
  await running;
  return { records, lag };
}
