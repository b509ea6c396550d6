/**
 * The share-group coordinator's settings (broker settings group.share.*,
 * docs/OPERATIONS.md), and a group's configuration as a joining member
 * states it, resolved against them.
 */
import type { ShareGroupConfig, ShareGroupConfigResolved } from '../../protocol/messages.js';
import { brokerConfig } from '../config.js';

export interface ShareSettings {
  /** group.share.record.lock.duration.ms: the default visibility timeout. */
  readonly lockDurationMs: number;
  /** group.share.delivery.count.limit: the default max delivery attempts. */
  readonly deliveryCountLimit: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxSize: number;
  /** group.share.max.in.flight.records: the most records a partition's window spans (endOffset - startOffset). */
  readonly maxInFlightRecords: number;
  /** group.share.max.delayed.records: the most records a partition keeps in its delay set. */
  readonly maxDelayedRecords: number;
}

/** The group.share.* defaults of broker/config.ts (their one source): a shard built without settings (tests, embedding) gets these. */
export const DEFAULT_SHARE_SETTINGS: ShareSettings = brokerConfig().share;

/** Upper bounds of a group's own settings: a lock of a day at most, attempts up to 1000. */
const MAX_LOCK_MS = 24 * 3600_000;
const MAX_ATTEMPTS = 1000;

/** The configuration a group is created with: the member's fields, the broker's defaults for the rest; or the setting that is out of range. */
export function resolveConfig(config: ShareGroupConfig | null, settings: ShareSettings): ShareGroupConfigResolved | { invalid: string } {
  const visibilityTimeoutMs = config === null || config.visibilityTimeoutMs === -1 ? settings.lockDurationMs : config.visibilityTimeoutMs;
  const maxDeliveryAttempts = config === null || config.maxDeliveryAttempts === -1 ? settings.deliveryCountLimit : config.maxDeliveryAttempts;
  const ordering = config?.ordering ?? 'none';
  const deadLetterTopic = config?.deadLetterTopic ?? '';
  if (!Number.isInteger(visibilityTimeoutMs) || visibilityTimeoutMs < 1 || visibilityTimeoutMs > MAX_LOCK_MS) return { invalid: `visibilityTimeoutMs must be 1..${MAX_LOCK_MS} ms, got ${visibilityTimeoutMs}` };
  if (!Number.isInteger(maxDeliveryAttempts) || maxDeliveryAttempts < 1 || maxDeliveryAttempts > MAX_ATTEMPTS) return { invalid: `maxDeliveryAttempts must be 1..${MAX_ATTEMPTS}, got ${maxDeliveryAttempts}` };
  if (ordering !== 'none' && ordering !== 'key') return { invalid: `ordering must be "none" or "key", got "${ordering}"` };
  if (deadLetterTopic !== '' && !/^[a-zA-Z0-9._-]{1,249}$/.test(deadLetterTopic)) return { invalid: `deadLetterTopic "${deadLetterTopic}" is not a valid topic name` };
  if (deadLetterTopic.startsWith('__')) return { invalid: `deadLetterTopic "${deadLetterTopic}" is an internal topic name` };
  return { visibilityTimeoutMs, maxDeliveryAttempts, deadLetterTopic, ordering };
}

/** The first field of `wanted` (not -1/null) that differs from the group's `actual`, as a sentence; null when they agree. */
export function configMismatch(wanted: ShareGroupConfig | null, actual: ShareGroupConfigResolved): string | null {
  if (wanted === null) return null;
  if (wanted.visibilityTimeoutMs !== -1 && wanted.visibilityTimeoutMs !== actual.visibilityTimeoutMs) return `visibilityTimeoutMs: the group has ${actual.visibilityTimeoutMs}, this member wants ${wanted.visibilityTimeoutMs}`;
  if (wanted.maxDeliveryAttempts !== -1 && wanted.maxDeliveryAttempts !== actual.maxDeliveryAttempts) return `maxDeliveryAttempts: the group has ${actual.maxDeliveryAttempts}, this member wants ${wanted.maxDeliveryAttempts}`;
  if (wanted.deadLetterTopic !== null && wanted.deadLetterTopic !== actual.deadLetterTopic) return `deadLetterTopic: the group has "${actual.deadLetterTopic}", this member wants "${wanted.deadLetterTopic}"`;
  if (wanted.ordering !== null && wanted.ordering !== actual.ordering) return `ordering: the group has "${actual.ordering}", this member wants "${wanted.ordering}"`;
  return null;
}
