/**
 * The coordinator's settings (broker settings group.consumer.* and offsets.*,
 * docs/OPERATIONS.md), as the state machine needs them.
 */
import type { BrokerConfig } from '../config.js';
import type { ShareSettings } from '../share/settings.js';

export interface CoordinatorSettings {
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxGroupSize: number;
  /** The assignors members may ask for; the first is the default. */
  readonly assignors: readonly string[];
  readonly offsetsRetentionMs: number;
  readonly offsetMetadataMaxBytes: number;
  /** Share groups (group.share.*); the defaults when absent. */
  readonly share?: ShareSettings;
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
    share: config.share,
  };
}
