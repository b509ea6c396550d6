/**
 * A cluster on etcd for tests, as real processes on loopback: one etcd
 * (tests/support/etcd.ts) and `runnel broker`s 1..N started with
 * `--controller etcd://...`, each a controller candidate, each with its own
 * data directory and port. Short leases and sessions so takeovers happen in
 * seconds; JSON logs to watch.
 *
 * `controller()` reads who leads from etcd itself (the oldest candidate key),
 * `activations(id)` counts the times node `id` logged that it became the
 * active controller, and `describe`/`until` poll a topic through a live broker.
 */
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { parseEtcdAddress } from '../../broker/metadata/etcd-address.js';
import { connectEtcd } from '../../broker/metadata/etcd-client.js';
import { decodeEntry, type MetadataEntry } from '../../broker/metadata/changes.js';
import { drainTopic } from '../faults/drain.js';
import { runnel, spawnCli, unusedPort, type Cli } from '../tools/run-cli.js';
import { startEtcd, type EtcdServer } from './etcd.js';
import { summarizeLedger, type Ledger } from './ledger.js';

export const LEASE_MS = 2000;
export const SESSION_MS = 6000;
export const PREFIX = '/runnel/test/';
/** The longest `until` polls: every state it waits for comes within a session timeout or two. */
const UNTIL_MS = 30_000;

export const ETCD_SETTINGS = [
  ['controller.lease.ms', LEASE_MS],
  ['controller.etcd.prefix', PREFIX],
  ['broker.session.timeout.ms', SESSION_MS],
  ['broker.session.disconnect.timeout.ms', 1500],
  ['broker.heartbeat.interval.ms', 300],
  ['logger.format', 'json'],
].flatMap(([name, value]) => ['--set', `${name}=${value}`]);

export interface Described {
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[]; leaderEpoch: number }[];
}

export interface EtcdCluster {
  etcd: EtcdServer;
  client: Etcd3;
  bootstrap: string[];
  brokers: Map<number, Cli>;
  start(id: number): Cli;
  /** The node etcd names as controller (its oldest candidate key), or -1. */
  controller(): Promise<number>;
  /** How many times node `id`'s current process logged that it became the active controller. */
  activations(id: number): number;
  /** Every metadata entry in etcd, in version order. */
  entries(): Promise<MetadataEntry[]>;
  describe(topic: string): Promise<Described>;
  until(topic: string, test: (d: Described) => boolean, what: string): Promise<Described>;
  /** Creates `topic` with 3 partitions on 3 replicas, min.insync.replicas=2, and waits for every ISR to be full. */
  createReplicated(topic: string): Promise<void>;
  alive(): number[];
}

export const fullIsr = (d: Described): boolean => d.partitions.every((p) => p.isr.length === 3);

/** Nodes' data (etcd's too) in a fresh directory, removed after the test. */
export async function startEtcdCluster(t: Test, opts: { brokers: number }): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-etcd-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const etcd = await startEtcd(t, { dir });
  const client = connectEtcd(parseEtcdAddress(etcd.url));
  t.teardown(() => client.close());
  const ports: number[] = [];
  for (let id = 1; id <= opts.brokers; id++) ports.push(await unusedPort());
  const bootstrap = ports.map((port) => `127.0.0.1:${port}`);
  const brokers = new Map<number, Cli>();
  const start = (id: number): Cli => {
    const cli = spawnCli(t, ['broker', '--node-id', String(id), '--listen', bootstrap[id - 1]!, '--data', join(dir, `b${id}`), '--controller', etcd.url, ...ETCD_SETTINGS]);
    brokers.set(id, cli);
    return cli;
  };
  for (let id = 1; id <= opts.brokers; id++) start(id);
  for (const b of brokers.values()) await b.printed(/"event":"listening"/);
  const alive = (): number[] => [...brokers.keys()].filter((id) => brokers.get(id)!.child.exitCode === null && brokers.get(id)!.child.signalCode === null);

  const describe = async (topic: string): Promise<Described> => {
    for (let attempt = 0; ; attempt++) {
      const via = alive()[attempt % alive().length] ?? 1;
      const out = await runnel(['topic', 'describe', topic, '--json', '-b', bootstrap[via - 1]!]);
      if (out.code === 0 || attempt >= 5) {
        t.equal(out.code, 0, `describe ${topic} ${out.stderr}`);
        return JSON.parse(out.stdout) as Described;
      }
    }
  };
  const until = async (topic: string, test: (d: Described) => boolean, what: string): Promise<Described> => {
    const deadline = Date.now() + UNTIL_MS;
    let d = await describe(topic);
    for (let i = 0; i < 160 && !test(d) && Date.now() < deadline; i++) {
      await sleep(250);
      d = await describe(topic);
    }
    t.ok(test(d), what);
    return d;
  };
  return {
    etcd,
    client,
    bootstrap,
    brokers,
    start,
    alive,
    async controller() {
      const first = (await client.getAll().prefix(`${PREFIX}election/`).sort('Create', 'Ascend').limit(1).exec()).kvs[0];
      return first === undefined ? -1 : (JSON.parse(first.value.toString()) as { nodeId: number }).nodeId;
    },
    activations: (id) => (brokers.get(id)!.stdout().match(/"event":"controllerActivated"/g) ?? []).length,
    async entries() {
      const kvs = (await client.getAll().prefix(`${PREFIX}log/`).sort('Key', 'Ascend').exec()).kvs;
      return kvs.map((kv) => decodeEntry(kv.value.subarray(1), kv.value[0]!));
    },
    describe,
    async createReplicated(topic) {
      const created = await runnel(['topic', 'create', topic, '--partitions', '3', '--replication-factor', '3', '--config', 'min.insync.replicas=2', '-b', bootstrap[0]!]);
      t.equal(created.code, 0, `topic ${topic} created ${created.stderr}`);
      await until(topic, fullIsr, 'every ISR is full at the start');
    },
    until,
  };
}

/** Polls `test` every 50 ms until it holds or `withinMs` passes; resolves with whether it held. */
export async function within(withinMs: number, test: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await sleep(50);
  }
  return test();
}

/** After the load: every acknowledged value read back at its offset, no send failed; then every broker stops cleanly. */
export async function checkAndStop(t: Test, cluster: EtcdCluster, ledger: Ledger, topic: string, minAcked: number): Promise<void> {
  const report = ledger.check(await drainTopic(cluster.bootstrap, topic, 60_000));
  t.comment(summarizeLedger(report));
  t.ok(report.ok, summarizeLedger(report));
  t.equal(report.lost.count, 0, 'no acknowledged value lost');
  t.equal(report.failed, 0, 'no send failed: producers waited out every outage');
  t.ok(report.acked >= minAcked, `load ran throughout (${report.acked} acknowledged)`);
  for (const b of cluster.brokers.values()) {
    b.child.kill('SIGTERM');
    t.equal((await b.exited).code, 0, 'clean shutdown');
  }
}
