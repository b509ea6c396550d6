/**
 * What the broker's start-up wires in for metrics, health and the request
 * log, in one place so main.ts adds it in a few lines:
 * - before the parts exist: the hooks they report to (`onFlushed` for the
 *   logs, `onIsrChanged` for the replica manager, `meter` for the produce
 *   and fetch handlers, `observer` for the connections), each a no-op or
 *   absent when metrics are off;
 * - once the replica manager, coordinator and lifecycle exist (`serve`):
 *   the scrape-time gauges and the HTTP listener, started before the
 *   Kafka listener so `/health` says "not up" rather than nothing while the
 *   broker starts;
 * - `shuttingDown()` first thing in a clean shutdown, and `close()` after
 *   the Kafka listener has closed, so `/health` answers 503 throughout.
 *
 * With `metrics.listen` empty nothing is registered or served and the hot
 * path sees null observers; with `request.log.sample.rate` 0 no request is
 * logged.
 */
import type { BrokerConfig } from '../config.js';
import type { GroupCoordinator } from '../coordinator/runtime.js';
import type { BrokerFaults } from '../faults.js';
import type { Logger } from '../log.js';
import type { BrokerServer } from '../net/server.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { Clock } from '../world/clock.js';
import type { HttpListener, HttpServer } from '../world/http-server.js';
import type { Rng } from '../world/rng.js';
import { BrokerMetrics, type TopicMeter } from './broker-metrics.js';
import { startMetricsEndpoint } from './endpoint.js';
import type { QuotaMetrics } from './quota-metrics.js';
import { registerGroupLag } from './group-lag.js';
import { checkHealth } from './health.js';
import { RequestLog } from './request-log.js';
import { combineObservers, type RequestObserver } from './request-observer.js';
import { registerPlaintextCacheMetrics, registerScrapeGauges } from './scrape-gauges.js';
import type { PlaintextCache } from '../storage/encryption/plaintext-cache.js';

export interface ServedParts {
  readonly replicas: ReplicaManager;
  readonly coordinator: GroupCoordinator;
  readonly lifecycle: { whyFenced(): string | null };
  readonly faults: BrokerFaults;
  /** The Kafka listener, once it is up. */
  server(): BrokerServer | undefined;
  /** The plaintext cache of encrypted topics, when the broker has one. */
  readonly plaintextCache?: PlaintextCache;
}

export class Telemetry {
  readonly #config: BrokerConfig;
  readonly #metrics: BrokerMetrics | null;
  readonly observer: RequestObserver | null;
  #shuttingDown = false;
  #listener: HttpListener | null = null;

  constructor(config: BrokerConfig, opts: { logger: Logger; rng: Rng }) {
    this.#config = config;
    this.#metrics = config.metricsListen === null ? null : new BrokerMetrics();
    const requestLog = config.requestLogSampleRate > 0 ? new RequestLog(opts.logger, config.requestLogSampleRate, opts.rng) : null;
    this.observer = combineObservers([this.#metrics, requestLog]);
  }

  get meter(): TopicMeter | undefined {
    return this.#metrics ?? undefined;
  }

  /** Quota throttling and connection refusals; absent when metrics are off. */
  get quotaMeter(): QuotaMetrics | undefined {
    return this.#metrics?.quotas;
  }

  get onFlushed(): ((seconds: number) => void) | undefined {
    const metrics = this.#metrics;
    return metrics === null ? undefined : (seconds) => metrics.flushed(seconds);
  }

  get onIsrChanged(): ((why: 'expand' | 'shrink') => void) | undefined {
    const metrics = this.#metrics;
    return metrics === null ? undefined : (why) => metrics.isrChanged(why);
  }

  /** Registers the scrape-time gauges and starts the HTTP listener (when `metrics.listen` is set). */
  async serve(parts: ServedParts, world: { http: HttpServer; clock: Clock; logger: Logger }): Promise<void> {
    const listen = this.#config.metricsListen;
    const metrics = this.#metrics;
    if (listen === null || metrics === null) return;
    const { replicas, coordinator, lifecycle, faults } = parts;
    const nodeId = this.#config.nodeId;
    const hostedPartitions = () => replicas.hostedPartitions();
    const whyFenced = () => lifecycle.whyFenced();
    registerScrapeGauges(metrics, { nodeId, image: () => replicas.image, hostedPartitions, whyFenced, openConnections: () => parts.server()?.connectionCount ?? 0 });
    if (parts.plaintextCache !== undefined) registerPlaintextCacheMetrics(metrics, parts.plaintextCache);
    registerGroupLag(metrics, {
      *committedOffsets() {
        for (const shard of coordinator.loadedShards().shards) yield* shard.committedOffsets();
      },
      partition: (topic, index) => replicas.partition(topic, index),
      nowMs: () => world.clock.nowMs(),
    });
    const health = () => checkHealth({
      nodeId,
      listening: () => parts.server()?.closing === false,
      shuttingDown: () => this.#shuttingDown,
      whyFenced,
      hostedPartitions,
      failure: () => faults.failed,
    });
    this.#listener = await startMetricsEndpoint({ http: world.http, host: listen.host, port: listen.port, metrics, health, logger: world.logger });
  }

  /** A clean shutdown began: `/health` answers 503 from now on. */
  shuttingDown(): void {
    this.#shuttingDown = true;
  }

  async close(): Promise<void> {
    await this.#listener?.close();
    this.#listener = null;
  }
}
