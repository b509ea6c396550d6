/**
 * Where the cleaner's chunk work (compaction-chunk.ts) runs:
 * `inlineCleanerRunner` on the calling thread (a single compaction from a
 * test or a tool), `WorkerCleanerRunner` on piscina worker threads (the
 * LogManager's cleaner, so hashing and copying gigabytes never stalls the
 * event loop). Chunk buffers are transferred to the worker and back, never
 * cloned; the offset map is shared memory.
 *
 * The worker file is picked by the extension this module runs under: `.ts`
 * from source (tap's loader is inherited by worker threads), `.js` from dist.
 */
import { Piscina } from 'piscina';
import { runCleanRequest, type CleanReply, type CleanRequest } from './compaction-chunk.js';

export interface CleanerRunner {
  run(request: CleanRequest): Promise<CleanReply>;
}

export const inlineCleanerRunner: CleanerRunner = {
  run: async (request) => runCleanRequest(request),
};

const workerExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const workerFile = new URL(`./workers/clean-worker${workerExtension}`, import.meta.url).href;

/** A pool of cleaner threads (Kafka's log.cleaner.threads); `close()` ends them. */
export class WorkerCleanerRunner implements CleanerRunner {
  readonly threads: number;
  #pool: Piscina;

  constructor(threads = 1) {
    this.threads = threads;
    this.#pool = new Piscina({ filename: workerFile, minThreads: 0, maxThreads: threads, idleTimeout: 30_000 });
  }

  run(request: CleanRequest): Promise<CleanReply> {
    return this.#pool.run(request, { transferList: [request.buffer] }) as Promise<CleanReply>;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
