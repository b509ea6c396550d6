/**
 * CI: simulation seeds 1..45 with a share group (scenario.ts `share`,
 * share-members.ts): members accepting, releasing, rejecting, stalling and
 * crashing while brokers (and the group's coordinator, aimed at) fail. About
 * 0.45 s of CPU a seed (45 seeds: about 22 s on an idle core; seed 41 is the first to catch locks not persisted); `npm run simulate -- --share`
 * runs more (docs/SIMULATION.md).
 */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

t.setTimeout(5 * 60_000);

t.test('simulated cluster with a share group, seeds 1..45: no record held by two members under live locks, delivery counts only grow, nothing delivered early or after its accept, every acknowledged record accepted or dead-lettered after the faults', (t) => simulateSeeds(t, 1, 45, undefined, 4 * 60_000, ['--share']));
