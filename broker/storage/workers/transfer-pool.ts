/**
 * The one way storage hands work to piscina worker threads. A request's
 * chunk buffer, and the arrays of its reply, move by transfer, never by clone
 * (PACKAGES.md §3: cloning a MiB costs ~7x a transfer; piscina's `move` only
 * works on the whole value, hence the wrapper in `replyByTransfer`). The
 * worker file is picked by the extension this module runs under: `.ts` from
 * source (tap's loader is inherited by worker threads), `.js` from dist.
 */
import type { Transferable } from 'node:worker_threads';
import { Piscina, move, transferableSymbol, valueSymbol } from 'piscina';

const workerExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export class TransferPool<Request extends { buffer: ArrayBuffer }, Reply> {
  readonly #pool: Piscina;

  constructor(
    /** A module in this folder whose default export handles one request. */
    workerName: string,
    readonly threads: number,
    idleTimeoutMs: number,
  ) {
    const filename = new URL(`./${workerName}${workerExtension}`, import.meta.url).href;
    this.#pool = new Piscina({ filename, minThreads: 0, maxThreads: threads, idleTimeout: idleTimeoutMs });
  }

  run(request: Request): Promise<Reply> {
    return this.#pool.run(request, { transferList: [request.buffer] }) as Promise<Reply>;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** What a worker returns so that `transfer` moves back to the main thread instead of being cloned. */
export function replyByTransfer<Reply>(reply: Reply, transfer: Transferable[]): Reply {
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return reply;
    },
  } as never) as unknown as Reply;
}
