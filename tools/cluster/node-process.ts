/**
 * One node's process: launched detached (its own session, so it outlives the
 * `runnel cluster` command and a Ctrl-C at its terminal) with stdout and
 * stderr appended to its log; waited for until it listens; signalled and
 * stopped only while /proc says it is still the process recorded at launch.
 * Every wait is bounded and polls /proc (the nodes are not our children once
 * the launching command has exited, so there is no exit event to wait on).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../cli-error.js';
import { addressOf, nodeName, type ClusterNode, type RecordedProcess } from './cluster-state.js';
import { nodeProcessCommand } from './launch.js';
import { listensOn } from './listening.js';
import { liveness, ourProcess, recordProcess } from './process-identity.js';

const POLL_MS = 50;
const LOG_TAIL_LINES = 20;

/** A launched node: its process, and where its log stood at launch (its tail is this run's output). */
export interface Launched {
  process: RecordedProcess;
  logOffset: number;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Starts `node`'s process; returns once /proc shows it (the exec has happened). */
export function launchNode(node: ClusterNode, controllerAddress: string): Launched {
  mkdirSync(node.dataDir, { recursive: true });
  const logOffset = fileSize(node.logPath);
  const log = openSync(node.logPath, 'a');
  const { file, args } = nodeProcessCommand(node, controllerAddress);
  let pid: number | undefined;
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(log);
  }
  const recorded = pid === undefined ? null : recordProcess(pid);
  if (recorded === null) throw new CliError(`${nodeName(node)} did not start (${file} ${args.join(' ')})${logTail(node, logOffset)}`);
  return { process: recorded, logOffset };
}

/** The last lines `node` logged since `offset`, as a block to append to an error. */
export function logTail(node: ClusterNode, offset: number): string {
  let text = '';
  try {
    text = readFileSync(node.logPath).subarray(offset).toString('utf8');
  } catch {
    return `; no log at ${node.logPath}`;
  }
  const lines = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES);
  return `; the last lines of ${node.logPath}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/**
 * Waits until the launched process listens on the node's port; an error
 * with its log tail if it exits first or `timeoutMs` passes.
 */
export async function waitUntilListening(node: ClusterNode, launched: Launched, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (ourProcess(launched.process) === null) {
      throw new CliError(`${nodeName(node)} (pid ${launched.process.pid}) exited before it listened on ${addressOf(node)}${logTail(node, launched.logOffset)}`);
    }
    if (listensOn(launched.process.pid, node.port)) return;
    if (performance.now() >= deadline) {
      throw new CliError(`${nodeName(node)} (pid ${launched.process.pid}) did not listen on ${addressOf(node)} within ${timeoutMs} ms${logTail(node, launched.logOffset)}`);
    }
    await sleep(POLL_MS);
  }
}

/** Polls until `done()` or `timeoutMs`; returns whether it came. */
async function pollUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** Sends `signal` to the recorded process if it is still ours; false when it is not (nothing sent). */
export function signalIfOurs(recorded: RecordedProcess | null, signal: NodeJS.Signals): boolean {
  if (recorded === null || ourProcess(recorded) === null) return false;
  try {
    process.kill(recorded.pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Waits until the recorded process reaches `state` (bounded). */
export function waitForLiveness(recorded: RecordedProcess, state: 'dead' | 'stopped' | 'running', timeoutMs: number): Promise<boolean> {
  return pollUntil(() => liveness(recorded) === state, timeoutMs);
}

export type StopOutcome = 'stopped' | 'killed' | 'not-running' | 'survived';

/**
 * Stops the recorded process if it is still ours: SIGCONT first when it is
 * paused (a stopped process does not act on SIGTERM until resumed), SIGTERM
 * and `graceMs` to shut down cleanly, then SIGKILL. 'survived' only if even
 * SIGKILL did not end it within `graceMs`.
 */
export async function stopProcess(recorded: RecordedProcess | null, graceMs: number): Promise<StopOutcome> {
  if (recorded === null || liveness(recorded) === 'dead') return 'not-running';
  if (liveness(recorded) === 'stopped') signalIfOurs(recorded, 'SIGCONT');
  if (!signalIfOurs(recorded, 'SIGTERM')) return 'not-running';
  if (await waitForLiveness(recorded, 'dead', graceMs)) return 'stopped';
  signalIfOurs(recorded, 'SIGKILL');
  return (await waitForLiveness(recorded, 'dead', graceMs)) ? 'killed' : 'survived';
}
