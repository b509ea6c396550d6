/**
 * Reads a (dead-letter) topic's records once, as they are when the command
 * starts: every partition (or those named) from its log start (or
 * `--from`) up to the end it had at the start, or `--to`, at most `max`
 * records. The records come back in partition order, each partition's in
 * offset order, with how far each partition was read, so a redrive knows
 * exactly which offsets it has seen. Bounded: a partition that yields
 * nothing for `idleMs` (records it claimed to have were deleted meanwhile)
 * stops being waited for and is reported as read only so far.
 */
import type { Message, Runnel } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { PartitionEnds } from '../consume/partition-ends.js';

export interface ReadRangeOptions {
  partitions?: readonly number[];
  /** First offset wanted (each partition starts at the higher of it and its log start). */
  fromOffset?: number;
  /** Last offset wanted, inclusive. */
  toOffset?: number;
  max?: number;
  /** Only the first record of each partition (what tells a dead-letter topic). */
  firstOnly?: boolean;
  idleMs?: number;
}

export interface PartitionRange {
  partition: number;
  /** The log start when the command started. */
  logStart: number;
  /** The offset reading began at. */
  from: number;
  /** The end (exclusive) reading was to stop at. */
  end: number;
  /** The offset after the last record read (`from` when none was). */
  readTo: number;
}

export async function readRange(runnel: Runnel, topic: string, opts: ReadRangeOptions = {}): Promise<{ messages: Message[]; ranges: PartitionRange[] }> {
  const offsets = await runnel.admin().listOffsets(topic);
  const wanted = opts.partitions === undefined ? offsets : offsets.filter((o) => opts.partitions!.includes(o.partition));
  for (const p of opts.partitions ?? []) if (!offsets.some((o) => o.partition === p)) throw new CliError(`topic ${topic} has partitions 0 to ${offsets.length - 1}, not ${p}`);
  const ranges: PartitionRange[] = wanted.map((o) => {
    const from = Math.max(o.earliest, opts.fromOffset ?? 0);
    const end = Math.max(from, Math.min(o.latest, (opts.toOffset ?? Infinity) + 1, opts.firstOnly === true ? from + 1 : Infinity));
    return { partition: o.partition, logStart: o.earliest, from, end, readTo: from };
  });
  const active = ranges.filter((r) => r.end > r.from);
  const messages: Message[] = [];
  const max = opts.max ?? Infinity;
  if (active.length === 0 || max <= 0) return { messages, ranges };
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign(active.map((r) => ({ topic, partition: r.partition, offset: r.from })));
  const ends = new PartitionEnds(new Map(active.map((r) => [r.partition, r.end])));
  const byPartition = new Map(ranges.map((r) => [r.partition, r]));
  const batches = consumer.batches()[Symbol.asyncIterator]();
  try {
    while (!ends.done && messages.length < max) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), opts.idleMs ?? 5_000)));
      const next = await Promise.race([batches.next(), idle]);
      clearTimeout(timer);
      if (next === 'idle' || next.done === true) break;
      const taken = ends.take(next.value).slice(0, max - messages.length);
      for (const m of taken) byPartition.get(m.partition)!.readTo = m.offset + 1;
      messages.push(...taken);
    }
  } finally {
    await consumer.close();
  }
  messages.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return { messages, ranges };
}
