/**
 * What `runnel groups describe` prints, built from the SDK's `groupLag`:
 * the `--json` shape the issue fixes, and the tables for people (members,
 * then one line per partition with its lag and owner, then totals: the
 * group's whole lag in records, and its oldest unconsumed record's age).
 */
import type { GroupDescription, GroupPartitionLag } from '../../client/index.js';

/** The `--json` shape, documented in docs/CLI.md. */
export interface GroupDescribeReport {
  group: string;
  state: string;
  members: { memberId: string; instanceId: string | null; clientId: string; host: string; memberEpoch: number; assignment: { topic: string; partition: number }[] }[];
  partitions: { topic: string; partition: number; currentOffset: number | null; logEndOffset: number | null; lag: number | null; lagSeconds: number | null; member: string | null }[];
}

export function describeReport(description: GroupDescription, partitions: readonly GroupPartitionLag[]): GroupDescribeReport {
  return {
    group: description.group,
    state: description.state,
    members: description.members.map((m) => ({ memberId: m.memberId, instanceId: m.instanceId, clientId: m.clientId, host: m.host, memberEpoch: m.memberEpoch, assignment: m.assignment })),
    partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition, currentOffset: p.committedOffset, logEndOffset: p.logEndOffset, lag: p.lag, lagSeconds: p.lagSeconds, member: p.member })),
  };
}

/** The whole group's lag: records summed, seconds the largest (the oldest unconsumed record of any partition). */
export function totals(partitions: readonly { lag: number | null; lagSeconds: number | null }[]): { lag: number; lagSeconds: number } {
  let lag = 0;
  let lagSeconds = 0;
  for (const p of partitions) {
    lag += p.lag ?? 0;
    lagSeconds = Math.max(lagSeconds, p.lagSeconds ?? 0);
  }
  return { lag, lagSeconds };
}

const dash = (v: string | number | null): string | number => (v === null ? '-' : v);

/** Seconds as people read them: a tenth of a second is enough. */
export function formatSeconds(s: number | null): string {
  return s === null ? '-' : s.toFixed(1);
}

export function partitionRows(partitions: readonly GroupPartitionLag[]): (string | number)[][] {
  const rows = partitions.map((p) => [p.topic, p.partition, dash(p.committedOffset), dash(p.logEndOffset), dash(p.lag), formatSeconds(p.lagSeconds), dash(p.member), dash(p.host)]);
  const sum = totals(partitions);
  rows.push(['(total)', '', '', '', sum.lag, formatSeconds(sum.lagSeconds), '', '']);
  return rows;
}

export const PARTITION_HEADER = ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'LAG-SECONDS', 'MEMBER', 'HOST'] as const;
export const MEMBER_HEADER = ['MEMBER', 'INSTANCE', 'CLIENT-ID', 'HOST', 'EPOCH', 'PARTITIONS'] as const;

export function memberRows(description: GroupDescription): (string | number)[][] {
  return description.members.map((m) => [m.memberId, dash(m.instanceId), m.clientId, m.host, m.memberEpoch, m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(',') || '-']);
}
