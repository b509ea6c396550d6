/**
 * Counts what a perf run moved and how long each record took, for the whole
 * run (into an HDR histogram) and for the current reporting window (count,
 * bytes, average and maximum: what Kafka's perf tools print every interval).
 * Time comes from `performance.now()`, monotonic, in milliseconds.
 */
import { LatencyHistogram, round3, type LatencySummary } from './latency-histogram.js';

export type PerfKind = 'produce' | 'consume' | 'end-to-end';

/** A run's totals: the `--json` shape of `runnel perf` (keys documented in docs/CLI.md). */
export interface PerfSummary extends LatencySummary {
  kind: PerfKind;
  topic: string;
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Records that failed (produce) or did not arrive in time (consume). */
  errors: number;
}

/** One reporting interval. */
export interface PerfWindow {
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  latencyAvgMs: number;
  latencyMaxMs: number;
}

const BYTES_PER_MB = 1024 * 1024;

export class PerfMeter {
  readonly histogram = new LatencyHistogram();
  #startMs = performance.now();
  #records = 0;
  #bytes = 0;
  #errors = 0;
  #windowStartMs = this.#startMs;
  #windowRecords = 0;
  #windowBytes = 0;
  #windowLatencySumMicros = 0;
  #windowLatencyMaxMicros = 0;

  constructor(
    readonly kind: PerfKind,
    readonly topic: string,
  ) {}

  get records(): number {
    return this.#records;
  }

  /** Restarts the clock and every count (used after warm-up records). */
  restart(): void {
    this.#startMs = performance.now();
    this.#records = 0;
    this.#bytes = 0;
    this.#errors = 0;
    this.histogram.reset();
    this.#resetWindow(this.#startMs);
  }

  /** `records` records of `bytes` bytes in total, each taking `latencyMicros`. */
  record(records: number, bytes: number, latencyMicros: number): void {
    this.#records += records;
    this.#bytes += bytes;
    this.#windowRecords += records;
    this.#windowBytes += bytes;
    this.#windowLatencySumMicros += latencyMicros * records;
    if (latencyMicros > this.#windowLatencyMaxMicros) this.#windowLatencyMaxMicros = latencyMicros;
    this.histogram.recordMicros(latencyMicros, records);
  }

  recordErrors(records: number): void {
    this.#errors += records;
  }

  /** The window since the last call, then starts a new one. */
  takeWindow(): PerfWindow {
    const nowMs = performance.now();
    const elapsedMs = Math.max(nowMs - this.#windowStartMs, 1e-3);
    const window: PerfWindow = {
      records: this.#windowRecords,
      bytes: this.#windowBytes,
      elapsedMs: round3(elapsedMs),
      recordsPerSec: round3((this.#windowRecords * 1000) / elapsedMs),
      mbPerSec: round3((this.#windowBytes * 1000) / elapsedMs / BYTES_PER_MB),
      latencyAvgMs: this.#windowRecords === 0 ? 0 : round3(this.#windowLatencySumMicros / this.#windowRecords / 1000),
      latencyMaxMs: round3(this.#windowLatencyMaxMicros / 1000),
    };
    this.#resetWindow(nowMs);
    return window;
  }

  summary(): PerfSummary {
    const elapsedMs = Math.max(performance.now() - this.#startMs, 1e-3);
    return {
      kind: this.kind,
      topic: this.topic,
      records: this.#records,
      bytes: this.#bytes,
      elapsedMs: round3(elapsedMs),
      recordsPerSec: round3((this.#records * 1000) / elapsedMs),
      mbPerSec: round3((this.#bytes * 1000) / elapsedMs / BYTES_PER_MB),
      errors: this.#errors,
      ...this.histogram.summary(),
    };
  }

  #resetWindow(nowMs: number): void {
    this.#windowStartMs = nowMs;
    this.#windowRecords = 0;
    this.#windowBytes = 0;
    this.#windowLatencySumMicros = 0;
    this.#windowLatencyMaxMicros = 0;
  }
}

/**
 * Kafka's interval line: `N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency.`
 */
export function formatWindow(window: PerfWindow, verb: string): string {
  return (
    `${window.records} records ${verb}, ${window.recordsPerSec.toFixed(1)} records/sec (${window.mbPerSec.toFixed(2)} MB/sec), ` +
    `${window.latencyAvgMs.toFixed(2)} ms avg latency, ${window.latencyMaxMs.toFixed(2)} ms max latency.`
  );
}

/**
 * Kafka's final line, with the percentiles: `..., P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.`, and
 * ` N errors.` after it when there were any (records that failed, or did not arrive).
 */
export function formatSummary(s: PerfSummary, verb: string): string {
  return (
    `${s.records} records ${verb}, ${s.recordsPerSec.toFixed(1)} records/sec (${s.mbPerSec.toFixed(2)} MB/sec), ` +
    `${s.latencyAvgMs.toFixed(2)} ms avg latency, ${s.latencyMaxMs.toFixed(2)} ms max latency, ` +
    `${s.latencyP50Ms.toFixed(2)} ms 50th, ${s.latencyP95Ms.toFixed(2)} ms 95th, ${s.latencyP99Ms.toFixed(2)} ms 99th, ` +
    `${s.latencyP999Ms.toFixed(2)} ms 99.9th.${s.errors > 0 ? ` ${s.errors} errors.` : ''}`
  );
}

/** Calls `report` every `intervalMs` until stopped (the timer never keeps the process alive). */
export function startProgress(meter: PerfMeter, intervalMs: number, report: (window: PerfWindow) => void): { stop(): void } {
  if (intervalMs <= 0) return { stop() {} };
  const timer = setInterval(() => report(meter.takeWindow()), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
