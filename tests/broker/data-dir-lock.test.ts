/**
 * The data-directory lock is the kernel's: in process on the simulated and
 * the real disk, then with real processes. Several processes told to take
 * it at the same instant: exactly one wins, every round. A `.lock` naming
 * pid 1, a live process, or the unreaped zombie of a SIGKILLed broker
 * blocks nothing; a broker SIGKILLed and restarted at once starts; brokers
 * started together on one directory: one runs, the others say why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE } from '../../broker/data-dir-lock.js';
import { SimulatedFileSystem, realFileSystem } from '../../broker/world/file-system.js';
import { BROKER_MAIN, freshDataDir, startBrokerProcess } from '../support/broker-process.js';
import { repoRoot } from '../support/repo-root.js';


t.test('in process: one holder at a time; release and a crash free it; the file is only a note', async (t) => {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/data');
  await fs.fsyncDir('/');
  const first = await acquireDataDirLock(fs, '/data');
  await t.rejects(acquireDataDirLock(fs, '/data'), DataDirLockedError, 'a second holder is refused');
  t.equal(Buffer.from(await fs.readFile('/data/.lock')).toString().trim(), String(process.pid), 'the holder\'s pid is in the file');
  await first.release();
  const second = await acquireDataDirLock(fs, '/data');
  fs.crash();
  const afterCrash = await acquireDataDirLock(fs, '/data');
  t.pass('a crash (the holder\'s death) frees the lock');
  await second.release(); // its handle died in the crash: release must not throw
  await afterCrash.release();

  const dir = freshDataDir('runnel-lock-');
  writeFileSync(path.join(dir, LOCK_FILE), '1\n');
  const real = await acquireDataDirLock(realFileSystem, dir);
  t.pass('a .lock naming pid 1 (always alive) blocks nothing');
  const refused = await acquireDataDirLock(realFileSystem, dir).catch((error: unknown) => error);
  t.ok(refused instanceof DataDirLockedError, 'a second lock in the same process is refused (flock: per open file)');
  t.match((refused as Error).message, /another broker in this process/);
  await real.release();
  await (await acquireDataDirLock(realFileSystem, dir)).release();
});

/** A process that takes the lock when told "go" and reports; it holds it until killed. */
const CONTENDER = `
const { acquireDataDirLock } = await import(process.env.LOCK_MODULE);
const { realFileSystem } = await import(process.env.FS_MODULE);
process.stdin.once('data', async () => {
  try {
    await acquireDataDirLock(realFileSystem, process.env.LOCK_DIR);
    process.stdout.write('locked\\n');
  } catch (error) {
    process.stdout.write((error.name === 'DataDirLockedError' ? 'refused ' : 'error ') + error.message + '\\n');
  }
});
process.stdout.write('ready\\n');
`;

function lines(child: ChildProcess): AsyncIterator<string> {
  child.stdout!.setEncoding('utf8');
  const queue: string[] = [];
  const waiting: ((line: IteratorResult<string>) => void)[] = [];
  let pending = '';
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const waiter = waiting.shift();
      if (waiter === undefined) queue.push(line);
      else waiter({ value: line, done: false });
    }
  });
  child.once('exit', () => {
    for (const waiter of waiting.splice(0)) waiter({ value: undefined, done: true });
  });
  return {
    next: () => (queue.length > 0 ? Promise.resolve({ value: queue.shift() as string, done: false }) : new Promise((resolve) => waiting.push(resolve))),
  };
}

t.test('processes taking the lock at the same instant: exactly one wins, every round', async (t) => {
  const ROUNDS = 5;
  const CONTENDERS = 6;
  const dir = freshDataDir('runnel-lock-race-');
  const env = {
    ...process.env,
    LOCK_DIR: dir,
    LOCK_MODULE: pathToFileURL(path.join(repoRoot, 'dist', 'broker', 'data-dir-lock.js')).href,
    FS_MODULE: pathToFileURL(path.join(repoRoot, 'dist', 'broker', 'world', 'file-system.js')).href,
  };
  const live = new Set<ChildProcess>();
  t.teardown(() => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (let round = 0; round < ROUNDS; round++) {
    const children = Array.from({ length: CONTENDERS }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER], { env, stdio: ['pipe', 'pipe', 'inherit'] });
      live.add(child);
      return { child, out: lines(child), exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
    });
    for (const { out } of children) t.equal((await out.next()).value, 'ready');
    for (const { child } of children) child.stdin!.write('go\n'); // as close to one instant as the test can make it
    const outcomes = await Promise.all(children.map(async ({ out }) => (await out.next()).value as string));
    const winners = outcomes.filter((outcome) => outcome === 'locked').length;
    t.equal(winners, 1, `round ${round}: exactly one of ${CONTENDERS} holds the lock (${JSON.stringify(outcomes)})`);
    t.equal(outcomes.filter((outcome) => outcome.startsWith('refused ')).length, CONTENDERS - 1, `round ${round}: the others are refused`);
    // Killed, not released: the next round's contenders find a lock whose holder died.
    for (const { child } of children) child.kill('SIGKILL');
    await Promise.all(children.map(({ exited }) => exited));
    for (const { child } of children) live.delete(child);
  }
});

t.test('brokers: a stale .lock (pid 1, a live process) does not block; SIGKILL and restart at once; two at once', async (t) => {
  for (const stale of ['1', String(process.pid)]) {
    const dataDir = freshDataDir('runnel-lock-broker-');
    writeFileSync(path.join(dataDir, LOCK_FILE), `${stale}\n`);
    const broker = await startBrokerProcess({ dataDir });
    t.equal(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8').trim(), String(broker.pid), `a .lock naming live pid ${stale}: the broker starts and writes its own pid`);
    await broker.kill('SIGKILL');
    const restarted = await startBrokerProcess({ dataDir });
    t.pass('SIGKILLed and restarted at once: it starts');
    t.equal(await restarted.stop(), 0);
  }

  const dataDir = freshDataDir('runnel-lock-together-');
  const started = await Promise.allSettled([0, 1, 2].map(() => startBrokerProcess({ dataDir })));
  const running = started.filter((s) => s.status === 'fulfilled');
  t.equal(running.length, 1, 'of three brokers started together on one directory, one runs');
  for (const refused of started.filter((s) => s.status === 'rejected')) {
    t.match(String(refused.reason), /exited with code 1[\s\S]*is in use by process \d+, which holds the lock/, 'the others exit 1 saying which process holds the directory');
  }
  for (const broker of running) await broker.value.stop();
});

t.test('the unreaped zombie of a SIGKILLed broker does not block a restart', async (t) => {
  const dataDir = freshDataDir('runnel-lock-zombie-');
  // sh starts the broker in the background, then becomes `sleep`, which never reaps it: a killed broker stays a zombie.
  const parent = spawn('/bin/sh', ['-c', `"${process.execPath}" "${BROKER_MAIN}" --port 0 --data "${dataDir}" & echo "pid $!"; exec sleep 120`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    parent.kill('SIGKILL');
  });
  const out = lines(parent);
  let pid = -1;
  for (let line = await out.next(); !line.done; line = await out.next()) {
    if (line.value.startsWith('pid ')) pid = Number(line.value.slice(4));
    if (line.value.includes('"event":"listening"')) break;
  }
  t.ok(pid > 0, `the first broker runs (pid ${pid})`);
  process.kill(pid, 'SIGKILL');
  const state = (): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
  for (let i = 0; i < 200 && state() !== 'Z'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  t.equal(state(), 'Z', 'it is a zombie: its pid is still taken');
  t.equal(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8').trim(), String(pid), 'and its .lock names it');
  const next = await startBrokerProcess({ dataDir });
  t.pass('a new broker starts on its directory');
  t.equal(await next.stop(), 0);
});
