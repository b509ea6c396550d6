/**
 * The producer side of `runnel perf` (and of bench/broker.ts): sends
 * `numRecords` records of `recordSize` bytes, optionally paced to a fixed rate,
 * and measures each record's latency from the `send` call to its
 * acknowledgement, as Kafka's ProducerPerformance does. Records are handed to
 * the SDK in arrays (`recordsPerSend`, by default about one batch's worth when
 * unpaced and whatever has fallen due when paced), and the bytes awaiting
 * acknowledgement are bounded, so the tool measures the broker, not its own
 * queue. Warm-up records are sent first and left out of every figure.
 *
 * It stops at the first failed send (then waits for the rest to settle,
 * which the producer's delivery timeout bounds) or when `signal` aborts
 * (Ctrl-C: what is still pending is failed at once and counted as errors);
 * either way the summary of what was measured comes with the error.
 */
import { randomFillSync } from 'node:crypto';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { ProducerMessage, ProducerOptions, Runnel } from '../../client/index.js';
import { reportBrokerOutages } from '../broker-notice.js';
import { PerfMeter, startProgress, type PerfSummary, type PerfWindow } from './perf-meter.js';

export interface ProducePerfOptions {
  topic: string;
  numRecords: number;
  recordSize: number;
  /** Records per second; 0 or less: as fast as possible. */
  throughput?: number;
  warmupRecords?: number;
  producer?: ProducerOptions;
  /** Records per `send` call at most. */
  recordsPerSend?: number;
  /** Bytes of records awaiting acknowledgement at most (default: the producer's buffer memory, else 32 MiB). */
  maxInFlightBytes?: number;
  reportingIntervalMs?: number;
  onProgress?: (window: PerfWindow) => void;
  /** Writes the send time (`performance.now()`, f64 LE) into the first 8 bytes of each value (end-to-end runs). */
  stampSendTime?: boolean;
  /** Stops the run (Ctrl-C): nothing more is sent, what is pending is failed, and PerfRunError carries a PerfInterrupted. */
  signal?: AbortSignal;
}

/** What a failed run still reports: the summary so far and the first error. */
export class PerfRunError extends Error {
  override name = 'PerfRunError';
  constructor(
    readonly summary: PerfSummary,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The cause of a PerfRunError when the run was stopped on purpose. */
export class PerfInterrupted extends Error {
  override name = 'PerfInterrupted';
  constructor() {
    super('interrupted');
  }
}

/**
 * `promise`'s value, or undefined as soon as `signal` aborts. It leaves no
 * listener behind: racing every wait against one long-lived promise would
 * pile up a reaction per wait on it (a leak, and measurable per batch).
 */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

const PAYLOAD_VARIANTS = 64;
const DEFAULT_BATCH_BYTES = 64 * 1024;
const DEFAULT_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
const RECORDS_PER_SEND_MAX = 1000;
export const SEND_TIME_BYTES = 8;

export async function runProducePerf(runnel: Runnel, opts: ProducePerfOptions): Promise<PerfSummary> {
  const producer = runnel.producer(opts.producer);
  const notice = reportBrokerOutages(producer, 'sends wait for it up to their delivery timeout (Ctrl-C to stop and print the summary)');
  try {
    return await produceRecords(
      opts,
      (messages) => producer.send({ topic: opts.topic, messages }),
      () => producer.flush(),
      () => producer.close({ timeoutMs: 0 }),
    );
  } finally {
    notice.dispose();
    await producer.close();
  }
}

type Send = (messages: ProducerMessage[]) => Promise<unknown>;

async function produceRecords(opts: ProducePerfOptions, send: Send, flush: () => Promise<void>, abandon: () => Promise<void>): Promise<PerfSummary> {
  const meter = new PerfMeter('produce', opts.topic);
  const payloads = randomPayloads(opts.recordSize, PAYLOAD_VARIANTS);
  const warmupRecords = opts.warmupRecords ?? 0;
  const throughput = opts.throughput ?? 0;
  const batchBytes = opts.producer?.batchBytes ?? DEFAULT_BATCH_BYTES;
  const perSendMax = opts.recordsPerSend ?? Math.max(1, Math.min(RECORDS_PER_SEND_MAX, Math.floor(batchBytes / Math.max(1, opts.recordSize))));
  const maxInFlightBytes = opts.maxInFlightBytes ?? opts.producer?.bufferMemoryBytes ?? DEFAULT_IN_FLIGHT_BYTES;
  const window = new InFlightWindow(maxInFlightBytes);
  let firstError: unknown;
  const signal = opts.signal;
  const stopped = (): boolean => firstError !== undefined || opts.signal?.aborted === true;

  const sendRecords = async (count: number, measured: boolean, pace: Pacer | undefined) => {
    let sent = 0;
    while (sent < count && !stopped()) {
      let n = Math.min(count - sent, perSendMax);
      if (pace !== undefined) {
        const due = pace.dueBy(performance.now()) - sent;
        if (due <= 0) {
          await unlessAborted(sleep(Math.max(1, pace.msUntil(sent, performance.now()))), signal);
          continue;
        }
        n = Math.min(n, due);
      }
      const bytes = n * opts.recordSize;
      if (!(await window.reserve(bytes, signal, stopped))) break;
      const messages = buildMessages(payloads, sent, n, opts.stampSendTime === true);
      const sentAtMs = performance.now();
      sent += n;
      send(messages).then(
        () => {
          if (measured) meter.record(n, bytes, (performance.now() - sentAtMs) * 1000);
        },
        (error: unknown) => {
          firstError ??= error;
          meter.recordErrors(n);
        },
      ).finally(() => window.release(bytes));
      if (pace === undefined) await yieldToEventLoop();
    }
    await unlessAborted(window.drain(), signal);
  };

  if (warmupRecords > 0) {
    await sendRecords(warmupRecords, false, throughput > 0 ? new Pacer(throughput) : undefined);
  }
  meter.restart();
  const progress = startProgress(meter, opts.reportingIntervalMs ?? 0, (w) => opts.onProgress?.(w));
  try {
    await sendRecords(opts.numRecords, true, throughput > 0 ? new Pacer(throughput) : undefined);
    if (!stopped()) await unlessAborted(flush(), signal);
  } finally {
    progress.stop();
  }
  if (opts.signal?.aborted === true) {
    // What is still pending fails now (and is counted); its fate on the broker is unknown.
    await abandon();
    await window.drain();
    throw new PerfRunError(meter.summary(), new PerfInterrupted());
  }
  const summary = meter.summary();
  if (firstError !== undefined) throw new PerfRunError(summary, firstError);
  return summary;
}

function buildMessages(payloads: Buffer[], first: number, count: number, stamp: boolean): ProducerMessage[] {
  const messages: ProducerMessage[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const payload = payloads[(first + i) % payloads.length]!;
    if (stamp) {
      const value = Buffer.from(payload);
      value.writeDoubleLE(performance.now(), 0);
      messages[i] = { value };
    } else {
      messages[i] = { value: payload };
    }
  }
  return messages;
}

/** Random printable payloads (as Kafka's perf tool uses), several so compression sees some variety. */
function randomPayloads(recordSize: number, variants: number): Buffer[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: variants }, () => {
    const bytes = randomFillSync(Buffer.alloc(recordSize));
    for (let i = 0; i < bytes.length; i++) bytes[i] = alphabet.charCodeAt(bytes[i]! % alphabet.length);
    return bytes;
  });
}

/** Records due by a time at a fixed rate, counted from the pacer's creation. */
class Pacer {
  readonly #startMs = performance.now();
  constructor(readonly recordsPerSec: number) {}

  /** How many records should have been sent by `nowMs` (the first is due at once). */
  dueBy(nowMs: number): number {
    return Math.floor(((nowMs - this.#startMs) * this.recordsPerSec) / 1000) + 1;
  }

  /** Milliseconds until record number `index` (0-based) falls due. */
  msUntil(index: number, nowMs: number): number {
    return this.#startMs + (index * 1000) / this.recordsPerSec - nowMs;
  }
}

/** Bounds the bytes sent but not yet acknowledged. */
class InFlightWindow {
  #bytes = 0;
  #waiters: (() => void)[] = [];

  constructor(readonly maxBytes: number) {}

  /** Waits for room for `bytes`; false (nothing reserved) if `stopped()` turns true meanwhile. */
  async reserve(bytes: number, signal: AbortSignal | undefined, stopped: () => boolean): Promise<boolean> {
    // A single send larger than the window still goes, alone.
    while (this.#bytes > 0 && this.#bytes + bytes > this.maxBytes) {
      await unlessAborted(this.#changed(), signal);
      if (stopped()) return false;
    }
    this.#bytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#bytes -= bytes;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async drain(): Promise<void> {
    while (this.#bytes > 0) await this.#changed();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
