/**
 * The seeded simulation of a whole Runnel cluster in one process: the
 * controller process and three brokers (the real `startController` and
 * `startBroker`), a producing and a consuming client (the real SDK), all on
 * one `ManualClock` and one `MemoryNetwork`, each node on its own
 * `SimulatedFileSystem`. docs/SIMULATION.md says what is simulated and how to
 * replay a seed.
 *
 * Determinism (a seed is a run, exactly):
 * - Time starts at a fixed instant (`SIM_START_MS`), never `Date.now()`, and
 *   moves only here: `step` fires the one earliest timer of the ManualClock
 *   (time jumps to it), then yields to the event loop (`setImmediate`) until
 *   no other immediate is pending, so every promise and every deferred pass
 *   (the producer's `setImmediate` sender) that timer caused has run before
 *   the next one fires, as in a real event loop between two callbacks. No
 *   real timer, sleep or I/O is reachable: the brokers read time through
 *   their Clock, the disk is in memory (its promises settle within a step),
 *   worker threads are off on a simulated disk (recovery and the cleaner run
 *   inline, broker/main.ts), logs go nowhere.
 * - Every random choice comes from the seed: one master `seededRng(seed)`
 *   hands each consumer its own generator (`rngFor(name)`: the network's
 *   delays, each node incarnation's ids and jitter, the clients', the fault
 *   schedule, what a power loss keeps), so adding a draw in one place does
 *   not shift the others.
 * - The trace (trace.ts) hashes every fault, ack, consumed record and
 *   leadership change with its simulated time; replay.test.ts runs seeds
 *   twice in one process and compares the hashes (which also catches
 *   module-level state leaking from one run into the next).
 *
 * Crashes: every node runs behind a `NodeSwitch` (broker/world/node-switch.ts).
 * Killing it drops its timers and connection events and freezes its disk
 * calls (never settle, or throw if synchronous), `MemoryNetwork.kill` resets
 * its connections, and its disk either keeps the page cache (a process
 * crash, `killProcess`) or loses everything not fsynced, file bytes and
 * directory entries, with a torn prefix or random pages kept (a power loss,
 * `crash`). A restart is a new incarnation on the same disk and host.
 * A pause holds the node's timers and deliveries and releases them in order.
 *
 * Network faults: partitions ('hold': a firewall dropping packets, TCP
 * retransmits later, nothing is lost; 'reset': connections reset, connects
 * refused) and per-message delays of 0..maxDelayMs. TCP neither loses,
 * duplicates nor reorders bytes within a connection, so the simulation does
 * none of that inside a connection; reordering happens between connections
 * (independent delays), duplicates happen where real systems make them (a
 * client retrying a request whose answer was lost with its connection).
 *
 * Invariants are checked after every step (invariants.ts); a failure throws
 * SimulationFailure naming seed, step and invariant.
 */
import { ManualClock } from '../../broker/world/clock.js';
import { MemoryNetwork } from '../../broker/world/memory-transport.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { SimulationFailure } from './failure.js';
import { SimNode } from './sim-node.js';
import { Trace } from './trace.js';

/** 2023-11-14T22:13:20Z: a fixed instant, so record timestamps are the same in every run. */
export const SIM_START_MS = 1_700_000_000_000;

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Yields until no immediate is pending (bounded: a foreign one, the test runner's, must not hold us). */
async function drain(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    await immediate();
    if (!process.getActiveResourcesInfo().includes('Immediate')) return;
  }
}

export interface Checker {
  /** Called after every step; throws SimulationFailure (via `sim.fail`) when something is wrong. */
  check(): void;
}

export class Simulation {
  readonly seed: number;
  readonly clock = new ManualClock(SIM_START_MS);
  readonly network: MemoryNetwork;
  readonly trace: Trace;
  readonly nodes = new Map<string, SimNode>();
  readonly #master: Rng;
  readonly #checkers: Checker[] = [];
  steps = 0;

  constructor(seed: number, opts: { print?: ((line: string) => void) | null; maxDelayMs?: number } = {}) {
    this.seed = seed;
    this.#master = seededRng(seed);
    this.trace = new Trace(opts.print ?? null);
    this.network = new MemoryNetwork({ clock: this.clock, rng: this.rngFor('network'), minDelayMs: 0, maxDelayMs: opts.maxDelayMs ?? 3 });
  }

  /** A generator of its own for `purpose` (drawn from the master in call order, which is itself deterministic). */
  rngFor(purpose: string): Rng {
    void purpose; // names the draw at the call site; the order of calls is what makes it deterministic
    return seededRng(this.#master.int(0x1_0000_0000));
  }

  /** Simulated ms since the start. */
  get elapsedMs(): number {
    return this.clock.nowMs() - SIM_START_MS;
  }

  addNode(node: SimNode): SimNode {
    this.nodes.set(node.host, node);
    return node;
  }

  addChecker(checker: Checker): void {
    this.#checkers.push(checker);
  }

  event(text: string): void {
    this.trace.add(this.elapsedMs, text);
  }

  /** The first failure of the run: kept, so that one thrown inside a client callback still ends the run. */
  failure: SimulationFailure | null = null;

  fail(invariant: string, detail: string): never {
    this.failure ??= new SimulationFailure(this.seed, this.steps, this.elapsedMs, invariant, detail);
    throw this.failure;
  }

  /** Runs `fn` (a client callback) so that a failure it throws ends the run at the next check instead of escaping as an unhandled rejection. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (this.failure === null) throw error;
    }
  }

  #check(): void {
    if (this.failure !== null) throw this.failure;
    for (const checker of this.#checkers) checker.check();
  }

  /**
   * Runs until `done()` holds (checked after every step) or simulated time
   * would pass `untilMs` (elapsed); true if `done` held. Without `done`,
   * runs to `untilMs` exactly.
   */
  async runUntil(untilMs: number, done: () => boolean = () => false): Promise<boolean> {
    const deadline = SIM_START_MS + untilMs;
    await drain();
    this.#check();
    for (;;) {
      if (done()) return true;
      const due = this.clock.nextDueMs();
      if (due === undefined || due > deadline) {
        if (this.clock.nowMs() < deadline) this.clock.advance(deadline - this.clock.nowMs());
        await drain();
        this.#check();
        return done();
      }
      this.clock.fireNext();
      this.steps += 1;
      await drain();
      this.#check();
    }
  }

  /** Runs until `promise` settles or `untilMs` (elapsed) passes; its value, or undefined if it did not settle. */
  async settle<T>(promise: Promise<T>, untilMs: number): Promise<{ value: T } | { error: unknown } | null> {
    let outcome: { value: T } | { error: unknown } | null = null;
    promise.then((value) => { outcome = { value }; }, (error: unknown) => { outcome = { error }; });
    await this.runUntil(untilMs, () => outcome !== null);
    return outcome;
  }
}
