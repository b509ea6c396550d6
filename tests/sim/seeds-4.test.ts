/** CI: simulation seeds 7501..9000 (seeds.ts; 4 files of 1,500 seeds run in parallel, 6,000 in all, spread over 1..9000; `npm run simulate` runs any range). */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

// 1,500 seeds take 1-2.5 minutes on a loaded machine: past tap's default per-file timeout.
t.setTimeout(10 * 60_000);

t.test('simulated cluster, seeds 7501..9000: every invariant holds after every step, and the cluster converges after the faults', (t) => simulateSeeds(t, 7501, 1500));
