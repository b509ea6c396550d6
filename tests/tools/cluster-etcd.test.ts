/**
 * `runnel cluster up --etcd` with real processes on loopback: an etcd server
 * (node 0, data under the cluster directory) and brokers that elect their
 * controller in it; status marks the elected broker, a broker stopped with
 * SIGTERM hands the controller over (its lease revoked: at once), topics
 * can be created throughout, and down stops etcd too.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runnel } from './run-cli.js';
import { clusterCli, clusterDir, freePortRun, pidAlive } from './cluster-support.js';

interface EtcdStatus {
  id: number;
  address: string;
  pid: number | null;
  state: string;
  role: string;
  controller: boolean;
}

t.test('up --etcd: etcd and candidate brokers; status names the elected one; TERM hands over; down stops etcd too', async (t) => {
  const dir = clusterDir(t);
  const base = await freePortRun(4);
  const upped = await clusterCli(['up', '--etcd', '--brokers', '2', '--data', dir, '--base-port', String(base)]);
  t.equal(upped.code, 0, `up exits 0 ${upped.stderr}`);
  t.match(upped.stdout, `started etcd on 127.0.0.1:${base}`);
  t.ok(existsSync(join(dir, 'etcd', 'data', 'member')), 'etcd keeps its data under the cluster directory');

  const status = async (): Promise<EtcdStatus[]> => {
    const r = await clusterCli(['status', '--data', dir, '--json']);
    t.equal(r.code, 0, `status ${r.stderr}`);
    return (JSON.parse(r.stdout) as { brokers: EtcdStatus[] }).brokers;
  };
  let nodes = await status();
  t.same(nodes.map((n) => [n.id, n.role, n.state]), [[0, 'etcd', 'running'], [1, 'broker', 'running'], [2, 'broker', 'running']]);
  const elected = nodes.filter((n) => n.controller);
  t.equal(elected.length, 1, 'exactly one broker is marked as the controller');
  const first = elected[0]!.id;
  t.match((await clusterCli(['status', '--data', dir])).stdout, new RegExp(`${first}\\s+broker \\(controller\\)`), 'the table says so too');

  const bootstrap = `127.0.0.1:${base + 1},127.0.0.1:${base + 2}`;
  const created = await runnel(['topic', 'create', 'one', '--replication-factor', '2', '-b', bootstrap]);
  t.equal(created.code, 0, `a topic is created ${created.stderr}`);

  const stopped = await clusterCli(['kill', '--broker', String(first), '--signal', 'TERM', '--data', dir]);
  t.equal(stopped.code, 0, `the controller broker stops cleanly ${stopped.stderr}`);
  const other = first === 1 ? 2 : 1;
  for (let i = 0; i < 40 && !(nodes = await status()).find((n) => n.id === other)!.controller; i++) await sleep(100);
  t.ok(nodes.find((n) => n.id === other)!.controller, `broker ${other} took over`);
  const again = await runnel(['topic', 'create', 'two', '-b', `127.0.0.1:${base + other}`]);
  t.equal(again.code, 0, `and topics are created on it ${again.stderr}`);

  const pids = nodes.filter((n) => n.pid !== null).map((n) => n.pid!);
  const down = await clusterCli(['down', '--data', dir]);
  t.equal(down.code, 0, `down ${down.stderr}`);
  t.match(down.stdout, /etcd \(pid \d+\): stopped/, 'down stops etcd');
  t.same(pids.filter(pidAlive), [], 'no process is left');
});
