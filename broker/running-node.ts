/**
 * What the broker and the controller process share around their parts: a
 * stack of cleanups run in reverse on shutdown (or when start-up fails
 * half way), and the `RunningBroker` handle that a fatal fault or a clean
 * close ends.
 */
import type { BrokerFaults } from './faults.js';
import type { Logger } from './log.js';
import type { RunningBroker } from './main.js';
import type { BrokerServer } from './net/server.js';

export class Cleanups {
  readonly #steps: (() => Promise<void>)[] = [];
  constructor(private readonly logger: Logger) {}

  push(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  /** Runs every step, last pushed first; a failing step is logged and the rest still run. */
  async unwind(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.logger.error({ err: error }, 'error while shutting down');
      }
    }
  }
}

/**
 * The handle of a started node. A broken invariant closes every connection
 * at once (the failed request's answer is flushed first): not one more
 * answer from state that broke an invariant.
 */
export function runningNode(opts: { server: BrokerServer; dataDir: string; clusterId: string; faults: BrokerFaults; cleanups: Cleanups; logger: Logger; role: 'broker' | 'controller' }): RunningBroker {
  const { server, faults, cleanups, logger } = opts;
  let connectionsClosed = Promise.resolve();
  faults.onFatal(() => {
    connectionsClosed = server.close(0);
  });
  let closing: Promise<void> | undefined;
  return {
    host: server.host,
    port: server.port,
    dataDir: opts.dataDir,
    clusterId: opts.clusterId,
    failure: faults.failure.then(async (error) => {
      await connectionsClosed;
      return error;
    }),
    close() {
      closing ??= cleanups.unwind().then(() => logger.info({ event: 'stopped' }, `runnel ${opts.role} stopped cleanly`));
      return closing;
    },
  };
}
