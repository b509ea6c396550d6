/**
 * The single-broker benchmark: figures only, never a verdict. It starts a
 * broker process (fresh temporary data directory, OS-picked port), then with
 * the SDK measures, each as the median of several runs:
 *
 *   - produce and consume records/s and MB/s: 1 and 8 partitions × 100 B and
 *     1 KiB records, acks=1, one producer (a fresh topic per run, so consume
 *     reads exactly what was produced);
 *   - produce latency percentiles at fixed rates (10k and 100k records/s; linger 0);
 *   - end-to-end latency (send → consumed, µs clock) at 10k records/s;
 *   - the same produce run on a topic with fsync=always (every acknowledged
 *     batch is on disk: group commit is what keeps it fast), unpaced and at 10k/s;
 *   - raw loopback TCP throughput in the same run (bench/net-baseline.ts) and
 *     the ratio of 1 KiB produce MB/s to it;
 *   - with each throughput line, CPU microseconds per record on the client
 *     and (Linux) the broker: steadier than records/s on a shared machine
 *     (the broker side counts in 10 ms ticks: meaningful for full-size runs, not --quick).
 *
 *   npm run build && node dist/bench/broker.js [--records N] [--runs N] [--latency-seconds S]
 *       [--rates 10000,100000] [--batch-bytes N] [--linger-ms N] [--buffer-memory-bytes N] [--net-bytes N] [--quick] [--json]
 *   env: BENCH_RECORDS, BENCH_RUNS, BENCH_LATENCY_SECONDS
 *
 * `--records N` is the count for 100 B records (default 500,000); 1 KiB runs use N/4.
 * Unpaced runs keep up to the producer's buffer memory (32 MiB by default, as
 * Kafka's perf tool) unacknowledged, so their latency is mostly queueing;
 * `--buffer-memory-bytes 4194304` shows latency at nearly the same throughput.
 * `--quick` is a smoke run (small counts, one run each).
 */
import { Runnel, type ProducerOptions } from '../client/index.js';
import { isMainModule } from '../tools/main-module.js';
import { runConsumePerf } from '../tools/perf/consume-perf.js';
import { runEndToEndPerf } from '../tools/perf/end-to-end-perf.js';
import type { PerfSummary } from '../tools/perf/perf-meter.js';
import { runProducePerf } from '../tools/perf/produce-perf.js';
import { benchArgs, dropTopic, type BenchBroker, fixed, freshTopic, median, medianCpu, perRecordCpu, spread, startBroker } from './bench-support.js';
import { measureLoopbackTcp } from './net-baseline.js';

interface BenchSettings {
  records100: number;
  runs: number;
  latencySeconds: number;
  rates: number[];
  netBytes: number;
  /** For throughput runs: acks=1 and the SDK's batching defaults unless flags say otherwise. */
  producer: ProducerOptions;
  /** For fixed-rate and end-to-end runs: linger 0 unless --linger-ms (at 10k/s a 5 ms linger is 5 ms of latency). */
  latencyProducer: ProducerOptions;
  json: boolean;
}

interface ThroughputRow {
  partitions: number;
  recordBytes: number;
  records: number;
  produceRecordsPerSec: number;
  produceMbPerSec: number;
  produceP99Ms: number;
  consumeRecordsPerSec: number;
  consumeMbPerSec: number;
  /** Every run's records/s, to show the spread behind the median. */
  produceRunsPerSec: number[];
  consumeRunsPerSec: number[];
  /**
   * CPU microseconds per record (user + system), client (this process) and
   * broker (its /proc stat; null where there is none): steadier than records/s
   * on a shared machine, where wall-clock figures swing with the neighbours.
   */
  produceCpuUsPerRecord: { client: number; broker: number | null };
  consumeCpuUsPerRecord: { client: number; broker: number | null };
}

interface LatencyRow {
  what: string;
  ratePerSec: number;
  records: number;
  achievedPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

const MiB = 1024 * 1024;
const USAGE = `Usage: node dist/bench/broker.js [options]   (build first: npx tsc -p tsconfig.build.json)

Starts a broker on a fresh temporary data directory and an OS-picked port, and prints
figures (medians of --runs runs): produce and consume records/s and MB/s (1 and 8
partitions x 100 B and 1 KiB records, acks=1), produce latency at fixed rates, end-to-end
latency, fsync=always produce, and raw loopback TCP throughput for the ratio.

Options:
  --records N              100 B records per throughput run (1 KiB runs use N/4); default 500000 (env BENCH_RECORDS)
  --runs N                 runs per line; default 3 (env BENCH_RUNS)
  --latency-seconds S      length of each fixed-rate run; default 3 (env BENCH_LATENCY_SECONDS)
  --rates R1,R2            fixed rates in records/s; default 10000,100000
  --batch-bytes N          producer batchBytes (default: the SDK's)
  --linger-ms N            producer lingerMs (throughput runs: the SDK's; latency runs: 0)
  --buffer-memory-bytes N  producer bufferMemoryBytes (default 32 MiB; unpaced latency is mostly this queue)
  --net-bytes N            bytes per raw TCP run; default 1 GiB (env BENCH_NET_BYTES)
  --quick                  smoke run: small counts, one run each
  --json                   progress to stderr, one JSON summary on the last line of stdout
  -h, --help               this text`;
async function throughputRow(runnel: Runnel, s: BenchSettings, partitions: number, recordBytes: number, broker: BenchBroker): Promise<ThroughputRow> {
  const brokerPid = broker.child.pid;
  const records = recordBytes >= 1024 ? Math.max(1, Math.floor(s.records100 / 4)) : s.records100;
  const produced: PerfSummary[] = [];
  const consumed: PerfSummary[] = [];
  const produceCpu: { client: number; broker: number | null }[] = [];
  const consumeCpu: { client: number; broker: number | null }[] = [];
  for (let run = 0; run < s.runs; run++) {
    const topic = await freshTopic(runnel, partitions);
    const p = await perRecordCpu(brokerPid, records, () => runProducePerf(runnel, { topic, numRecords: records, recordSize: recordBytes, producer: s.producer }));
    produced.push(p.result);
    produceCpu.push(p.cpu);
    const c = await perRecordCpu(brokerPid, records, () => runConsumePerf(runnel, { topic, numRecords: records }));
    consumed.push(c.result);
    consumeCpu.push(c.cpu);
    // The next run must not pay for this one's delete (bench-support.ts dropTopic).
    await dropTopic(runnel, topic, broker.dataDir);
  }
  return {
    partitions,
    recordBytes,
    records,
    produceRecordsPerSec: median(produced.map((p) => p.recordsPerSec)),
    produceMbPerSec: median(produced.map((p) => p.mbPerSec)),
    produceP99Ms: median(produced.map((p) => p.latencyP99Ms)),
    consumeRecordsPerSec: median(consumed.map((c) => c.recordsPerSec)),
    consumeMbPerSec: median(consumed.map((c) => c.mbPerSec)),
    produceRunsPerSec: produced.map((p) => Math.round(p.recordsPerSec)),
    consumeRunsPerSec: consumed.map((c) => Math.round(c.recordsPerSec)),
    produceCpuUsPerRecord: medianCpu(produceCpu),
    consumeCpuUsPerRecord: medianCpu(consumeCpu),
  };
}

function cpuText(cpu: { client: number; broker: number | null }): string {
  return `cpu/rec client ${fixed(cpu.client, 3)} us, broker ${cpu.broker === null ? 'n/a' : `${fixed(cpu.broker, 3)} us`}`;
}

function latencyRow(what: string, ratePerSec: number, summaries: PerfSummary[]): LatencyRow {
  return {
    what,
    ratePerSec,
    records: summaries[0]?.records ?? 0,
    achievedPerSec: median(summaries.map((x) => x.recordsPerSec)),
    p50Ms: median(summaries.map((x) => x.latencyP50Ms)),
    p95Ms: median(summaries.map((x) => x.latencyP95Ms)),
    p99Ms: median(summaries.map((x) => x.latencyP99Ms)),
    p999Ms: median(summaries.map((x) => x.latencyP999Ms)),
    maxMs: median(summaries.map((x) => x.latencyMaxMs)),
  };
}

async function pacedProduce(runnel: Runnel, s: BenchSettings, rate: number, config: Record<string, string> = {}): Promise<PerfSummary[]> {
  const records = Math.max(1, Math.round(rate * s.latencySeconds));
  const out: PerfSummary[] = [];
  for (let run = 0; run < s.runs; run++) {
    const topic = await freshTopic(runnel, 1, config);
    out.push(await runProducePerf(runnel, { topic, numRecords: records, recordSize: 100, throughput: rate, warmupRecords: Math.min(records, rate), producer: s.latencyProducer }));
    await runnel.admin().deleteTopic(topic);
  }
  return out;
}

async function runBench(s: BenchSettings): Promise<void> {
  const log = (line: string) => (s.json ? process.stderr : process.stdout).write(`${line}\n`);
  const startedMs = performance.now();
  log(
    `# runnel broker bench: ${s.runs} run(s) each, medians; 100 B x ${s.records100}, 1 KiB x ${Math.floor(s.records100 / 4)}; ` +
      `latency runs ${s.latencySeconds} s; producer ${JSON.stringify(s.producer)}, latency runs ${JSON.stringify(s.latencyProducer)}`,
  );

  const net = await measureLoopbackTcp({ totalBytes: s.netBytes, runs: s.runs });
  log(`raw loopback TCP (one socket, 1 MiB writes): ${fixed(net.median.mbPerSec)} MB/s`);

  const broker = await startBroker();
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId: 'bench' });
  try {
    // Warm-up: JIT on both sides, first segment files, connections.
    const warm = await freshTopic(runnel, 1);
    await runProducePerf(runnel, { topic: warm, numRecords: Math.min(100_000, s.records100), recordSize: 100, producer: s.producer });
    await runConsumePerf(runnel, { topic: warm, numRecords: Math.min(100_000, s.records100) });
    await runnel.admin().deleteTopic(warm);

    const rows: ThroughputRow[] = [];
    for (const partitions of [1, 8]) {
      for (const recordBytes of [100, 1024]) {
        const row = await throughputRow(runnel, s, partitions, recordBytes, broker);
        rows.push(row);
        log(
          `produce ${partitions}p x ${recordBytes} B: ${fixed(row.produceRecordsPerSec, 0)} rec/s ${fixed(row.produceMbPerSec)} MB/s ` +
            `(p99 ${fixed(row.produceP99Ms, 2)} ms; runs ${spread(row.produceRunsPerSec)}; ${cpuText(row.produceCpuUsPerRecord)}) | ` +
            `consume ${fixed(row.consumeRecordsPerSec, 0)} rec/s ${fixed(row.consumeMbPerSec)} MB/s (runs ${spread(row.consumeRunsPerSec)}; ${cpuText(row.consumeCpuUsPerRecord)})`,
        );
      }
    }

    const latencies: LatencyRow[] = [];
    const report = (row: LatencyRow) => {
      latencies.push(row);
      log(
        `${row.what} @ ${row.ratePerSec > 0 ? `${fixed(row.ratePerSec, 0)}/s` : 'full speed'} (achieved ${fixed(row.achievedPerSec, 0)}/s, ${row.records} records): ` +
          `p50 ${fixed(row.p50Ms, 3)} ms, p95 ${fixed(row.p95Ms, 3)}, p99 ${fixed(row.p99Ms, 3)}, p99.9 ${fixed(row.p999Ms, 3)}, max ${fixed(row.maxMs, 3)}`,
      );
    };
    for (const rate of s.rates) report(latencyRow('produce latency 1p x 100 B', rate, await pacedProduce(runnel, s, rate)));

    const e2e: PerfSummary[] = [];
    const e2eRate = s.rates[0] ?? 10_000;
    const e2eRecords = Math.max(1, Math.round(e2eRate * s.latencySeconds));
    for (let run = 0; run < s.runs; run++) {
      const topic = await freshTopic(runnel, 1);
      const result = await runEndToEndPerf(runnel, { topic, numRecords: e2eRecords, recordSize: 100, throughput: e2eRate, warmupRecords: Math.min(e2eRecords, e2eRate), producer: s.latencyProducer });
      e2e.push(result.endToEnd);
      await runnel.admin().deleteTopic(topic);
    }
    report(latencyRow('end-to-end latency 1p x 100 B', e2eRate, e2e));

    const fsyncConfig = { fsync: 'always' };
    const fsyncRuns: PerfSummary[] = [];
    for (let run = 0; run < s.runs; run++) {
      const topic = await freshTopic(runnel, 1, fsyncConfig);
      fsyncRuns.push(await runProducePerf(runnel, { topic, numRecords: s.records100, recordSize: 100, producer: s.producer }));
      await runnel.admin().deleteTopic(topic);
    }
    const fsyncRow = latencyRow('produce fsync=always 1p x 100 B', 0, fsyncRuns);
    report(fsyncRow);
    report(latencyRow('produce latency fsync=always 1p x 100 B', e2eRate, await pacedProduce(runnel, s, e2eRate, fsyncConfig)));

    const oneKiB = rows.filter((r) => r.recordBytes === 1024);
    for (const row of oneKiB) {
      log(`ratio to raw TCP, produce ${row.partitions}p x 1 KiB: ${fixed((100 * row.produceMbPerSec) / net.median.mbPerSec)}% (${fixed(row.produceMbPerSec)} / ${fixed(net.median.mbPerSec)} MB/s)`);
    }
    log(`# bench took ${fixed((performance.now() - startedMs) / 1000)} s`);
    if (s.json) {
      console.log(JSON.stringify({ settings: s, rawTcpMbPerSec: net.median.mbPerSec, throughput: rows, latency: latencies }));
    }
  } finally {
    await runnel.close();
    await broker.stop();
  }
}

function settingsFromArgs(): BenchSettings {
  const args = benchArgs(USAGE, ['rates', 'net-bytes', 'linger-ms', 'buffer-memory-bytes']);
  const { quick } = args;
  const producer: ProducerOptions = { acks: 1 };
  if (args.string('batch-bytes') !== undefined) producer.batchBytes = Number(args.string('batch-bytes'));
  if (args.string('linger-ms') !== undefined) producer.lingerMs = Number(args.string('linger-ms'));
  if (args.string('buffer-memory-bytes') !== undefined) producer.bufferMemoryBytes = Number(args.string('buffer-memory-bytes'));
  const latencyProducer: ProducerOptions = { ...producer, lingerMs: producer.lingerMs ?? 0 };
  return {
    records100: Math.floor(args.num('records', 'BENCH_RECORDS', quick ? 20_000 : 500_000)),
    runs: Math.floor(args.num('runs', 'BENCH_RUNS', quick ? 1 : 3)),
    latencySeconds: args.num('latency-seconds', 'BENCH_LATENCY_SECONDS', quick ? 0.5 : 3),
    rates: (args.string('rates') ?? '10000,100000').split(',').map(Number).filter((n) => n > 0),
    netBytes: args.num('net-bytes', 'BENCH_NET_BYTES', quick ? 64 * MiB : 1024 * MiB),
    producer,
    latencyProducer,
    json: args.json,
  };
}

if (isMainModule(import.meta.url)) await runBench(settingsFromArgs());
