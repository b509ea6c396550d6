/** CI: simulation seeds 5001..7500 (seeds.ts; 4 files of 2,500 seeds run in parallel, 10,000 in all). */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

// 2,500 seeds take 1.5-4 minutes on a loaded machine: past tap's default per-file timeout.
t.setTimeout(10 * 60_000);

t.test('simulated cluster, seeds 5001..7500: every invariant holds after every step, and the cluster converges after the faults', (t) => simulateSeeds(t, 5001, 2500));
