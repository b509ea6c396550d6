/**
 * Where recovery scans run. `inlineScanner` scans on the calling thread
 * (a single log opened on its own, and tests); `WorkerScanner` runs the same
 * pure scan (batch-scan.ts) on piscina worker threads, so the CRC work of
 * several recovering partitions proceeds in parallel while the main thread
 * reads the next chunks. Chunk buffers are transferred to the worker and
 * back, never cloned (PACKAGES.md §3: cloning a MiB costs ~7x a transfer).
 *
 * The worker file is picked by the extension this module runs under: `.ts`
 * from source (tap's loader is inherited by worker threads), `.js` from dist.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { scanChunk, type ScanOutput, type ScanParams, type ScanState } from './batch-scan.js';

export interface ScanRequest {
  /** A standalone ArrayBuffer (not a pooled Buffer's): it is transferred. */
  buffer: ArrayBuffer;
  /** Bytes of `buffer` that hold the chunk. */
  length: number;
  params: ScanParams;
  state: ScanState;
}

export interface ScanReply {
  /** The request's buffer, handed back for reuse. */
  buffer: ArrayBuffer;
  output: ScanOutput;
  state: ScanState;
}

export interface SegmentScanner {
  scan(request: ScanRequest): Promise<ScanReply>;
}

export const inlineScanner: SegmentScanner = {
  scan: async (request) => {
    const output = scanChunk(new Uint8Array(request.buffer, 0, request.length), request.params, request.state);
    return { buffer: request.buffer, output, state: request.state };
  },
};

const workerExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const workerFile = new URL(`./workers/scan-worker${workerExtension}`, import.meta.url).href;

/** A pool of scan workers; `close()` ends the threads. */
export class WorkerScanner implements SegmentScanner {
  readonly threads: number;
  #pool: Piscina;

  constructor(threads = Math.max(1, Math.min(4, availableParallelism()))) {
    this.threads = threads;
    this.#pool = new Piscina({ filename: workerFile, minThreads: 0, maxThreads: threads, idleTimeout: 1000 });
  }

  scan(request: ScanRequest): Promise<ScanReply> {
    return this.#pool.run(request, { transferList: [request.buffer] }) as Promise<ScanReply>;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
