/**
 * `runnel perf produce|consume|end-to-end`: load generators that print a
 * progress line every interval and then a summary in the shape of Kafka's
 * perf tools (records, records/s, MB/s, latency avg, max, p50, p95, p99,
 * p99.9 from an HDR histogram). With `--json` the progress lines go to stderr
 * and stdout carries exactly one line: the summary as a JSON object. A run
 * that fails before measuring anything prints only the error; one that fails
 * part-way, or is stopped with Ctrl-C, prints the summary of what it measured
 * (failed records counted in `errors`) and exits non-zero.
 */
import { Command, Option } from 'commander';
import type { Acks, CompressionName, ProducerOptions, Runnel } from '../../client/index.js';
import { withRunnel } from '../client-session.js';
import { CliError, explainError } from '../cli-error.js';
import { intOption, parseAcks, parseCompression, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { printJson, printLine } from '../output.js';
import { withSubcommandBootstrap } from '../program-bootstrap.js';
import { runConsumePerf } from '../perf/consume-perf.js';
import { runEndToEndPerf } from '../perf/end-to-end-perf.js';
import { formatSummary, formatWindow, type PerfSummary, type PerfWindow } from '../perf/perf-meter.js';
import { PerfInterrupted, PerfRunError, runProducePerf } from '../perf/produce-perf.js';
import { producerTimeouts, withDeliveryTimeout } from '../producer-timeouts.js';

interface CommonPerfOptions extends ClientOptions {
  topic: string;
  numRecords: number;
  json?: boolean;
  reportingIntervalMs: number;
}

interface ProducerFlags {
  acks: Acks;
  lingerMs?: number;
  batchBytes?: number;
  compression?: CompressionName;
  bufferMemoryBytes?: number;
  deliveryTimeoutMs: number;
}

interface ProducePerfFlags extends CommonPerfOptions, ProducerFlags {
  recordSize: number;
  throughput: number;
  warmupRecords: number;
  recordsPerSend?: number;
}

interface ConsumePerfFlags extends CommonPerfOptions {
  timeoutMs: number;
  fromLatest?: boolean;
}

interface EndToEndFlags extends CommonPerfOptions, ProducerFlags {
  recordSize: number;
  throughput: number;
  warmupRecords: number;
  timeoutMs: number;
}

export function perfCommand(): Command {
  const perf = withSubcommandBootstrap(new Command('perf').description('measure throughput and latency against a running broker'));

  const produce = perfOptions(perf.command('produce').description('send records as fast as allowed and report throughput and send→ack latency'))
    .requiredOption('--record-size <bytes>', 'bytes per record value', intOption(0, 64 * 1024 * 1024))
    .option('--throughput <records/s>', 'pace to this rate; -1 for as fast as possible', intOption(-1), -1)
    .option('--warmup-records <n>', 'records sent first and left out of the figures', intOption(0), 0)
    .option('--records-per-send <n>', 'records per send() call (default: about one batch when unpaced, whatever is due when paced)', intOption(1));
  clientOptions(producerOptions(produce)).action((opts: ProducePerfFlags) =>
    reportRun(opts, 'sent', async (runnel, base) => {
      // A missing topic or no broker fails at once, before anything is measured.
      await runnel.admin().describeTopic(opts.topic);
      return runProducePerf(runnel, {
        ...base,
        recordSize: opts.recordSize,
        throughput: opts.throughput,
        warmupRecords: opts.warmupRecords,
        producer: producerConfig(opts),
        ...(opts.recordsPerSend === undefined ? {} : { recordsPerSend: opts.recordsPerSend }),
      });
    }),
  );

  const consume = perfOptions(perf.command('consume').description('read --num-records records in all (from every partition together) and report throughput and record age on arrival'))
    .option('--timeout-ms <ms>', 'give up when nothing has arrived for this long', intOption(1), 10_000)
    .option('--from-latest', 'start at the end of each partition (default: the beginning)');
  clientOptions(consume).action((opts: ConsumePerfFlags) =>
    reportRun(opts, 'received', (runnel, base) =>
      runConsumePerf(runnel, { ...base, from: opts.fromLatest === true ? 'latest' : 'earliest', idleTimeoutMs: opts.timeoutMs }),
    ),
  );

  const endToEnd = perfOptions(perf.command('end-to-end').description('produce at a fixed rate, consume the same records, report send→consumed latency in µs'))
    .requiredOption('--throughput <records/s>', 'records per second', intOption(1))
    .option('--record-size <bytes>', 'bytes per record value (at least 8)', intOption(8, 64 * 1024 * 1024), 100)
    .option('--warmup-records <n>', 'records sent first and left out of the figures', intOption(0), 0)
    .option('--timeout-ms <ms>', 'give up when nothing has arrived for this long', intOption(1), 10_000);
  clientOptions(producerOptions(endToEnd)).action((opts: EndToEndFlags) =>
    reportRun(opts, 'consumed', async (runnel, base) => {
      const result = await runEndToEndPerf(runnel, {
        ...base,
        recordSize: opts.recordSize,
        throughput: opts.throughput,
        warmupRecords: opts.warmupRecords,
        producer: producerConfig(opts),
        idleTimeoutMs: opts.timeoutMs,
      });
      return result.endToEnd;
    }),
  );

  return perf;
}

/** The options every perf command starts with. */
function perfOptions(command: Command): Command {
  return command
    .requiredOption('--topic <name>', 'topic to use (it must exist)')
    .requiredOption('--num-records <n>', 'records to measure', intOption(1))
    .option('--reporting-interval-ms <ms>', 'progress line every this often; 0 for none', intOption(0), 5000);
}

/** The options every perf command ends with. */
function clientOptions(command: Command): Command {
  return withJson(withBootstrap(command), 'print the summary as one JSON object on the last line of stdout (progress goes to stderr)');
}

function producerOptions(command: Command): Command {
  return withDeliveryTimeout(command)
    .option('--acks <0|1|all>', 'acknowledgement to wait for', parseAcks, 1 as Acks)
    .option('--linger-ms <ms>', 'producer linger (default: the SDK default)', intOption(0, 60_000))
    .option('--batch-bytes <n>', 'producer batch size (default: the SDK default)', intOption(1))
    .addOption(new Option('--compression <codec>', 'none, gzip or lz4 (default: none)').argParser(parseCompression))
    .option('--buffer-memory-bytes <n>', 'producer buffer memory, also the bound on unacknowledged bytes', intOption(1024));
}

function producerConfig(flags: ProducerFlags): ProducerOptions {
  const config: ProducerOptions = { acks: flags.acks, ...producerTimeouts(flags.deliveryTimeoutMs, flags.lingerMs) };
  if (flags.lingerMs !== undefined) config.lingerMs = flags.lingerMs;
  if (flags.batchBytes !== undefined) config.batchBytes = flags.batchBytes;
  if (flags.compression !== undefined) config.compression = flags.compression;
  if (flags.bufferMemoryBytes !== undefined) config.bufferMemoryBytes = flags.bufferMemoryBytes;
  return config;
}

/** What every run takes from the common flags. */
interface BaseRun {
  topic: string;
  numRecords: number;
  reportingIntervalMs: number;
  onProgress: (window: PerfWindow) => void;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
}

/** Runs a measurement, printing progress and then the summary (also when the run failed part-way or was interrupted). */
async function reportRun(opts: CommonPerfOptions, verb: string, run: (runnel: Runnel, base: BaseRun) => Promise<PerfSummary>): Promise<void> {
  const onProgress = (window: PerfWindow) => {
    const line = formatWindow(window, verb);
    if (opts.json === true) process.stderr.write(`${line}\n`);
    else void printLine(line);
  };
  // Ctrl-C stops the run and still prints the summary; a second one ends the process at once.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const base: BaseRun = { topic: opts.topic, numRecords: opts.numRecords, reportingIntervalMs: opts.reportingIntervalMs, onProgress, signal: interrupt.signal };
  let summary: PerfSummary;
  let failure: unknown;
  try {
    summary = await withRunnel(opts, (runnel) => run(runnel, base));
  } catch (err) {
    if (!(err instanceof PerfRunError)) throw err;
    summary = err.summary;
    failure = err.cause;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const interrupted = failure instanceof PerfInterrupted;
  const context = { bootstrap: opts.bootstrap, topic: opts.topic };
  if (failure !== undefined && !interrupted && summary.records === 0 && summary.errors === 0) throw new CliError(explainError(failure, context));
  await (opts.json === true ? printJson(summary) : printLine(formatSummary(summary, verb)));
  if (interrupted) {
    process.stderr.write(`Interrupted: the summary above covers what was measured before Ctrl-C (${summary.errors} records counted as errors).\n`);
    throw new CliError('', 130);
  }
  if (failure !== undefined) {
    throw new CliError(`${explainError(failure, context)} (the summary above covers the records before it; ${summary.errors} counted as errors)`);
  }
}
