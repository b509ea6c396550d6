/**
 * The network-namespace lab on this machine: a TCP server in one namespace, a
 * client in another (and one in the test's own namespace). Cut: a connect
 * attempt times out (no refusal, no "unreachable") and an established
 * connection stalls; heal: the stalled data goes through and new connections
 * work. A cut from one party leaves the others connected. Stale labs of dead
 * runs are removed; a live lab is not. Namespaces unusable = a failure that
 * says why, never a skip.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { builtFixture } from '../support/built-fixture.js';
import { CLIENT, cleanStaleLabs, createNetLab, netnsUnavailableReason } from '../support/netns.js';
import { JsonLines } from './json-lines.js';
import { inRepo } from '../support/repo-root.js';

const PROBE = inRepo('tests', 'faults', 'fixtures', 'tcp-probe.mjs');
const PORT = 7000;
const WAIT_MS = 20_000;

interface ProbeResult { op?: string; event?: string; id?: number; ok?: boolean; error?: string; ms?: number }

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** Connects from this (root) namespace; 'ok' or the failure ('timeout' past timeoutMs). */
function connectFromHere(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

t.test('namespaces: cut and heal between two namespaces and the test', async (t) => {
  const reason = await netnsUnavailableReason();
  if (reason !== undefined) {
    t.fail(`network namespaces are not usable here, so the fault tests cannot run: ${reason}`);
    return;
  }
  const lab = await createNetLab({ nodes: ['a', 'b', 'c'] });
  t.teardown(() => lab.destroy());
  const a = lab.node('a');

  const server = lab.spawn('a', process.execPath, [PROBE, 'server', a.address, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new JsonLines(server.stdout!).next<ProbeResult>((l) => l.event === 'listening', WAIT_MS, 'server start-up line');
  const client = lab.spawn('b', process.execPath, [PROBE, 'client'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = new JsonLines(client.stdout!);
  const send = (cmd: object): void => void client.stdin!.write(JSON.stringify(cmd) + '\n');
  const connect = async (timeoutMs: number): Promise<ProbeResult> => {
    send({ op: 'connect', host: a.address, port: PORT, timeoutMs });
    return out.next<ProbeResult>((l) => l.op === 'connect', timeoutMs + WAIT_MS, 'connect result');
  };
  const ping = async (id: number, timeoutMs: number): Promise<ProbeResult> => {
    send({ op: 'ping', id, timeoutMs });
    return out.next<ProbeResult>((l) => l.op === 'ping' && l.id === id, timeoutMs + WAIT_MS, `ping ${id} result`);
  };

  t.match(await connect(5000), { ok: true }, 'b connects to a');
  t.match(await ping(1, 5000), { ok: true }, 'and a answers');
  t.equal(await connectFromHere(a.address, PORT, 5000), 'ok', 'the test process reaches a too');
  t.not(lab.node('b').namespace, a.namespace, 'a and b are separate namespaces');

  await lab.isolate('a');
  t.same(lab.cuts(), [{ node: 'a', from: [CLIENT, 'b', 'c'] }], 'a is cut off from everyone');
  t.match(await ping(2, 1500), { ok: false }, 'cut: the established connection stalls (no echo)');
  const cutConnect = await connect(2500);
  t.match(cutConnect, { ok: false, error: 'timeout' }, 'cut: a new connection attempt times out (silence, not a refusal)');
  t.equal(await connectFromHere(a.address, PORT, 2500), 'timeout', 'cut: from the test process too');

  await lab.heal('a');
  t.same(lab.cuts(), [], 'healed');
  t.ok(await out.next<ProbeResult>((l) => l.event === 'echo' && l.id === 2, WAIT_MS, 'the stalled echo after healing'), 'healed: the stalled data goes through on the same connection');
  t.match(await ping(3, 5000), { ok: true }, 'healed: the old connection works');
  t.match(await connect(5000), { ok: true }, 'healed: new connections work');

  await lab.isolate('a', { from: ['b'] });
  t.match(await connect(2500), { ok: false, error: 'timeout' }, 'a cut from b only: b cannot connect');
  t.equal(await connectFromHere(a.address, PORT, 5000), 'ok', 'a cut from b only: the test process still can');
  await lab.heal();
  t.match(await connect(5000), { ok: true }, 'healed again');

  client.stdin!.end();
  const owned = lab.nodes.map((n) => n.namespace);
  await lab.destroy();
  const left = namespaces();
  t.same(owned.filter((n) => left.includes(n)), [], 'destroy deletes every namespace of the lab');
  const rootVeth = `rnl77x${lab.clientAddress.split('.')[2]!}:`;
  t.notOk(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(rootVeth), 'and its link in the root namespace');
  if (server.exitCode === null && server.signalCode === null) {
    await Promise.race([new Promise((resolve) => server.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
  }
  t.equal(server.exitCode ?? server.signalCode, 'SIGKILL', 'and ends the processes it ran');
});

t.test('stale labs of dead runs are removed, live ones kept', async (t) => {
  const reason = await netnsUnavailableReason();
  if (reason !== undefined) {
    t.fail(`network namespaces are not usable here: ${reason}`);
    return;
  }
  const live = await createNetLab({ nodes: ['x'] });
  t.teardown(() => live.destroy());
  // A process that has exited: its pid names no live process (or one started later, another start time).
  const dead = spawn('true');
  await new Promise((resolve) => dead.once('exit', resolve));
  const stale = `rnl-${dead.pid}-1-0-hub`;
  execFileSync('ip', ['netns', 'add', stale]);
  const sleeper = spawn('ip', ['netns', 'exec', stale, 'sleep', '600'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const removed = await cleanStaleLabs();
  t.same(removed, [stale], 'the dead run\'s namespace is removed');
  t.notOk(namespaces().includes(stale), 'it is gone');
  t.ok(namespaces().includes(live.node('x').namespace), 'the live lab is kept');
  if (sleeper.exitCode === null && sleeper.signalCode === null) {
    await Promise.race([new Promise((resolve) => sleeper.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
  }
  t.equal(sleeper.signalCode, 'SIGKILL', 'the process left inside it was ended');
});

t.test('a lab goes with its process when a signal ends it (a timed-out test)', async (t) => {
  const reason = await netnsUnavailableReason();
  if (reason !== undefined) {
    t.fail(`network namespaces are not usable here: ${reason}`);
    return;
  }
  const fixture = builtFixture('tests/faults/fixtures/lab-owner.ts');
  const owner = spawn(process.execPath, [fixture.path], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void owner.kill('SIGKILL'));
  const ready = await new JsonLines(owner.stdout!).next<{ namespaces: string[]; pid: number }>((l) => Array.isArray(l.namespaces), WAIT_MS, 'the lab owner\'s ready line');
  const prefix = `rnl-${owner.pid}-`;
  t.ok(namespaces().filter((n) => n.startsWith(prefix)).length >= 2, 'its node and hub namespaces exist');
  owner.kill('SIGTERM');
  await Promise.race([new Promise((resolve) => owner.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
  t.equal(owner.signalCode, 'SIGTERM', 'it still dies of the signal');
  t.same(namespaces().filter((n) => n.startsWith(prefix)), [], 'its namespaces are gone');
  // Gone, or a zombie its dead parent left for init to reap: either way it runs no more.
  let state = 'gone';
  try {
    const stat = readFileSync(`/proc/${ready.pid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    // gone
  }
  t.ok(state === 'gone' || state === 'Z', `and the process it ran inside is ended (state ${state})`);
});
