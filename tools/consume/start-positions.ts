/**
 * Where `runnel consume` starts in each partition, and where each one ends
 * now (for `--exit-at-end`), from one ListOffsets of the topic. Starts are
 * checked against what the partition holds, so a mistyped `--offset` fails
 * at once with the range and what to type, instead of an SDK error later.
 */
import type { Admin, StartOffset } from '../../client/index.js';
import { CliError } from '../cli-error.js';

export interface StartOptions {
  partition?: number;
  fromBeginning?: boolean;
  offset?: number;
  fromTime?: number;
}

export interface ConsumePlan {
  assignments: { topic: string; partition: number; offset: StartOffset }[];
  /** The log end offset of each partition that has records past its start now; the rest are already at their end. */
  ends: Map<number, number>;
}

interface Range {
  partition: number;
  earliest: number;
  latest: number;
}

export async function planConsume(admin: Admin, topic: string, opts: StartOptions): Promise<ConsumePlan> {
  let ranges: Range[] = (await admin.listOffsets(topic)).slice().sort((a, b) => a.partition - b.partition);
  if (opts.partition !== undefined) {
    const only = ranges.filter((r) => r.partition === opts.partition);
    if (only.length === 0) throw new CliError(`topic ${topic} has no partition ${opts.partition}; its partitions are 0 to ${ranges.length - 1}`);
    ranges = only;
  }
  const starts = await Promise.all(ranges.map((range) => startOf(admin, topic, range, opts, ranges.length)));
  const ends = new Map<number, number>();
  ranges.forEach((range, i) => {
    if (starts[i]!.from < range.latest) ends.set(range.partition, range.latest);
  });
  return { assignments: ranges.map((range, i) => ({ topic, partition: range.partition, offset: starts[i]!.offset })), ends };
}

/** The start to assign, and the offset it stands for now. */
async function startOf(admin: Admin, topic: string, range: Range, opts: StartOptions, partitionCount: number): Promise<{ offset: StartOffset; from: number }> {
  if (opts.fromBeginning === true) return { offset: 'earliest', from: range.earliest };
  if (opts.fromTime !== undefined) {
    // No record at or after that time: start at the end, where the next one will be.
    const found = (await admin.offsetForTimestamp(topic, range.partition, opts.fromTime)) ?? range.latest;
    return { offset: found, from: found };
  }
  if (opts.offset === undefined) return { offset: 'latest', from: range.latest };
  if (opts.offset < 0) {
    const from = Math.max(range.earliest, range.latest + opts.offset);
    return { offset: from, from };
  }
  const problem = offsetProblem(`${topic}-${range.partition}`, opts.offset, range);
  if (problem !== null) {
    const several = partitionCount > 1 ? '; --offset applies to every partition read, so name one with --partition' : '';
    throw new CliError(`${problem}${several}`);
  }
  return { offset: opts.offset, from: opts.offset };
}

function offsetProblem(name: string, offset: number, { earliest, latest }: Range): string | null {
  if (offset > latest) {
    const holds = latest > earliest ? `holds offsets ${earliest} to ${latest - 1}` : `is empty (its next offset is ${latest})`;
    return `${name} ${holds}, so --offset ${offset} is past its end; --offset ${latest} waits for the next record, --from-beginning reads what it holds`;
  }
  if (offset < earliest) {
    return `${name} starts at offset ${earliest} (older records were deleted by retention or compaction), so --offset ${offset} is before its start; use --from-beginning`;
  }
  return null;
}
