/** CI: simulation seeds 1..600 with a consumer group (scenario.ts `groups`, group-members.ts), on top of the 6,000 seeds without one. */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

// 600 group seeds take 1-2 minutes on a loaded machine: past tap's default per-file timeout.
t.setTimeout(10 * 60_000);

t.test('simulated cluster with a consumer group, seeds 1..600: one owner per partition, no acknowledged commit lost, the group converges after the faults', (t) => simulateSeeds(t, 1, 600, undefined, 9 * 60_000, ['--groups']));
