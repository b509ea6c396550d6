/**
 * The broker-wide fatal path: what a broken invariant in state the whole
 * broker shares (the metadata image, the controller, a handler's own logic)
 * sets off. Such state cannot be trusted to answer one more request, so the
 * broker stops serving at once and its host exits non-zero without a clean
 * shutdown: the next start recovers every log and replays the metadata log,
 * which is the one way back to state that is known to be consistent
 * (Kafka's ProcessTerminatingFaultHandler does the same).
 *
 * A broken invariant inside one partition does not come here: the
 * partition's log goes offline and the rest of the broker serves on
 * (broker/partition.ts; docs/ARCHITECTURE.md, "When an invariant breaks").
 */
import type { Logger } from './log.js';

export class BrokerFaults {
  readonly #logger: Logger;
  #failure: Error | null = null;
  readonly #listeners: ((error: Error) => void)[] = [];
  /** Resolves with the first fatal error; pending while the broker is sound. */
  readonly failure: Promise<Error>;
  #resolve!: (error: Error) => void;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.failure = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The first fatal error, or null. */
  get failed(): Error | null {
    return this.#failure;
  }

  /** Called once, with the error, when the broker must stop (the server stops serving; the process exits). */
  onFatal(listener: (error: Error) => void): void {
    this.#listeners.push(listener);
  }

  /** Stops the broker: logs `error` with `context` (the first time only) and tells every listener. */
  fatal(error: Error, context: Record<string, unknown> = {}): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    this.#logger.fatal({ err: error, ...context, event: 'brokerFatal' }, `broker state broke an invariant; stopping the broker (its logs are recovered at the next start): ${error.message}`);
    for (const listener of this.#listeners.splice(0)) listener(error);
    this.#resolve(error);
  }
}
