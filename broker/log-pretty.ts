/**
 * Turns the broker's JSON log lines into lines a person reads at a terminal:
 *
 *   14:03:07.542 INFO  runnel broker listening on 127.0.0.1:9092, data in ./data  topics=0
 *
 * The sentence in `msg` leads; the remaining fields follow as key=value (an
 * error's stack on the lines below). Pino's own fields (time, level, pid) are
 * folded into the prefix. Lines that are not JSON pass through unchanged.
 */
const SKIPPED = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'err']);

export function prettyLogLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = String(entry.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !SKIPPED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const err = entry.err as { stack?: string; message?: string } | undefined;
  const stack = err?.stack ?? err?.message;
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}${stack === undefined ? '' : `\n${stack}`}`;
}

/** A pino destination that renders each chunk (one or more JSON lines) before passing it on. */
export function prettyDestination(target: { write(text: string): unknown }): { write(chunk: string): void } {
  return {
    write(chunk: string) {
      const lines = chunk.split('\n').filter((line) => line.length > 0);
      target.write(lines.map(prettyLogLine).join('\n') + '\n');
    },
  };
}
