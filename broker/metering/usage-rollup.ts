/**
 * Adds `__usage` records up for a report (`runnel usage`): those of minutes
 * within [sinceMs, untilMs), by principal or by topic (or both), each
 * record counted once however many times it was written (the last value of
 * a key wins, as compaction would keep it).
 */
import { ZERO_COUNTS, type UsageCounts, type UsageRecord } from './usage-record.js';

export type UsageGrouping = 'principal' | 'topic' | 'principal-topic';

export interface UsageRow {
  principal?: string;
  topic?: string;
  counts: UsageCounts;
}

export function rollUpUsage(records: Iterable<UsageRecord>, opts: { sinceMs: number; untilMs: number; by: UsageGrouping }): UsageRow[] {
  const latest = new Map<string, UsageRecord>();
  for (const record of records) {
    const { brokerId, minuteMs, principal, topic, incarnation } = record.key;
    if (minuteMs < opts.sinceMs || minuteMs >= opts.untilMs) continue;
    latest.set(JSON.stringify([brokerId, minuteMs, principal, topic, incarnation]), record);
  }
  const rows = new Map<string, UsageRow>();
  for (const { key, counts } of latest.values()) {
    const row: Omit<UsageRow, 'counts'> = opts.by === 'principal' ? { principal: key.principal } : opts.by === 'topic' ? { topic: key.topic } : { principal: key.principal, topic: key.topic };
    const id = JSON.stringify([row.principal, row.topic]);
    let sum = rows.get(id);
    if (sum === undefined) {
      sum = { ...row, counts: { ...ZERO_COUNTS } };
      rows.set(id, sum);
    }
    for (const field of Object.keys(ZERO_COUNTS) as (keyof UsageCounts)[]) sum.counts[field] += counts[field];
  }
  return [...rows.values()].sort((a, b) => b.counts.bytesIn + b.counts.bytesOut - (a.counts.bytesIn + a.counts.bytesOut) || (a.principal ?? '').localeCompare(b.principal ?? '') || (a.topic ?? '').localeCompare(b.topic ?? ''));
}
