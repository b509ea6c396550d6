/**
 * One node of the simulated cluster (the controller or a broker): its disk,
 * kept across restarts, and its current incarnation: the NodeSwitch it runs
 * behind, the running process once started, and the read-only view of its
 * replica manager and metadata the invariants look at.
 */
import { pino } from 'pino';
import { brokerConfig } from '../../broker/config.js';
import { startController } from '../../broker/controller-node.js';
import type { Logger } from '../../broker/log.js';
import { startBroker, type RunningBroker } from '../../broker/main.js';
import type { MetadataImage } from '../../broker/metadata/image.js';
import type { ReplicaManager } from '../../broker/replication/replica-manager.js';
import { SimulatedFileSystem, type CrashLoss } from '../../broker/world/file-system.js';
import type { Clock } from '../../broker/world/clock.js';
import { NodeSwitch } from '../../broker/world/node-switch.js';
import type { Simulation } from './engine.js';

export const PORT = 9092;

export interface NodeView {
  replicas: ReplicaManager | null;
  image: () => MetadataImage;
}

export type NodeStatus = 'down' | 'starting' | 'up' | 'paused';

/** The broker settings of every simulated node: short sessions and lags so that a run covers several failovers in tens of simulated seconds. */
export const SIM_SETTINGS: Record<string, string | number> = {
  port: PORT,
  'broker.heartbeat.interval.ms': 400,
  'broker.session.timeout.ms': 2000,
  'broker.session.disconnect.timeout.ms': 800,
  'replica.lag.time.max.ms': 2000,
  'replica.fetch.wait.max.ms': 500,
  'replica.high.watermark.checkpoint.interval.ms': 1000,
  'controlled.shutdown.timeout.ms': 1000,
  'shutdown.timeout.ms': 1000,
  'auto.create.topics': 'false',
  // Consumer groups (group-members.ts): sessions short enough for a crashed member to be replaced within a run.
  'group.consumer.session.timeout.ms': 3000,
  'group.consumer.min.session.timeout.ms': 1000,
  'group.consumer.heartbeat.interval.ms': 500,
  'offsets.topic.num.partitions': 2,
  // Share groups (share-members.ts): a crashed member's locks are released within a run.
  'group.share.session.timeout.ms': 3000,
  'group.share.heartbeat.interval.ms': 500,
};

/**
 * A logger that only listens for broken invariants: the broker logs an
 * InvariantError (a log taken offline, a fatal broker fault) at error level;
 * the simulation turns each into a failure. Synchronous, no stream.
 */
function invariantLogger(onInvariant: (line: string) => void): Logger {
  const write = (line: string): void => {
    if (!line.includes('invariant broken')) return;
    const { msg, err } = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    onInvariant([msg, err?.message].filter((part) => part !== undefined && part !== '').join(': ') || line);
  };
  return pino({ level: 'error', base: null, timestamp: false }, { write });
}

export class SimNode {
  readonly disk = new SimulatedFileSystem();
  status: NodeStatus = 'down';
  incarnation = 0;
  view: NodeView | null = null;
  running: RunningBroker | null = null;
  #switch: NodeSwitch | null = null;
  /** How far this machine's wall clock was stepped (stepClock). */
  #wallStepMs = 0;

  /** How far this machine's wall clock is off the simulation's, for good (stepClock): checkers judging instants on it allow for it. */
  get wallStepMs(): number {
    return this.#wallStepMs;
  }
  /** Its disk's medium flipped a bit: its records are not compared until an operator wipes the damaged log and restarts it. */
  damaged = false;
  /** Broken invariants the node logged (the invariants fail the run on the next check). */
  readonly brokenInvariants: string[] = [];

  constructor(
    readonly sim: Simulation,
    readonly id: number,
    readonly role: 'controller' | 'broker',
  ) {}

  get host(): string {
    return this.role === 'controller' ? 'controller' : `b${this.id}`;
  }

  get name(): string {
    return this.role === 'controller' ? 'controller' : `broker ${this.id}`;
  }

  /** Starts a new incarnation on this node's disk; the start runs as the simulation steps. */
  start(): void {
    if (this.status !== 'down') return;
    this.incarnation += 1;
    const incarnation = this.incarnation;
    const sw = new NodeSwitch({ clock: this.#machineClock(), fs: this.disk, transport: this.sim.network.node(this.host) });
    this.#switch = sw;
    this.status = 'starting';
    this.view = null;
    const settings = this.role === 'controller'
      ? { ...SIM_SETTINGS, 'node.id': 0, host: this.host, 'data.dir': '/meta' }
      : { ...SIM_SETTINGS, 'node.id': this.id, host: this.host, 'data.dir': '/data', 'controller.address': `controller:${PORT}` };
    const world = {
      clock: sw.clock,
      fs: sw.fs,
      transport: sw.transport,
      rng: this.sim.rngFor(`${this.host}#${incarnation}`),
      logger: invariantLogger((line) => this.brokenInvariants.push(line)),
      descriptors: { limit: () => null, inUse: () => null },
      observe: (view: NodeView) => {
        if (this.incarnation === incarnation) this.view = view;
      },
    };
    const starting = this.role === 'controller' ? startController(brokerConfig(settings), world) : startBroker(brokerConfig(settings), world);
    this.sim.event(`start ${this.name} #${incarnation}`);
    starting.then(
      (running) => {
        if (this.incarnation !== incarnation || sw.state === 'dead') return;
        this.running = running;
        this.status = sw.state === 'paused' ? 'paused' : 'up';
        this.sim.event(`up ${this.name} #${incarnation}`);
        void running.failure.then((error) => {
          if (this.incarnation === incarnation && sw.state !== 'dead') this.brokenInvariants.push(`${this.name} stopped: ${error.message}`);
        });
      },
      (error: unknown) => {
        if (this.incarnation !== incarnation || sw.state === 'dead') return;
        // A start that fails (a disk fault at the wrong moment) leaves the node down; the fault schedule restarts it.
        this.sim.event(`start failed ${this.name} #${incarnation}: ${(error as Error).message}`);
        sw.kill();
        this.sim.network.kill(this.host);
        this.disk.killProcess();
        this.status = 'down';
        this.view = null;
      },
    );
  }

  /** SIGKILL (`loss` null: the machine stays up, its page cache too) or a power loss (`loss`: what the unsynced pages become). */
  crash(loss: CrashLoss | null): void {
    if (this.status === 'down') return;
    this.#switch?.kill();
    this.sim.network.kill(this.host);
    if (loss === null) this.disk.killProcess();
    else this.disk.crash({ rng: this.sim.rngFor('power loss'), loss });
    this.status = 'down';
    this.view = null;
    this.running = null;
    this.sim.event(`${loss === null ? 'kill' : `power loss (${loss})`} ${this.name} #${this.incarnation}`);
  }

  pause(): void {
    if (this.status !== 'up' && this.status !== 'starting') return;
    this.#switch?.pause();
    if (this.status === 'up') this.status = 'paused';
    this.sim.event(`pause ${this.name}`);
  }

  resume(): void {
    if (this.#switch?.state !== 'paused') return;
    this.sim.event(`resume ${this.name}`);
    if (this.status === 'paused') this.status = 'up';
    this.#switch.resume();
  }

  get paused(): boolean {
    return this.#switch?.state === 'paused';
  }

  /**
   * Steps this machine's wall clock by `deltaMs` for good, as NTP or an
   * operator setting the time does: what its processes read from `nowMs`
   * jumps, their monotonic time and timers run on (every incarnation after
   * this one sees the same offset: it is the machine's clock).
   */
  stepClock(deltaMs: number): void {
    this.#wallStepMs += deltaMs;
    this.sim.event(`clock of ${this.name} stepped ${deltaMs > 0 ? '+' : ''}${deltaMs} ms (now ${this.#wallStepMs > 0 ? '+' : ''}${this.#wallStepMs} ms off)`);
  }

  /** The simulation's clock as this machine reads it: its wall clock off by the steps so far. */
  #machineClock(): Clock {
    const shared = this.sim.clock;
    return {
      nowMs: () => shared.nowMs() + this.#wallStepMs,
      monotonicNs: () => shared.monotonicNs(),
      schedule: (delayMs, fn) => shared.schedule(delayMs, fn),
    };
  }
}
