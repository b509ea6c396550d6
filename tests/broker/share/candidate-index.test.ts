/**
 * The share window's candidate index (broker/share/candidate-index.ts,
 * offset-heap.ts) by itself: the heap gives offsets back in (priority,
 * offset) order whatever order they came in, the index hands out due
 * offsets oldest first and holds the others until due, and a key's queue
 * keeps its order across the compaction of a long dropped front (a window
 * of thousands of one key's records; the property test's windows are too
 * small to reach it).
 */
import t from 'tap';
import { CandidateIndex, KeyHeads } from '../../../broker/share/candidate-index.js';
import { OffsetHeap } from '../../../broker/share/offset-heap.js';
import { ShareWindow } from '../../../broker/share/window.js';
import { AcknowledgeType } from '../../../protocol/messages.js';
import { seededRng } from '../../../broker/world/rng.js';

t.test('the heap pops in (priority, offset) order', async (t) => {
  const random = seededRng(7).next;
  for (let round = 0; round < 20; round++) {
    const heap = new OffsetHeap();
    const items: [number, number][] = [];
    for (let i = 0; i < 500; i++) {
      const item: [number, number] = [Math.floor(random() * 50), Math.floor(random() * 1000)];
      items.push(item);
      heap.push(...item);
      // Pops in between too: the heap must stay a heap after each.
      if (random() < 0.2) {
        items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        t.equal(heap.pop(), items.shift()![1]);
      }
    }
    items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const popped: number[] = [];
    for (let o = heap.pop(); o !== undefined; o = heap.pop()) popped.push(o);
    t.same(popped, items.map(([, o]) => o), `round ${round}`);
    t.equal(heap.size, 0);
  }
});

t.test('the index hands out due offsets oldest first, the others once due', async (t) => {
  const index = new CandidateIndex();
  index.offer(30, 0);
  index.offer(10, 500);
  index.offer(20, 0);
  index.offer(5, 1000);
  t.equal(index.next(100), 20, 'due now, oldest first');
  t.equal(index.next(100), 30);
  t.equal(index.next(100), undefined, 'nothing else is due at 100');
  t.equal(index.next(999), 10, 'due at 500');
  t.equal(index.next(999), undefined);
  t.equal(index.next(1000), 5, 'due at 1000');
  t.equal(index.next(5000), undefined);
});

t.test("a key's head moves past settled offsets in order, across compaction", async (t) => {
  const heads = new KeyHeads();
  const settled = new Set<number>();
  const unsettled = (o: number): boolean => !settled.has(o);
  for (let o = 0; o < 5000; o++) heads.push(7, 2 * o);
  heads.push(8, 1);
  const seen: (number | undefined)[] = [];
  const settleHeads = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const head = heads.head(7, unsettled);
      seen.push(head);
      if (head !== undefined) settled.add(head);
    }
  };
  settleHeads(4000);
  heads.push(7, 10_001);
  settleHeads(1000);
  t.same(seen, Array.from({ length: 5000 }, (_, o) => 2 * o), 'each head the oldest unsettled, in order');
  t.equal(heads.head(7, unsettled), 10_001, 'an offset added after the compaction comes last');
  settled.add(10_001);
  t.equal(heads.head(7, unsettled), undefined, 'a key with nothing unsettled has no head');
  t.equal(heads.head(8, unsettled), 1, 'other keys are apart');
});

t.test('a clock that steps back does not strand a record the index had moved to the due heap', async (t) => {
  const window = new ShareWindow();
  const policy = { lockMs: 30_000, maxAttempts: 5, deadLetter: false, ordering: 'none', maxInFlight: 100, maxDelayed: 100 };
  const meta = (offset: number, dueMs: number) => ({ offset, keyHash: null, dueMs, timestampMs: 0 });
  t.same(window.acquire('m', 2, 500, policy, { fromOffset: 0, toOffset: 2, records: [meta(0, 0), meta(1, 1000)] }).map((a) => a.offset), [0], 'both taken in; 1 is due at 1000');
  t.equal(window.acknowledge('m', { firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: 0, reason: null }, 600, policy), null);
  t.same(window.acquire('m', 1, 1001, policy, null).map((a) => a.offset), [0], 'at 1001 record 1 is due too; max 1 takes 0');
  t.same(window.acquire('m', 1, 990, policy, null), [], 'the clock stepped back to 990: record 1 is not due');
  t.same(window.acquire('m', 1, 5000, policy, null).map((a) => a.offset), [1], 'and it is handed out once due again');
});
