/**
 * `runnel dlq redrive`, the deciding part (pure, so it is tested without a
 * broker): which dead letters go back and where, and how far each
 * dead-letter partition may then be purged.
 *
 * - A record goes to `--to`, else to its `runnel.dlq.source.topic`; one
 *   with neither is kept. `--filter-reason R` keeps every record whose
 *   `runnel.dlq.reason` is not R and whose `runnel.dlq.error` does not
 *   contain R.
 * - A partition is purged up to the last record redriven only while every
 *   record below it was redriven too: from the log start on, the run of
 *   redriven records; the first record kept (or any record not read at all,
 *   because `--offsets` started above the log start) stops it. So a purge
 *   never deletes a dead letter that was not sent back.
 */
import type { Message } from '../../client/index.js';
import { deadLetterInfo } from './dlq-record.js';
import { addTo } from '../../client/group-by.js';
import type { PartitionRange } from './read-range.js';

export interface RedriveSelection {
  to?: string;
  filterReason?: string;
}

export interface RedrivePlan {
  send: { message: Message; target: string }[];
  kept: { message: Message; why: string }[];
}

export function planRedrive(messages: readonly Message[], selection: RedriveSelection): RedrivePlan {
  const plan: RedrivePlan = { send: [], kept: [] };
  for (const message of messages) {
    const info = deadLetterInfo(message);
    const wanted = selection.filterReason;
    if (wanted !== undefined && info.reason !== wanted && !(info.error ?? '').includes(wanted)) {
      plan.kept.push({ message, why: `its reason (${info.reason ?? 'none'}${info.error === null ? '' : `: ${info.error}`}) does not match --filter-reason ${wanted}` });
      continue;
    }
    const target = selection.to ?? info.sourceTopic;
    if (target === null) {
      plan.kept.push({ message, why: 'it names no source topic (no runnel.dlq.source.topic header); give --to' });
      continue;
    }
    plan.send.push({ message, target });
  }
  return plan;
}

export interface PurgePoint {
  partition: number;
  /** Delete below this offset; null: nothing may be purged. */
  purgeBefore: number | null;
  /** Why records from the purge point on stay (null when every record read was redriven and purged). */
  keptBecause: string | null;
}

/** Per partition read, how far a purge may go once `redriven` were all sent (see the file comment). */
export function purgePoints(ranges: readonly PartitionRange[], plan: RedrivePlan): PurgePoint[] {
  const sent = new Set(plan.send.map((s) => s.message));
  const keptWhy = new Map(plan.kept.map((k) => [k.message, k.why]));
  const byPartition = new Map<number, Message[]>();
  for (const m of [...sent, ...keptWhy.keys()]) addTo(byPartition, m.partition, m);
  return ranges.map((range): PurgePoint => {
    const messages = (byPartition.get(range.partition) ?? []).sort((a, b) => a.offset - b.offset);
    if (messages.length === 0) return { partition: range.partition, purgeBefore: null, keptBecause: null };
    if (range.from > range.logStart) {
      return { partition: range.partition, purgeBefore: null, keptBecause: `offsets ${range.logStart} to ${range.from - 1} were not read (--offsets), so nothing below them can be purged` };
    }
    let purgeBefore: number | null = null;
    for (const m of messages) {
      const why = keptWhy.get(m);
      if (why !== undefined) return { partition: range.partition, purgeBefore, keptBecause: `offset ${m.offset} was not redriven: ${why}` };
      purgeBefore = m.offset + 1;
    }
    const rest = range.readTo < range.end ? `offsets from ${range.readTo} on were not read` : null;
    return { partition: range.partition, purgeBefore, keptBecause: rest };
  });
}
