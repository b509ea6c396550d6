/**
 * End-to-end latency: one process produces at a fixed rate and consumes the
 * same records, and each record's latency is the time from its `send` call to
 * its arrival at the consumer, in microseconds (the send time rides in the
 * first 8 bytes of the value, read with the same monotonic clock). This is
 * what Kafka needs a separate EndToEndLatency tool for. The consumer starts at
 * each partition's current end, fixed before the first record is sent.
 */
import type { ConsumerOptions, ProducerOptions, Runnel } from '../../client/index.js';
import { withIdleTimeout } from './consume-perf.js';
import { PerfMeter, startProgress, type PerfSummary, type PerfWindow } from './perf-meter.js';
import { PerfInterrupted, PerfRunError, runProducePerf, SEND_TIME_BYTES, unlessAborted } from './produce-perf.js';

export interface EndToEndPerfOptions {
  topic: string;
  numRecords: number;
  /** At least 8 bytes (the send time). */
  recordSize: number;
  /** Records per second the producer is paced to (end-to-end latency means little at saturation). */
  throughput: number;
  warmupRecords?: number;
  producer?: ProducerOptions;
  consumer?: ConsumerOptions;
  idleTimeoutMs?: number;
  reportingIntervalMs?: number;
  onProgress?: (window: PerfWindow) => void;
  /** Stops the run (Ctrl-C); PerfRunError then carries a PerfInterrupted. */
  signal?: AbortSignal;
}

export interface EndToEndPerfResult {
  /** Latency fields: send → consumed. */
  endToEnd: PerfSummary;
  /** Latency fields: send → acknowledged. */
  produce: PerfSummary;
}

const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

export async function runEndToEndPerf(runnel: Runnel, opts: EndToEndPerfOptions): Promise<EndToEndPerfResult> {
  if (opts.recordSize < SEND_TIME_BYTES) throw new RangeError(`end-to-end records need at least ${SEND_TIME_BYTES} bytes for the send time`);
  const warmupRecords = opts.warmupRecords ?? 0;
  const expected = warmupRecords + opts.numRecords;
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const ends = await runnel.admin().listOffsets(opts.topic);
  const consumer = runnel.consumer(opts.consumer);
  consumer.assign(ends.map((end) => ({ topic: opts.topic, partition: end.partition, offset: end.latest })));
  const meter = new PerfMeter('end-to-end', opts.topic);
  let arrived = 0;
  let stopped = false;

  const consuming = (async () => {
    const batches = consumer.batches()[Symbol.asyncIterator]();
    while (arrived < expected && !stopped) {
      const next = await withIdleTimeout(unlessAborted(batches.next(), opts.signal), idleTimeoutMs);
      if (next === undefined || next.done === true) return;
      const nowMs = performance.now();
      for (const message of next.value.messages) {
        arrived += 1;
        if (arrived === warmupRecords + 1) meter.restart();
        if (arrived <= warmupRecords || message.value === null || message.value.length < SEND_TIME_BYTES) continue;
        meter.record(1, message.value.length + (message.key?.length ?? 0), (nowMs - message.value.readDoubleLE(0)) * 1000);
      }
    }
  })();
  // If producing fails first, the consumer's end is still awaited below or dropped with the error.
  consuming.catch(() => {});

  const progress = startProgress(meter, opts.reportingIntervalMs ?? 0, (w) => opts.onProgress?.(w));
  let produce: PerfSummary;
  try {
    produce = await runProducePerf(runnel, {
      topic: opts.topic,
      numRecords: opts.numRecords,
      recordSize: opts.recordSize,
      throughput: opts.throughput,
      warmupRecords,
      stampSendTime: true,
      ...(opts.producer === undefined ? {} : { producer: opts.producer }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    await consuming;
  } catch (err) {
    // Interrupted while producing: the end-to-end figures so far are the summary.
    if (err instanceof PerfRunError && err.cause instanceof PerfInterrupted) throw new PerfRunError(meter.summary(), err.cause);
    throw err;
  } finally {
    stopped = true;
    progress.stop();
    await consumer.close();
  }
  const endToEnd = meter.summary();
  if (opts.signal?.aborted === true) throw new PerfRunError(endToEnd, new PerfInterrupted());
  if (arrived < expected) {
    endToEnd.errors = expected - arrived;
    throw new PerfRunError(endToEnd, new Error(`only ${arrived} of ${expected} records came back to the consumer within ${idleTimeoutMs} ms of the last one`));
  }
  return { endToEnd, produce };
}
