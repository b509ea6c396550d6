/**
 * The high watermark checkpoint (Kafka's `replication-offset-checkpoint`):
 * one small file in the data directory with the high watermark of every
 * partition this broker hosts, written periodically and at clean shutdown,
 * read once at start.
 *
 * Why: the high watermark lives in memory. Without it a restarted replica
 * would have to guess, and the only guesses at hand are wrong one way or the
 * other: its log end exposes records no ISR ever confirmed (a consumer reads
 * a record that a failover then takes back), and zero hides everything until
 * the ISR catches up. With it the replica starts where it left off (capped
 * at its log end, which a crash may have cut) and only the ISR moves it on.
 *
 * Format (Kafka's, plain text): a version line `0`, a count line, then one
 * line `<topic> <partition> <highWatermark>` per partition. Topic names never
 * contain spaces (topic-name.ts). Written atomically through the injected
 * FileSystem (`writeFileAtomic`: temp file, fdatasync, rename, fsync of the
 * directory), so a crash leaves the old file or the new one, never half.
 * An unreadable file is logged and ignored: every replicated partition then
 * starts at its log start, which hides records until the ISR confirms them
 * but never shows one it did not.
 */
import path from 'node:path';
import type { Logger } from '../log.js';
import type { FileSystem } from '../world/file-system.js';

export const HW_CHECKPOINT_FILE = 'replication-offset-checkpoint';
const VERSION = 0;

/** High watermarks by `topic-partition` key (`checkpointKey`). */
export type HighWatermarks = ReadonlyMap<string, number>;

export function checkpointKey(topic: string, partition: number): string {
  return `${topic} ${partition}`;
}

export function formatCheckpoint(entries: HighWatermarks): string {
  const lines = [String(VERSION), String(entries.size)];
  for (const [key, highWatermark] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`${key} ${highWatermark}`);
  return `${lines.join('\n')}\n`;
}

/** Parses the file's text; throws an Error saying what is wrong. */
export function parseCheckpoint(text: string): Map<string, number> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== String(VERSION)) throw new Error(`unknown version line ${JSON.stringify(lines[0] ?? '')}`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count < 0 || lines.length !== count + 2) throw new Error(`the count line says ${JSON.stringify(lines[1] ?? '')} but ${lines.length - 2} entries follow`);
  const entries = new Map<string, number>();
  for (const line of lines.slice(2)) {
    const [topic, partition, highWatermark, extra] = line.split(' ');
    const index = Number(partition);
    const offset = Number(highWatermark);
    if (topic === undefined || topic === '' || extra !== undefined || !Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(offset) || offset < 0) {
      throw new Error(`malformed entry ${JSON.stringify(line)}`);
    }
    entries.set(checkpointKey(topic, index), offset);
  }
  return entries;
}

/** The checkpoint file of one data directory. */
export class HighWatermarkCheckpoint {
  readonly #file: string;
  readonly #fs: FileSystem;
  readonly #logger: Logger;
  /** The write in flight: writes never overlap (a slow older one must not land after a newer one). */
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: { dataDir: string; fs: FileSystem; logger: Logger }) {
    this.#file = path.join(opts.dataDir, HW_CHECKPOINT_FILE);
    this.#fs = opts.fs;
    this.#logger = opts.logger;
  }

  /** What the file holds; empty when it is missing or unreadable (logged). */
  async read(): Promise<Map<string, number>> {
    try {
      if ((await this.#fs.stat(this.#file)) === null) return new Map();
      return parseCheckpoint(Buffer.from(await this.#fs.readFile(this.#file)).toString('utf8'));
    } catch (error) {
      this.#logger.error({ event: 'hwCheckpointUnreadable', file: this.#file, err: error }, `could not read the high watermark checkpoint ${this.#file}: ${(error as Error).message}; replicated partitions start at their log start and wait for their ISR`);
      return new Map();
    }
  }

  /** Replaces the file with `entries` (after any write in flight). Rejects if the write fails. */
  write(entries: HighWatermarks): Promise<void> {
    const data = Buffer.from(formatCheckpoint(entries));
    const write = this.#writing.then(() => this.#fs.writeFileAtomic(this.#file, data));
    this.#writing = write.catch(() => undefined);
    return write;
  }
}
