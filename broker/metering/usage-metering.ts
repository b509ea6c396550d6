/**
 * Usage metering as the broker's start-up wires it in (main.ts): the
 * per-minute meter, the hooks the request path reports to (`tap` for the
 * handlers, `observer` for the connections), and the writer that puts the
 * counts in `__usage`, started once the broker serves and closed on a clean
 * shutdown after the listener has stopped taking requests, so the last
 * minute is written whole.
 */
import type { UsageSettings } from '../config.js';
import type { Logger } from '../log.js';
import type { RequestObserver } from '../metrics/request-observer.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { leaderSources } from '../share/sources.js';
import type { Clock } from '../world/clock.js';
import type { ClientWorld } from '../../client/world.js';
import { UsageMeter } from './usage-meter.js';
import { UsageCounter, type UsageTap } from './usage-tap.js';
import { USAGE_TOPIC, UsageWriter } from './usage-writer.js';

export class UsageMetering {
  readonly tap: UsageTap;
  readonly observer: RequestObserver;
  readonly writer: UsageWriter;
  readonly #closeSources: () => void;

  constructor(opts: { settings: UsageSettings; nodeId: number; clock: Clock; logger: Logger; replicas: ReplicaManager; world: ClientWorld | undefined; createTopic: UsageWriterCreate }) {
    const { settings, nodeId, clock, replicas } = opts;
    const logger = opts.logger.child({ component: 'usage' });
    const meter = new UsageMeter(nodeId, clock.nowMs());
    const counter = new UsageCounter(meter, clock);
    this.tap = counter;
    this.observer = counter;
    const sources = leaderSources({ replicas, nodeId, world: opts.world, logger });
    this.#closeSources = sources.onClose;
    this.writer = new UsageWriter({
      meter,
      brokerId: nodeId,
      flushIntervalMs: settings.flushIntervalMs,
      retentionMs: settings.retentionMs,
      replicationFactor: settings.replicationFactor,
      clock,
      logger,
      partitions: () => replicas.image.topics.get(USAGE_TOPIC)?.partitions,
      liveBrokers: () => [...replicas.image.brokers.values()].filter((b) => !b.fenced).length,
      createTopic: opts.createTopic,
      lookup: sources.lookup,
    });
  }

  start(): void {
    this.writer.start();
  }

  async close(): Promise<void> {
    try {
      await this.writer.close();
    } finally {
      this.#closeSources();
    }
  }
}

type UsageWriterCreate = ConstructorParameters<typeof UsageWriter>[0]['createTopic'];
