/**
 * The share window's table of records by offset
 * (broker/share/offset-table.ts) against a Map, on seeded random sets and
 * deletes: the same values at every offset, the same size, offset order
 * when iterated, the lowest first; deletes while iterating (as the window's
 * start moves on) and sets below everything held (as a replay does); and
 * nothing lost when the slots the start passed are dropped.
 */
import t from 'tap';
import { OffsetTable } from '../../../broker/share/offset-table.js';
import { seededRng } from '../../../broker/world/rng.js';

t.test('the same as a Map sorted by offset, through random sets and deletes', async (t) => {
  let compared = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const rng = seededRng(seed);
    const table = new OffsetTable<{ offset: number; n: number }>();
    const model = new Map<number, { offset: number; n: number }>();
    let low = rng.int(1000);
    for (let step = 0; step < 3000; step++) {
      const op = rng.int(10);
      if (op < 5) {
        // Mostly just past what is held, as records are taken in; sometimes far below (a replay) or a gap.
        const offset = op === 0 ? Math.max(0, low - rng.int(300)) : low + rng.int(op === 1 ? 2500 : 200);
        const value = { offset, n: step };
        table.set(offset, value);
        model.set(offset, value);
      } else if (op < 9) {
        // The start moving on: the lowest few go, while iterating.
        let n = rng.int(20);
        for (const v of table.values()) {
          if (n-- <= 0) break;
          if (!table.delete(v.offset)) t.fail(`seed ${seed} step ${step}: deleting ${v.offset}, just yielded, found nothing`);
          model.delete(v.offset);
        }
        low += rng.int(50);
      } else {
        const offset = low + rng.int(300) - 150;
        if (table.delete(offset) !== model.delete(offset)) t.fail(`seed ${seed} step ${step}: delete ${offset} should say whether there was one`);
      }
      if (step % 100 === 0 || step === 2999) {
        const sorted = [...model.values()].sort((a, b) => a.offset - b.offset);
        t.same([...table.values()], sorted, `seed ${seed} step ${step}: the values, in offset order`);
        t.equal(table.size, model.size);
        t.equal(table.first(), sorted[0]);
        for (let probe = 0; probe < 20; probe++) {
          const offset = Math.max(0, low + rng.int(3000) - 500);
          if (table.get(offset) !== model.get(offset)) t.fail(`seed ${seed} step ${step}: get ${offset}`);
        }
        compared++;
      }
    }
  }
  t.ok(compared >= 900, `${compared} comparisons`);
});

t.test('a window sliding over 200,000 offsets: the slots it passed are dropped, nothing it holds is', async (t) => {
  const table = new OffsetTable<number>();
  const span = 2000;
  for (let offset = 0; offset < 200_000; offset++) {
    table.set(offset, offset);
    if (offset >= span) table.delete(offset - span);
  }
  t.equal(table.size, span);
  t.equal(table.first(), 200_000 - span);
  t.same([...table.values()], Array.from({ length: span }, (_, i) => 200_000 - span + i), 'every value held, in order');
  t.equal(table.get(200_000 - span - 1), undefined, 'a passed offset is gone');
  t.equal(table.get(199_999), 199_999);
  table.clear();
  t.equal(table.size, 0);
  t.equal(table.first(), undefined);
  table.set(5, 5);
  t.same([...table.values()], [5], 'usable again after clear');
});
