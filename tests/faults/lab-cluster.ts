/**
 * A Runnel cluster in a network lab, for the cluster fault tests: one
 * `runnel controller` (node `ctl`) and `brokers` `runnel broker`s (nodes
 * b1..bN, node ids 1..N), each process in its own namespace, every broker
 * listening on (and advertising) its namespace's address. Cutting a node
 * off (`lab.isolate`) then separates it from the controller, the other
 * brokers and the test's producers at once, as a real partition would.
 *
 * `settings` go to every process as `--set` (the controller fences on
 * `broker.session.timeout.ms`; brokers heartbeat on
 * `broker.heartbeat.interval.ms`), so a test can shorten the timeouts.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runnel, RunnelError, type TopicDescription } from '../../client/index.js';
import { freshDataDir } from '../support/broker-process.js';
import { createNetLab, type NetLab } from '../support/netns.js';
import { RawClient } from '../support/raw-client.js';
import { LabBroker } from './lab-broker.js';

const CONTROLLER_PORT = 9093;
const BROKER_PORT = 9092;
const POLL_MS = 200;

export interface LabClusterOptions {
  brokers: number;
  /** Broker settings (`name=value`) for every process, controller included. */
  settings: Record<string, string>;
}

export interface LabCluster {
  readonly lab: NetLab;
  readonly controller: LabBroker;
  /** By node id: brokers[0] is node id 1 (lab node b1). */
  readonly brokers: readonly LabBroker[];
  readonly bootstrap: string[];
  /** The broker process of node id `id`. */
  broker(id: number): LabBroker;
  /** Lab node name of broker `id` (`b<id>`). */
  nodeOf(id: number): string;
  dataDirOf(id: number): string;
  /** Kills every process (SIGCONT first, so a stopped one can die) and destroys the lab. */
  destroy(): Promise<void>;
}

export async function startLabCluster(opts: LabClusterOptions): Promise<LabCluster> {
  const ids = Array.from({ length: opts.brokers }, (_, i) => i + 1);
  const lab = await createNetLab({ nodes: ['ctl', ...ids.map((id) => `b${id}`)] });
  const root = freshDataDir('runnel-cluster-faults-');
  const args = Object.entries(opts.settings).flatMap(([name, value]) => ['--set', `${name}=${value}`]);
  const controller = new LabBroker({
    lab, node: 'ctl', port: CONTROLLER_PORT, dataDir: join(root, 'controller'), args,
    command: (address, port, dataDir) => ['controller', '--node-id', '0', '--listen', `${address}:${port}`, '--data', dataDir],
  });
  const controllerAddress = `${controller.address}:${CONTROLLER_PORT}`;
  const brokers = ids.map((id) => new LabBroker({
    lab, node: `b${id}`, port: BROKER_PORT, dataDir: join(root, `b${id}`), args,
    command: (address, port, dataDir) => ['broker', '--node-id', String(id), '--listen', `${address}:${port}`, '--data', dataDir, '--controller', controllerAddress],
  }));
  const cluster: LabCluster = {
    lab,
    controller,
    brokers,
    bootstrap: brokers.map((b) => b.bootstrap),
    broker: (id) => {
      const found = brokers[id - 1];
      if (found === undefined) throw new Error(`no broker ${id} (ids 1..${brokers.length})`);
      return found;
    },
    nodeOf: (id) => `b${id}`,
    dataDirOf: (id) => join(root, `b${id}`),
    async destroy() {
      for (const p of [...brokers, controller]) {
        await p.kill('SIGCONT');
        await p.kill('SIGKILL');
      }
      await lab.destroy();
    },
  };
  try {
    await controller.start();
    await Promise.all(brokers.map((b) => b.start()));
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

/**
 * Creates the topic once every broker has registered: a creation with a
 * replication factor above the live brokers is refused, so it is retried
 * (bounded) until the controller knows them all.
 */
export async function createReplicatedTopic(bootstrap: string[], topic: { name: string; partitions: number; replicationFactor: number; config: Record<string, string> }, timeoutMs: number): Promise<void> {
  const admin = new Runnel({ bootstrap });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await admin.admin().createTopic(topic);
        return;
      } catch (error) {
        if (!(error instanceof RunnelError && error.errorName === 'INVALID_REPLICATION_FACTOR') || Date.now() > deadline) throw error;
        await sleep(POLL_MS);
      }
    }
  } finally {
    await admin.close();
  }
}

/**
 * Waits (bounded) until every partition has a leader and its ISR holds all
 * its replicas, as the brokers' Metadata says; returns that description.
 */
export function waitForFullIsr(admin: Runnel, topic: string, timeoutMs: number): Promise<TopicDescription> {
  return waitForTopic(admin, topic, (d) => d.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length), timeoutMs, 'the ISR of every partition to be whole');
}

/**
 * Waits (bounded) until the topic's description satisfies `ok`; returns it.
 * Throws with `what` and the last description seen when the time is up.
 */
export async function waitForTopic(admin: Runnel, topic: string, ok: (d: TopicDescription) => boolean, timeoutMs: number, what: string): Promise<TopicDescription> {
  const deadline = Date.now() + timeoutMs;
  let last: TopicDescription | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await admin.admin().describeTopic(topic);
      if (ok(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = last === undefined ? `no description (${String(lastError)})` : last.partitions.map((p) => `p${p.partition} leader ${p.leader} isr [${p.isr.join(',')}] of [${p.replicas.join(',')}] epoch ${p.leaderEpoch}`).join('; ');
      throw new Error(`waited ${timeoutMs} ms for ${what} of ${topic} in vain; last seen: ${seen}`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Waits (bounded) until every broker, asked directly, describes the topic
 * the same way (leader, leader epoch, ISR per partition), with every ISR
 * whole and every broker listed as live. A broker cut off from the
 * controller keeps answering from its last metadata (it may still call
 * itself leader, with a high watermark frozen when its followers left), so
 * one broker's word, or a client's metadata from it, can be stale; the
 * brokers' agreement is the cluster's settled view.
 */
export async function waitForAgreement(cluster: LabCluster, topic: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let views: string[] = [];
  for (;;) {
    views = await Promise.all(cluster.brokers.map(async (b) => {
      let client: RawClient | undefined;
      try {
        client = await RawClient.connect(b.address, BROKER_PORT, { localAddress: cluster.lab.clientAddress });
        const m = await client.request('Metadata', { topics: [topic], allowAutoTopicCreation: false, includeInternal: false }, 1);
        const parts = m.topics[0]?.partitions ?? [];
        const whole = parts.length > 0 && parts.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length);
        const live = m.brokers.map((n) => n.nodeId).sort().join(',');
        return `${whole ? 'whole' : 'not-whole'} brokers [${live}] ${parts.map((p) => `p${p.partition}:${p.leader}@${p.leaderEpoch}[${[...p.isr].sort().join(',')}]`).join(' ')}`;
      } catch (error) {
        return `unreachable (${String(error)})`;
      } finally {
        client?.close();
      }
    }));
    const all = cluster.brokers.map((_, i) => i + 1).join(',');
    if (views.every((v) => v === views[0]) && views[0]!.startsWith(`whole brokers [${all}]`)) return views[0]!;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for the brokers to agree on ${topic} in vain; they said:\n${views.join('\n')}`);
    await sleep(POLL_MS);
  }
}
