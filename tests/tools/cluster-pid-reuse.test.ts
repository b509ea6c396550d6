/**
 * A recorded pid that now belongs to another process is never signalled.
 * The state file is edited to point a node at an unrelated live process (a
 * `sleep` this test spawned), once with only the start time matching and
 * once with only the command line matching, so each half of the identity
 * check is proven on its own; `kill`, `down`, `start` and `status` all leave
 * that process alone.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { RecordedProcess } from '../../tools/cluster/cluster-state.js';
import { stopProcess, signalIfOurs } from '../../tools/cluster/node-process.js';
import { liveness, ourProcess, snapshot } from '../../tools/cluster/process-identity.js';
import { clusterCli, clusterDir, freePortRun, pidAlive, readClusterState, statusJson, writeClusterState } from './cluster-support.js';

/** An unrelated process to stand in for whatever got the pid: killed at teardown. */
async function bystander(t: Test): Promise<{ child: ChildProcess; real: RecordedProcess }> {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await once(child, 'spawn');
  const now = snapshot(child.pid!)!;
  return { child, real: { pid: child.pid!, startTime: now.startTime, cmdline: now.cmdline } };
}

t.test('identity: a pid is ours only with both the start time and the command line recorded at launch', async (t) => {
  const { child, real } = await bystander(t);
  t.ok(ourProcess(real) !== null, 'positive control: the process as recorded is recognised');
  t.equal(liveness(real), 'running');
  const otherCmdline = { ...real, cmdline: [process.execPath, '/somewhere/dist/tools/cli.js', 'start'] };
  const otherStart = { ...real, startTime: String(Number(real.startTime) - 1) };
  for (const [what, recorded] of [['command line', otherCmdline], ['start time', otherStart]] as const) {
    t.equal(ourProcess(recorded), null, `another ${what}: not ours`);
    t.equal(liveness(recorded), 'dead', `another ${what}: reported dead`);
    t.equal(signalIfOurs(recorded, 'SIGTERM'), false, `another ${what}: no signal sent`);
    t.equal(await stopProcess(recorded, 100), 'not-running', `another ${what}: stop leaves it alone`);
  }
  t.ok(pidAlive(child.pid!), 'the bystander is alive');
});

t.test('kill, down, start and status never touch a process that reused a recorded pid', async (t) => {
  const dir = clusterDir(t);
  const base = await freePortRun(2);
  const upped = await clusterCli(['up', '--brokers', '1', '--data', dir, '--base-port', String(base)]);
  t.equal(upped.code, 0, `up exits 0 ${upped.stderr}`);
  const original = readClusterState(dir);
  const broker = original.nodes[1]!.process!;
  const { child, real } = await bystander(t);

  const impostors: [string, RecordedProcess][] = [
    ['the start time matches, the command line does not', { pid: real.pid, startTime: real.startTime, cmdline: broker.cmdline }],
    ['the command line matches, the start time does not', { pid: real.pid, startTime: broker.startTime, cmdline: real.cmdline }],
  ];
  for (const [what, recorded] of impostors) {
    const edited = readClusterState(dir);
    edited.nodes[1]!.process = recorded;
    writeClusterState(dir, edited);

    t.equal((await statusJson(t, dir))[1]!.state, 'dead', `${what}: status says dead`);
    const killed = await clusterCli(['kill', '--broker', '1', '--signal', 'KILL', '--data', dir]);
    t.equal(killed.code, 1, `${what}: kill refuses`);
    t.match(killed.stderr, `pid ${real.pid} has exited or is now another process, which is left alone`);
    t.ok(pidAlive(real.pid), `${what}: the bystander survived kill`);
    // start launches a new broker-1 (its port is held by the real one, so it fails and is cleaned up); the bystander is not touched.
    const started = await clusterCli(['start', '--broker', '1', '--data', dir, '--timeout-ms', '20000']);
    t.equal(started.code, 1, `${what}: start fails, the port being held by the real broker`);
    t.ok(pidAlive(real.pid), `${what}: the bystander survived start`);
    t.equal(child.exitCode, null, `${what}: the bystander has not exited`);
  }

  // down with the impostor in the state: the bystander lives; the controller is stopped.
  const edited = readClusterState(dir);
  edited.nodes[1]!.process = impostors[0]![1];
  writeClusterState(dir, edited);
  const downed = await clusterCli(['down', '--data', dir]);
  t.equal(downed.code, 0, `down exits 0 ${downed.stderr}`);
  t.match(downed.stdout, 'broker-1: was not running');
  t.ok(pidAlive(real.pid), 'the bystander survived down');
  t.notOk(pidAlive(original.nodes[0]!.process!.pid), 'the controller was stopped');

  // The real broker, left running by the edit: put it back in the state, and down stops it.
  t.ok(pidAlive(broker.pid), 'the real broker (hidden by the edit) still runs');
  const restored = readClusterState(dir);
  restored.nodes[1]!.process = broker;
  writeClusterState(dir, restored);
  t.equal((await clusterCli(['down', '--data', dir])).code, 0);
  t.notOk(pidAlive(broker.pid), 'down stops it once the state names it truly');
});
