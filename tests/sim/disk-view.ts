/**
 * A replica's log as its disk holds it now (the page cache: what the broker
 * reads back), read straight from the SimulatedFileSystem without going
 * through the broker, so that looking never changes what the broker does:
 * every record below `endOffset`, as offset -> an identity string (leader
 * epoch, batch CRC, value). Segments are `<data>/<topic>-<p>/<20 digits>.log`.
 */
import { decodeBatch } from '../../protocol/batch/reader.js';
import type { SimulatedFileSystem } from '../../broker/world/file-system.js';

export interface DiskRecord {
  offset: number;
  /** `e<epoch>/<value>`: equal on two replicas exactly when they hold the same record from the same leadership. */
  identity: string;
  value: string;
}

const decoder = new TextDecoder();

/** Records of `topic-partition` below `endOffset` on `disk` (batches that do not parse end the read: a torn tail). */
export function recordsOnDisk(disk: SimulatedFileSystem, dataDir: string, topic: string, partition: number, endOffset: number): DiskRecord[] {
  const dir = `${dataDir}/${topic}-${partition}`;
  const files = (disk.list(dir) ?? []).filter((name) => name.endsWith('.log'));
  const out: DiskRecord[] = [];
  for (const name of files) {
    const bytes = disk.peek(`${dir}/${name}`);
    if (bytes === null) continue;
    let pos = 0;
    while (pos + 61 <= bytes.byteLength) {
      let decoded: ReturnType<typeof decodeBatch>;
      try {
        decoded = decodeBatch(bytes, pos);
      } catch {
        break;
      }
      const { header, records } = decoded;
      if (header.baseOffset >= endOffset) break;
      for (const record of records) {
        if (record.offset >= endOffset) break;
        const value = record.value === null ? '' : decoder.decode(record.value);
        out.push({ offset: record.offset, identity: `e${header.partitionLeaderEpoch}/${value}`, value });
      }
      pos += header.sizeBytes;
    }
  }
  return out;
}
