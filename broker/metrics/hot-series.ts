/**
 * Counters and histograms for the hot path: an update is an add to a plain
 * number held by the caller (a labelled `series`, looked up once and kept),
 * tens of nanoseconds, where prom-client's own Counter.inc and
 * Histogram.observe cost 250 ns to 1 µs each (measured: 1.5 µs per request
 * for a counter, a histogram and two byte counters; 0.5 µs per topic for
 * two counters). The families turn into Prometheus samples only when
 * scraped: each is registered on the prom-client Registry as a metric
 * object (`name`, `help`, `get()`), which is all a Registry asks of one.
 */
import type { Registry } from 'prom-client';

interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Family<S> {
  readonly name: string;
  readonly help: string;
  /** The series of these label values (made on first use; keep it, do not look it up per update). */
  series(...values: string[]): S;
  /** Drops the series of these label values (a deleted topic). */
  remove(...values: string[]): void;
}

abstract class HotFamily<S> implements Family<S> {
  protected readonly bySeries = new Map<string, { labels: Record<string, string>; series: S }>();

  constructor(readonly name: string, readonly help: string, private readonly labelNames: readonly string[], registry: Registry, private readonly type: 'counter' | 'histogram') {
    registry.registerMetric(this as never);
  }

  protected abstract fresh(): S;
  protected abstract samples(labels: Record<string, string>, series: S): Sample[];

  series(...values: string[]): S {
    const key = values.join('\u0000');
    let entry = this.bySeries.get(key);
    if (entry === undefined) {
      entry = { labels: Object.fromEntries(this.labelNames.map((label, i) => [label, values[i]!])), series: this.fresh() };
      this.bySeries.set(key, entry);
    }
    return entry.series;
  }

  remove(...values: string[]): void {
    this.bySeries.delete(values.join('\u0000'));
  }

  /** What the Registry reads when scraped. */
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' } {
    const values: Sample[] = [];
    for (const { labels, series } of this.bySeries.values()) values.push(...this.samples(labels, series));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

export interface CounterSeries {
  value: number;
}

export class HotCounter extends HotFamily<CounterSeries> {
  constructor(opts: { name: string; help: string; labelNames?: readonly string[]; registry: Registry }) {
    super(opts.name, opts.help, opts.labelNames ?? [], opts.registry, 'counter');
  }

  protected fresh(): CounterSeries {
    return { value: 0 };
  }

  protected samples(labels: Record<string, string>, series: CounterSeries): Sample[] {
    return [{ labels, value: series.value }];
  }
}

export class HistogramSeries {
  /** Per bucket (not cumulative): observations at or below its bound and above the one before; the last is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i += 1;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class HotHistogram extends HotFamily<HistogramSeries> {
  readonly #bounds: readonly number[];

  constructor(opts: { name: string; help: string; labelNames?: readonly string[]; buckets: readonly number[]; registry: Registry }) {
    super(opts.name, opts.help, opts.labelNames ?? [], opts.registry, 'histogram');
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
  }

  protected fresh(): HistogramSeries {
    return new HistogramSeries(this.#bounds);
  }

  protected samples(labels: Record<string, string>, series: HistogramSeries): Sample[] {
    const samples: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      cumulative += series.counts[i]!;
      samples.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: i < this.#bounds.length ? this.#bounds[i]! : '+Inf' }, value: cumulative });
    }
    samples.push({ metricName: `${this.name}_sum`, labels, value: series.sum }, { metricName: `${this.name}_count`, labels, value: series.count });
    return samples;
  }
}
