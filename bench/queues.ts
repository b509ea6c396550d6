/**
 * The queue benchmark (issue 10): figures only, never a verdict (it prints
 * the issue's goals beside them). One single-node broker process; the
 * members run in this process (see "Why in-process" below). Each figure is
 * the median of `--runs` runs, with [min..max]:
 *
 *   - throughput: ONE partition preloaded with `--records` records of 100 B
 *     (keys k0..k999 round robin) read by a share group of 1, 4 and 16
 *     members, every record acknowledged one by one (msg.ack()), records/s
 *     accepted from the moment every member has joined until the last ack
 *     is durable; beside it, in the same run, a plain consumer assigned the
 *     partition (records/s read) and the ratio. CPU microseconds per record
 *     of this process and of the broker.
 *   - ordering: 4 members, ordering "key" vs unordered, the same records,
 *     alternating run by run: both records/s and key / unordered.
 *   - delay: `--delayed` records produced with deliverAt spread over
 *     `--delay-seconds` from now, 4 members waiting in receive; lateness =
 *     receive time - due time, p50/p99/max, and how many came early (must
 *     be 0).
 *
 * Every run counts each record accepted (offset by offset, when its ack()
 * resolves): a run that missed one, or had one accepted twice, prints
 * FAILED RUN and gives no figure.
 *
 * Why in-process: the broker is one process (one core) and this machine's
 * other core runs the members. Members in child processes would split that
 * core between more event loops and add IPC for the tally; the CPU figures
 * printed show which side is saturated (a client CPU/record x records/s
 * near 1 core means the client side is the limit).
 *
 *   npm run build && node dist/bench/queues.js [--runs N] [--records N] [--batch N] [--members 1,4,16]
 *       [--delayed N] [--delay-seconds S] [--only throughput,ordering,delay] [--quick] [--json]
 */
import { Runnel, type QueueOrdering } from '../client/index.js';
import { isMainModule } from '../tools/main-module.js';
import { benchArgs, fixed, freshTopic, perRecordCpu, startBroker } from './bench-support.js';
import { BenchMember } from './bench-member.js';
import { closeAll, describeFigure, repeat, waitFor, type Figure as BaseFigure, type Log, type RunCheck } from './bench-runs.js';
import { OffsetTally, type TallyCheck } from './offset-tally.js';
import { QueueMember } from './queue-member.js';

const RECORD_BYTES = 100;
const KEYS = 1000;
const ORDERING_MEMBERS = 4;
const DELAY_MEMBERS = 4;
/** Delayed records are due from this long after they are sent (a record due before it is written could only be late). */
const DELAY_FLOOR_MS = 1000;
/** Members that accept nothing new for this long will not reach the end: the run fails. */
const DRAIN_IDLE_MS = 10_000;
const JOIN_TIMEOUT_MS = 30_000;
const PRELOAD_CHUNK = 2000;
const PRELOAD_IN_FLIGHT = 8;
const SCENARIOS = ['throughput', 'ordering', 'delay'] as const;
type Scenario = (typeof SCENARIOS)[number];

const USAGE = `Usage: node dist/bench/queues.js [options]   (build first: npm run build)

Starts a single-node broker and measures queues (share groups; medians of --runs runs, min..max):
throughput on one partition with 1, 4 and 16 members acking one by one vs an assigned consumer,
ordering "key" vs unordered, and the lateness of delayed delivery.

Options:
  --runs N            runs per figure; default 3 (env BENCH_RUNS)
  --records N         100 B records preloaded on the one partition; default 400000 (env BENCH_RECORDS)
  --batch N           records one receive asks for; default 500
  --members LIST      group sizes of the throughput figure; default 1,4,16
  --delayed N         delayed records per delay run; default 2000
  --delay-seconds S   their due times spread over S seconds (from 1 s after sending); default 3
  --only LIST         some of ${SCENARIOS.join(',')}
  --bootstrap H:P     use a broker already running (e.g. one under node --cpu-prof) instead of starting one;
                      no broker CPU figures then
  --quick             smoke run: small counts, one run
  --json              progress to stderr, one JSON summary on the last line of stdout
  -h, --help          this text`;

interface Settings {
  runs: number;
  records: number;
  batch: number;
  members: number[];
  delayed: number;
  delaySpreadMs: number;
  only: Scenario[];
  json: boolean;
  bootstrap: string | null;
}

type Figure = BaseFigure<Scenario>;
type Cpu = { client: number; broker: number | null };

let groupSeq = 0;
const freshGroup = (what: string): string => `qbench-${what}-${++groupSeq}-${Date.now()}`;

/** A run counts when every record was accepted exactly once (an accept is final: a second one is a bug). */
const ACCEPTED_ONCE: RunCheck = {
  passed: (check: TallyCheck) => check.missing === 0 && check.duplicates === 0 && check.distinct === check.expected,
  failure: 'records missing or accepted twice',
};

/** `records` of RECORD_BYTES on partition 0 of `topic`, keys k0..k999 round robin. */
async function preload(runnel: Runnel, topic: string, records: number): Promise<void> {
  const producer = runnel.producer({ acks: 1 });
  const value = Buffer.alloc(RECORD_BYTES, 'q');
  const keys = Array.from({ length: KEYS }, (_, i) => Buffer.from(`k${i}`));
  const pending = new Set<Promise<unknown>>();
  try {
    for (let sent = 0; sent < records; sent += PRELOAD_CHUNK) {
      const messages = Array.from({ length: Math.min(PRELOAD_CHUNK, records - sent) }, (_, i) => ({ key: keys[(sent + i) % KEYS]!, value, partition: 0 }));
      const send = producer.send({ topic, messages });
      pending.add(send);
      void send.finally(() => pending.delete(send)).catch(() => undefined);
      if (pending.size >= PRELOAD_IN_FLIGHT) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    await producer.close();
  }
}

interface QueueRun {
  check: TallyCheck;
  recordsPerSec: number;
  joinMs: number;
  refused: number;
  /** Records per receive (share groups; 0 for the assigned consumer). */
  perReceive: number;
  cpu: Cpu;
}

/** A fresh share group of `members` reads every record of partition 0, acking one by one. */
async function queueRun(runnel: Runnel, topic: string, total: number, members: number, ordering: QueueOrdering, s: Settings, brokerPid: number | undefined): Promise<QueueRun> {
  const tally = new OffsetTally();
  const group = freshGroup(`${ordering}-${members}`);
  const queues = Array.from({ length: members }, () => new QueueMember(runnel, { topic, group, ordering, batch: s.batch, waitMs: 500, tally }));
  try {
    const joinAt = performance.now();
    await waitFor(() => queues.every((q) => q.joined), JOIN_TIMEOUT_MS, `${members} members joining`);
    const startAt = performance.now();
    const { result: complete, cpu } = await perRecordCpu(brokerPid, total, async () => {
      for (const q of queues) q.start();
      return tally.whenDistinct(total, DRAIN_IDLE_MS);
    });
    const doneAt = performance.now();
    const check = tally.check([total]);
    if (!complete) check.missing = Math.max(check.missing, total - tally.distinct);
    const receives = queues.reduce((n, q) => n + q.receives, 0);
    const perReceive = receives === 0 ? 0 : queues.reduce((n, q) => n + q.received, 0) / receives;
    return { check, recordsPerSec: (total * 1000) / (doneAt - startAt), joinMs: startAt - joinAt, refused: queues.reduce((n, q) => n + q.refused, 0), perReceive, cpu };
  } finally {
    await closeAll(queues);
  }
}

/** A plain consumer assigned partition 0 reads it from the start. */
async function assignedRun(runnel: Runnel, topic: string, total: number, brokerPid: number | undefined): Promise<QueueRun> {
  const tally = new OffsetTally();
  const startAt = performance.now();
  const member = BenchMember.assign(runnel, topic, [0], { name: 'assigned', tally, recordTimes: false });
  try {
    const { result: complete, cpu } = await perRecordCpu(brokerPid, total, () => tally.whenDistinct(total, DRAIN_IDLE_MS));
    const check = tally.check([total]);
    if (!complete) check.missing = Math.max(check.missing, total - tally.distinct);
    return { check, recordsPerSec: (total * 1000) / (performance.now() - startAt), joinMs: 0, refused: 0, perReceive: 0, cpu };
  } finally {
    await member.close();
  }
}

const cpuText = (cpu: Cpu): string => `cpu ${fixed(cpu.client, 2)} us/rec here${cpu.broker === null ? '' : ` + ${fixed(cpu.broker, 2)} broker`}`;
const runText = (name: string, r: QueueRun): string =>
  `${name} ${fixed(r.recordsPerSec, 0)} rec/s, ${cpuText(r.cpu)}${r.perReceive > 0 ? `, ${fixed(r.perReceive, 0)} records per receive` : ''}${r.refused > 0 ? `, ${r.refused} acks refused` : ''}`;

function figure(scenario: Scenario, name: string, unit: string, values: number[], goal?: string): Figure {
  return { scenario, name, unit, values, ...(goal === undefined ? {} : { goal }) };
}

function cpuFigures(scenario: Scenario, name: string, runs: readonly QueueRun[]): Figure[] {
  const broker = runs.map((r) => r.cpu.broker);
  return [
    figure(scenario, `${name}, CPU of this process`, 'us/rec', runs.map((r) => r.cpu.client)),
    ...(broker.every((b): b is number => b !== null) ? [figure(scenario, `${name}, CPU of the broker`, 'us/rec', broker)] : []),
  ];
}

async function throughputFigures(runnel: Runnel, topic: string, total: number, s: Settings, log: Log, brokerPid: number | undefined): Promise<Figure[]> {
  log(`throughput: ${total} records of ${RECORD_BYTES} B on one partition; share groups of ${s.members.join(', ')} members acking one by one (receive ${s.batch}), and an assigned consumer, in each run`);
  const figures: Figure[] = [];
  const assigned: number[] = [];
  const bySize = new Map<number, QueueRun[]>(s.members.map((n) => [n, []]));
  const ratios = new Map<number, number[]>(s.members.map((n) => [n, []]));
  for (let run = 1; run <= s.runs; run++) {
    const [base] = await repeat(log, ACCEPTED_ONCE, 'throughput assigned', [run], () => assignedRun(runnel, topic, total, brokerPid), (r) => runText('assigned', r));
    if (base !== undefined) assigned.push(base.recordsPerSec);
    // Run by run the sizes go in another order, so a neighbour's burst does not always hit the same one.
    const sizes = run % 2 === 1 ? s.members : [...s.members].reverse();
    for (const n of sizes) {
      const [r] = await repeat(log, ACCEPTED_ONCE, `throughput ${n} member(s)`, [run], () => queueRun(runnel, topic, total, n, 'none', s, brokerPid), (r) => `${runText('share', r)}; joined in ${fixed(r.joinMs, 0)} ms`);
      if (r === undefined) continue;
      bySize.get(n)!.push(r);
      if (base !== undefined) ratios.get(n)!.push((100 * r.recordsPerSec) / base.recordsPerSec);
    }
  }
  figures.push(figure('throughput', 'assigned consumer, one partition', 'rec/s', assigned));
  for (const n of s.members) {
    figures.push(figure('throughput', `share group of ${n}, acked one by one`, 'rec/s', bySize.get(n)!.map((r) => r.recordsPerSec), n === 4 ? '>= 200,000 rec/s' : undefined));
    figures.push(figure('throughput', `share group of ${n} / assigned, run by run`, '%', ratios.get(n)!));
    figures.push(...cpuFigures('throughput', `share group of ${n}`, bySize.get(n)!));
  }
  return figures;
}

async function orderingFigures(runnel: Runnel, topic: string, total: number, s: Settings, log: Log, brokerPid: number | undefined): Promise<Figure[]> {
  log(`ordering: ${ORDERING_MEMBERS} members, ${total} records over ${KEYS} keys (round robin), ordering "key" vs unordered, alternating`);
  const byMode: Record<QueueOrdering, QueueRun[]> = { key: [], none: [] };
  const ratios: number[] = [];
  for (let run = 1; run <= s.runs; run++) {
    const order: QueueOrdering[] = run % 2 === 1 ? ['key', 'none'] : ['none', 'key'];
    const pair: Partial<Record<QueueOrdering, QueueRun>> = {};
    for (const ordering of order) {
      const [r] = await repeat(log, ACCEPTED_ONCE, `ordering ${ordering}`, [run], () => queueRun(runnel, topic, total, ORDERING_MEMBERS, ordering, s, brokerPid), (r) => runText(ordering, r));
      if (r !== undefined) byMode[ordering].push((pair[ordering] = r));
    }
    if (pair.key !== undefined && pair.none !== undefined) ratios.push((100 * pair.key.recordsPerSec) / pair.none.recordsPerSec);
  }
  return [
    figure('ordering', `ordering "key", ${ORDERING_MEMBERS} members`, 'rec/s', byMode.key.map((r) => r.recordsPerSec)),
    figure('ordering', `unordered, ${ORDERING_MEMBERS} members`, 'rec/s', byMode.none.map((r) => r.recordsPerSec)),
    figure('ordering', 'key / unordered, run by run', '%', ratios, '>= 50 %'),
    ...cpuFigures('ordering', 'ordering "key"', byMode.key),
  ];
}

interface DelayRun {
  check: TallyCheck;
  p50: number;
  p99: number;
  max: number;
  early: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `delayed` records due over the spread, on a fresh topic, received by members already waiting. */
async function delayRun(runnel: Runnel, s: Settings): Promise<DelayRun> {
  const topic = await freshTopic(runnel, 1);
  const tally = new OffsetTally();
  const lateness: number[] = [];
  const group = freshGroup('delay');
  const members = Array.from({ length: DELAY_MEMBERS }, () => new QueueMember(runnel, { topic, group, ordering: 'none', batch: s.batch, waitMs: 5000, tally, lateness }));
  const producer = runnel.producer({ acks: 1 });
  try {
    await waitFor(() => members.every((m) => m.joined), JOIN_TIMEOUT_MS, `${DELAY_MEMBERS} members joining`);
    for (const m of members) m.start();
    const sentAt = Date.now();
    // Due times spread evenly (offset order is not due order: every other record is due in the second half).
    const messages = Array.from({ length: s.delayed }, (_, i) => {
      const due = sentAt + DELAY_FLOOR_MS + Math.floor((((i * 2) % s.delayed) * s.delaySpreadMs) / s.delayed) + (i % 2);
      return { value: String(due), deliverAt: due, partition: 0 };
    });
    for (let i = 0; i < messages.length; i += PRELOAD_CHUNK) await producer.send({ topic, messages: messages.slice(i, i + PRELOAD_CHUNK) });
    const sentMs = Date.now() - sentAt;
    if (sentMs >= DELAY_FLOOR_MS) throw new Error(`sending took ${sentMs} ms, past the first due time: lower --delayed`);
    const complete = await tally.whenDistinct(s.delayed, DELAY_FLOOR_MS + s.delaySpreadMs + DRAIN_IDLE_MS);
    const check = tally.check([s.delayed]);
    if (!complete) check.missing = Math.max(check.missing, s.delayed - tally.distinct);
    const sorted = [...lateness].sort((a, b) => a - b);
    return { check, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, early: sorted.filter((x) => x < 0).length };
  } finally {
    await producer.close();
    await closeAll(members);
    await runnel.admin().deleteTopic(topic);
  }
}

async function delayFigures(runnel: Runnel, s: Settings, log: Log): Promise<Figure[]> {
  log(`delay: ${s.delayed} records due from ${DELAY_FLOOR_MS} ms after sending, spread over ${s.delaySpreadMs} ms, ${DELAY_MEMBERS} members waiting in receive; lateness = receive time - due time`);
  const runs = await repeat(log, ACCEPTED_ONCE, 'delay', Array.from({ length: s.runs }, (_, i) => i + 1), () => delayRun(runnel, s), (r) => `lateness p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; ${r.early} early`);
  return [
    figure('delay', 'lateness p50', 'ms', runs.map((r) => r.p50)),
    figure('delay', 'lateness p99', 'ms', runs.map((r) => r.p99), '<= 100 ms'),
    figure('delay', 'lateness max', 'ms', runs.map((r) => r.max)),
    figure('delay', 'records handed out before due (all runs)', 'records', [runs.reduce((n, r) => n + r.early, 0)], '0'),
  ];
}

async function runBench(s: Settings): Promise<void> {
  const log: Log = (line) => (s.json ? process.stderr : process.stdout).write(`${line}\n`);
  const startedMs = performance.now();
  log(`# runnel queue bench: one broker (${s.bootstrap === null ? 'defaults' : `at ${s.bootstrap}`}), ${s.runs} run(s) each, median [min..max]; members run in this process`);
  const broker = s.bootstrap === null ? await startBroker() : null;
  const brokerPid = broker?.child.pid;
  const runnel = new Runnel({ bootstrap: [broker?.bootstrap ?? s.bootstrap!], clientId: 'bench-queues' });
  const figures: Figure[] = [];
  try {
    if (s.only.includes('throughput') || s.only.includes('ordering')) {
      const topic = await freshTopic(runnel, 1);
      try {
        await preload(runnel, topic, s.records);
        log(`# preloaded ${s.records} records in ${fixed((performance.now() - startedMs) / 1000)} s`);
        if (s.only.includes('throughput')) figures.push(...(await throughputFigures(runnel, topic, s.records, s, log, brokerPid)));
        if (s.only.includes('ordering')) figures.push(...(await orderingFigures(runnel, topic, s.records, s, log, brokerPid)));
      } finally {
        await runnel.admin().deleteTopic(topic);
      }
    }
    if (s.only.includes('delay')) figures.push(...(await delayFigures(runnel, s, log)));
    for (const f of figures) log(describeFigure(f));
    log(`# bench took ${fixed((performance.now() - startedMs) / 1000)} s`);
    if (s.json) console.log(JSON.stringify({ settings: s, figures }));
  } finally {
    await runnel.close();
    await broker?.stop();
  }
}

function settingsFromArgs(): Settings {
  const args = benchArgs(USAGE, ['batch', 'members', 'delayed', 'delay-seconds', 'only', 'bootstrap']);
  const { quick } = args;
  const only = (args.string('only') ?? SCENARIOS.join(',')).split(',').map((x) => x.trim());
  const unknown = only.filter((x) => !(SCENARIOS as readonly string[]).includes(x));
  if (unknown.length > 0) throw new Error(`--only: no scenario ${unknown.join(', ')}; there are ${SCENARIOS.join(', ')}`);
  const members = (args.string('members') ?? '1,4,16').split(',').map(Number);
  if (members.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--members: "${args.string('members')}" is not a list of positive integers`);
  return {
    runs: Math.floor(args.num('runs', 'BENCH_RUNS', quick ? 1 : 3)),
    records: Math.floor(args.num('records', 'BENCH_RECORDS', quick ? 20_000 : 400_000)),
    batch: Math.floor(args.num('batch', null, 500)),
    members,
    delayed: Math.floor(args.num('delayed', null, quick ? 300 : 2000)),
    delaySpreadMs: 1000 * args.num('delay-seconds', null, quick ? 1 : 3),
    only: only as Scenario[],
    json: args.json,
    bootstrap: args.string('bootstrap') ?? null,
  };
}

if (isMainModule(import.meta.url)) await runBench(settingsFromArgs());
