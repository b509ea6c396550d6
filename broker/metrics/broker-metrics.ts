/**
 * The broker's metrics, in Prometheus' shape (prom-client), named like
 * Kafka's under `runnel_`. This file holds what moves on the hot path:
 * counters and histograms updated as requests, appends, reads, flushes and
 * ISR changes happen, each a lookup of a kept series and an add to a plain
 * number (hot-series.ts), turned into samples only when scraped.
 * What is a state rather than an event (under-replicated partitions, open
 * connections, group lag) is computed when scraped (scrape-gauges.ts,
 * group-lag.ts), never per request.
 *
 * One Registry per broker, never prom-client's global one: tests run several
 * brokers in one process, and each must expose only its own numbers.
 *
 * Topic labels: a deleted topic's series are dropped at the next scrape
 * (`forgetTopicsOtherThan`), so a cluster that creates and deletes topics
 * does not grow its scrape without bound.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { errorNameOf } from '../../protocol/errors.js';
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from './hot-series.js';
import type { RequestEvent, RequestObserver } from './request-observer.js';
import { QuotaMetrics } from './quota-metrics.js';

/** Request latency buckets: sub-millisecond appends up to long polls (Fetch waits up to its maxWaitMs) and slow admin calls. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** fdatasync on an SSD is ~0.1-2 ms, on a busy disk or network volume tens to hundreds. */
const FLUSH_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the produce and fetch handlers report per topic. */
export interface TopicMeter {
  /** Records appended by this broker as leader (duplicates of a producer's retry are not). */
  produced(topic: string, records: number, bytes: number): void;
  /** Records sent to consumers (not to followers: see `replicated`). */
  consumed(topic: string, records: number, bytes: number): void;
  /** Bytes sent to followers (Kafka's ReplicationBytesOutPerSec). */
  replicated(topic: string, bytes: number): void;
}

interface TopicSeries {
  bytesIn: CounterSeries;
  recordsIn: CounterSeries;
  bytesOut: CounterSeries;
  recordsOut: CounterSeries;
  replicationBytesOut: CounterSeries;
}

interface ApiSeries {
  latency: HistogramSeries;
  bytesIn: CounterSeries;
  bytesOut: CounterSeries;
  /** By error code. */
  requests: Map<number, CounterSeries>;
}

export class BrokerMetrics implements RequestObserver, TopicMeter {
  readonly registry = new Registry();
  /** Client-quota throttling and refused connections (quota-metrics.ts). */
  readonly quotas = new QuotaMetrics(this.registry);
  readonly #requests: HotCounter;
  readonly #latency: HotHistogram;
  readonly #requestBytes: HotCounter;
  readonly #responseBytes: HotCounter;
  readonly #topicCounters: Record<keyof TopicSeries, HotCounter>;
  readonly #isrShrinks: CounterSeries;
  readonly #isrExpands: CounterSeries;
  readonly #flush: HistogramSeries;
  readonly #byApi = new Map<number, ApiSeries>();
  readonly #byTopic = new Map<string, TopicSeries>();

  /** `defaultMetrics`: prom-client's process metrics (event-loop lag, heap, GC, CPU) as runnel_process_* / runnel_nodejs_*. */
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registry = this.registry;
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'runnel_' });
    this.#requests = new HotCounter({ name: 'runnel_requests_total', help: 'Requests answered, by API and error (the response\'s top-level error, else its first partition error, else NONE).', labelNames: ['api', 'error'], registry });
    this.#latency = new HotHistogram({ name: 'runnel_request_duration_seconds', help: 'From a request\'s arrival to its answer handed to the socket (Fetch includes its long poll).', labelNames: ['api'], buckets: LATENCY_BUCKETS, registry });
    this.#requestBytes = new HotCounter({ name: 'runnel_request_bytes_total', help: 'Request bytes received, length prefixes included, by API.', labelNames: ['api'], registry });
    this.#responseBytes = new HotCounter({ name: 'runnel_response_bytes_total', help: 'Response bytes sent, length prefixes included, by API.', labelNames: ['api'], registry });
    const topic = (name: string, help: string): HotCounter => new HotCounter({ name, help, labelNames: ['topic'], registry });
    this.#topicCounters = {
      bytesIn: topic('runnel_topic_bytes_in_total', 'Record batch bytes appended by this broker as leader (Kafka\'s BytesInPerSec).'),
      recordsIn: topic('runnel_topic_records_in_total', 'Records appended by this broker as leader (Kafka\'s MessagesInPerSec).'),
      bytesOut: topic('runnel_topic_bytes_out_total', 'Record batch bytes sent to consumers (Kafka\'s BytesOutPerSec).'),
      recordsOut: topic('runnel_topic_records_out_total', 'Records sent to consumers, counted from the batch headers.'),
      replicationBytesOut: topic('runnel_topic_replication_bytes_out_total', 'Record batch bytes sent to followers (Kafka\'s ReplicationBytesOutPerSec).'),
    };
    this.#isrShrinks = new HotCounter({ name: 'runnel_isr_shrinks_total', help: 'ISR shrinks of partitions this broker leads, as committed by the controller.', registry }).series();
    this.#isrExpands = new HotCounter({ name: 'runnel_isr_expands_total', help: 'ISR expansions of partitions this broker leads, as committed by the controller.', registry }).series();
    this.#flush = new HotHistogram({ name: 'runnel_log_flush_duration_seconds', help: 'Duration of log flush rounds (fdatasync of the segment files written since the last one; Kafka\'s LogFlushRateAndTimeMs).', buckets: FLUSH_BUCKETS, registry }).series();
  }

  observe(event: RequestEvent): void {
    const series = this.#apiSeries(event.apiKey, event.api);
    let requests = series.requests.get(event.errorCode);
    if (requests === undefined) {
      requests = this.#requests.series(event.api ?? 'unknown', errorNameOf(event.errorCode));
      series.requests.set(event.errorCode, requests);
    }
    requests.value += 1;
    series.latency.observe(event.latencySeconds);
    series.bytesIn.value += event.bytesIn;
    series.bytesOut.value += event.bytesOut;
  }

  produced(topic: string, records: number, bytes: number): void {
    const series = this.#topicSeries(topic);
    series.recordsIn.value += records;
    series.bytesIn.value += bytes;
  }

  consumed(topic: string, records: number, bytes: number): void {
    const series = this.#topicSeries(topic);
    series.recordsOut.value += records;
    series.bytesOut.value += bytes;
  }

  replicated(topic: string, bytes: number): void {
    this.#topicSeries(topic).replicationBytesOut.value += bytes;
  }

  isrChanged(why: 'expand' | 'shrink'): void {
    (why === 'expand' ? this.#isrExpands : this.#isrShrinks).value += 1;
  }

  flushed(seconds: number): void {
    this.#flush.observe(seconds);
  }

  /** Drops the series of topics that no longer exist (called on scrape with the topics in the metadata). */
  forgetTopicsOtherThan(live: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const topic of this.#byTopic.keys()) {
      if (live.has(topic)) continue;
      this.#byTopic.delete(topic);
      for (const counter of Object.values(this.#topicCounters)) counter.remove(topic);
    }
  }

  /** The Prometheus text exposition of every metric (collecting the scrape-time gauges). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #apiSeries(apiKey: number, api: string | undefined): ApiSeries {
    // Every unknown key shares one series (key -1): a client sending random keys cannot grow the scrape.
    const key = api === undefined ? -1 : apiKey;
    let series = this.#byApi.get(key);
    if (series === undefined) {
      const name = api ?? 'unknown';
      series = { latency: this.#latency.series(name), bytesIn: this.#requestBytes.series(name), bytesOut: this.#responseBytes.series(name), requests: new Map() };
      this.#byApi.set(key, series);
    }
    return series;
  }

  #topicSeries(topic: string): TopicSeries {
    let series = this.#byTopic.get(topic);
    if (series === undefined) {
      const c = this.#topicCounters;
      series = { bytesIn: c.bytesIn.series(topic), recordsIn: c.recordsIn.series(topic), bytesOut: c.bytesOut.series(topic), recordsOut: c.recordsOut.series(topic), replicationBytesOut: c.replicationBytesOut.series(topic) };
      this.#byTopic.set(topic, series);
    }
    return series;
  }
}
