/** Shared set-up of the queue SDK tests: a fake cluster with a fake share coordinator, records, bounded waits. */
import type { Test } from 'tap';
import { Runnel, type QueueOptions } from '../../../client/index.js';
import { FakeCluster } from '../fake-cluster.js';
import { FakeShareCoordinator } from './fake-share-coordinator.js';
import { fastRetry, silent } from '../groups/support.js';

export { fastRetry, silent, until } from '../groups/support.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface QueueWorld {
  cluster: FakeCluster;
  coordinator: FakeShareCoordinator;
  runnel: Runnel;
  /** Appends `count` records ("v<i>") to partition `partition` of `topic`. */
  produce(topic: string, count: number, partition?: number): Promise<void>;
  queue(opts?: Partial<QueueOptions>): ReturnType<Runnel['queue']>;
}

export async function queueWorld(t: Test, topics: Record<string, number> = { jobs: 1 }): Promise<QueueWorld> {
  const spec = Object.fromEntries(Object.entries(topics).map(([name, partitions]) => [name, { partitions, replicas: [1] }]));
  const cluster = await FakeCluster.start(t, [1], spec);
  const coordinator = new FakeShareCoordinator(cluster, 1);
  t.teardown(() => coordinator.stop());
  const runnel = new Runnel({ bootstrap: cluster.bootstrap, logger: silent, retry: fastRetry });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0 });
  return {
    cluster,
    coordinator,
    runnel,
    async produce(topic, count, partition = 0) {
      const base = cluster.logEnd(topic, partition);
      await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `v${base + i}`, partition })) });
    },
    queue: (opts = {}) => runnel.queue({ topic: 'jobs', group: 'workers', waitMs: 200, ...opts }),
  };
}
