/**
 * How many bytes of rolled segments the logs may hold in memory while the
 * segment before each is made durable (the roll barrier, pending-segment.ts).
 *
 * Why a bound: a pending segment drains only as fast as the disk fsyncs. On
 * a slow or stalled disk, appends that nothing waits for (acks=0, or
 * fsync=interval acknowledgements given at once) would otherwise copy
 * batches into the heap until the broker runs out of memory. Past the
 * bound, appends wait (`PartitionLog.waitAppendable`): the produce handler
 * holds the request, the connection's queued.max.requests flow control
 * stops reading it, and TCP pushes back on the producer, as a Kafka broker
 * blocked in write(2) by the kernel's dirty-page limit would.
 *
 * Two limits, one budget per LogManager (per broker):
 * - per partition (`partitionBytesMax`): a log holding that much pending
 *   waits until its disk catches up;
 * - in total (`totalBytesMax`): once the logs together hold that much, a log
 *   that holds any pending bytes waits too. A log that holds none is never
 *   held back by the others (its appends go to its file), so one slow
 *   partition cannot stall the rest; such a log can start one pending
 *   segment past the total, so the total can be passed by one append per
 *   partition that is rolling at that moment.
 *
 * A log may pass its own limit by one append (the check comes before the
 * append, whose size is not known to a waiter). Not thread-safe: everything
 * runs on the event loop.
 */
import { assert } from '../world/assert.js';

export const DEFAULT_PENDING_PARTITION_BYTES_MAX = 64 * 1024 * 1024;
export const DEFAULT_PENDING_TOTAL_BYTES_MAX = 512 * 1024 * 1024;

export class PendingBudget {
  readonly partitionBytesMax: number;
  readonly totalBytesMax: number;
  #totalBytes = 0;
  /** Called whenever bytes are given back: logs with appends waiting check whether they may go on. */
  #onRelease = new Set<() => void>();

  constructor(limits: { partitionBytesMax?: number; totalBytesMax?: number } = {}) {
    this.partitionBytesMax = limits.partitionBytesMax ?? DEFAULT_PENDING_PARTITION_BYTES_MAX;
    this.totalBytesMax = limits.totalBytesMax ?? DEFAULT_PENDING_TOTAL_BYTES_MAX;
    assert(this.partitionBytesMax > 0 && this.totalBytesMax > 0, 'pending limits are positive', { ...limits });
  }

  /** Pending bytes held by every log of this budget. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** Whether a log that holds `logPendingBytes` may append now (see the file comment). */
  hasRoom(logPendingBytes: number): boolean {
    return logPendingBytes === 0 || (logPendingBytes < this.partitionBytesMax && this.#totalBytes < this.totalBytesMax);
  }

  take(bytes: number): void {
    assert(bytes >= 0, 'pending bytes taken are not negative', { bytes });
    this.#totalBytes += bytes;
  }

  give(bytes: number): void {
    assert(bytes >= 0 && bytes <= this.#totalBytes, 'pending bytes given back were taken', { bytes, total: this.#totalBytes });
    this.#totalBytes -= bytes;
    if (bytes > 0) for (const listener of [...this.#onRelease]) listener();
  }

  /** Calls `listener` after every release until the returned function is called. */
  onRelease(listener: () => void): () => void {
    this.#onRelease.add(listener);
    return () => this.#onRelease.delete(listener);
  }
}
