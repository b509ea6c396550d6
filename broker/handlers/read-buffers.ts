/**
 * Recycles the buffers Fetch reads segment bytes into. A fetch answer's
 * records are views of the buffer its read filled, so a fresh buffer per
 * fetch (1 MiB for a consumer that keeps up) made every byte served pass
 * through V8 as external memory, which starts a full collection every
 * ~64 MB: about a quarter of the broker's CPU while serving consumers.
 *
 * A buffer goes back only once the response that points into it has been
 * handed to the kernel in full (`RequestContext.afterResponseWritten`), so
 * nothing can read it again when the next read overwrites it. Reads too
 * small to be worth a whole buffer, or too big for one, get a fresh buffer
 * of their own size, as before.
 *
 * A read of an encrypted topic asks for shared memory, so that worker
 * threads can open its batches where they lie, without a copy or a transfer
 * (storage/encryption/batch-opener.ts): those come from a pool of their own.
 * Other reads keep ordinary buffers: V8 copies into shared memory byte by
 * byte unless both ends are 8-byte aligned, which would slow the copies
 * from pending segments.
 */

/** Reads below this get a buffer of their own size: a tailing consumer's small reads should not each hold a whole pooled buffer. */
const POOLED_READ_MIN_BYTES = 64 * 1024;

export class ReadBufferPool {
  readonly #spare: Buffer[] = [];
  readonly #spareShared: Buffer[] = [];
  /** Every buffer this pool made: only these are ever taken back. */
  readonly #ours = new WeakSet<Buffer>();

  constructor(
    /** Size of every pooled buffer: the usual largest read (a consumer's per-partition limit). */
    readonly bufferBytes: number,
    /** Idle buffers kept at most, of each kind. */
    readonly maxSpare: number,
  ) {}

  /** A buffer of at least `bytes` bytes (in shared memory if `shared`); give it back with `give` once nothing reads it. */
  take(bytes: number, shared = false): Buffer {
    if (bytes < POOLED_READ_MIN_BYTES || bytes > this.bufferBytes) return shared ? Buffer.from(new SharedArrayBuffer(bytes)) : Buffer.allocUnsafe(bytes);
    const spare = (shared ? this.#spareShared : this.#spare).pop();
    if (spare !== undefined) return spare;
    const fresh = shared ? Buffer.from(new SharedArrayBuffer(this.bufferBytes)) : Buffer.allocUnsafeSlow(this.bufferBytes);
    this.#ours.add(fresh);
    return fresh;
  }

  /** Takes back a buffer from `take` (others are left to the collector). Never give one twice. */
  give(buffer: Buffer): void {
    if (!this.#ours.has(buffer)) return;
    const spare = buffer.buffer instanceof SharedArrayBuffer ? this.#spareShared : this.#spare;
    if (spare.length < this.maxSpare) spare.push(buffer);
  }

  get spareCount(): number {
    return this.#spare.length + this.#spareShared.length;
  }
}
