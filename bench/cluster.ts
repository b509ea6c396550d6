/**
 * The 3-broker benchmark: figures only, never a verdict (it prints the goals
 * beside them). In one run it starts a real local cluster (a `runnel
 * controller` process and 3 `runnel broker` processes on loopback ports it
 * picks, launched by the same code as `runnel cluster up`) and, beside it, a
 * single-node broker (`runnel start` style) as the baseline; then, each line
 * the median of `--runs` runs, single and cluster alternating run by run so a
 * busy neighbour weighs on both alike:
 *
 *   - produce records/s, MB/s and p50/p99 latency with acks=1 and acks=all,
 *     100 B and 1 KiB records, one partition (replication factor 3 on the
 *     cluster, a fresh topic per run);
 *   - p50/p99 latency of acks=all at a fixed rate (10k records/s, linger 0);
 *   - consume records/s and MB/s from the replicated partition just written
 *     with acks=all (a consumer reads below the high watermark, which the
 *     followers' fetches advance);
 *   - with each line, broker CPU microseconds per record, all of the side's
 *     broker processes together, counted until every replica has the
 *     records (after an acks=1 run the bench waits for the followers, so
 *     their copying weighs on that run, not on the next);
 *   - the ratios the issue sets goals for: cluster acks=all records/s over
 *     single-broker acks=1 (goal >= 50%), and the cluster's acks=all p99 at
 *     10k/s (goal < 10 ms).
 *
 *   npm run build && node dist/bench/cluster.js [--records N] [--runs N] [--latency-seconds S] [--rate R]
 *       [--batch-bytes N] [--max-in-flight N] [--quick] [--json]
 *   env: BENCH_RECORDS, BENCH_RUNS, BENCH_LATENCY_SECONDS
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runnel, type ProducerOptions } from '../client/index.js';
import { bootstrapOf, down, up } from '../tools/cluster/cluster-ops.js';
import { readState, type ClusterState } from '../tools/cluster/cluster-state.js';
import { freePortRun } from '../tools/cluster/free-ports.js';
import { signalIfOurs } from '../tools/cluster/node-process.js';
import { isMainModule } from '../tools/main-module.js';
import { runConsumePerf } from '../tools/perf/consume-perf.js';
import type { PerfSummary } from '../tools/perf/perf-meter.js';
import { runProducePerf } from '../tools/perf/produce-perf.js';
import { benchArgs, dropTopic, fixed, freshTopic, median, processCpuUs, startBroker } from './bench-support.js';

interface BenchSettings {
  records100: number;
  runs: number;
  latencySeconds: number;
  rate: number;
  /** Producer settings beyond acks, the same on both sides (flags; the SDK's defaults otherwise). */
  producer: ProducerOptions;
  json: boolean;
}

type Acks = 1 | 'all';
type Target = 'single' | 'cluster';

/** One line of figures: the medians over the runs, and every run's records/s for the spread. */
interface Row {
  target: Target;
  what: 'produce' | 'produce@rate' | 'consume';
  acks: Acks | null;
  recordBytes: number;
  records: number;
  ratePerSec: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  runsPerSec: number[];
  /** Broker CPU microseconds per record, all of the target's brokers together (null without /proc). */
  brokerCpuUsPerRecord: number | null;
}

/** What a run measures on: a client, the processes whose CPU counts, their data directories, and the replication factor of its topics. */
interface Side {
  target: Target;
  runnel: Runnel;
  brokerPids: number[];
  brokerDataDirs: string[];
  replicationFactor: number;
}

const BROKERS = 3;
const CLUSTER_START_TIMEOUT_MS = 60_000;
const CLUSTER_START_ATTEMPTS = 3;
const STOP_GRACE_MS = 10_000;
/** How long the brokers get to register with the controller before the first RF 3 topic must be creatable. */
const REGISTRATION_TIMEOUT_MS = 30_000;
/** How long the followers get to copy what an acks=1 run left them. */
const REPLICATION_SETTLE_TIMEOUT_MS = 60_000;
const USAGE = `Usage: node dist/bench/cluster.js [options]   (build first: npm run build)

Starts a local cluster (1 controller + ${BROKERS} brokers, loopback ports it picks) and a
single-node broker, and prints figures (medians of --runs runs): produce records/s, MB/s,
p50/p99 with acks=1 and acks=all (100 B and 1 KiB, one partition, replication factor 3 on
the cluster), acks=all latency at a fixed rate, consume from the replicated partition,
and the ratios the goals are stated in.

Options:
  --records N              100 B records per throughput run (1 KiB runs use N/4); default 200000 (env BENCH_RECORDS)
  --runs N                 runs per line; default 3 (env BENCH_RUNS)
  --latency-seconds S      length of each fixed-rate run; default 3 (env BENCH_LATENCY_SECONDS)
  --rate R                 the fixed rate in records/s; default 10000
  --batch-bytes N          producer batchBytes, both sides (default: the SDK's)
  --max-in-flight N        producer maxInFlightRequests, both sides (default: the SDK's)
  --quick                  smoke run: small counts, one run each
  --json                   progress to stderr, one JSON summary on the last line of stdout
  -h, --help               this text`;

/**
 * The directory of the cluster this bench launched, while any of it may run:
 * every process its state file records is killed however the bench ends,
 * half-way through `up` too (the nodes are detached, so nothing else would).
 * Ctrl-C, SIGTERM and SIGHUP exit through this (bench-support.ts turns them into an exit).
 */
let liveClusterDir: string | null = null;
process.once('exit', () => {
  if (liveClusterDir === null) return;
  try {
    for (const node of readState(liveClusterDir)?.nodes ?? []) signalIfOurs(node.process, 'SIGKILL');
  } finally {
    rmSync(liveClusterDir, { recursive: true, force: true });
  }
});

/**
 * Brings the cluster up on a fresh directory and a run of ports free a moment
 * ago; another process may take one of them first (the node then fails to
 * listen and `up` stops what it launched), so a few tries, each on new ports.
 */
async function startCluster(): Promise<{ state: ClusterState; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-bench-cluster-'));
  liveClusterDir = dataDir;
  let state: ClusterState | undefined;
  for (let attempt = 1; state === undefined; attempt++) {
    try {
      state = await up({ brokers: BROKERS, dataDir, basePort: await freePortRun(BROKERS + 1), rackPerBroker: false, timeoutMs: CLUSTER_START_TIMEOUT_MS, graceMs: STOP_GRACE_MS });
    } catch (err) {
      if (attempt >= CLUSTER_START_ATTEMPTS) {
        liveClusterDir = null;
        rmSync(dataDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  return {
    state,
    async stop() {
      await down(dataDir, STOP_GRACE_MS);
      liveClusterDir = null;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The first RF 3 topic: brokers listen before they have registered, so creation is retried (bounded) until all are. */
async function whenBrokersRegistered(runnel: Runnel): Promise<void> {
  const deadline = performance.now() + REGISTRATION_TIMEOUT_MS;
  for (;;) {
    try {
      const topic = await freshTopic(runnel, 1, {}, BROKERS);
      await runnel.admin().deleteTopic(topic);
      return;
    } catch (err) {
      if (performance.now() >= deadline) throw new Error(`the cluster's ${BROKERS} brokers did not all register within ${REGISTRATION_TIMEOUT_MS} ms`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function cpuOf(pids: number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const us = processCpuUs(pid);
    if (us === null) return null;
    total += us;
  }
  return total;
}

/**
 * Waits (bounded) until every replica of the topic's partition has the
 * `written` records: its high watermark is there. After an acks=1 run the
 * followers may still be copying; that must not weigh on the next run (the
 * other side's, which would then look slower), and their CPU belongs to this one.
 */
async function replicated(runnel: Runnel, topic: string, written: number): Promise<void> {
  const deadline = performance.now() + REPLICATION_SETTLE_TIMEOUT_MS;
  for (;;) {
    const [partition] = await runnel.admin().listOffsets(topic);
    if (partition !== undefined && partition.latest >= written) return;
    if (performance.now() >= deadline) throw new Error(`${topic}: the followers did not reach offset ${written} within ${REPLICATION_SETTLE_TIMEOUT_MS} ms (high watermark ${partition?.latest})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * One measured run on a fresh topic of `side`: `work` writes `written`
 * records (the measured ones and any warm-up), its CPU counted until every
 * replica has them; `then` runs on the same topic (the consume after a produce).
 */
async function measure(side: Side, records: number, work: (topic: string) => Promise<PerfSummary>, opts: { written?: number; then?: (topic: string) => Promise<PerfSummary> } = {}): Promise<{ summary: PerfSummary; cpu: number | null; after?: { summary: PerfSummary; cpu: number | null } }> {
  const topic = await freshTopic(side.runnel, 1, {}, side.replicationFactor);
  try {
    const timed = async (run: (topic: string) => Promise<PerfSummary>, settle: boolean) => {
      const before = cpuOf(side.brokerPids);
      const summary = await run(topic);
      if (settle) await replicated(side.runnel, topic, opts.written ?? records);
      const after = cpuOf(side.brokerPids);
      return { summary, cpu: before === null || after === null ? null : (after - before) / records };
    };
    const first = await timed(work, true);
    return opts.then === undefined ? first : { ...first, after: await timed(opts.then, false) };
  } finally {
    // Waited out: unlinking the run's segments and writing back its pages would otherwise count in the next run, on whichever side it falls.
    await dropTopic(side.runnel, topic, side.brokerDataDirs);
  }
}

function row(target: Target, what: Row['what'], acks: Acks | null, recordBytes: number, ratePerSec: number, runs: { summary: PerfSummary; cpu: number | null }[]): Row {
  const cpus = runs.map((r) => r.cpu).filter((c): c is number => c !== null);
  return {
    target,
    what,
    acks,
    recordBytes,
    records: runs[0]?.summary.records ?? 0,
    ratePerSec,
    recordsPerSec: median(runs.map((r) => r.summary.recordsPerSec)),
    mbPerSec: median(runs.map((r) => r.summary.mbPerSec)),
    p50Ms: median(runs.map((r) => r.summary.latencyP50Ms)),
    p99Ms: median(runs.map((r) => r.summary.latencyP99Ms)),
    runsPerSec: runs.map((r) => Math.round(r.summary.recordsPerSec)),
    brokerCpuUsPerRecord: cpus.length === runs.length ? median(cpus) : null,
  };
}

/** Throughput runs: the flags' producer settings; fixed-rate runs linger 0 (at 10k/s a 5 ms linger is 5 ms of latency). */
function producer(s: BenchSettings, acks: Acks, lingerMs?: number): ProducerOptions {
  return lingerMs === undefined ? { ...s.producer, acks } : { ...s.producer, acks, lingerMs };
}

/**
 * Every line for both sides, the runs of one line alternating single and
 * cluster. Throughput lines with acks=all also consume what they wrote.
 */
async function runLines(s: BenchSettings, sides: Side[], log: (row: Row) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const collect = (target: Target) => ({ target, runs: [] as { summary: PerfSummary; cpu: number | null }[], consumed: [] as { summary: PerfSummary; cpu: number | null }[] });
  const emit = (r: Row) => {
    rows.push(r);
    log(r);
  };
  for (const recordBytes of [100, 1024]) {
    const records = recordBytes >= 1024 ? Math.max(1, Math.floor(s.records100 / 4)) : s.records100;
    for (const acks of [1, 'all'] as const) {
      const per = sides.map((side) => collect(side.target));
      for (let run = 0; run < s.runs; run++) {
        for (const [i, side] of sides.entries()) {
          const produce = (topic: string) => runProducePerf(side.runnel, { topic, numRecords: records, recordSize: recordBytes, producer: producer(s, acks) });
          const consume = acks === 'all' ? (topic: string) => runConsumePerf(side.runnel, { topic, numRecords: records }) : undefined;
          const m = await measure(side, records, produce, { then: consume });
          per[i]!.runs.push(m);
          if (m.after !== undefined) per[i]!.consumed.push(m.after);
        }
      }
      for (const p of per) emit(row(p.target, 'produce', acks, recordBytes, 0, p.runs));
      for (const p of per) if (p.consumed.length > 0) emit(row(p.target, 'consume', null, recordBytes, 0, p.consumed));
    }
  }
  const paced = sides.map((side) => collect(side.target));
  const records = Math.max(1, Math.round(s.rate * s.latencySeconds));
  for (let run = 0; run < s.runs; run++) {
    for (const [i, side] of sides.entries()) {
      const warmup = Math.min(records, s.rate);
      const work = (topic: string) => runProducePerf(side.runnel, { topic, numRecords: records, recordSize: 100, throughput: s.rate, warmupRecords: warmup, producer: producer(s, 'all', 0) });
      paced[i]!.runs.push(await measure(side, records, work, { written: records + warmup }));
    }
  }
  for (const p of paced) emit(row(p.target, 'produce@rate', 'all', 100, s.rate, p.runs));
  return rows;
}

function describe(r: Row): string {
  const what = r.what === 'consume' ? `consume (RF ${r.target === 'cluster' ? BROKERS : 1})` : `produce acks=${r.acks}${r.what === 'produce@rate' ? ` @ ${fixed(r.ratePerSec, 0)}/s` : ''}`;
  const latency = r.what === 'consume' ? '' : `  p50 ${fixed(r.p50Ms, 2)} ms  p99 ${fixed(r.p99Ms, 2)} ms`;
  const cpu = r.brokerCpuUsPerRecord === null ? '' : `  broker cpu ${fixed(r.brokerCpuUsPerRecord, 2)} us/rec`;
  return `${r.target.padEnd(7)} ${what.padEnd(26)} ${String(r.recordBytes).padStart(4)} B  ${fixed(r.recordsPerSec, 0).padStart(9)} rec/s ${fixed(r.mbPerSec).padStart(7)} MB/s${latency}  (runs ${r.runsPerSec.join(', ')})${cpu}`;
}

/** The figures the issue sets goals for. */
function goals(rows: Row[], rate: number): { name: string; value: number; goal: string; unit: string }[] {
  const find = (target: Target, what: Row['what'], acks: Acks | null, bytes: number) => rows.find((r) => r.target === target && r.what === what && r.acks === acks && r.recordBytes === bytes);
  const out: { name: string; value: number; goal: string; unit: string }[] = [];
  for (const bytes of [100, 1024]) {
    const cluster = find('cluster', 'produce', 'all', bytes);
    const single = find('single', 'produce', 1, bytes);
    if (cluster !== undefined && single !== undefined) {
      out.push({ name: `cluster acks=all / single acks=1, ${bytes} B records/s`, value: (100 * cluster.recordsPerSec) / single.recordsPerSec, goal: '>= 50', unit: '%' });
    }
  }
  const paced = find('cluster', 'produce@rate', 'all', 100);
  if (paced !== undefined) out.push({ name: `cluster acks=all p99 @ ${fixed(rate, 0)}/s`, value: paced.p99Ms, goal: '< 10', unit: 'ms' });
  return out;
}

async function runBench(s: BenchSettings): Promise<void> {
  const log = (line: string) => (s.json ? process.stderr : process.stdout).write(`${line}\n`);
  const startedMs = performance.now();
  log(`# runnel cluster bench: ${BROKERS} brokers + controller vs one broker; ${s.runs} run(s) each, medians; 100 B x ${s.records100}, 1 KiB x ${Math.floor(s.records100 / 4)}; fixed rate ${s.rate}/s for ${s.latencySeconds} s`);
  const single = await startBroker();
  const cluster = await startCluster().catch(async (err: unknown) => {
    await single.stop();
    throw err;
  });
  const clusterBrokers = cluster.state.nodes.filter((n) => n.role === 'broker');
  const sides: Side[] = [
    { target: 'single', runnel: new Runnel({ bootstrap: [single.bootstrap], clientId: 'bench-single' }), brokerPids: single.child.pid === undefined ? [] : [single.child.pid], brokerDataDirs: [single.dataDir], replicationFactor: 1 },
    {
      target: 'cluster',
      runnel: new Runnel({ bootstrap: bootstrapOf(cluster.state).split(','), clientId: 'bench-cluster' }),
      brokerPids: clusterBrokers.map((n) => n.process!.pid),
      brokerDataDirs: clusterBrokers.map((n) => n.dataDir),
      replicationFactor: BROKERS,
    },
  ];
  try {
    await whenBrokersRegistered(sides[1]!.runnel);
    // Warm-up: JIT in every process (both acks paths), first segment files, connections, the replica fetchers.
    for (const side of sides) {
      const warm = Math.min(50_000, s.records100);
      for (const acks of [1, 'all'] as const) {
        await measure(side, warm, (topic) => runProducePerf(side.runnel, { topic, numRecords: warm, recordSize: 100, producer: producer(s, acks) }), { then: (topic) => runConsumePerf(side.runnel, { topic, numRecords: warm }) });
      }
    }
    const rows = await runLines(s, sides, (r) => log(describe(r)));
    const verdicts = goals(rows, s.rate);
    for (const g of verdicts) log(`${g.name}: ${fixed(g.value)} ${g.unit} (goal ${g.goal} ${g.unit})`);
    log(`# bench took ${fixed((performance.now() - startedMs) / 1000)} s`);
    if (s.json) console.log(JSON.stringify({ settings: s, rows, goals: verdicts }));
  } finally {
    await Promise.all(sides.map((side) => side.runnel.close()));
    await Promise.all([single.stop(), cluster.stop()]);
  }
}

function settingsFromArgs(): BenchSettings {
  const args = benchArgs(USAGE, ['rate', 'max-in-flight']);
  const { quick } = args;
  const producerOptions: ProducerOptions = {};
  if (args.string('batch-bytes') !== undefined) producerOptions.batchBytes = args.num('batch-bytes', null, 0);
  if (args.string('max-in-flight') !== undefined) producerOptions.maxInFlightRequests = args.num('max-in-flight', null, 0);
  return {
    records100: Math.floor(args.num('records', 'BENCH_RECORDS', quick ? 20_000 : 200_000)),
    runs: Math.floor(args.num('runs', 'BENCH_RUNS', quick ? 1 : 3)),
    latencySeconds: args.num('latency-seconds', 'BENCH_LATENCY_SECONDS', quick ? 1 : 3),
    rate: args.num('rate', null, 10_000),
    producer: producerOptions,
    json: args.json,
  };
}

if (isMainModule(import.meta.url)) await runBench(settingsFromArgs());
