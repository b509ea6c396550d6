/**
 * What `runnel queue describe` prints, built from the SDK's
 * `describeShareGroups`: the `--json` shape (documented in docs/CLI.md) and
 * the tables for people: the group and its configuration, its members, then
 * one line per partition (where its records stand) and the totals: records
 * summed, and the oldest unsettled record's age over every partition.
 */
import type { ShareGroupDescription, SharePartitionDescription } from '../../client/index.js';
import { formatSeconds } from '../groups/describe-report.js';

type Counted = 'inFlight' | 'acquired' | 'available' | 'delayed' | 'accepted' | 'rejected' | 'deadLettered';
const COUNTED: readonly Counted[] = ['inFlight', 'acquired', 'available', 'delayed', 'accepted', 'rejected', 'deadLettered'];

export interface QueuePartitionReport extends Omit<SharePartitionDescription, 'oldestUnsettledTimestampMs'> {
  /** Seconds since the oldest unsettled record's timestamp; null when every record is settled. */
  oldestUnsettledAgeSeconds: number | null;
}

export interface QueueDescribeReport {
  group: string;
  state: string;
  groupEpoch: number;
  coordinator: number;
  config: ShareGroupDescription['config'];
  members: ShareGroupDescription['members'];
  partitions: QueuePartitionReport[];
  totals: Record<Counted, number> & { oldestUnsettledAgeSeconds: number | null };
}

export function queueReport(d: ShareGroupDescription, nowMs: number): QueueDescribeReport {
  const partitions = d.partitions.map(({ oldestUnsettledTimestampMs, ...p }) => ({ ...p, oldestUnsettledAgeSeconds: ageSeconds(oldestUnsettledTimestampMs, nowMs) }));
  const totals = Object.fromEntries(COUNTED.map((k) => [k, partitions.reduce((n, p) => n + p[k], 0)])) as Record<Counted, number>;
  const ages = partitions.map((p) => p.oldestUnsettledAgeSeconds).filter((a): a is number => a !== null);
  return {
    group: d.group,
    state: d.state,
    groupEpoch: d.groupEpoch,
    coordinator: d.coordinator,
    config: d.config,
    members: d.members,
    partitions,
    totals: { ...totals, oldestUnsettledAgeSeconds: ages.length === 0 ? null : Math.max(...ages) },
  };
}

/** A record's age in seconds (a tenth is enough; never negative, whatever the producer's clock said). */
function ageSeconds(timestampMs: number | null, nowMs: number): number | null {
  return timestampMs === null ? null : Math.max(0, Math.round((nowMs - timestampMs) / 100) / 10);
}

export function configLine(r: QueueDescribeReport): string {
  const c = r.config;
  return `visibility timeout ${c.visibilityTimeoutMs} ms, max delivery attempts ${c.maxDeliveryAttempts}, dead-letter topic ${c.deadLetterTopic === '' ? '(none)' : c.deadLetterTopic}, ordering ${c.ordering}`;
}

export const MEMBER_HEADER = ['MEMBER', 'CLIENT-ID', 'HOST', 'EPOCH', 'ACQUIRED'] as const;

export function memberRows(r: QueueDescribeReport): (string | number)[][] {
  return r.members.map((m) => [m.memberId, m.clientId, m.host, m.memberEpoch, m.acquired]);
}

export const PARTITION_HEADER = ['TOPIC', 'PARTITION', 'START', 'END', 'HIGH-WATERMARK', 'IN-FLIGHT', 'ACQUIRED', 'AVAILABLE', 'DELAYED', 'ACCEPTED', 'REJECTED', 'DEAD-LETTERED', 'OLDEST-UNSETTLED-SECONDS'] as const;

export function partitionRows(r: QueueDescribeReport): (string | number)[][] {
  const counts = (p: Record<Counted, number>): number[] => COUNTED.map((k) => p[k]);
  const rows: (string | number)[][] = r.partitions.map((p) => [p.topic, p.partition, p.startOffset, p.endOffset, p.highWatermark < 0 ? '-' : p.highWatermark, ...counts(p), formatSeconds(p.oldestUnsettledAgeSeconds)]);
  rows.push(['(total)', '', '', '', '', ...counts(r.totals), formatSeconds(r.totals.oldestUnsettledAgeSeconds)]);
  return rows;
}
