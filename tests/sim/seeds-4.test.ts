/** CI: simulation seeds 7501..7900 (seeds.ts; 4 files of 400 seeds run in parallel, 1,600 in all, spread over 1..7900; more by hand: docs/SIMULATION.md; `npm run simulate` runs any range). */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

// 400 seeds take 1.5-3 minutes on a loaded machine: past tap's default per-file timeout.
t.setTimeout(10 * 60_000);

t.test('simulated cluster, seeds 7501..7900: every invariant holds after every step, and the cluster converges after the faults', (t) => simulateSeeds(t, 7501, 400));
