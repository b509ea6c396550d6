/**
 * The local cluster's operations, as `runnel cluster` runs them: lay out
 * and launch the nodes (`up`), report them (`status`), stop exactly the
 * processes it launched (`down`), and the fault drills (`kill`, `start`).
 * Every pid that was launched is in the state file before anything waits on
 * it, so an interrupted `up` still leaves `down` able to stop it.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from '../cli-error.js';
import { addressOf, newState, nodeById, nodeName, readState, requireState, writeState, type ClusterNode, type ClusterState } from './cluster-state.js';
import { launchNode, signalIfOurs, stopProcess, waitForLiveness, waitUntilListening, type StopOutcome } from './node-process.js';
import { electedController, requireEtcdBinary } from './etcd-node.js';
import { liveness, type Liveness } from './process-identity.js';
import { updateState, withStateLock } from './state-lock.js';

export const CLUSTER_HOST = '127.0.0.1';

export interface UpOptions {
  brokers: number;
  dataDir: string;
  basePort: number;
  rackPerBroker: boolean;
  /** An etcd server instead of a controller process; every broker is a controller candidate. */
  etcd?: boolean;
  timeoutMs: number;
  graceMs: number;
}

export interface NodeStatus {
  id: number;
  address: string;
  /** null when no process of it runs (dead: exited, or its pid is now another process's). */
  pid: number | null;
  state: Liveness;
  role: ClusterNode['role'];
  /** The controller process, or (on etcd) the broker etcd names as the active controller. */
  controller: boolean;
}

/**
 * The nodes of a cluster: the controller (id 0) on basePort, broker i on
 * basePort + i; with `etcd`, node 0 is an etcd server instead (client port
 * basePort, peer port basePort + brokers + 1).
 */
export function layOut(dataDir: string, brokers: number, basePort: number, rackPerBroker: boolean, etcd = false): ClusterNode[] {
  const node = (id: number, role: ClusterNode['role']): ClusterNode => {
    const dir = join(dataDir, nodeName({ id, role }));
    const log = join(dir, role === 'etcd' ? 'etcd.log' : 'broker.log');
    return { id, role, host: CLUSTER_HOST, port: basePort + id, dataDir: dir, logPath: log, rack: role === 'broker' && rackPerBroker ? `rack-${id}` : null, process: null, ...(role === 'etcd' ? { peerPort: basePort + brokers + 1 } : {}) };
  };
  return [node(0, etcd ? 'etcd' : 'controller'), ...Array.from({ length: brokers }, (_, i) => node(i + 1, 'broker'))];
}

/** What brokers are given as `--controller`: the controller process's address, or `etcd://` and the etcd server's. */
export function controllerAddress(state: ClusterState): string {
  const first = state.nodes.find((n) => n.role !== 'broker');
  if (first === undefined) return '';
  return first.role === 'etcd' ? `etcd://${addressOf(first)}` : addressOf(first);
}

/** `host:port,...` of the brokers: what clients bootstrap from. */
export function bootstrapOf(state: ClusterState): string {
  return state.nodes.filter((n) => n.role === 'broker').map(addressOf).join(',');
}

export function absoluteDataDir(dir: string): string {
  return resolve(dir);
}

/**
 * Launches the controller, waits until it listens, then the brokers, and
 * waits until each listens. On any failure, stops everything it launched and
 * throws the error of the node that failed (with its log tail).
 */
export async function up(opts: UpOptions): Promise<ClusterState> {
  const dataDir = absoluteDataDir(opts.dataDir);
  const lastPort = opts.basePort + opts.brokers + (opts.etcd === true ? 1 : 0);
  if (opts.etcd === true) requireEtcdBinary();
  if (lastPort > 65535) throw new CliError(`--base-port ${opts.basePort} with ${opts.brokers} brokers needs ports up to ${lastPort}; give a base port of at most ${65535 - opts.brokers}`);
  mkdirSync(dataDir, { recursive: true });
  return withStateLock(dataDir, async () => {
    const previous = readState(dataDir);
    const alive = previous?.nodes.filter((n) => liveness(n.process) !== 'dead') ?? [];
    if (alive.length > 0) {
      const which = alive.map((n) => `${nodeName(n)} (pid ${n.process!.pid})`).join(', ');
      throw new CliError(`a cluster is already running from ${dataDir}: ${which}; stop it with \`runnel cluster down --data ${dataDir}\``);
    }
    const state = newState(dataDir, layOut(dataDir, opts.brokers, opts.basePort, opts.rackPerBroker, opts.etcd === true));
    writeState(state);
    const controller = controllerAddress(state);
    try {
      const [first, ...rest] = state.nodes;
      await launchAndWait(state, [first!], controller, opts.timeoutMs);
      await launchAndWait(state, rest, controller, opts.timeoutMs);
    } catch (err) {
      await Promise.all(state.nodes.map((n) => stopProcess(n.process, opts.graceMs)));
      for (const n of state.nodes) n.process = null;
      writeState(state);
      throw err;
    }
    return state;
  });
}

/** Launches `nodes`, records every pid at once, then waits for all of them to listen. */
async function launchAndWait(state: ClusterState, nodes: ClusterNode[], controller: string, timeoutMs: number): Promise<void> {
  const launched = [];
  for (const node of nodes) {
    const l = launchNode(node, controller);
    node.process = l.process;
    writeState(state);
    launched.push({ node, l });
  }
  // The first failure (in node order) is the one reported; the rest are stopped with it.
  const results = await Promise.allSettled(launched.map(({ node, l }) => waitUntilListening(node, l, timeoutMs)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

export async function status(dataDir: string): Promise<NodeStatus[]> {
  const state = requireState(absoluteDataDir(dataDir));
  const etcd = state.nodes.find((n) => n.role === 'etcd');
  const leader = etcd === undefined || liveness(etcd.process) !== 'running' ? null : await electedController(etcd);
  return state.nodes.map((n) => {
    const state = liveness(n.process);
    return { id: n.id, address: addressOf(n), pid: state === 'dead' ? null : n.process!.pid, state, role: n.role, controller: n.role === 'controller' || (n.role === 'broker' && n.id === leader) };
  });
}

export interface DownResult {
  node: ClusterNode;
  pid: number | null;
  outcome: StopOutcome;
}

/**
 * Stops every recorded process that is still ours, and forgets them: the
 * brokers all at once, then the controller (as Kafka stops a cluster: a
 * broker shutting down may still need its controller).
 */
export async function down(dataDir: string, graceMs: number): Promise<DownResult[]> {
  const dir = absoluteDataDir(dataDir);
  requireState(dir);
  return withStateLock(dir, async () => {
    const state = requireState(dir);
    const stop = (nodes: ClusterNode[]): Promise<DownResult[]> =>
      Promise.all(nodes.map(async (node) => ({ node, pid: node.process?.pid ?? null, outcome: await stopProcess(node.process, graceMs) })));
    const brokers = await stop(state.nodes.filter((n) => n.role === 'broker'));
    // The controller process, or etcd: last, as brokers shutting down still need it.
    const controllers = await stop(state.nodes.filter((n) => n.role !== 'broker'));
    const results = [...controllers, ...brokers];
    for (const r of results) if (r.outcome !== 'survived') r.node.process = null;
    writeState(state);
    return results;
  });
}

export const DRILL_SIGNALS = ['KILL', 'STOP', 'CONT', 'TERM'] as const;
export type DrillSignal = (typeof DRILL_SIGNALS)[number];

/** What each signal leaves the process as, once it has acted. */
const SETTLES_AS: Record<DrillSignal, Liveness> = { KILL: 'dead', TERM: 'dead', STOP: 'stopped', CONT: 'running' };

/**
 * Sends `signal` to node `id`'s process, only if it is still the process
 * launched, and waits (bounded) until it has acted: dead after KILL or TERM,
 * paused after STOP, running after CONT. Returns the pid signalled.
 */
export async function kill(dataDir: string, id: number, signal: DrillSignal, timeoutMs: number): Promise<{ node: ClusterNode; pid: number }> {
  const state = requireState(absoluteDataDir(dataDir));
  const node = nodeById(state, id);
  if (!signalIfOurs(node.process, `SIG${signal}`)) throw notRunning(node);
  const recorded = node.process!;
  if (!(await waitForLiveness(recorded, SETTLES_AS[signal], timeoutMs))) {
    throw new CliError(`${nodeName(node)} (pid ${recorded.pid}) got SIG${signal} but is still ${liveness(recorded)} after ${timeoutMs} ms`);
  }
  return { node, pid: recorded.pid };
}

function notRunning(node: ClusterNode): CliError {
  const was = node.process === null ? 'was stopped by `runnel cluster down`' : `pid ${node.process.pid} has exited or is now another process, which is left alone`;
  return new CliError(`${nodeName(node)} is not running (${was}); start it with \`runnel cluster start --broker ${node.id}\``);
}

/**
 * Starts node `id` again with its own id, address and data, and waits until
 * it listens. Already running: nothing to do (as `systemctl start`). Paused
 * by SIGSTOP: refused, since a second process cannot take its port and data.
 */
export async function start(dataDir: string, id: number, timeoutMs: number, graceMs: number): Promise<{ node: ClusterNode; pid: number; already: boolean }> {
  const dir = absoluteDataDir(dataDir);
  nodeById(requireState(dir), id);
  // Launch and record under the lock; wait for it to listen without holding it.
  const launch = await updateState(dir, (state) => {
    const node = nodeById(state, id);
    const now = liveness(node.process);
    if (now === 'running') return { node, launched: null };
    if (now === 'stopped') {
      throw new CliError(`${nodeName(node)} (pid ${node.process!.pid}) is paused (SIGSTOP); resume it with \`runnel cluster kill --broker ${id} --signal CONT\`, or end it with \`--signal KILL\` and start it again`);
    }
    const launched = launchNode(node, controllerAddress(state));
    node.process = launched.process;
    return { node, launched };
  });
  const { node, launched } = launch;
  if (launched === null) return { node, pid: node.process!.pid, already: true };
  try {
    await waitUntilListening(node, launched, timeoutMs);
  } catch (err) {
    await stopProcess(launched.process, graceMs);
    await updateState(dir, (state) => {
      const now = nodeById(state, id);
      if (now.process?.pid === launched.process.pid && now.process.startTime === launched.process.startTime) now.process = null;
    });
    throw err;
  }
  return { node, pid: launched.process.pid, already: false };
}
