/** CI: simulation seeds 1..200 with a consumer group (scenario.ts `groups`, group-members.ts), on top of the 1,600 seeds without one. */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

// 200 group seeds take up to a minute on a loaded machine: past tap's default per-file timeout.
t.setTimeout(10 * 60_000);

t.test('simulated cluster with a consumer group, seeds 1..200: one owner per partition, no acknowledged commit lost, the group converges after the faults', (t) => simulateSeeds(t, 1, 200, undefined, 9 * 60_000, ['--groups']));
