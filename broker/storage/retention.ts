/**
 * Which old segments retention deletes: Kafka's rules, as a pure function of
 * the segment list so the policy is tested apart from the file work.
 *
 * From the oldest segment on, while either rule holds, a segment goes:
 * - time (`retention.ms` >= 0): its largest timestamp is more than
 *   retention.ms before now (a segment with no timestamps never expires by
 *   time; size still applies);
 * - size (`retention.bytes` >= 0): the log without it would still be at
 *   least retention.bytes.
 * Never the active (last) segment, never a segment that may hold offsets at
 * or above `maxOffsetExclusive` (its successor must start at or below it),
 * and nothing unless `cleanup.policy` includes `delete`. Whole segments only,
 * so data can outlive retention.ms by up to one segment's age (as in Kafka).
 *
 * Before those rules, whatever the policy (Kafka's
 * deleteLogStartOffsetBreachedSegments): a segment wholly below
 * `logStartOffset` (where DeleteRecords moved the start; its successor
 * starts at or below it) goes. `belowStartOnly`: only those (what a
 * DeleteRecords deletes at once; time and size wait for the periodic pass).
 */
import type { LogConfig } from './log-config.js';

export interface RetainedSegment {
  readonly baseOffset: number;
  readonly sizeBytes: number;
  readonly indexing: { readonly maxTimestampMs: number };
}

export function selectRetention<S extends RetainedSegment>(segments: readonly S[], config: LogConfig, nowMs: number, maxOffsetExclusive: number, logStartOffset = 0, belowStartOnly = false): S[] {
  let remainingBytes = 0;
  for (const segment of segments) remainingBytes += segment.sizeBytes;
  const doomed: S[] = [];
  let i = 0;
  for (; i + 1 < segments.length && (segments[i + 1] as S).baseOffset <= Math.min(logStartOffset, maxOffsetExclusive); i++) {
    doomed.push(segments[i] as S);
    remainingBytes -= (segments[i] as S).sizeBytes;
  }
  if (belowStartOnly || !config.cleanupPolicy.delete) return doomed;
  for (; i + 1 < segments.length; i++) {
    const segment = segments[i] as S;
    const successor = segments[i + 1] as S;
    if (successor.baseOffset > maxOffsetExclusive) break;
    const maxTimestampMs = segment.indexing.maxTimestampMs;
    const expired = config.retentionMs >= 0 && maxTimestampMs >= 0 && nowMs - maxTimestampMs > config.retentionMs;
    const oversize = config.retentionBytes >= 0 && remainingBytes - segment.sizeBytes >= config.retentionBytes;
    if (!expired && !oversize) break;
    doomed.push(segment);
    remainingBytes -= segment.sizeBytes;
  }
  return doomed;
}
