/**
 * One replica's records as its simulated disk holds them (the segment files
 * of `/data/<topic>-<partition>`, in offset order, decoded batch by batch),
 * for checking what a broker of an in-process cluster has, whatever its role.
 * null when the partition has no directory there (never hosted, or removed).
 */
import { join } from 'node:path';
import { batchesIn, decodeBatch } from '../../protocol/batch/reader.js';
import type { FileSystem } from '../../broker/world/file-system.js';

export interface SimulatedReplicaRecord {
  offset: number;
  leaderEpoch: number;
  value: string | null;
}

export async function simulatedReplica(fs: FileSystem, topic: string, partition: number, dataDir = '/data'): Promise<SimulatedReplicaRecord[] | null> {
  const dir = join(dataDir, `${topic}-${partition}`);
  if ((await fs.stat(dir)) === null) return null;
  const segments = (await fs.readdir(dir)).filter((name) => name.endsWith('.log')).sort();
  const records: SimulatedReplicaRecord[] = [];
  for (const name of segments) {
    const bytes = await fs.readFile(join(dir, name));
    try {
      for (const { position, header } of batchesIn(bytes)) {
        for (const r of decodeBatch(bytes, position).records) records.push({ offset: r.offset, leaderEpoch: header.partitionLeaderEpoch, value: r.value === null ? null : Buffer.from(r.value).toString() });
      }
    } catch {
      // A tail past the last whole batch (preallocated or being written): the records before it are the replica's.
    }
  }
  return records;
}
