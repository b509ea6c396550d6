/**
 * What /proc says about a pid the cluster recorded, so no command ever
 * signals a process it did not start: a pid is "ours" only while its start
 * time and command line are those recorded at launch. A process that exited
 * and whose pid went to something else is then "gone", and left alone.
 *
 * Linux only (as the rest of the local cluster tooling). Between the check
 * and the signal a pid could in principle be reused; that window is a few
 * microseconds, against the seconds-to-hours a recorded pid waits.
 */
import { readFileSync } from 'node:fs';
import type { RecordedProcess } from './cluster-state.js';

/** One process as /proc shows it now. */
export interface ProcessSnapshot {
  pid: number;
  /** The state letter of /proc/<pid>/stat: R, S, D, T (stopped), t (traced), Z (zombie), ... */
  state: string;
  startTime: string;
  cmdline: string[];
}

/** What a recorded process is now. */
export type Liveness = 'running' | 'stopped' | 'dead';

/** /proc/<pid> now, or null when there is no such process. */
export function snapshot(pid: number): ProcessSnapshot | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and ')': split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline[cmdline.length - 1] === '') cmdline.pop();
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    return { pid, state: fields[0] ?? '?', startTime: fields[19] ?? '', cmdline };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
}

/** The recorded process as /proc shows it, or null when it is gone or its pid is another process now. */
export function ourProcess(recorded: RecordedProcess | null): ProcessSnapshot | null {
  if (recorded === null) return null;
  const now = snapshot(recorded.pid);
  if (now === null || now.startTime !== recorded.startTime) return null;
  if (now.state === 'Z' || now.state === 'X') return null;
  // A process being torn down after SIGKILL has released its memory, and with it its command line, before it
  // becomes a zombie: with the recorded start time it is still ours, and still there (ports, files held).
  if (now.cmdline.length === 0) return now;
  if (now.cmdline.length !== recorded.cmdline.length || now.cmdline.some((arg, i) => arg !== recorded.cmdline[i])) return null;
  return now;
}

/** running, stopped (SIGSTOP: state T), or dead (exited, a zombie, or its pid now another process's). */
export function liveness(recorded: RecordedProcess | null): Liveness {
  const now = ourProcess(recorded);
  if (now === null) return 'dead';
  return now.state === 'T' || now.state === 't' ? 'stopped' : 'running';
}

/** Snapshot right after a launch, to record. */
export function recordProcess(pid: number): RecordedProcess | null {
  const now = snapshot(pid);
  return now === null ? null : { pid, startTime: now.startTime, cmdline: now.cmdline };
}
