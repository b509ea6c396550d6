/**
 * Runs a real broker process for integration tests: the built broker
 * (`node dist/broker/main.js`) on port 0, with the real port read back from
 * its start-up line (never guessed), in a fresh data directory unless one is
 * given. It races "start-up line printed" against "exited early" and a
 * deadline, so a broker that fails to start fails the test with its output.
 *
 * Stop it by pid: `stop()` sends SIGTERM and waits for the exit code,
 * `kill('SIGKILL')` simulates a crash. Every broker still running when the
 * test process exits is killed, and every data directory made here is
 * removed, so a failed test leaves no orphans behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

export interface BrokerProcess {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** `${host}:${port}` */
  readonly bootstrap: string;
  /** Every listener as bound (name -> port), from the start-up line. */
  readonly listeners: ReadonlyMap<string, number>;
  /** SIGTERM, waits for exit (bounded; SIGKILL past the bound), returns the exit code (null if a signal ended it). */
  stop(): Promise<number | null>;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit (SIGSTOP/SIGCONT: returns at once). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Everything it printed so far, stdout and stderr (for failure messages). */
  readonly output: () => string;
}

export interface StartBrokerOptions {
  /** Default: a fresh directory from mkdtemp. */
  dataDir?: string;
  /** Extra command-line arguments, e.g. ['--set', 'auto.create.topics=true']. */
  args?: string[];
  /** Extra environment variables (added to this process's environment). */
  env?: Record<string, string>;
  /** How long to wait for the start-up line; default 30 s (a busy 2-core machine). */
  startTimeoutMs?: number;
  /** Runs the broker under `ulimit -n` of this many file descriptors (soft and hard). */
  ulimitFiles?: number;
}

export const BROKER_MAIN = join(repoRoot, 'dist', 'broker', 'main.js');
const STOP_TIMEOUT_MS = 30_000;

const live = new Set<ChildProcess>();
const createdDirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  // Directories made here live as long as the test process: a test may restart a broker on one.
  for (const dir of createdDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function freshDataDir(prefix = 'runnel-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.add(dir);
  return dir;
}

/** The bound port, and each listener's by name (brokers), from a process's output that holds its `listening` line (a node started with port 0). */
export function listeningOf(output: string): { port: number; listeners: Map<string, number> } {
  for (const line of output.split('\n')) {
    const listening = parseListening(line.trim());
    if (listening !== undefined) return listening;
  }
  throw new Error(`no listening line in:\n${output}`);
}

/** The start-up line: the broker logs `event: 'listening'` with the bound host and port. */
function parseListening(line: string): { host: string; port: number; listeners: Map<string, number> } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { event?: unknown; host?: unknown; port?: unknown; listeners?: { name: string; port: number }[] };
    if (entry.event === 'listening' && typeof entry.host === 'string' && typeof entry.port === 'number') {
      return { host: entry.host, port: entry.port, listeners: new Map((entry.listeners ?? []).map((l) => [l.name, l.port])) };
    }
  } catch {
    // not a log line (e.g. a stack trace on stderr)
  }
  return undefined;
}

export async function startBrokerProcess(opts: StartBrokerOptions = {}): Promise<BrokerProcess> {
  if (!existsSync(BROKER_MAIN)) throw new Error(`${BROKER_MAIN} is missing: build first (npm run build)`);
  const dataDir = opts.dataDir ?? freshDataDir();
  // A broker given its listeners takes no --port (the two are alternatives).
  const ownListeners = (opts.args ?? []).some((arg) => arg.startsWith('listeners='));
  const args = [BROKER_MAIN, ...(ownListeners ? [] : ['--port', '0']), '--data', dataDir, ...(opts.args ?? [])];
  // sh sets the limit, then execs node: same pid, so stop() and kill() reach the broker itself.
  const command = opts.ulimitFiles === undefined
    ? { file: process.execPath, args }
    : { file: '/bin/sh', args: ['-c', `ulimit -n ${opts.ulimitFiles} && exec "$@"`, 'sh', process.execPath, ...args] };
  const child = spawn(command.file, command.args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      live.delete(child);
      resolve();
    });
  });

  const address = await new Promise<{ host: string; port: number; listeners: Map<string, number> }>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(() => reject(new Error(`broker did not print its start-up line within ${opts.startTimeoutMs ?? 30_000} ms; output:\n${output}`)));
    }, opts.startTimeoutMs ?? 30_000);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      output += text;
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const found = parseListening(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        if (found !== undefined) settle(() => resolve(found));
      }
    });
    child.stderr!.on('data', (text: string) => {
      output += text;
    });
    void exited.then(() => settle(() => reject(new Error(`broker exited with code ${String(exitCode)} before listening; output:\n${output}`))));
  });

  const waitExit = async (timeoutMs: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return done;
  };

  return {
    pid: child.pid!,
    host: address.host,
    port: address.port,
    dataDir,
    bootstrap: `${address.host}:${address.port}`,
    listeners: address.listeners,
    output: () => output,
    async stop() {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        if (!(await waitExit(STOP_TIMEOUT_MS))) {
          child.kill('SIGKILL');
          await exited;
          throw new Error(`broker ${child.pid} ignored SIGTERM for ${STOP_TIMEOUT_MS} ms and was killed; output:\n${output}`);
        }
      }
      return exitCode ?? null;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (exitCode !== undefined) return;
      child.kill(signal);
      // Pausing signals leave the process alive (fault tests SIGSTOP, then SIGCONT).
      if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') return;
      await exited;
    },
  };
}
