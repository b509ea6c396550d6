/**
 * Members joining, leaving and being fenced at random (seeded, so a failure
 * replays) against the fake coordinator, with records written throughout:
 * no partition is ever reported owned by two members, every record is
 * processed at least once, and once every member has closed cleanly a new
 * member has nothing left to read. Bounded in steps and time.
 */
import t from 'tap';
import type { Consumer, Message } from '../../../client/index.js';
import { groupWorld, until } from './support.js';
import { seededRng } from '../../../broker/world/rng.js';

/** Seeded (mulberry32, the broker's own), so the schedule of a failing seed can be replayed. */
const seeded = (seed: number): (() => number) => seededRng(seed).next;

for (const seed of [1, 2, 3]) {
  t.test(`seed ${seed}: churn keeps ownership exclusive and processing at-least-once`, async (t) => {
    // The schedule has its own generator, so the steps of a seed do not depend on how many records were read when.
    const random = seeded(seed);
    const slow = seeded(seed + 1000);
    let inBody = 0;
    const w = await groupWorld(t, { t: 4 });
    const processed = new Map<string, number>();
    const members: { consumer: Consumer; loop: Promise<void> }[] = [];
    const join = (): void => {
      const consumer = w.consumer({ groupId: 'g', autoCommitIntervalMs: 100 });
      consumer.subscribe({ topics: ['t'], fromBeginning: true });
      const loop = (async () => {
        for await (const m of consumer as AsyncIterable<Message>) {
          inBody++;
          if (slow() < 0.1) await new Promise((resolve) => setTimeout(resolve, 20));
          // Counted once the work is done: a record in hand when its member closes is not processed yet.
          const id = `${m.partition}-${m.offset}`;
          processed.set(id, (processed.get(id) ?? 0) + 1);
          inBody--;
        }
      })();
      members.push({ consumer, loop });
    };
    join();
    let written = 0;
    const steps: string[] = [];
    for (let step = 0; step < 12; step++) {
      const r = random();
      if (r < 0.35 && members.length < 4) {
        steps.push('join');
        join();
      } else if (r < 0.6 && members.length > 1) {
        const [gone] = members.splice(Math.floor(random() * members.length), 1);
        steps.push('close');
        await gone!.consumer.close();
        await gone!.loop;
      } else if (r < 0.75) {
        steps.push('fence');
        w.coordinator.inject('ConsumerGroupHeartbeat', 'FENCED_MEMBER_EPOCH');
      } else {
        steps.push('write');
      }
      await w.produce('t', 5);
      written += 20;
      await new Promise((resolve) => setTimeout(resolve, 50 + random() * 150));
    }
    const expected = Array.from({ length: 4 }, (_, p) => Array.from({ length: written / 4 }, (_, o) => `${p}-${o}`)).flat();
    await until(`every record processed (steps ${steps.join(' ')})`, () => expected.every((id) => processed.has(id)), 20_000);
    t.same(w.coordinator.violations, [], `no partition owned twice (steps ${steps.join(' ')})`);
    // Quiet before the clean stop: a fence injected last has landed, every partition is owned again, and what its new owner re-reads is done.
    let total = -1;
    let changedAtMs = Date.now();
    await until('quiet for 300 ms', () => {
      const now = [...processed.values()].reduce((a, b) => a + b, 0);
      const settled = w.coordinator.pending('ConsumerGroupHeartbeat') === 0 && inBody === 0
        && members.reduce((n, m) => n + m.consumer.assignment().length, 0) === 4
        && members.every((m) => m.consumer.assignment().every((p) => m.consumer.position(p.topic, p.partition) === written / 4));
      if (now !== total || !settled) changedAtMs = Date.now();
      total = now;
      return Date.now() - changedAtMs >= 300;
    });
    for (const m of members) await m.consumer.close();
    await Promise.all(members.map((m) => m.loop));
    for (let p = 0; p < 4; p++) t.equal(w.coordinator.committed('g', 't', p), written / 4, `t-${p} committed to its end`);
  });
}
