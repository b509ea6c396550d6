/**
 * Where the cleaner's chunk work (compaction-chunk.ts) runs:
 * `inlineCleanerRunner` on the calling thread (a single compaction from a
 * test or a tool), `WorkerCleanerRunner` on piscina worker threads (the
 * LogManager's cleaner, so hashing and copying gigabytes never stalls the
 * event loop). Chunk buffers are transferred to the worker and back, never
 * cloned; the offset map is shared memory.
 */
import { runCleanRequest, type CleanReply, type CleanRequest } from './compaction-chunk.js';
import { TransferPool } from './workers/transfer-pool.js';

export interface CleanerRunner {
  run(request: CleanRequest): Promise<CleanReply>;
}

export const inlineCleanerRunner: CleanerRunner = {
  run: async (request) => runCleanRequest(request),
};

/** A pool of cleaner threads (Kafka's log.cleaner.threads); `close()` ends them. */
export class WorkerCleanerRunner implements CleanerRunner {
  readonly #pool: TransferPool<CleanRequest, CleanReply>;

  constructor(threads = 1) {
    this.#pool = new TransferPool('clean-worker', threads, 30_000);
  }

  get threads(): number {
    return this.#pool.threads;
  }

  run(request: CleanRequest): Promise<CleanReply> {
    return this.#pool.run(request);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
