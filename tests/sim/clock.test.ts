/**
 * CI: seeds whose faults include wall-clock steps (a machine's clock set
 * forward or back by up to two minutes, for good, as NTP or an operator
 * does), beside kills, pauses and cuts. Every duration the brokers and the
 * controller measure runs on monotonic time (broker/world/clock.ts
 * `monotonicMs`), so a step must change nothing the invariants or the
 * convergence check can see. With those durations read from the wall clock
 * (the code before 2026-12-04), seeds 89 and 222 of this range never
 * converged (a follower kept out of the ISR, a broker that never finished
 * starting), and with a consumer group seed 17 never converged while the
 * group coordinator's session deadlines did not move with a step. Not in
 * the default draw, so that the default CI seeds stay what they are. With
 * a share group, clock steps and the scenario's own kill of the group's
 * coordinator: before a new coordinator restarted each record lock and
 * release delay with what it had left when written (window.ts
 * `restartTimers`), 11 of these 100 seeds failed (a lock ending early
 * after a failover to a coordinator whose clock was ahead, a record held
 * long past its time by one behind; 22 before the checker allowed a
 * `deliver.at` to come due by the coordinator's clock); with kills,
 * pauses and cuts on top, 8 of the first 100.
 */
import t from 'tap';
import { simulateSeeds } from './seeds.js';

t.setTimeout(10 * 60_000);

const KINDS = ['clock', 'clock', 'kill', 'pause', 'isolate', 'cut'] as const;

t.test('simulated cluster with wall-clock steps, seeds 1..300: nothing acknowledged is lost and the cluster converges', (t) => simulateSeeds(t, 1, 300, KINDS));

// With a consumer group: a step must not end member sessions early or keep a dead member on (seed 17 never converged before the coordinator moved its deadlines with a step).
t.test('the same with a consumer group, seeds 1..100: no commit lost and the group converges', (t) => simulateSeeds(t, 1, 100, KINDS, undefined, ['--groups']));

// Clock steps and the scenario's coordinator kill alone (11 of these fail without the restart of lock timers), then with kills, pauses and cuts too (8 of the first 100; 75, 129 and 143 found the checker's gaps).
t.test('with a share group, seeds 1..100: locks and release delays survive a failover between coordinators whose clocks disagree', (t) => simulateSeeds(t, 1, 100, ['clock'], undefined, ['--share']));
t.test('the same with kills, pauses and cuts, seeds 1..150', (t) => simulateSeeds(t, 1, 150, KINDS, undefined, ['--share']));
