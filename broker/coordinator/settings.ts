/**
 * The coordinator's settings (broker settings group.consumer.* and offsets.*,
 * docs/OPERATIONS.md), as the state machine needs them.
 */
import type { BrokerConfig } from '../config.js';

export interface CoordinatorSettings {
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxGroupSize: number;
  /** The assignors members may ask for; the first is the default. */
  readonly assignors: readonly string[];
  readonly offsetsRetentionMs: number;
  readonly offsetMetadataMaxBytes: number;
}

export function coordinatorSettings(config: BrokerConfig): CoordinatorSettings {
  const groups = config.groups;
  return {
    sessionTimeoutMs: groups.sessionTimeoutMs,
    heartbeatIntervalMs: groups.heartbeatIntervalMs,
    maxGroupSize: groups.maxSize,
    assignors: groups.assignors,
    offsetsRetentionMs: groups.offsetsRetentionMinutes * 60_000,
    offsetMetadataMaxBytes: groups.offsetMetadataMaxBytes,
  };
}
