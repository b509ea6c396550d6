/**
 * One seed, one run: the controller and brokers 1-3 start, the admin
 * creates the topics (RF 3, min.insync.replicas 2; one with fsync=always),
 * the consumer reads from the start, the producer sends acks=all records at
 * random times while the fault schedule runs, then the faults stop and the
 * cluster must converge within `convergeMs` of simulated time (liveness):
 * every node up, every broker unfenced, every partition led with its ISR =
 * its replicas, every replica at the same log end with its high watermark
 * there, every send settled, and the consumer past the end having read
 * every acknowledged record at its offset. Safety is checked after every
 * step throughout (invariants.ts).
 */
import { Simulation } from './engine.js';
import { FaultSchedule, type FaultKind } from './faults.js';
import { GroupMembers } from './group-members.js';
import { Invariants } from './invariants.js';
import { SHARE_TOPICS, ShareMembers } from './share-members.js';
import { SimNode } from './sim-node.js';
import { Workload, type TopicPlan } from './workload.js';

export interface RunOptions {
  /** Print the trace lines as they happen. */
  print?: ((line: string) => void) | null;
  /** Fault kinds the schedule draws from (default: all). */
  kinds?: readonly FaultKind[];
  /**
   * Also run a consumer group on the topics (group-members.ts): three members
   * that crash, restart, leave and rejoin while the faults move the
   * coordinator. Off by default, so the seeds without it replay as before.
   */
  groups?: boolean;
  /**
   * Also run a share group (a queue, share-members.ts) on a topic of its
   * own, with a dead-letter topic: three members that accept, release,
   * reject, stall and crash while the faults (and a kill aimed at its
   * coordinator) run. Off by default, so the seeds without it replay as before.
   */
  share?: boolean;
}

export interface RunResult {
  seed: number;
  hash: string;
  steps: number;
  simulatedMs: number;
  acked: number;
  failedSends: number;
  faults: number;
  /** Group runs: offset commits acknowledged. */
  commits: number;
  /** Share runs: records handed out, accepted (the coordinator's count), dead-lettered (distinct). */
  handouts: number;
  accepted: number;
  deadLetters: number;
}

/** The default draw: SIGKILL twice as likely as the others. */
export const ALL_FAULTS: readonly FaultKind[] = ['kill', 'kill', 'power', 'pause', 'isolate', 'cut', 'fsync', 'full'];

const TOPICS: readonly TopicPlan[] = [
  { name: 'orders', partitions: 2, config: { 'min.insync.replicas': '2', 'segment.index.bytes': '65536' } },
  { name: 'ledger', partitions: 1, config: { 'min.insync.replicas': '2', fsync: 'always', 'segment.index.bytes': '65536' } },
];

const START_MS = 5_000;
const SETUP_MS = 12_000;

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<RunResult> {
  const sim = new Simulation(seed, { print: opts.print ?? null });
  const rng = sim.rngFor('scenario');
  const invariants = new Invariants(sim);
  sim.addChecker(invariants);
  const nodes = [new SimNode(sim, 0, 'controller'), ...[1, 2, 3].map((id) => new SimNode(sim, id, 'broker'))];
  for (const node of nodes) sim.addNode(node).start();
  const controller = nodes[0]!;
  const brokers = nodes.slice(1);

  if (!(await sim.runUntil(START_MS, () => nodes.every((n) => n.status === 'up')))) sim.fail('liveness', `nodes did not start: ${nodes.map((n) => `${n.name} ${n.status}`).join(', ')}`);
  const workload = new Workload(sim, invariants);
  if (!(await workload.createTopics(opts.share === true ? [...TOPICS, ...SHARE_TOPICS] : TOPICS, SETUP_MS))) sim.fail('liveness', 'the topics could not be created');

  let group: GroupMembers | null = null;
  let share: ShareMembers | null = null;
  const converged = (): boolean => {
    if (!nodes.every((n) => n.status === 'up' && !n.paused)) return false;
    if (group !== null && !group.converged()) return false;
    if (share !== null && !share.converged()) return false;
    const image = controller.view?.image();
    if (image === undefined) return false;
    if (![1, 2, 3].every((id) => image.brokers.get(id)?.fenced === false)) return false;
    for (const plan of TOPICS) {
      const topic = image.topics.get(plan.name);
      if (topic === undefined) return false;
      for (let index = 0; index < plan.partitions; index++) {
        const state = topic.partitionStates[index]!;
        if (state.leader === -1 || state.isr.length !== state.replicas.length) return false;
        let end = -1;
        for (const broker of brokers) {
          const partition = broker.view?.replicas?.partition(plan.name, index);
          if (partition === undefined || !partition.serving || partition.leaderEpoch !== state.leaderEpoch) return false;
          if ((partition.role === 'leader') !== (broker.id === state.leader)) return false;
          if (partition.highWatermark !== partition.logEndOffset || (end !== -1 && partition.logEndOffset !== end)) return false;
          end = partition.logEndOffset;
        }
        if (workload.position(plan.name, index) < end) return false;
      }
    }
    return workload.pending === 0;
  };
  const healthy = (): boolean => {
    if (!nodes.every((n) => n.status === 'up' && !n.paused && !n.damaged)) return false;
    const image = controller.view?.image();
    if (image === undefined) return false;
    return [...image.topics.values()].every((t) => t.partitionStates.every((s) => s.leader !== -1 && s.isr.length === s.replicas.length));
  };
  if (!(await sim.runUntil(SETUP_MS, converged))) sim.fail('liveness', 'the topics did not get leaders and full ISRs');

  // The fault window: faults and sends at random times in it.
  workload.startConsumer(TOPICS);
  const windowMs = 3_000 + rng.int(5_000);
  if (opts.groups === true) {
    group = new GroupMembers(sim, TOPICS.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition }))), 3);
    sim.addChecker(group);
    group.start(1_000);
    group.churn(windowMs, 1 + rng.int(3));
  }
  const faultCount = 1 + rng.int(4);
  const faults = new FaultSchedule(sim, nodes);
  faults.plan({ kinds: opts.kinds ?? ALL_FAULTS, count: faultCount, windowMs }, healthy);
  if (opts.share === true) {
    share = new ShareMembers(sim, invariants, 3, nodes);
    sim.addChecker(share);
    share.start(1_000);
    share.sends(windowMs, 10 + rng.int(20));
    share.churn(windowMs, 1 + rng.int(3));
    share.killCoordinator(windowMs, faults, nodes);
  }
  const sends = 10 + rng.int(20);
  for (let i = 0; i < sends; i++) sim.clock.schedule(rng.int(windowMs), () => workload.send(TOPICS));
  const windowEnd = sim.elapsedMs + windowMs;
  await sim.runUntil(windowEnd);
  faults.stopAll();

  // Liveness: converged within the bound, and every acknowledged record consumed where it was acknowledged.
  const convergeMs = 40_000;
  if (!(await sim.runUntil(windowEnd + convergeMs, converged))) sim.fail('liveness', `not converged ${convergeMs} simulated ms after the faults stopped: ${describe(sim, nodes, workload.pending)}${group === null ? '' : `; group: ${group.describe()}`}${share === null ? '' : `; queue: ${share.pending} sends pending, ${share.describe()}`}`);
  for (const ack of workload.acked) {
    const read = workload.consumed.get(`${ack.topic}-${ack.partition}`)?.get(ack.offset);
    if (read !== ack.value) sim.fail('acked-never-lost', `${ack.topic}-${ack.partition} offset ${ack.offset} was acknowledged as ${ack.value}; the consumer read ${read ?? 'nothing'} there`);
  }
  // The producer is idempotent (the SDK's default with acks=all): retries through the faults never write a record
  // twice, and each partition holds what was sent to it in send order (values are numbered in send order).
  for (const [tp, byOffset] of workload.consumed) {
    let last: { n: number; offset: number; value: string } | null = null;
    for (const [offset, value] of [...byOffset].sort((a, b) => a[0] - b[0])) {
      const n = Number(value.slice(value.lastIndexOf('-') + 1));
      if (last !== null && n <= last.n) sim.fail('no-duplicates-in-order', `${tp}: ${value} at offset ${offset} after ${last.value} at offset ${last.offset}: ${n === last.n ? 'written twice' : 'out of send order'}`);
      last = { n, offset, value };
    }
  }
  if (group !== null) await group.verifyCommits(sim.elapsedMs + 10_000);
  const queue = share === null ? null : await share.verify(sim.elapsedMs + 40_000);
  sim.event(`converged: ${workload.acked.length} acked, ${workload.failed} failed${group === null ? '' : `, ${group.commits} offset commits`}${queue === null ? '' : `, ${queue.accepted} accepted and ${queue.deadLetters} dead-lettered by the queue`}`);
  const result: RunResult = { seed, hash: sim.trace.digest(), steps: sim.steps, simulatedMs: sim.elapsedMs, acked: workload.acked.length, failedSends: workload.failed, faults: faultCount, commits: group?.commits ?? 0, handouts: share?.handouts ?? 0, accepted: queue?.accepted ?? 0, deadLetters: queue?.deadLetters ?? 0 };
  void workload.close();
  void group?.close();
  void share?.close();
  return result;
}

function describe(sim: Simulation, nodes: SimNode[], pending: number): string {
  const image = nodes[0]!.view?.image();
  const parts = nodes.map((n) => `${n.name} ${n.status}${n.paused ? ' (paused)' : ''}`);
  if (image !== undefined) {
    for (const topic of image.topics.values()) {
      topic.partitionStates.forEach((s, i) => {
        const replicas = nodes.slice(1).map((b) => {
          const p = b.view?.replicas?.partition(topic.name, i);
          return p === undefined ? `${b.id}:-` : `${b.id}:${p.role[0]}e${p.leaderEpoch} hw${p.highWatermark}/end${p.logEndOffset}${p.serving ? '' : ' offline'}`;
        });
        parts.push(`${topic.name}-${i} leader ${s.leader} e${s.leaderEpoch} isr [${s.isr.join(',')}] ${replicas.join(' ')}`);
      });
    }
    parts.push(`fenced [${[...image.brokers.values()].filter((b) => b.fenced).map((b) => b.id).join(',')}]`);
  }
  parts.push(`${pending} sends pending`, `t=${sim.elapsedMs}`);
  return parts.join('; ');
}
