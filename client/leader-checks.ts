/**
 * Leader checks for requests a broker leaves unanswered. A paused or
 * cut-off broker answers nothing, so a Produce or Fetch sent to it would wait
 * out requestTimeoutMs (30 s) long after the cluster elected other leaders.
 * A request that waits past its due time has its topics' metadata asked
 * again, of another broker than the silent one, and again every
 * `intervalMs` while it waits; the producer and the consumer then move the
 * partitions whose leader the metadata names differently. One check per
 * topic per interval, however many requests wait.
 */
import type { Cluster } from './metadata.js';
import type { Logger } from './types.js';

/** The interval between checks, at most. */
const LEADER_CHECK_MAX_MS = 2000;

export class LeaderChecks {
  readonly intervalMs: number;
  readonly #cluster: Cluster;
  readonly #logger: Logger;
  readonly #onChecked: () => void;
  /** Per topic: when it may be checked again. */
  readonly #nextMs = new Map<string, number>();

  /** `onChecked` runs after each answered check (the cache may name new leaders now). */
  constructor(cluster: Cluster, requestTimeoutMs: number, logger: Logger, onChecked: () => void) {
    this.#cluster = cluster;
    this.#logger = logger;
    this.#onChecked = onChecked;
    this.intervalMs = Math.min(LEADER_CHECK_MAX_MS, Math.max(1, Math.floor(requestTimeoutMs / 4)));
  }

  /**
   * A request to `leader` carrying `topic` is unanswered and due for checks
   * from `slowAtMs`: checks the topic if it is time. Returns when to look again.
   */
  watch(topic: string, leader: number, slowAtMs: number, nowMs: number): number {
    if (nowMs < slowAtMs) return slowAtMs;
    const nextMs = this.#nextMs.get(topic) ?? 0;
    if (nowMs < nextMs) return nextMs;
    this.#nextMs.set(topic, nowMs + this.intervalMs);
    this.#cluster.fetchMetadata([topic], { avoid: leader }).then(
      () => this.#onChecked(),
      (err: unknown) => this.#logger.debug({ topic, err: (err as Error)?.message ?? String(err) }, 'checking the leaders of a request that waits too long failed'),
    );
    return nowMs + this.intervalMs;
  }
}
