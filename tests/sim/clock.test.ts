/**
 * CI: seeds whose faults include wall-clock steps (a machine's clock set
 * forward or back by up to two minutes, for good, as NTP or an operator
 * does), beside kills, pauses and cuts. Every duration the brokers and the
 * controller measure runs on monotonic time (broker/world/clock.ts
 * `monotonicMs`), so a step must change nothing the invariants or the
 * convergence check can see. With those durations read from the wall clock
 * (the code before 2026-12-04), seeds 89 and 222 of this range never
 * converged (a follower kept out of the ISR, a broker that never finished
 * starting). Not in the default draw, so that the default CI seeds stay what
 * they are.
 */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

t.setTimeout(10 * 60_000);

t.test('simulated cluster with wall-clock steps, seeds 1..300: nothing acknowledged is lost and the cluster converges', (t) => simulateSeeds(t, 1, 300, ['clock', 'clock', 'kill', 'pause', 'isolate', 'cut']));
