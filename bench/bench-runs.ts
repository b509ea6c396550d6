/**
 * What the group and queue benchmarks share about runs and figures: a
 * bounded wait, closing every member however the others end, running a
 * scenario `--runs` times (a run that throws or fails its record check is
 * printed as FAILED RUN and left out of the figures), and one figure's
 * line (median, min..max, the goal beside it, never a verdict).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fixed, median } from './bench-support.js';
import { describeCheck, type TallyCheck } from './offset-tally.js';

export type Log = (line: string) => void;

/** One figure over the runs that did not fail. */
export interface Figure<S extends string = string> {
  scenario: S;
  name: string;
  unit: string;
  values: number[];
  goal?: string;
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Closes every member, then rethrows the first failure. */
export async function closeAll(members: readonly { close(): Promise<void> }[]): Promise<void> {
  const results = await Promise.allSettled(members.map((m) => m.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** How a run's record check is judged: `passed`, else it is a failed run, printed with `failure`. */
export interface RunCheck {
  passed(check: TallyCheck): boolean;
  failure: string;
}

/** Runs `once` for each run, logging each; a run that throws or fails the check is reported and left out of the figures. */
export async function repeat<T extends { check: TallyCheck }>(log: Log, judge: RunCheck, label: string, runs: readonly number[], once: (run: number) => Promise<T>, line: (r: T) => string): Promise<T[]> {
  const good: T[] = [];
  for (const run of runs) {
    try {
      const r = await once(run);
      const passed = judge.passed(r.check);
      log(`  ${label} run ${run}: ${describeCheck(r.check)}${passed ? '' : ` -- FAILED RUN (${judge.failure}), no figures from it`}; ${line(r)}`);
      if (passed) good.push(r);
    } catch (err) {
      log(`  ${label} run ${run}: FAILED RUN: ${(err as Error).message}`);
    }
  }
  return good;
}

export function describeFigure(f: Figure): string {
  const name = `${f.scenario.padEnd(10)} ${f.name}`.padEnd(70);
  if (f.values.length === 0) return `${name} no figure (every run failed)`;
  const digits = f.unit === '%' ? 1 : f.unit === 'us/rec' ? 2 : 0;
  const range = f.values.length > 1 ? `  [${fixed(Math.min(...f.values), digits)}..${fixed(Math.max(...f.values), digits)}]` : '';
  return `${name} ${fixed(median(f.values), digits).padStart(10)} ${f.unit}${range}${f.goal === undefined ? '' : `   (goal: ${f.goal})`}`;
}
