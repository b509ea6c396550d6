/**
 * One replica's log of a partition as it is on disk, read with dump-log's
 * batch walker (no broker, no recovery: what the files hold), for comparing
 * the replicas of a partition after a fault test. Read only once the
 * brokers have stopped, so no file changes under the walk.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { scanBatches } from '../../tools/dump-log/batch-scan.js';
import { parseSegmentFileName } from '../../tools/dump-log/segment-files.js';

export interface ReplicaRecord {
  offset: number;
  /** The leader epoch stamped on the record's batch. */
  epoch: number;
  value: string | null;
}

export interface ReplicaLog {
  records: ReplicaRecord[];
  /** One past the last whole batch's last offset (the log end offset), or -1 for an empty log. */
  endOffset: number;
  /** Problems the walk met (bad CRC, a torn tail), for the failure message. */
  problems: string[];
}

/** The partition `topic-partition` in broker data directory `dataDir`, segment by segment in offset order. */
export function readReplicaLog(dataDir: string, topic: string, partition: number): ReplicaLog {
  const dir = join(dataDir, `${topic}-${partition}`);
  const log: ReplicaLog = { records: [], endOffset: -1, problems: [] };
  if (!existsSync(dir)) {
    log.problems.push(`${dir} does not exist`);
    return log;
  }
  const segments = readdirSync(dir)
    .map((name) => ({ name, parsed: parseSegmentFileName(name) }))
    .filter((s) => s.parsed?.kind === 'log')
    .sort((a, b) => a.parsed!.baseOffset - b.parsed!.baseOffset);
  for (const { name, parsed } of segments) {
    const walk = scanBatches(join(dir, name), parsed!.baseOffset, { decodeRecords: true });
    for (let step = walk.next(); ; step = walk.next()) {
      if (step.done === true) {
        if (step.value.problem !== undefined) log.problems.push(`${name} at ${step.value.problem.position}: ${step.value.problem.message}`);
        break;
      }
      const batch = step.value;
      if (!batch.crcValid) log.problems.push(`${name}: batch at offset ${batch.baseOffset} fails its CRC`);
      for (const r of batch.records ?? []) log.records.push({ offset: r.offset, epoch: batch.partitionLeaderEpoch, value: r.value });
      log.endOffset = Math.max(log.endOffset, batch.lastOffset + 1);
    }
  }
  return log;
}

/**
 * Where two replicas' logs first differ below `upTo` (offset, and what each
 * holds there), or null when they hold the same records with the same epochs.
 */
export function firstDifference(a: ReplicaLog, b: ReplicaLog, upTo: number): { offset: number; a: ReplicaRecord | null; b: ReplicaRecord | null } | null {
  const below = (log: ReplicaLog): ReplicaRecord[] => log.records.filter((r) => r.offset < upTo);
  const [ra, rb] = [below(a), below(b)];
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const [x, y] = [ra[i], rb[i]];
    if (x === undefined || y === undefined || x.offset !== y.offset || x.epoch !== y.epoch || x.value !== y.value) {
      return { offset: x?.offset ?? y!.offset, a: x ?? null, b: y ?? null };
    }
  }
  return null;
}
