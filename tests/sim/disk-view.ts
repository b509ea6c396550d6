/**
 * A replica's log as its disk holds it now (the page cache: what the broker
 * reads back), read straight from the SimulatedFileSystem without going
 * through the broker, so that looking never changes what the broker does:
 * every record below `endOffset`, as offset -> an identity string (leader
 * epoch, batch CRC, value). Segments are `<data>/<topic>-<p>/<20 digits>.log`.
 */
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH } from '../../protocol/batch/header.js';
import { batchesIn, decodeBatch } from '../../protocol/batch/reader.js';
import type { SimulatedFileSystem } from '../../broker/world/file-system.js';

export interface DiskRecord {
  offset: number;
  /** `e<epoch>/<value>`: equal on two replicas exactly when they hold the same record from the same leadership. */
  identity: string;
  value: string;
}

const decoder = new TextDecoder();

/**
 * Records of `topic-partition` below `endOffset` on `disk` (batches that do
 * not parse end the read: a torn tail). With `skipDamaged`, a batch whose
 * header reads but whose CRC does not match (a flipped bit) is skipped, its
 * records left out, and the read goes on.
 */
export function recordsOnDisk(disk: SimulatedFileSystem, dataDir: string, topic: string, partition: number, endOffset: number, skipDamaged = false): DiskRecord[] {
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
        // The length field precedes the CRC-covered bytes a flip may hit; past the end, it is a torn tail after all.
        const sizeBytes = BATCH_LOG_OVERHEAD + new DataView(bytes.buffer, bytes.byteOffset + pos + BATCH_OFFSET_LENGTH, 4).getInt32(0);
        if (!skipDamaged || sizeBytes <= BATCH_LOG_OVERHEAD || pos + sizeBytes > bytes.byteLength) break;
        pos += sizeBytes;
        continue;
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

/** Where each whole batch of a segment's bytes stands (stops at the first that does not parse). */
export function batchSpans(bytes: Uint8Array): { position: number; sizeBytes: number }[] {
  const spans: { position: number; sizeBytes: number }[] = [];
  try {
    for (const { position, header } of batchesIn(bytes)) spans.push({ position, sizeBytes: header.sizeBytes });
  } catch {
    // a torn tail: the spans before it stand
  }
  return spans;
}
