/**
 * What the CLI tests share beyond tests/support/cli-process.ts: the run of
 * `runnel` with the time it took, a long-running `runnel` to watch and feed
 * while a broker fails under it, a port nothing listens on, and the lines
 * of an output.
 */
import type { Test } from 'tap';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { RUNNEL_BIN, runCliProcess, type CliResult as ProcessResult } from '../support/cli-process.js';

export { CLI_TIMEOUT_MS, RUNNEL_BIN } from '../support/cli-process.js';
export { unusedPort } from '../support/unused-port.js';

export interface CliResult extends ProcessResult {
  elapsedMs: number;
}

/** `node bin/runnel.js ...args`, as a user runs it, bounded in time; with how long it ran. */
export async function runnel(args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = performance.now();
  const result = await runCliProcess(args, opts);
  return { ...result, elapsedMs: performance.now() - started };
}

export function lastLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** The lines of a stream, without the trailing newline. */
export function linesOf(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

export interface Cli {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Exit code (128 + n for a signal), and when it came. */
  exited: Promise<{ code: number; atMs: number }>;
  /** Resolves when stdout or stderr has printed something matching `pattern` (rejects after `timeoutMs`). */
  printed: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
}

export function spawnCli(t: Test, args: string[]): Cli {
  const child = spawn(process.execPath, [RUNNEL_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of watchers.splice(0)) {
      if (w.pattern.test(stdout) || w.pattern.test(stderr)) w.resolve();
      else watchers.push(w);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    check();
  });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number; atMs: number }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code: code ?? 128 + (signal === 'SIGINT' ? 2 : 9), atMs: Date.now() }));
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    printed: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
        watchers.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
        check();
      }),
  };
}

/** Writes `line` to the child's stdin as fast as it takes it, until it exits. */
export function feedForever(child: ChildProcessWithoutNullStreams, line: string): void {
  const chunk = line.repeat(1000);
  const write = (): void => {
    while (child.stdin.writable && child.stdin.write(chunk));
    if (child.stdin.writable) child.stdin.once('drain', write);
  };
  write();
}

export const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('error:'));
