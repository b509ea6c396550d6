/**
 * One process, one simulated world: a ManualClock, a seeded Rng, a
 * MemoryNetwork on them, and a driver that moves time in small steps while
 * letting promises and I/O callbacks run in between, bounded in steps.
 */
import { brokerConfig } from '../../broker/config.js';
import { silentLogger } from '../../broker/log.js';
import { startBroker, type RunningBroker } from '../../broker/main.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { MemoryNetwork } from '../../broker/world/memory-transport.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';

export interface SimulatedWorld {
  clock: ManualClock;
  rng: Rng;
  network: MemoryNetwork;
  /** Advances the clock `stepMs` at a time, yielding to the event loop between steps, until `promise` settles; throws past `maxSteps`. */
  settle<T>(promise: Promise<T>, opts?: { stepMs?: number; maxSteps?: number }): Promise<T>;
  /** Moves time by `ms` in steps of `stepMs`, yielding in between. */
  run(ms: number, stepMs?: number): Promise<void>;
  /** A broker on node `host` (port 9092, a simulated disk), started on this world. */
  broker(host: string): Promise<RunningBroker>;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function simulatedWorld(seed: number, opts: { minDelayMs?: number; maxDelayMs?: number } = {}): SimulatedWorld {
  // Now, so that timestamps taken from the real clock (the producer's) and the broker's agree.
  const clock = new ManualClock(Date.now());
  const rng = seededRng(seed);
  const network = new MemoryNetwork({ clock, rng, minDelayMs: opts.minDelayMs ?? 0, maxDelayMs: opts.maxDelayMs ?? 2 });
  const world: SimulatedWorld = {
    clock,
    rng,
    network,
    async settle(promise, { stepMs = 1, maxSteps = 20_000 } = {}) {
      let settled = false;
      promise.then(() => (settled = true), () => (settled = true));
      for (let step = 0; step < maxSteps && !settled; step++) {
        await yieldToEventLoop();
        if (!settled) clock.advance(stepMs);
      }
      if (!settled) throw new Error(`did not settle within ${maxSteps} steps of ${stepMs} simulated ms`);
      return promise;
    },
    async run(ms, stepMs = 1) {
      for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
        await yieldToEventLoop();
        clock.advance(Math.min(stepMs, ms - elapsed));
      }
      await yieldToEventLoop();
    },
    broker(host) {
      const config = brokerConfig({ 'data.dir': '/data', host, port: 9092 });
      return world.settle(startBroker(config, { clock, rng, fs: new SimulatedFileSystem(), transport: network.node(host), logger: silentLogger() }));
    },
  };
  return world;
}
