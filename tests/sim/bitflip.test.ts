/**
 * CI: seeds whose faults include bit flips in stored batches (each followed
 * by an operator wiping the damaged log and restarting the broker), beside
 * kills and pauses. Not in the default draw, so that the 10,000 CI seeds
 * stay what they are; docs/SIMULATION.md says what a flipped bit may and may
 * not do.
 */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

t.setTimeout(10 * 60_000);

t.test('simulated cluster with bit flips, seeds 1..150: nothing damaged is acknowledged, committed or consumed, and the cluster converges after the wipe', (t) => simulateSeeds(t, 1, 150, ['bitflip', 'kill', 'pause']));
