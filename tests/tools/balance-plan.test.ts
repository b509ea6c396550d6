/**
 * The balance plan (tools/partitions/balance-plan.ts): a broker added to a
 * cluster gets its share of replicas and preferred leaderships in few
 * moves; racks are kept apart; replicas on brokers that are gone move; a
 * balanced cluster needs nothing; the plan is deterministic.
 */
import t from 'tap';
import { balancePlan, type PlanPartition } from '../../tools/partitions/balance-plan.js';

const b = (id: number, rack: string | null = null) => ({ id, rack });

/** 6 partitions of RF 3 on brokers 1..3, preferred leaders spread. */
const THREE: PlanPartition[] = Array.from({ length: 6 }, (_, i) => ({ topic: 'orders', partition: i, replicas: [1, 2, 3].map((_, j) => ((i + j) % 3) + 1) }));

const counts = (plan: ReturnType<typeof balancePlan>) => plan.brokers.map((x) => [x.id, x.replicasAfter, x.leadersAfter]);

t.test('a fourth broker gets its share of replicas and leaderships, one replica moved per step', async (t) => {
  const plan = balancePlan([b(1), b(2), b(3), b(4)], THREE);
  const after = counts(plan);
  const replicas = after.map(([, r]) => r!);
  const leaders = after.map(([, , l]) => l!);
  t.ok(Math.max(...replicas) - Math.min(...replicas) <= 1, `replicas even: ${JSON.stringify(after)}`);
  t.ok(Math.max(...leaders) - Math.min(...leaders) <= 1, 'preferred leaderships even');
  t.equal(replicas.reduce((a, c) => a + c, 0), 18, 'no replica created or lost');
  const copies = plan.moves.reduce((n, m) => n + m.replicas.filter((id) => !m.from.includes(id)).length, 0);
  t.equal(copies, 4, 'exactly the 4 replicas broker 4 needs (18 / 4 = 4.5) are copied, nothing more');
  for (const m of plan.moves) t.equal(new Set(m.replicas).size, 3, `${m.topic}-${m.partition}: no broker twice`);
  t.same(balancePlan([b(1), b(2), b(3), b(4)], THREE), plan, 'deterministic');
});

t.test('balanced already: no move; replicas on a broker that is gone move to live ones', async (t) => {
  t.same(balancePlan([b(1), b(2), b(3)], THREE).moves, [], 'nothing to do');
  const plan = balancePlan([b(1), b(2), b(4)], THREE);
  t.ok(plan.moves.every((m) => !m.replicas.includes(3)), 'broker 3 (gone) is in no target');
  t.equal(plan.moves.length, 6, 'every partition it held moves');
});

t.test('racks: a new broker takes a replica only where its rack is not already used, while another rack is free', async (t) => {
  const brokers = [b(1, 'a'), b(2, 'b'), b(3, 'a'), b(4, 'b'), b(5, 'c')];
  const partitions: PlanPartition[] = Array.from({ length: 4 }, (_, i) => ({ topic: 't', partition: i, replicas: i % 2 === 0 ? [1, 2] : [3, 4] }));
  const plan = balancePlan(brokers, partitions);
  t.ok(plan.moves.length > 0, 'broker 5 (rack c) gets replicas');
  for (const m of plan.moves) {
    const racks = m.replicas.map((id) => brokers.find((x) => x.id === id)!.rack);
    t.equal(new Set(racks).size, racks.length, `${m.topic}-${m.partition} [${m.replicas}] spans ${racks.length} racks`);
  }
});
