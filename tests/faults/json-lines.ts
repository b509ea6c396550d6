/**
 * Reads a child process's stdout as JSON lines and waits, bounded, for the
 * next line that matches: how the fault tests talk to processes in other
 * network namespaces (the TCP probe, brokers' start-up lines).
 */
import type { Readable } from 'node:stream';

export class JsonLines {
  readonly #seen: unknown[] = [];
  readonly #waiters = new Set<{ match: (line: unknown) => boolean; resolve: (line: unknown) => void }>();
  #text = '';
  #pending = '';

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#text += chunk;
      this.#pending += chunk;
      let newline: number;
      while ((newline = this.#pending.indexOf('\n')) >= 0) {
        const line = this.#pending.slice(0, newline);
        this.#pending = this.#pending.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        this.#seen.push(parsed);
        for (const waiter of this.#waiters) {
          if (waiter.match(parsed)) {
            this.#waiters.delete(waiter);
            waiter.resolve(parsed);
            break; // one line answers one waiter
          }
        }
      }
    });
  }

  /** Everything read so far (for failure messages). */
  get text(): string {
    return this.#text;
  }

  /** The first line (already seen or still to come) that matches, or an error past `timeoutMs`. */
  next<T>(match: (line: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const seenIndex = this.#seen.findIndex((line) => match(line as T));
    if (seenIndex >= 0) return Promise.resolve(this.#seen.splice(seenIndex, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match: (line: unknown) => match(line as T),
        resolve: (line: unknown) => {
          clearTimeout(timer);
          const index = this.#seen.indexOf(line);
          if (index >= 0) this.#seen.splice(index, 1);
          resolve(line as T);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms; output so far:\n${this.#text.slice(-4000)}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
