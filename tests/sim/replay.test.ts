/**
 * A seed is a run: the same seed run twice in one process gives the same
 * trace hash (every fault, ack, consumed record and leadership change at
 * the same simulated time), and different seeds give different runs. A
 * second run in the same process also catches state that leaks from one
 * run into the next (module-level counters, caches).
 */
import t from 'tap';
import { runSeed } from './scenario.js';

t.test('replay: the same seed twice gives the same trace hash', async (t) => {
  const hashes = new Set<string>();
  for (const seed of [7, 42, 1234]) {
    const first = await runSeed(seed);
    const again = await runSeed(seed);
    t.equal(again.hash, first.hash, `seed ${seed}: same trace hash`);
    t.equal(again.steps, first.steps, `seed ${seed}: same number of steps`);
    t.equal(again.simulatedMs, first.simulatedMs, `seed ${seed}: same simulated time`);
    hashes.add(first.hash);
  }
  t.equal(hashes.size, 3, 'three seeds, three different runs');
});

t.test('replay: a seed with a share group replays exactly (members, handouts, acknowledgements, dead letters)', async (t) => {
  const first = await runSeed(19, { share: true });
  const again = await runSeed(19, { share: true });
  t.ok(first.handouts > 0, `${first.handouts} records handed out`);
  t.equal(again.hash, first.hash, 'same trace hash');
  t.equal(again.steps, first.steps, 'same number of steps');
  t.equal(again.handouts, first.handouts, 'same handouts');
  t.not(first.hash, (await runSeed(19)).hash, 'the share group is part of the run');
});
