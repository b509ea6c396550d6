/**
 * What the `runnel cluster` tests share: a run of `runnel cluster ...` on a
 * directory, a free run of consecutive loopback ports, the state file, the
 * pids /proc says are alive, and a safety net that stops every process a
 * test's cluster recorded if the test itself fails half-way.
 */
import type { Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDataDir } from '../support/broker-process.js';
import { runnel, type CliResult } from './run-cli.js';
import type { ClusterState } from '../../tools/cluster/cluster-state.js';
import { ourProcess, snapshot } from '../../tools/cluster/process-identity.js';

/** `up` launches several nodes on a busy 2-core machine: give it room, still bounded. */
export const CLUSTER_CLI_TIMEOUT_MS = 90_000;

export function clusterCli(args: string[], timeoutMs = CLUSTER_CLI_TIMEOUT_MS): Promise<CliResult> {
  return runnel(['cluster', ...args], { timeoutMs });
}

/** A base port P with P..P+count-1 all free on 127.0.0.1 now (shared with the cluster benchmark). */
export { freePortRun } from '../../tools/cluster/free-ports.js';

export function readClusterState(dir: string): ClusterState {
  return JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterState;
}

export function writeClusterState(dir: string, state: ClusterState): void {
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state, null, 2));
}

/** Alive for /proc: exists and is not a zombie (orphaned nodes may wait to be reaped). */
export function pidAlive(pid: number): boolean {
  const s = snapshot(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

export interface StatusEntry {
  id: number;
  address: string;
  pid: number | null;
  state: 'running' | 'stopped' | 'dead';
  controller: boolean;
}

export async function statusJson(t: Test, dir: string): Promise<StatusEntry[]> {
  const r = await clusterCli(['status', '--data', dir, '--json']);
  t.equal(r.code, 0, `status --json exits 0 ${r.stderr}`);
  return (JSON.parse(r.stdout) as { brokers: StatusEntry[] }).brokers;
}

/**
 * A fresh cluster directory; at teardown `cluster down` runs on it, and if
 * any recorded process is still ours after that, it is killed and the test
 * fails (a leak is a bug, not noise).
 */
export function clusterDir(t: Test): string {
  const dir = freshDataDir('runnel-cluster-test-');
  t.teardown(async () => {
    let state: ClusterState;
    try {
      state = readClusterState(dir);
    } catch {
      return;
    }
    if (state.nodes.every((n) => ourProcess(n.process) === null)) return;
    await clusterCli(['down', '--data', dir, '--grace-ms', '5000']);
    for (const n of readClusterState(dir).nodes) {
      if (ourProcess(n.process) !== null) {
        process.kill(n.process!.pid, 'SIGKILL');
        t.fail(`${n.role} ${n.id} (pid ${n.process!.pid}) outlived cluster down`);
      }
    }
  });
  return dir;
}
