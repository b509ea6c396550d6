/**
 * Latency recorded in microseconds in an HDR histogram (3 significant digits,
 * so a percentile is within 0.1% of the true value at any scale from 1 µs to
 * an hour) and reported in milliseconds, the unit Kafka's perf tools print.
 */
import * as hdr from 'hdr-histogram-js';

/** The latency part of a perf summary; all in milliseconds. */
export interface LatencySummary {
  latencyAvgMs: number;
  latencyMaxMs: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  latencyP999Ms: number;
}

const MICROS_PER_MS = 1000;
/** One hour: anything slower is clamped (the histogram would otherwise resize mid-run). */
const HIGHEST_TRACKABLE_MICROS = 3_600_000_000;

export class LatencyHistogram {
  readonly #histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_MICROS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });

  /** Records `count` samples of `micros` (a send of n records acknowledged together counts n times). */
  recordMicros(micros: number, count = 1): void {
    const value = Math.min(HIGHEST_TRACKABLE_MICROS, Math.max(1, Math.round(micros)));
    this.#histogram.recordValueWithCount(value, count);
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.#histogram;
    const ms = (micros: number) => round3(micros / MICROS_PER_MS);
    if (h.totalCount === 0) {
      return { latencyAvgMs: 0, latencyMaxMs: 0, latencyP50Ms: 0, latencyP95Ms: 0, latencyP99Ms: 0, latencyP999Ms: 0 };
    }
    return {
      latencyAvgMs: ms(h.mean),
      latencyMaxMs: ms(h.maxValue),
      latencyP50Ms: ms(h.getValueAtPercentile(50)),
      latencyP95Ms: ms(h.getValueAtPercentile(95)),
      latencyP99Ms: ms(h.getValueAtPercentile(99)),
      latencyP999Ms: ms(h.getValueAtPercentile(99.9)),
    };
  }

  reset(): void {
    this.#histogram.reset();
  }
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
