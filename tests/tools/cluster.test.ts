/**
 * `runnel cluster` with real processes on loopback: up waits until every
 * node listens and records it; status tells running, stopped (SIGSTOP) and
 * dead apart; kill drills STOP/CONT/KILL; start brings a killed broker back
 * on its own port and data; down leaves no process behind (every pid ever
 * seen is checked); and up that fails stops what it started and shows the
 * failing node's log.
 */
import t from 'tap';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { snapshot } from '../../tools/cluster/process-identity.js';
import { withStateLock } from '../../tools/cluster/state-lock.js';
import { runnel } from './run-cli.js';
import { clusterCli, clusterDir, freePortRun, pidAlive, readClusterState, statusJson } from './cluster-support.js';

async function accepts(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  const socket = connect(Number(port), host);
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

t.test('up, status, kill STOP/CONT/KILL, start, down: every pid accounted for', async (t) => {
  const dir = clusterDir(t);
  const base = await freePortRun(3);
  const upped = await clusterCli(['up', '--brokers', '2', '--data', dir, '--base-port', String(base)]);
  t.equal(upped.code, 0, `up exits 0 ${upped.stderr}`);
  t.match(upped.stdout, `bootstrap: 127.0.0.1:${base + 1},127.0.0.1:${base + 2}`, 'up prints the brokers to bootstrap from');

  let nodes = await statusJson(t, dir);
  t.same(nodes.map((n) => [n.id, n.address, n.state, n.controller]), [
    [0, `127.0.0.1:${base}`, 'running', true],
    [1, `127.0.0.1:${base + 1}`, 'running', false],
    [2, `127.0.0.1:${base + 2}`, 'running', false],
  ], 'status --json: the controller process (id 0) and two brokers, all running');
  const seen = new Set<number>();
  for (const n of nodes) {
    t.ok(n.pid !== null && pidAlive(n.pid), `node ${n.id}'s pid ${n.pid} is alive`);
    seen.add(n.pid!);
    t.ok(await accepts(n.address), `node ${n.id} accepts connections at ${n.address} once up has returned`);
  }
  const human = await clusterCli(['status', '--data', dir]);
  t.match(human.stdout, /ID\s+ROLE\s+ADDRESS\s+PID\s+STATE\n0\s+controller/, 'status without --json is a table');

  const again = await clusterCli(['up', '--brokers', '2', '--data', dir, '--base-port', String(base)]);
  t.equal(again.code, 1, 'a second up on a running cluster is refused');
  t.match(again.stderr, 'a cluster is already running from');

  // A topic created through broker 2, to find again after it is killed and started.
  const created = await runnel(['topic', 'create', 'drill', '-b', `127.0.0.1:${base + 2}`]);
  t.equal(created.code, 0, `topic created on broker 2 ${created.stderr}`);
  const described = await runnel(['topic', 'describe', 'drill', '--json', '-b', `127.0.0.1:${base + 2}`]);
  const partitions = (JSON.parse(described.stdout) as { partitions: { leader: number }[] }).partitions;
  // The controller places the one replica on either broker.
  const leader = partitions[0]?.leader ?? -1;
  t.ok(leader === 1 || leader === 2, `placed on a broker of the cluster (${leader})`);
  t.same(partitions, [{ partition: 0, leader, replicas: [leader], isr: [leader], leaderEpoch: 0, offlineReplicas: [] }], 'describe --json: leader, replicas, isr, epoch and offline replicas as broker 2 answers them');

  const broker2 = nodes[2]!.pid!;
  const stopped = await clusterCli(['kill', '--broker', '2', '--signal', 'STOP', '--data', dir]);
  t.equal(stopped.code, 0, `kill STOP exits 0 ${stopped.stderr}`);
  t.equal(snapshot(broker2)?.state, 'T', '/proc shows broker 2 stopped');
  t.equal((await statusJson(t, dir))[2]!.state, 'stopped', 'status: stopped');
  const startPaused = await clusterCli(['start', '--broker', '2', '--data', dir]);
  t.equal(startPaused.code, 1, 'start refuses a paused broker');
  t.match(startPaused.stderr, '--signal CONT', 'and says how to resume it');

  const resumed = await clusterCli(['kill', '--broker', '2', '--signal', 'CONT', '--data', dir]);
  t.equal(resumed.code, 0, `kill CONT exits 0 ${resumed.stderr}`);
  t.equal((await statusJson(t, dir))[2]!.state, 'running', 'status: running again');

  const killed = await clusterCli(['kill', '--broker', '2', '--signal', 'KILL', '--data', dir]);
  t.equal(killed.code, 0, `kill KILL exits 0 ${killed.stderr}`);
  t.notOk(pidAlive(broker2), 'broker 2 is gone when kill returns');
  nodes = await statusJson(t, dir);
  t.same([nodes[2]!.state, nodes[2]!.pid], ['dead', null], 'status: dead, no pid');
  const killDead = await clusterCli(['kill', '--broker', '2', '--data', dir]);
  t.equal(killDead.code, 1, 'kill of a dead broker fails');
  t.match(killDead.stderr, 'runnel cluster start --broker 2');

  const started = await clusterCli(['start', '--broker', '2', '--data', dir]);
  t.equal(started.code, 0, `start exits 0 ${started.stderr}`);
  nodes = await statusJson(t, dir);
  t.equal(nodes[2]!.state, 'running', 'broker 2 runs again');
  t.equal(nodes[2]!.address, `127.0.0.1:${base + 2}`, 'on its own port');
  t.not(nodes[2]!.pid, broker2, 'as a new process');
  seen.add(nodes[2]!.pid!);
  const listed = await runnel(['topic', 'list', '-b', `127.0.0.1:${base + 2}`]);
  t.equal(listed.stdout, 'drill\n', 'with its own data: the topic made before the kill is there');

  const startRunning = await clusterCli(['start', '--broker', '1', '--data', dir]);
  t.equal(startRunning.code, 0, 'start of a running broker is a no-op');
  t.match(startRunning.stdout, 'already running');
  t.equal((await statusJson(t, dir))[1]!.pid, nodes[1]!.pid, 'and leaves it as it was');

  // Down with broker 1 paused: it is resumed so it can act on SIGTERM.
  t.equal((await clusterCli(['kill', '--broker', '1', '--signal', 'STOP', '--data', dir])).code, 0);
  const downed = await clusterCli(['down', '--data', dir]);
  t.equal(downed.code, 0, `down exits 0 ${downed.stderr}`);
  t.match(downed.stdout, /broker-1 \(pid \d+\): stopped/, 'the paused broker stopped cleanly (SIGCONT, then SIGTERM)');
  for (const pid of seen) t.notOk(pidAlive(pid), `pid ${pid} is gone after down`);
  t.same((await statusJson(t, dir)).map((n) => n.state), ['dead', 'dead', 'dead'], 'status after down: all dead');
  t.same(readClusterState(dir).nodes.map((n) => n.process), [null, null, null], 'the state file forgets the processes');
  t.equal((await clusterCli(['down', '--data', dir])).code, 0, 'down again is harmless');
});

t.test('up that fails stops what it started and shows the log of the node that failed', async (t) => {
  const dir = clusterDir(t);
  const base = await freePortRun(3);
  // Broker 2's port is taken by someone else.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(base + 2, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));

  const r = await clusterCli(['up', '--brokers', '2', '--data', dir, '--base-port', String(base)]);
  t.equal(r.code, 1, 'up fails');
  t.match(r.stderr, `broker-2 (pid`, 'naming the node that failed');
  t.match(r.stderr, 'exited before it listened', 'and how');
  t.match(r.stderr, `127.0.0.1:${base + 2} is already in use`, 'with the tail of its log, which says why');
  t.equal(r.stdout, '', 'nothing on stdout');
  // Every node logs its pid; each of them must be gone.
  for (const node of ['controller', 'broker-1', 'broker-2']) {
    const pids = [...readFileSync(join(dir, node, 'broker.log'), 'utf8').matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]));
    t.ok(pids.length > 0, `${node} logged its pid`);
    for (const pid of new Set(pids)) t.notOk(pidAlive(pid), `${node}'s pid ${pid} is not left running`);
  }
  t.same((await statusJson(t, dir)).map((n) => n.state), ['dead', 'dead', 'dead'], 'status: nothing runs');
});

t.test('commands on a directory with no cluster say how to start one', async (t) => {
  const dir = clusterDir(t);
  for (const args of [['status'], ['down'], ['kill', '--broker', '1'], ['start', '--broker', '1']]) {
    const r = await clusterCli([...args, '--data', dir]);
    t.equal(r.code, 1, `${args[0]} exits 1`);
    t.match(r.stderr, `error: no cluster in ${dir} (no cluster.json); start one with \`runnel cluster up --brokers 3 --data ${dir}\``);
  }
});

t.test('drills at once: a command waits for the cluster lock, and concurrent starts keep each other\'s pids', async (t) => {
  const dir = clusterDir(t);
  const base = await freePortRun(3);
  t.equal((await clusterCli(['up', '--brokers', '2', '--data', dir, '--base-port', String(base)])).code, 0, 'up');
  for (const id of ['1', '2']) t.equal((await clusterCli(['kill', '--broker', id, '--data', dir])).code, 0, `broker ${id} killed`);

  // While this test holds the lock, `start` launches nothing.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const locked = new Promise<void>((resolve) => (holding = resolve));
  const holder = withStateLock(dir, async () => {
    holding();
    await held;
  });
  await locked;
  const waiting = clusterCli(['start', '--broker', '1', '--data', dir]);
  await sleep(3000);
  t.equal((await statusJson(t, dir))[1]!.state, 'dead', 'start has not launched broker 1 while another command holds the lock');
  release();
  await holder;
  const started = await waiting;
  t.equal(started.code, 0, `start finishes once the lock is free ${started.stderr}`);

  t.equal((await clusterCli(['kill', '--broker', '1', '--data', dir])).code, 0, 'broker 1 killed again');
  const both = await Promise.all([clusterCli(['start', '--broker', '1', '--data', dir]), clusterCli(['start', '--broker', '2', '--data', dir])]);
  t.same(both.map((r) => r.code), [0, 0], `two starts at once both succeed ${both.map((r) => r.stderr).join('')}`);
  const nodes = await statusJson(t, dir);
  t.same(nodes.map((n) => n.state), ['running', 'running', 'running'], 'and the state file records both new processes');
  const pids = nodes.map((n) => n.pid!);
  t.equal((await clusterCli(['down', '--data', dir])).code, 0, 'down');
  for (const pid of pids) t.notOk(pidAlive(pid), `pid ${pid} is gone after down`);
});
