/**
 * Runs a range of seeds one after another and sums them up: seeds run,
 * seeds per second of wall time, simulated hours covered, CPU time per seed
 * (what a loaded machine does not change), failures (each a
 * SimulationFailure naming its seed, or the error a seed threw).
 */
import { performance } from 'node:perf_hooks';
import type { FaultKind } from './faults.js';
import { runSeed, type RunResult } from './scenario.js';

export interface SoakSummary {
  seeds: number;
  failures: unknown[];
  seedsPerSecond: number;
  simulatedHours: number;
  results: RunResult[];
  line: string;
}

export async function runSeeds(opts: { from: number; count: number; print?: ((line: string) => void) | null; kinds?: readonly FaultKind[]; onSeed?: (result: RunResult) => void; stopAtFirstFailure?: boolean; groups?: boolean; share?: boolean }): Promise<SoakSummary> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const failures: unknown[] = [];
  const results: RunResult[] = [];
  let simulatedMs = 0;
  for (let seed = opts.from; seed < opts.from + opts.count; seed++) {
    try {
      const result = await runSeed(seed, { print: opts.print ?? null, groups: opts.groups === true, share: opts.share === true, ...(opts.kinds === undefined ? {} : { kinds: opts.kinds }) });
      simulatedMs += result.simulatedMs;
      results.push(result);
      opts.onSeed?.(result);
    } catch (error) {
      failures.push(error);
      if (opts.stopAtFirstFailure === true) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerSeed = (cpu.user + cpu.system) / 1000 / Math.max(1, results.length + failures.length);
  const seeds = results.length + failures.length;
  const seedsPerSecond = seeds / seconds;
  const simulatedHours = simulatedMs / 3_600_000;
  const line = `${seeds} seeds (${opts.from}..${opts.from + seeds - 1}), ${failures.length} failed, ${seedsPerSecond.toFixed(1)} seeds/s, ${simulatedHours.toFixed(2)} simulated hours in ${seconds.toFixed(1)} s (${cpuMsPerSeed.toFixed(0)} ms of CPU per seed)`;
  return { seeds, failures, seedsPerSecond, simulatedHours, results, line };
}
