/**
 * What the CLI tests share beyond tests/support/cli-process.ts: the run of
 * `runnel` with the time it took, a port nothing listens on, and the lines
 * of an output.
 */
import { runCliProcess, type CliResult as ProcessResult } from '../support/cli-process.js';

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
