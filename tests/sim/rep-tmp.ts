import { runSeed } from './scenario.js';
for (const seed of [1, 2, 3]) {
  const a = await runSeed(seed); const b = await runSeed(seed);
  console.log(seed, a.hash, b.hash, a.steps, b.steps, a.hash === b.hash);
}
