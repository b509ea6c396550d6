/**
 * A queue's options, checked once when it is made, and the two places its
 * group settings meet the coordinator: the `config` of the join (unset
 * fields -1/null, so the group's own values are accepted) and the check of
 * the group's resolved configuration against what this member asked for.
 * The coordinator refuses a mismatch itself (INVALID_CONFIG); the check
 * here makes sure no member runs with settings it did not ask for, even
 * against a coordinator that answers otherwise.
 */
import type { ShareGroupConfig, ShareGroupConfigResolved } from '../../protocol/messages.js';
import { RunnelError, invalidArgument } from '../errors.js';
import type { QueueConfig, QueueOptions, QueueOrdering } from './queue-types.js';

export interface ResolvedQueueOptions {
  topic: string;
  group: string;
  /** What the member asks of the group (null: whatever the group has). */
  wanted: { visibilityTimeoutMs: number | null; maxDeliveryAttempts: number | null; deadLetterTopic: string | null; ordering: QueueOrdering | null };
  batchSize: number;
  waitMs: number;
  ackLingerMs: number;
  autoExtend: boolean;
  sessionTimeoutMs: number;
  requestTimeoutMs: number;
}

const INT32_MAX = 2 ** 31 - 1;

export function resolveQueueOptions(opts: QueueOptions, requestTimeoutMs: number): ResolvedQueueOptions {
  if (opts === null || typeof opts !== 'object') throw invalidArgument('queue() takes { topic, group }');
  if (typeof opts.topic !== 'string' || opts.topic === '') throw invalidArgument('a queue needs a topic (a non-empty string)');
  if (typeof opts.group !== 'string' || opts.group === '') throw invalidArgument('a queue needs a group (a non-empty string: the share group\'s id)');
  if (opts.deadLetterTopic !== undefined && typeof opts.deadLetterTopic !== 'string') throw invalidArgument('deadLetterTopic must be a topic name, or "" for none');
  if (opts.deadLetterTopic === opts.topic) throw invalidArgument(`deadLetterTopic must differ from the queue's topic ("${opts.topic}"): a dead letter would be delivered again`);
  if (opts.ordering !== undefined && opts.ordering !== 'none' && opts.ordering !== 'key') throw invalidArgument(`ordering must be 'none' or 'key', got ${String(opts.ordering)}`);
  if (opts.autoExtend !== undefined && typeof opts.autoExtend !== 'boolean') throw invalidArgument('autoExtend must be true or false');
  return {
    topic: opts.topic,
    group: opts.group,
    wanted: {
      visibilityTimeoutMs: opts.visibilityTimeoutMs === undefined ? null : bounded('visibilityTimeoutMs', opts.visibilityTimeoutMs, 1),
      maxDeliveryAttempts: opts.maxDeliveryAttempts === undefined ? null : bounded('maxDeliveryAttempts', opts.maxDeliveryAttempts, 1),
      deadLetterTopic: opts.deadLetterTopic ?? null,
      ordering: opts.ordering ?? null,
    },
    batchSize: bounded('batchSize', opts.batchSize ?? 100, 1),
    waitMs: bounded('waitMs', opts.waitMs ?? 5000, 0),
    ackLingerMs: bounded('ackLingerMs', opts.ackLingerMs ?? 5, 0),
    autoExtend: opts.autoExtend ?? true,
    sessionTimeoutMs: bounded('sessionTimeoutMs', opts.sessionTimeoutMs ?? 45_000, 1),
    requestTimeoutMs: bounded('requestTimeoutMs', opts.requestTimeoutMs ?? requestTimeoutMs, 1),
  };
}

/** An integer in [min, 2^31 - 1] (the wire's int). */
export function bounded(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > INT32_MAX) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${INT32_MAX}, got ${String(value)}`);
  }
  return value;
}

/** The join's `config`: unset fields -1 / null. */
export function joinConfig(wanted: ResolvedQueueOptions['wanted']): ShareGroupConfig {
  return {
    visibilityTimeoutMs: wanted.visibilityTimeoutMs ?? -1,
    maxDeliveryAttempts: wanted.maxDeliveryAttempts ?? -1,
    deadLetterTopic: wanted.deadLetterTopic,
    ordering: wanted.ordering,
  };
}

/** The group's configuration, or an INVALID_CONFIG error naming each setting that differs from what this member asked for. */
export function checkedConfig(group: string, wanted: ResolvedQueueOptions['wanted'], resolved: ShareGroupConfigResolved): QueueConfig {
  const differ: string[] = [];
  for (const name of ['visibilityTimeoutMs', 'maxDeliveryAttempts', 'deadLetterTopic', 'ordering'] as const) {
    const want = wanted[name];
    if (want !== null && want !== resolved[name]) differ.push(`${name}: this queue asks for ${JSON.stringify(want)}, the group has ${JSON.stringify(resolved[name])}`);
  }
  if (differ.length > 0) {
    throw new RunnelError('INVALID_CONFIG', `Share group "${group}" was created with another configuration (${differ.join('; ')}). Use the group's settings (or leave them out), or another group id.`);
  }
  const ordering = resolved.ordering === 'key' ? 'key' : 'none';
  return { visibilityTimeoutMs: resolved.visibilityTimeoutMs, maxDeliveryAttempts: resolved.maxDeliveryAttempts, deadLetterTopic: resolved.deadLetterTopic, ordering };
}
