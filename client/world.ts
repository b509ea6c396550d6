/**
 * What a client's connections read from outside: the network, time, and the
 * randomness of their backoff jitter. The defaults are the real ones; a
 * broker passes its own injected world (possibly simulated), so brokers,
 * controller and clients can run in one process on one clock and replay
 * exactly from a seed.
 */
import { systemClock, type ClientClock } from './clock.js';
import type { ClientTransport } from './transport.js';
import { nodeClientTransport } from './transport-node.js';

export interface ClientWorld {
  transport: ClientTransport;
  clock: ClientClock;
  /** Floats in [0, 1) (a broker's `Rng` fits). */
  rng: { next(): number };
}

export const systemClientWorld: ClientWorld = {
  transport: nodeClientTransport,
  clock: systemClock,
  rng: { next: () => Math.random() },
};
