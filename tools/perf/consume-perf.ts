/**
 * The consumer side of `runnel perf`: reads `numRecords` records in all,
 * from the partitions of a topic together, and reports records/s, MB/s (key + value bytes, as
 * Kafka's consumer perf tool counts) and, unlike Kafka's tool, latency: the
 * age of each record on arrival (now − its timestamp), which is end-to-end
 * latency when a producer runs at the same time. Timestamps are milliseconds,
 * so that latency has millisecond resolution; `runEndToEndPerf` measures in
 * microseconds instead. Stops early, with an error, when nothing arrives for
 * `idleTimeoutMs` (naming a broker it cannot reach, if that is why), or when
 * `signal` aborts.
 */
import type { ConsumerOptions, Message, Runnel, StartOffset } from '../../client/index.js';
import { reportBrokerOutages } from '../broker-notice.js';
import { PerfMeter, startProgress, type PerfSummary, type PerfWindow } from './perf-meter.js';
import { PerfInterrupted, PerfRunError, unlessAborted } from './produce-perf.js';

export interface ConsumePerfOptions {
  topic: string;
  numRecords: number;
  /** Where every partition starts; default earliest. */
  from?: StartOffset;
  idleTimeoutMs?: number;
  consumer?: ConsumerOptions;
  reportingIntervalMs?: number;
  onProgress?: (window: PerfWindow) => void;
  /** Stops the run (Ctrl-C); PerfRunError then carries a PerfInterrupted. */
  signal?: AbortSignal;
}

const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

export async function runConsumePerf(runnel: Runnel, opts: ConsumePerfOptions): Promise<PerfSummary> {
  const meter = new PerfMeter('consume', opts.topic);
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const description = await runnel.admin().describeTopic(opts.topic);
  const consumer = runnel.consumer(opts.consumer);
  const notice = reportBrokerOutages(consumer, `still trying until nothing has arrived for ${idleTimeoutMs} ms`);
  consumer.assign(description.partitions.map((p) => ({ topic: opts.topic, partition: p.partition, offset: opts.from ?? 'earliest' })));
  meter.restart();
  const progress = startProgress(meter, opts.reportingIntervalMs ?? 0, (w) => opts.onProgress?.(w));
  let timedOut = false;
  let outage = '';
  try {
    const batches = consumer.batches()[Symbol.asyncIterator]();
    while (meter.records < opts.numRecords) {
      const next = await withIdleTimeout(unlessAborted(batches.next(), opts.signal), idleTimeoutMs);
      if (opts.signal?.aborted === true) break;
      if (next === undefined) {
        outage = notice.describe();
        timedOut = true;
        break;
      }
      if (next.done === true) break;
      recordArrivals(meter, next.value.messages.slice(0, opts.numRecords - meter.records), Date.now());
    }
  } finally {
    progress.stop();
    notice.dispose();
    await consumer.close();
  }
  const summary = meter.summary();
  if (opts.signal?.aborted === true) throw new PerfRunError(summary, new PerfInterrupted());
  if (summary.records < opts.numRecords) {
    summary.errors = opts.numRecords - summary.records;
    const why = timedOut ? `nothing arrived for ${idleTimeoutMs} ms${outage === '' ? '' : `: ${outage}`}` : 'the consumer stopped';
    throw new PerfRunError(summary, new Error(`only ${summary.records} of ${opts.numRecords} records arrived (${why}); produce more records or lower --num-records`));
  }
  return summary;
}

/** Records a batch's messages, one histogram update per run of equal timestamps (they mostly share one). */
export function recordArrivals(meter: PerfMeter, messages: readonly Message[], nowMs: number): void {
  let runTimestamp = NaN;
  let runRecords = 0;
  let runBytes = 0;
  const flush = () => {
    if (runRecords > 0) meter.record(runRecords, runBytes, Math.max(0, nowMs - runTimestamp) * 1000);
  };
  for (const m of messages) {
    const bytes = (m.key?.length ?? 0) + (m.value?.length ?? 0);
    if (m.timestamp !== runTimestamp) {
      flush();
      runTimestamp = m.timestamp;
      runRecords = 0;
      runBytes = 0;
    }
    runRecords += 1;
    runBytes += bytes;
  }
  flush();
}

/** The promise's value, or undefined if it did not settle within `timeoutMs`. */
export async function withIdleTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
