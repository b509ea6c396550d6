/** CI: simulation seeds 5001..7500 (seeds.ts; 4 files of 2,500 seeds run in parallel, 10,000 in all). */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

t.test('simulated cluster, seeds 5001..7500: every invariant holds after every step, and the cluster converges after the faults', (t) => simulateSeeds(t, 5001, 2500));
