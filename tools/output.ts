/**
 * Everything the CLI prints goes through here: aligned tables for people,
 * one-line JSON for scripts, and stdout writes that respect backpressure so
 * `runnel consume | slow-reader` neither buffers without bound nor dies on a
 * closed pipe (`| head` ends the command quietly, as Unix tools do).
 */
import { once } from 'node:events';

let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') {
    stdoutClosed = true;
    return;
  }
  throw err;
});

/** True once the reader of stdout has gone away (EPIPE): stop producing output. */
export function stdoutIsClosed(): boolean {
  return stdoutClosed;
}

/** Writes to stdout and waits for the pipe to drain when its buffer is full. */
export async function writeOut(text: string | Uint8Array): Promise<void> {
  if (stdoutClosed) return;
  if (process.stdout.write(text)) return;
  try {
    await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'close')]);
  } catch (err) {
    // `once` rejects on 'error'; a reader that went away (EPIPE) is the normal end of `| head`.
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    stdoutClosed = true;
  }
}

export function printLine(text = ''): Promise<void> {
  return writeOut(`${text}\n`);
}

/** One JSON value on one line: what `--json` prints. */
export function printJson(value: unknown): Promise<void> {
  return printLine(JSON.stringify(value));
}

/** Left-aligned columns separated by two spaces, header first. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells
    .map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  '))
    .join('\n');
}
