/**
 * The state file of a local cluster (`<data>/cluster.json`): which nodes
 * `runnel cluster up` laid out (id, role, address, data directory, log) and
 * which process each one runs as now. A process is recorded with the start
 * time and command line /proc gave it at launch, so `down`, `kill` and
 * `status` can tell it from an unrelated process that later got the same pid
 * (see process-identity.ts).
 *
 * Written atomically (a temporary file, fsync, rename, fsync of the
 * directory): a crash or a Ctrl-C mid-write leaves the old state or the new
 * one, never half of one, and the pids it records are never lost.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../cli-error.js';

export const STATE_FILE = 'cluster.json';
const STATE_VERSION = 1;

/** `etcd`: the etcd server of a cluster whose controller is elected among its brokers (`up --etcd`). */
export type NodeRole = 'controller' | 'broker' | 'etcd';

/** A process as /proc saw it right after launch. */
export interface RecordedProcess {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot): with the pid, unique for the life of the machine. */
  startTime: string;
  /** /proc/<pid>/cmdline, split at NULs. */
  cmdline: string[];
}

export interface ClusterNode {
  /** Node id: 0 for the controller (or etcd), 1..N for brokers. */
  id: number;
  role: NodeRole;
  host: string;
  port: number;
  /** Absolute: `<data>/controller` or `<data>/broker-<id>`. */
  dataDir: string;
  /** `<dataDir>/broker.log`: stdout and stderr of every run, appended. */
  logPath: string;
  rack: string | null;
  /** The etcd node's peer port (its client port is `port`). */
  peerPort?: number;
  /** The process it runs as, or null when none was started since `down`. */
  process: RecordedProcess | null;
}

export interface ClusterState {
  version: number;
  /** Absolute data directory of the whole cluster. */
  dataDir: string;
  nodes: ClusterNode[];
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

export function nodeName(node: Pick<ClusterNode, 'id' | 'role'>): string {
  return node.role === 'broker' ? `broker-${node.id}` : node.role;
}

export function addressOf(node: Pick<ClusterNode, 'host' | 'port'>): string {
  return `${node.host}:${node.port}`;
}

/** The state under `dataDir`, or null when no cluster was ever brought up there. */
export function readState(dataDir: string): ClusterState | null {
  let text: string;
  try {
    text = readFileSync(statePath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let state: ClusterState;
  try {
    state = JSON.parse(text) as ClusterState;
  } catch {
    throw new CliError(`${statePath(dataDir)} is not valid JSON; stop the processes it named by hand and remove it`);
  }
  if (state.version !== STATE_VERSION || !Array.isArray(state.nodes)) {
    throw new CliError(`${statePath(dataDir)} is not a cluster state file of this version (${STATE_VERSION}); stop the processes it named by hand and remove it`);
  }
  return state;
}

/** The state under `dataDir`, or a one-line error saying how to make one. */
export function requireState(dataDir: string): ClusterState {
  const state = readState(dataDir);
  if (state === null) throw new CliError(`no cluster in ${dataDir} (no ${STATE_FILE}); start one with \`runnel cluster up --brokers 3 --data ${dataDir}\``);
  return state;
}

export function newState(dataDir: string, nodes: ClusterNode[]): ClusterState {
  return { version: STATE_VERSION, dataDir, nodes };
}

/** Replaces the state file atomically and durably: temp file, fsync, rename, fsync of the directory. */
export function writeState(state: ClusterState): void {
  const target = statePath(state.dataDir);
  const temp = `${target}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
  const dir = openSync(state.dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The node with id `id`, or an error listing the ids there are. */
export function nodeById(state: ClusterState, id: number): ClusterNode {
  const node = state.nodes.find((n) => n.id === id);
  if (node === undefined) {
    const ids = state.nodes.map((n) => `${n.id}${n.role === 'broker' ? '' : ` (${n.role})`}`).join(', ');
    throw new CliError(`the cluster in ${state.dataDir} has no node ${id}; its nodes are ${ids}`);
  }
  return node;
}
