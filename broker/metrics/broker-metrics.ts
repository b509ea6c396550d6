/**
 * The broker's metrics, in Prometheus' shape (prom-client), named like
 * Kafka's under `runnel_`. This file holds what moves on the hot path:
 * counters and histograms updated as requests, appends, reads, flushes and
 * ISR changes happen, each a lookup of a cached labelled child and an add.
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
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { errorNameOf } from '../../protocol/errors.js';
import type { RequestEvent, RequestObserver } from './request-observer.js';

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
  bytesIn: Counter.Internal;
  recordsIn: Counter.Internal;
  bytesOut: Counter.Internal;
  recordsOut: Counter.Internal;
  replicationBytesOut: Counter.Internal;
}

interface ApiSeries {
  latency: Histogram.Internal<'api'>;
  bytesIn: Counter.Internal;
  bytesOut: Counter.Internal;
  /** By error code. */
  requests: Map<number, Counter.Internal>;
}

export class BrokerMetrics implements RequestObserver, TopicMeter {
  readonly registry = new Registry();
  readonly #requests: Counter<'api' | 'error'>;
  readonly #latency: Histogram<'api'>;
  readonly #requestBytes: Counter<'api'>;
  readonly #responseBytes: Counter<'api'>;
  readonly #topicCounters: Record<keyof TopicSeries, Counter<'topic'>>;
  readonly #isrShrinks: Counter;
  readonly #isrExpands: Counter;
  readonly #flush: Histogram;
  readonly #byApi = new Map<number, ApiSeries>();
  readonly #byTopic = new Map<string, TopicSeries>();

  /** `defaultMetrics`: prom-client's process metrics (event-loop lag, heap, GC, CPU) as runnel_process_* / runnel_nodejs_*. */
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'runnel_' });
    this.#requests = new Counter({ name: 'runnel_requests_total', help: 'Requests answered, by API and error (the response\'s top-level error, else its first partition error, else NONE).', labelNames: ['api', 'error'], registers });
    this.#latency = new Histogram({ name: 'runnel_request_duration_seconds', help: 'From a request\'s arrival to its answer handed to the socket (Fetch includes its long poll).', labelNames: ['api'], buckets: LATENCY_BUCKETS, registers });
    this.#requestBytes = new Counter({ name: 'runnel_request_bytes_total', help: 'Request bytes received, length prefixes included, by API.', labelNames: ['api'], registers });
    this.#responseBytes = new Counter({ name: 'runnel_response_bytes_total', help: 'Response bytes sent, length prefixes included, by API.', labelNames: ['api'], registers });
    const topic = (name: string, help: string): Counter<'topic'> => new Counter({ name, help, labelNames: ['topic'], registers });
    this.#topicCounters = {
      bytesIn: topic('runnel_topic_bytes_in_total', 'Record batch bytes appended by this broker as leader (Kafka\'s BytesInPerSec).'),
      recordsIn: topic('runnel_topic_records_in_total', 'Records appended by this broker as leader (Kafka\'s MessagesInPerSec).'),
      bytesOut: topic('runnel_topic_bytes_out_total', 'Record batch bytes sent to consumers (Kafka\'s BytesOutPerSec).'),
      recordsOut: topic('runnel_topic_records_out_total', 'Records sent to consumers, counted from the batch headers.'),
      replicationBytesOut: topic('runnel_topic_replication_bytes_out_total', 'Record batch bytes sent to followers (Kafka\'s ReplicationBytesOutPerSec).'),
    };
    this.#isrShrinks = new Counter({ name: 'runnel_isr_shrinks_total', help: 'ISR shrinks of partitions this broker leads, as committed by the controller.', registers });
    this.#isrExpands = new Counter({ name: 'runnel_isr_expands_total', help: 'ISR expansions of partitions this broker leads, as committed by the controller.', registers });
    this.#flush = new Histogram({ name: 'runnel_log_flush_duration_seconds', help: 'Duration of log flush rounds (fdatasync of the segment files written since the last one; Kafka\'s LogFlushRateAndTimeMs).', buckets: FLUSH_BUCKETS, registers });
  }

  observe(event: RequestEvent): void {
    const series = this.#apiSeries(event.apiKey, event.api);
    let requests = series.requests.get(event.errorCode);
    if (requests === undefined) {
      requests = this.#requests.labels(event.api ?? 'unknown', errorNameOf(event.errorCode));
      series.requests.set(event.errorCode, requests);
    }
    requests.inc();
    series.latency.observe(event.latencySeconds);
    series.bytesIn.inc(event.bytesIn);
    if (event.bytesOut > 0) series.bytesOut.inc(event.bytesOut);
  }

  produced(topic: string, records: number, bytes: number): void {
    const series = this.#topicSeries(topic);
    series.recordsIn.inc(records);
    series.bytesIn.inc(bytes);
  }

  consumed(topic: string, records: number, bytes: number): void {
    const series = this.#topicSeries(topic);
    series.recordsOut.inc(records);
    series.bytesOut.inc(bytes);
  }

  replicated(topic: string, bytes: number): void {
    this.#topicSeries(topic).replicationBytesOut.inc(bytes);
  }

  isrChanged(why: 'expand' | 'shrink'): void {
    (why === 'expand' ? this.#isrExpands : this.#isrShrinks).inc();
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
    let series = this.#byApi.get(apiKey);
    if (series === undefined) {
      // Every unknown key shares one label: a client sending random keys cannot grow the scrape.
      const name = api ?? 'unknown';
      series = { latency: this.#latency.labels(name), bytesIn: this.#requestBytes.labels(name), bytesOut: this.#responseBytes.labels(name), requests: new Map() };
      if (api !== undefined) this.#byApi.set(apiKey, series);
    }
    return series;
  }

  #topicSeries(topic: string): TopicSeries {
    let series = this.#byTopic.get(topic);
    if (series === undefined) {
      const c = this.#topicCounters;
      series = { bytesIn: c.bytesIn.labels(topic), recordsIn: c.recordsIn.labels(topic), bytesOut: c.bytesOut.labels(topic), recordsOut: c.recordsOut.labels(topic), replicationBytesOut: c.replicationBytesOut.labels(topic) };
      this.#byTopic.set(topic, series);
    }
    return series;
  }
}
