/**
 * Where recovery scans run. `inlineScanner` scans on the calling thread
 * (a single log opened on its own, and tests); `WorkerScanner` runs the same
 * pure scan (batch-scan.ts) on piscina worker threads, so the CRC work of
 * several recovering partitions proceeds in parallel while the main thread
 * reads the next chunks. Chunk buffers are transferred to the worker and
 * back, never cloned (PACKAGES.md §3: cloning a MiB costs ~7x a transfer).
 */
import { availableParallelism } from 'node:os';
import { scanChunk, type ScanOutput, type ScanParams, type ScanState } from './batch-scan.js';
import { TransferPool } from './workers/transfer-pool.js';

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

/** One scan, on whichever thread calls it (the worker's body and `inlineScanner`'s). */
export function runScanRequest(request: ScanRequest): ScanReply {
  const output = scanChunk(new Uint8Array(request.buffer, 0, request.length), request.params, request.state);
  return { buffer: request.buffer, output, state: request.state };
}

export const inlineScanner: SegmentScanner = {
  scan: async (request) => runScanRequest(request),
};


/** A pool of scan workers; `close()` ends the threads. */
export class WorkerScanner implements SegmentScanner {
  readonly #pool: TransferPool<ScanRequest, ScanReply>;

  constructor(threads = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#pool = new TransferPool('scan-worker', threads, 1000);
  }

  get threads(): number {
    return this.#pool.threads;
  }

  scan(request: ScanRequest): Promise<ScanReply> {
    return this.#pool.run(request);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
