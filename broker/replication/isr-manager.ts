/**
 * ISR changes by this broker's leaders, through the controller
 * (`ControllerChannel.alterPartition`, fenced by the partition epoch):
 * - expand: after a follower's fetch, a follower outside the ISR that holds
 *   everything up to the high watermark (and fetched past the start of this
 *   leadership) is added;
 * - shrink: every `replica.lag.time.max.ms / 2`, an ISR follower not caught
 *   up within `replica.lag.time.max.ms` is removed.
 * One change per partition in flight (LeaderState); the answer's state is
 * taken at once when the controller committed it. A refused change
 * (INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH, a lost connection...) keeps
 * the committed ISR and waits for the metadata to bring the partition's
 * current state; it is tried again no sooner than RETRY_BACKOFF_MS later.
 * STALE_BROKER_EPOCH also tells the broker to register again.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { AlterPartitionResponse } from '../../protocol/messages.js';
import type { ControllerChannel } from '../cluster/controller-channel.js';
import type { Logger } from '../log.js';
import type { Partition } from '../partition.js';
import { monotonicMs, type Clock } from '../world/clock.js';

const RETRY_BACKOFF_MS = 500;

export interface IsrManagerOptions {
  nodeId: number;
  channel: ControllerChannel;
  clock: Clock;
  logger: Logger;
  lagMaxMs: number;
  /** This broker's current registration epoch. */
  brokerEpoch(): number;
  /** The controller called `epoch` stale: the broker registers again. */
  staleBrokerEpoch(epoch: number): void;
  /** The topic id of a hosted topic (AlterPartition names both). */
  topicIdOf(topic: string): string | undefined;
  /** Told of every change the controller committed (runnel_isr_shrinks_total / _expands_total). */
  onIsrChanged?: (why: 'expand' | 'shrink') => void;
}

export class IsrManager {
  readonly #opts: IsrManagerOptions;
  readonly #retryAfterMs = new WeakMap<Partition, number>();

  constructor(opts: IsrManagerOptions) {
    this.#opts = opts;
  }

  /** After a follower's fetch: adds followers that caught up to the high watermark. */
  maybeExpand(partition: Partition): void {
    const state = partition.leadership;
    if (state === null || state.pendingIsr !== null || !this.#mayTry(partition)) return;
    const joining = state.expansionCandidates(partition.highWatermark);
    if (joining.length === 0) return;
    void this.#propose(partition, [...state.isr, ...joining].sort((a, b) => a - b), 'expand');
  }

  /** Removes ISR followers that have not caught up within the lag limit. */
  checkLagging(partitions: Iterable<Partition>): void {
    const nowMs = monotonicMs(this.#opts.clock);
    for (const partition of partitions) {
      const state = partition.leadership;
      if (state === null || state.alone || state.pendingIsr !== null || !partition.serving || !this.#mayTry(partition)) continue;
      const lagging = state.laggingFollowers(nowMs, this.#opts.lagMaxMs);
      if (lagging.length === 0) continue;
      void this.#propose(partition, state.isr.filter((id) => !lagging.includes(id)), 'shrink');
    }
  }

  #mayTry(partition: Partition): boolean {
    return monotonicMs(this.#opts.clock) >= (this.#retryAfterMs.get(partition) ?? 0);
  }

  async #propose(partition: Partition, newIsr: number[], why: 'expand' | 'shrink'): Promise<void> {
    const { nodeId, channel, logger } = this.#opts;
    const topicId = this.#opts.topicIdOf(partition.topic);
    if (topicId === undefined) return;
    const { leaderEpoch, partitionEpoch, isr } = { leaderEpoch: partition.leaderEpoch, partitionEpoch: partition.partitionEpoch, isr: partition.isr };
    partition.proposeIsr(newIsr);
    const where = { topic: partition.topic, partition: partition.index, isr, newIsr, leaderEpoch, partitionEpoch };
    logger.info({ event: why === 'expand' ? 'isrExpand' : 'isrShrink', ...where }, `${partition.topic}-${partition.index}: asking the controller to ${why} the ISR from [${isr.join(',')}] to [${newIsr.join(',')}]`);
    let response: AlterPartitionResponse;
    const brokerEpoch = this.#opts.brokerEpoch();
    try {
      response = await channel.alterPartition({
        brokerId: nodeId,
        brokerEpoch,
        topics: [{ name: partition.topic, topicId, partitions: [{ partition: partition.index, leaderEpoch, partitionEpoch, newIsr }] }],
      });
    } catch (error) {
      if (error instanceof ProtocolError && error.errorName === 'STALE_BROKER_EPOCH') this.#opts.staleBrokerEpoch(brokerEpoch);
      this.#refused(partition, where, (error as Error).message);
      return;
    }
    const result = response.topics.find((t) => t.name === partition.topic)?.partitions.find((p) => p.partition === partition.index);
    if (response.errorCode !== 0 || result === undefined || result.errorCode !== 0) {
      this.#refused(partition, where, response.errorMessage ?? result?.errorMessage ?? `error code ${result?.errorCode ?? response.errorCode}`);
      return;
    }
    this.#opts.onIsrChanged?.(why);
    // Taken only if it is still this leadership's (metadata may have moved on meanwhile).
    partition.settleIsr(result.leaderEpoch === partition.leaderEpoch ? { isr: result.isr, partitionEpoch: result.partitionEpoch } : null);
  }

  #refused(partition: Partition, where: Record<string, unknown>, reason: string): void {
    this.#retryAfterMs.set(partition, monotonicMs(this.#opts.clock) + RETRY_BACKOFF_MS);
    partition.settleIsr(null);
    this.#opts.logger.warn({ event: 'isrChangeRefused', ...where, reason }, `${String(where.topic)}-${String(where.partition)}: the ISR change was not made (${reason}); waiting for the metadata`);
  }
}
