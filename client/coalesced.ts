/**
 * A pass that many events may ask for, run once soon after them: the
 * producer's send pass (deferred with setImmediate, so the records appended
 * in the same tick join the batches) and the consumer's fetch pass (deferred
 * to a microtask: nothing to gather, only to coalesce).
 */
export class CoalescedRun {
  readonly #run: () => void;
  readonly #defer: (fn: () => void) => void;
  #scheduled = false;
  stopped = false;

  constructor(run: () => void, defer: (fn: () => void) => void) {
    this.#run = run;
    this.#defer = defer;
  }

  get scheduled(): boolean {
    return this.#scheduled;
  }

  request(): void {
    if (this.#scheduled || this.stopped) return;
    this.#scheduled = true;
    this.#defer(() => {
      this.#scheduled = false;
      if (!this.stopped) this.#run();
    });
  }
}
