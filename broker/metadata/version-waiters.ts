/**
 * The long polls of `MetadataStore.waitForVersion`: promises that resolve
 * with the latest version once it passes the one each waits beyond. Shared
 * by every store implementation, so they agree on abort and close.
 *
 * A waiter removes itself when it settles (its abort listener too), so a
 * broker that polls in a loop leaves nothing behind.
 */
interface Waiter {
  after: number;
  resolve(version: number): void;
  reject(error: unknown): void;
}

export class VersionWaiters {
  readonly #waiting = new Set<Waiter>();

  /** Resolves at once when `current > after`; else once `reached` passes `after`. Rejects with the signal's reason on abort. */
  wait(current: number, after: number, signal?: AbortSignal): Promise<number> {
    if (current > after) return Promise.resolve(current);
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => waiter.reject(signal!.reason);
      const settle = (): void => {
        this.#waiting.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        after,
        resolve: (version) => { settle(); resolve(version); },
        reject: (error) => { settle(); reject(error); },
      };
      this.#waiting.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The store's version is now `version`. */
  reached(version: number): void {
    for (const waiter of [...this.#waiting]) if (version > waiter.after) waiter.resolve(version);
  }

  close(error: Error): void {
    for (const waiter of [...this.#waiting]) waiter.reject(error);
  }

  get size(): number {
    return this.#waiting.size;
  }
}
