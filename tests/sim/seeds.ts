/**
 * The CI share of the simulation: one tap test per seed range, run as part
 * of the suite (seeds-*.test.ts split the range so that tap runs them on
 * both cores). A failing seed fails the test with its message, which names
 * the invariant and says how to replay it.
 */
import type { Test } from 'tap';
import { SimulationFailure } from './failure.js';
import type { FaultKind } from './faults.js';
import { runSeeds } from './soak.js';

export async function simulateSeeds(t: Test, from: number, count: number, kinds?: readonly FaultKind[]): Promise<void> {
  const summary = await runSeeds({ from, count, ...(kinds === undefined ? {} : { kinds }) });
  for (const failure of summary.failures) {
    if (failure instanceof SimulationFailure) t.fail(failure.message);
    else t.fail(`a seed threw: ${(failure as Error).stack ?? String(failure)}`);
  }
  t.equal(summary.seeds, count, `ran seeds ${from}..${from + count - 1}`);
  t.comment(summary.line);
}
