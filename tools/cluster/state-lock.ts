/**
 * One `runnel cluster` command at a time changes a cluster's state file:
 * commands that launch or stop nodes hold `<data>/cluster.lock` (flock(2),
 * dropped by the kernel if the command dies) and re-read the state under it,
 * so two drills at once (`start --broker 1` and `start --broker 2` from two
 * shells or a test) never write over each other's pids. Reading the state
 * needs no lock: it is replaced atomically.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fsExt from 'fs-ext';
import { CliError } from '../cli-error.js';
import { requireState, writeState, type ClusterState } from './cluster-state.js';

const LOCK_FILE = 'cluster.lock';
const LOCK_POLL_MS = 50;
/** Longer than any one command holds it (an `up` of many nodes on a slow machine). */
export const LOCK_TIMEOUT_MS = 300_000;

function tryLock(path: string): number | null {
  const fd = openSync(path, 'a');
  try {
    fsExt.flockSync(fd, 'exnb');
    return fd;
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return null;
    throw err;
  }
}

/** Runs `fn` holding the cluster's lock, waiting (bounded) for another command to let go of it. */
export async function withStateLock<T>(dataDir: string, fn: () => Promise<T> | T, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  const path = join(dataDir, LOCK_FILE);
  const deadline = performance.now() + timeoutMs;
  let fd: number | null;
  while ((fd = tryLock(path)) === null) {
    if (performance.now() >= deadline) throw new CliError(`another \`runnel cluster\` command has held ${path} for ${timeoutMs} ms; wait for it, or stop it`);
    await sleep(LOCK_POLL_MS);
  }
  try {
    return await fn();
  } finally {
    closeSync(fd);
  }
}

/** Under the lock: reads the state as it is now, lets `mutate` change it, and writes it back. */
export function updateState<T>(dataDir: string, mutate: (state: ClusterState) => T): Promise<T> {
  return withStateLock(dataDir, () => {
    const state = requireState(dataDir);
    const result = mutate(state);
    writeState(state);
    return result;
  });
}
