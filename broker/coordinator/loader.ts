/**
 * Rebuilds a shard from its `__consumer_offsets` partition when this broker
 * becomes the partition's leader: every record from the log start to the
 * log end, replayed in order (compaction may have left gaps and removed
 * older values; what remains is the latest of each key, which is all a
 * replay needs).
 *
 * It first waits until the high watermark reaches the log end the leader
 * started with: a new leader's log may end with records its predecessor
 * wrote but had not yet seen replicated, which stay (followers truncate to
 * the leader) and are readable only once the high watermark covers them.
 * Until the load is done the coordinator answers COORDINATOR_LOAD_IN_PROGRESS.
 */
import { ATTR_CONTROL, batchesIn, decodeBatch } from '../../protocol/batch/index.js';
import { NotEnoughReplicasAfterAppendError } from '../errors.js';
import type { Partition } from '../partition.js';
import type { GroupShard } from './group-shard.js';
import { decodeRecord } from './records.js';

const READ_CHUNK_BYTES = 1024 * 1024;

/** Replays `partition` into `shard`; false when `current()` turned false meanwhile (leadership moved on: the result is not used). */
export async function loadShard(partition: Partition, shard: GroupShard, nowMs: () => number, current: () => boolean): Promise<boolean> {
  const end = partition.logEndOffset;
  try {
    await partition.whenReplicated(end);
  } catch (error) {
    // Covered, but with the ISR below min.insync.replicas: what is there is still the log to load (new writes will be refused).
    if (!(error instanceof NotEnoughReplicasAfterAppendError)) throw error;
  }
  let offset = partition.logStartOffset;
  while (current() && offset < partition.highWatermark) {
    const read = await partition.read(offset, READ_CHUNK_BYTES);
    if (read.records.length === 0) break;
    for (const chunk of read.records) {
      for (const { position, header } of batchesIn(chunk)) {
        // Control batches (transaction markers) carry no coordinator records.
        if ((header.attributes & ATTR_CONTROL) === 0) {
          for (const record of decodeBatch(chunk, position).records) {
            if (record.key !== null) shard.replay(decodeRecord(record.key, record.value), nowMs(), record.timestamp);
          }
        }
        offset = header.baseOffset + header.lastOffsetDelta + 1;
      }
    }
  }
  return current();
}
