/**
 * The fault schedule of a simulated run: at seeded random times in the
 * fault window, a seeded random fault among those the cluster's state allows
 * now, each undone after a seeded random while (a restart, a heal, a
 * resume); at the window's end everything is undone (`stopAll`).
 *
 * The faults: SIGKILL of a broker or the controller (page cache kept), a
 * power loss of one (unsynced file bytes and directory entries lost, torn
 * or in random pages), SIGSTOP/SIGCONT, a node cut off from the others or
 * two nodes from each other ('hold' or 'reset'), and disk faults on a
 * broker's segments (a failed fdatasync, a full disk on write), each
 * followed by a restart of that broker as an operator would after a disk
 * error, and a bit flipped in a stored batch, followed by the operator
 * wiping that partition's log and restarting the broker (it copies the log
 * again from the leader), and a machine's wall clock stepped for good, up
 * to two minutes either way (timers and monotonic time run on). Bit flips
 * and clock steps are not in the default draw (scenario.ts's ALL_FAULTS)
 * but in their own CI runs (bitflip.test.ts, clock.test.ts).
 *
 * What the guarantee covers decides what may overlap (DESIGN.md: with
 * acks=all an acknowledged record survives the failure of fewer than
 * min.insync.replicas replicas, here 2). A process crash loses nothing that
 * was written, so kills, pauses and cuts overlap freely. A power loss does
 * lose what its broker had not fsynced, so it is one failure that counts:
 * it strikes only while every broker is up and in every ISR with no cut or
 * pause in progress, and until it is back in every ISR no other broker
 * fault starts and the controller may only crash (a paused or cut-off
 * controller fences healthy brokers, which shrinks ISRs as their failure
 * would). A disk fault counts the same way (it may take a log offline
 * until the restart).
 *
 * Outside the guarantee, Runnel loses acknowledged records as Kafka did
 * before KIP-966: seed 451 with an isolated controller overlapping a power
 * loss (see docs/SIMULATION.md, "Known gaps").
 */
import type { CrashLoss } from '../../broker/world/file-system.js';
import type { Rng } from '../../broker/world/rng.js';
import { BATCH_OFFSET_ATTRIBUTES } from '../../protocol/batch/header.js';
import { batchSpans } from './disk-view.js';
import type { Simulation } from './engine.js';
import type { SimNode } from './sim-node.js';

export type FaultKind = 'kill' | 'power' | 'pause' | 'isolate' | 'cut' | 'fsync' | 'full' | 'bitflip' | 'clock';

export interface FaultOptions {
  kinds: readonly FaultKind[];
  /** How many faults start in the window (at most). */
  count: number;
  windowMs: number;
}

export class FaultSchedule {
  readonly #sim: Simulation;
  readonly #rng: Rng;
  readonly #nodes: SimNode[];
  readonly #undo = new Map<number, () => void>();
  #nextUndo = 0;
  /** A broker fault that counts toward the guarantee is in progress (until every broker is back in every ISR). */
  #countingFault = false;
  /** Cuts and pauses in progress. */
  #disturbances = 0;
  #stopped = false;
  #healthy: () => boolean = () => false;

  constructor(sim: Simulation, nodes: SimNode[]) {
    this.#sim = sim;
    this.#rng = sim.rngFor('faults');
    this.#nodes = nodes;
  }

  /** Schedules `count` fault starts in [now, now + windowMs). */
  plan(opts: FaultOptions, healthy: () => boolean): void {
    this.#healthy = healthy;
    const start = this.#sim.clock.nowMs();
    for (let i = 0; i < opts.count; i++) {
      const at = this.#rng.int(opts.windowMs);
      const kind = opts.kinds[this.#rng.int(opts.kinds.length)]!;
      this.#sim.clock.schedule(start + at - this.#sim.clock.nowMs(), () => {
        if (this.#stopped) return;
        if (this.#countingFault && healthy()) this.#countingFault = false;
        this.#start(kind, healthy);
      });
    }
  }

  #brokers(): SimNode[] {
    return this.#nodes.filter((n) => n.role === 'broker');
  }

  #pick<T>(items: readonly T[]): T {
    return items[this.#rng.int(items.length)]!;
  }

  /**
   * A SIGKILL of `node` now, aimed by the scenario (the share group's
   * coordinator mid-flight), restarted after `downMs`; refused (false) when
   * the schedule would refuse a broker fault now (a counting fault not over).
   * Draws nothing from the schedule's generator: the planned faults stay the same.
   */
  kill(node: SimNode, downMs: number): boolean {
    if (this.#stopped || node.status !== 'up') return false;
    if (node.role === 'broker' && this.#countingFault && !this.#healthy()) return false;
    node.crash(null);
    this.#after(downMs, () => node.start());
    return true;
  }

  #later(minMs: number, maxMs: number, undo: () => void): void {
    this.#after(minMs + this.#rng.int(maxMs - minMs + 1), undo);
  }

  #after(delayMs: number, undo: () => void): void {
    const id = this.#nextUndo++;
    this.#undo.set(id, undo);
    this.#sim.clock.schedule(delayMs, () => {
      if (!this.#undo.delete(id)) return;
      undo();
    });
  }

  #start(kind: FaultKind, healthy: () => boolean): void {
    const counting = kind === 'power' || kind === 'fsync' || kind === 'full' || kind === 'bitflip';
    // A counting broker fault needs a healthy cluster with no cut and no pause in progress; while one is in progress, no other broker
    // fails, and the controller may only crash: a paused or cut-off controller fences brokers that are fine, shrinking ISRs to the
    // very replica that lost its unsynced records (a second failure, which the guarantee does not cover).
    const calm = this.#disturbances === 0;
    const brokerTargetsAllowed = !this.#countingFault && (!counting || (healthy() && calm));
    const controllerAllowed = this.#countingFault ? kind === 'kill' || kind === 'power' : !counting || kind === 'power';
    const candidates = this.#nodes.filter((n) => (n.role === 'controller' ? controllerAllowed : brokerTargetsAllowed));
    if (candidates.length === 0) return;
    const node = this.#pick(candidates);
    if (counting && node.role === 'broker') this.#countingFault = true;
    switch (kind) {
      case 'kill':
      case 'power': {
        if (node.status === 'down') return;
        const loss: CrashLoss | null = kind === 'kill' ? null : this.#pick(['prefix', 'pages'] as const);
        node.crash(loss);
        this.#later(300, 4000, () => node.start());
        return;
      }
      case 'pause':
        if (node.paused || node.status === 'down') return;
        node.pause();
        this.#disturbances += 1;
        this.#later(200, 4000, () => {
          this.#disturbances -= 1;
          node.resume();
        });
        return;
      case 'isolate': {
        const mode = this.#pick(['hold', 'reset'] as const);
        const others = [...this.#nodes.filter((n) => n !== node).map((n) => n.host), 'client'];
        for (const other of others) this.#sim.network.partition(node.host, other, mode);
        this.#sim.event(`isolate ${node.name} (${mode})`);
        this.#disturbances += 1;
        this.#later(300, 5000, () => {
          this.#disturbances -= 1;
          for (const other of others) this.#sim.network.heal(node.host, other);
          this.#sim.event(`heal ${node.name}`);
        });
        return;
      }
      case 'cut': {
        const other = this.#pick(this.#nodes.filter((n) => n !== node));
        const mode = this.#pick(['hold', 'reset'] as const);
        this.#sim.network.partition(node.host, other.host, mode);
        this.#sim.event(`cut ${node.name} from ${other.name} (${mode})`);
        this.#disturbances += 1;
        this.#later(300, 5000, () => {
          this.#disturbances -= 1;
          this.#sim.network.heal(node.host, other.host);
          this.#sim.event(`heal ${node.name} - ${other.name}`);
        });
        return;
      }
      case 'fsync':
      case 'full':
        node.disk.injectFault(kind === 'fsync' ? 'datasync' : 'write', '.log', 1, kind === 'full' ? { code: 'ENOSPC', partialBytes: this.#rng.int(64) } : {});
        this.#sim.event(`${kind === 'fsync' ? 'failing fdatasync' : 'full disk'} on ${node.name}`);
        this.#later(500, 3000, () => this.#restart(node));
        return;
      case 'clock':
        // For good: NTP steps a clock that was off to the right time and leaves it there. Up to two minutes either way.
        node.stepClock((this.#rng.int(2) === 0 ? -1 : 1) * (1 + this.#rng.int(120_000)));
        return;
      case 'bitflip': {
        if (node.role !== 'broker' || node.status !== 'up') return;
        const damaged = this.#flipBit(node);
        if (damaged === null) return;
        this.#later(200, 2000, () => this.#wipe(node, damaged));
        return;
      }
    }
  }

  /** An operator restarts a broker after a disk error: SIGKILL (the disk as it is), then start. */
  #restart(node: SimNode): void {
    node.disk.clearFaults();
    node.crash(null);
    node.start();
  }

  /**
   * Flips a bit inside a stored batch's CRC-covered bytes (a flip in the
   * offset, length or epoch fields that precede the CRC is not detectable
   * by anyone, in Kafka's format as in ours); the partition directory
   * damaged, or null when there is no batch yet.
   */
  #flipBit(node: SimNode): string | null {
    const dirs = (node.disk.list('/data') ?? []).filter((name) => /-\d+$/.test(name));
    if (dirs.length === 0) return null;
    const dir = `/data/${this.#pick(dirs)}`;
    const logs = (node.disk.list(dir) ?? []).filter((name) => name.endsWith('.log'));
    if (logs.length === 0) return null;
    const file = `${dir}/${this.#pick(logs)}`;
    const batches = batchSpans(node.disk.peek(file) ?? new Uint8Array(0));
    if (batches.length === 0) return null;
    const batch = this.#pick(batches);
    const position = batch.position + BATCH_OFFSET_ATTRIBUTES + this.#rng.int(batch.sizeBytes - BATCH_OFFSET_ATTRIBUTES);
    node.disk.flipBit(file, position, this.#rng.int(8));
    node.damaged = true;
    this.#sim.event(`bit flipped in ${node.name} ${file} at ${position}`);
    return dir;
  }

  /** The operator's answer to a damaged log: stop the broker, remove that partition's directory (durably), start it; it copies the log again. */
  #wipe(node: SimNode, dir: string): void {
    node.crash(null);
    this.#sim.event(`wipe ${dir} of ${node.name}`);
    // The simulated disk removes the tree before its promise settles; the directory's fsync settles within this step.
    void node.disk.removeTree(dir);
    void node.disk.fsyncDir('/data');
    node.damaged = false;
    node.start();
  }

  /** The window is over: heal every cut, resume every pause, restart every stopped node, clear disk faults. */
  stopAll(): void {
    this.#stopped = true;
    const pending = [...this.#undo.values()];
    this.#undo.clear();
    for (const undo of pending) undo();
    for (const node of this.#nodes) {
      node.disk.clearFaults();
      node.resume();
      if (node.status === 'down') node.start();
    }
    this.#sim.event('faults stopped');
  }
}
