/**
 * Writes a partition's small state files (partition.meta,
 * leader-epoch-checkpoint) one at a time, in request order, each atomically
 * (FileSystem.writeFileAtomic). Ordering is what makes the recovery point
 * safe: a recovery point is queued only after the epoch checkpoint writes
 * queued before it, so a persisted recovery point never gets ahead of the
 * epoch cache it relies on. A request for a file whose previous write has
 * not started yet is merged into it (the content is taken when the write
 * starts, so the newest state wins).
 */
import type { FileSystem } from '../world/file-system.js';

export class StateWriter {
  #chain: Promise<void> = Promise.resolve();
  #queued = new Set<string>();
  #failure: unknown = null;

  constructor(
    private readonly fs: FileSystem,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Queues an atomic write of `content()` to `filePath`; resolves when it (or a later merged one) is done. */
  write(filePath: string, content: () => Uint8Array): Promise<void> {
    if (this.#queued.has(filePath)) return this.#chain;
    this.#queued.add(filePath);
    this.#chain = this.#chain.then(async () => {
      this.#queued.delete(filePath);
      if (this.#failure !== null) throw this.#failure;
      try {
        await this.fs.writeFileAtomic(filePath, content());
      } catch (err) {
        this.#failure = err;
        this.onFailure(err);
        throw err;
      }
    });
    const result = this.#chain;
    this.#chain = this.#chain.catch(() => undefined);
    return result;
  }

  /** Resolves once every write queued so far is done (rejects if one failed). */
  async idle(): Promise<void> {
    await this.#chain;
    if (this.#failure !== null) throw this.#failure;
  }
}
