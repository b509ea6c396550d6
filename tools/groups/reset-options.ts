/**
 * The flags of `runnel groups reset-offsets`, as Kafka's
 * kafka-consumer-groups --reset-offsets spells them, turned into what the
 * SDK's `resetGroupOffsets` takes: exactly one scenario (--to-earliest,
 * --to-latest, --to-offset, --to-datetime, --shift-by) and the partitions
 * (--topic T or T:0,2, repeatable, or --all-topics).
 */
import { InvalidArgumentError } from 'commander';
import type { OffsetResetSpec } from '../../client/index.js';
import { CliError } from '../cli-error.js';

export interface ResetFlags {
  topic: string[];
  allTopics?: boolean;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toDatetime?: number;
  shiftBy?: number;
}

export type ResetTopics = { topic: string; partitions?: number[] }[] | 'all';

const SCENARIOS = '--to-earliest, --to-latest, --to-offset N, --to-datetime ISO or --shift-by N';

export function resetSpec(flags: ResetFlags): OffsetResetSpec {
  const given: OffsetResetSpec[] = [];
  if (flags.toEarliest === true) given.push({ to: 'earliest' });
  if (flags.toLatest === true) given.push({ to: 'latest' });
  if (flags.toOffset !== undefined) given.push({ to: 'offset', offset: flags.toOffset });
  if (flags.toDatetime !== undefined) given.push({ to: 'datetime', timestampMs: flags.toDatetime });
  if (flags.shiftBy !== undefined) given.push({ shiftBy: flags.shiftBy });
  if (given.length !== 1) throw new CliError(`give exactly one of ${SCENARIOS}${given.length > 1 ? ' (more than one was given)' : ''}`);
  return given[0]!;
}

export function resetTopics(flags: ResetFlags): ResetTopics {
  if (flags.allTopics === true && flags.topic.length > 0) throw new CliError('give --topic or --all-topics, not both');
  if (flags.allTopics === true) return 'all';
  if (flags.topic.length === 0) throw new CliError('give the partitions to reset: --topic T (every partition), --topic T:0,2 (some), or --all-topics (every topic the group has offsets for)');
  return flags.topic.map(topicPartitions);
}

/** `orders` -> every partition; `orders:0,2` -> partitions 0 and 2. */
function topicPartitions(value: string): { topic: string; partitions?: number[] } {
  const colon = value.lastIndexOf(':');
  if (colon < 0) return { topic: value };
  const topic = value.slice(0, colon);
  const list = value.slice(colon + 1).split(',').map((s) => s.trim());
  if (topic === '' || list.some((p) => !/^\d+$/.test(p))) throw new CliError(`--topic ${value} is not TOPIC or TOPIC:PARTITION[,PARTITION...] (for example orders:0,2)`);
  return { topic, partitions: list.map(Number) };
}

/** A commander parser for --shift-by: any whole number, negative to go back. */
export function shiftArgument(value: string): number {
  const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('Give a whole number of records, negative to go back (e.g. -100).');
  return n;
}
