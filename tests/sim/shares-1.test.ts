/**
 * CI: simulation seeds 1..30 with a share group (scenario.ts `share`,
 * share-members.ts): members accepting, releasing, rejecting, stalling and
 * crashing while brokers (and the group's coordinator, aimed at) fail. About
 * 0.45 s of CPU a seed (30 seeds: about 15 s on an idle core); `npm run simulate -- --share`
 * runs more (docs/SIMULATION.md).
 */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

t.setTimeout(5 * 60_000);

t.test('simulated cluster with a share group, seeds 1..30: no record held by two members under live locks, delivery counts only grow, nothing delivered early or after its accept, every acknowledged record accepted or dead-lettered after the faults', (t) => simulateSeeds(t, 1, 30, undefined, 4 * 60_000, ['--share']));
