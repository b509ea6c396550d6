/**
 * Where an offset reset moves one partition, as Kafka's
 * kafka-consumer-groups --reset-offsets does: earliest / latest are the log
 * start / high watermark; an explicit offset or a shift is brought into
 * [log start, high watermark] (committing a position the partition does not
 * hold would only make the consumers reset again, by their own rule); a time
 * with no record that recent is the high watermark. Pure, so every rule is
 * tested without a broker.
 */
import { invalidArgument } from '../errors.js';
import type { OffsetResetSpec } from './group-types.js';

export interface PartitionBounds {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  /** The committed offset; null when the group has none. */
  currentOffset: number | null;
  /** For `to: 'datetime'`: the first offset at or after the time, -1 when no record is that recent. */
  offsetAtTime?: number;
}

export function plannedOffset(spec: OffsetResetSpec, p: PartitionBounds): number {
  const clamp = (offset: number): number => Math.min(Math.max(offset, p.logStartOffset), p.highWatermark);
  if ('shiftBy' in spec) {
    if (p.currentOffset === null) throw invalidArgument(`cannot shift the offset of ${p.topic}-${p.partition}: the group has no committed offset there; reset it --to-earliest, --to-latest or --to-offset first`);
    return clamp(p.currentOffset + spec.shiftBy);
  }
  switch (spec.to) {
    case 'earliest':
      return p.logStartOffset;
    case 'latest':
      return p.highWatermark;
    case 'offset':
      return clamp(spec.offset);
    case 'datetime':
      if (p.offsetAtTime === undefined) throw new Error(`no offset was looked up for ${p.topic}-${p.partition} at ${spec.timestampMs}`);
      return p.offsetAtTime < 0 ? p.highWatermark : clamp(p.offsetAtTime);
  }
}

/** Checks a spec given by code (the CLI builds its own), so a typo is an INVALID_ARGUMENT, not a wrong reset. */
export function checkResetSpec(spec: OffsetResetSpec): void {
  if (spec === null || typeof spec !== 'object') throw invalidArgument('spec must be { to: "earliest" | "latest" }, { to: "offset", offset }, { to: "datetime", timestampMs } or { shiftBy }');
  if ('shiftBy' in spec) {
    if (!Number.isSafeInteger(spec.shiftBy)) throw invalidArgument(`shiftBy must be a whole number, got ${String(spec.shiftBy)}`);
    return;
  }
  switch (spec.to) {
    case 'earliest':
    case 'latest':
      return;
    case 'offset':
      if (!Number.isSafeInteger(spec.offset) || spec.offset < 0) throw invalidArgument(`offset must be a non-negative whole number, got ${String(spec.offset)}`);
      return;
    case 'datetime':
      if (!Number.isSafeInteger(spec.timestampMs) || spec.timestampMs < 0) throw invalidArgument(`timestampMs must be a non-negative whole number of ms since the epoch, got ${String(spec.timestampMs)}`);
      return;
    default:
      throw invalidArgument(`spec.to must be "earliest", "latest", "offset" or "datetime", got ${String((spec as { to: unknown }).to)}`);
  }
}
