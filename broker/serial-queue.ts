/**
 * Runs async tasks one at a time, in the order they were queued. A failed
 * task fails only its own caller: the queue goes on with the next, so one
 * refused metadata commit or failed apply never wedges every later one.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every task queued so far has settled (it never rejects). */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
