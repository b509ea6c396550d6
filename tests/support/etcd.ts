/**
 * A real etcd server for tests (Debian's `etcd-server`: /usr/bin/etcd), on
 * loopback ports picked here, in a data directory of its own, stopped by
 * pid. Without an `etcd` binary the test FAILS and says how to install it:
 * the etcd tests are never skipped silently.
 *
 * `pause()`/`resume()` send SIGSTOP/SIGCONT (an etcd that hangs: calls time
 * out); `stop()` ends it (SIGKILL) and `start()` runs it again on the same
 * ports and data, as an etcd restarted by its operator.
 */
import type { Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freshDataDir } from './broker-process.js';
import { unusedPort } from './unused-port.js';

export const INSTALL_ETCD = 'install etcd-server: apt-get install etcd-server';
const START_TIMEOUT_MS = 20_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface EtcdServer {
  /** `etcd://127.0.0.1:PORT`: the `controller` setting that points at it. */
  readonly url: string;
  readonly clientPort: number;
  readonly pid: () => number;
  readonly output: () => string;
  pause(): void;
  resume(): void;
  /** SIGKILL, and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again (same ports, same data) and waits until it answers. */
  start(): Promise<void>;
}

/** The etcd binary, or a failure naming the package to install. */
export function etcdBinary(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'etcd');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error(`no etcd binary on PATH: ${INSTALL_ETCD}`);
}

export async function startEtcd(t: Test, opts: { dir?: string } = {}): Promise<EtcdServer> {
  const binary = etcdBinary();
  const dir = opts.dir ?? freshDataDir('runnel-etcd-');
  const clientPort = await unusedPort();
  const peerPort = await unusedPort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, [
      '--name', 'test', '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `test=${peer}`, '--log-level', 'warn', '--logger', 'zap',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
    await waitHealthy(proc, client, () => output);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  t.teardown(stop);
  return {
    url: `etcd://127.0.0.1:${clientPort}`,
    clientPort,
    pid: () => child?.pid ?? -1,
    output: () => output,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    stop,
    start: launch,
  };
}

/** Polls /health until etcd says it is healthy (bounded), or fails with its output. */
async function waitHealthy(proc: ChildProcess, client: string, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let round = 0; Date.now() < deadline && round < 400; round++) {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode} at start:\n${output()}`);
    try {
      const response = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok && ((await response.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`etcd did not become healthy within ${START_TIMEOUT_MS} ms:\n${output()}`);
}
