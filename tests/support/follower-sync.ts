/**
 * A replica fetcher in miniature, for storage tests: copies a leader
 * PartitionLog's batches into a follower's with `appendAsFollower`, and
 * truncates a follower's divergent tail the way Kafka's fetcher does
 * (KIP-101 / KIP-279: ask the leader where the follower's latest epoch
 * ended, then truncate to the lower of that and the follower's own end of
 * the epoch the leader answered with). The broker's real fetcher lives in
 * broker/replication; this one exercises only what storage promises it.
 */
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LAST_OFFSET_DELTA, BATCH_OFFSET_LENGTH, BATCH_OFFSET_LEADER_EPOCH, readI64 } from '../../protocol/batch/header.js';
import type { PartitionLog } from '../../broker/storage/partition-log.js';
import { divergenceStep } from '../../broker/replication/divergence.js';

/** Concatenates fetched batches into one buffer, as they would arrive in one fetch response. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** Fetches from the leader at the follower's log end and appends, until the follower has `upTo` (default the leader's end). */
export async function replicate(leader: PartitionLog, follower: PartitionLog, opts: { maxBytes?: (round: number) => number; upTo?: number } = {}): Promise<number> {
  const upTo = opts.upTo ?? leader.logEndOffset;
  let appends = 0;
  for (let round = 0; round < 100_000 && follower.logEndOffset < upTo; round++) {
    const fetched = await leader.read(follower.logEndOffset, opts.maxBytes?.(round) ?? 64 * 1024, upTo);
    if (fetched.records.length === 0) break;
    if (!follower.appendable) await follower.waitAppendable();
    follower.appendAsFollower(concat(fetched.records));
    appends += 1;
  }
  return appends;
}

/** Kafka's follower truncation on becoming follower (bounded rounds); returns the offset truncated to. */
export async function truncateDivergentTail(leader: PartitionLog, follower: PartitionLog): Promise<number> {
  let asked = follower.latestEpoch;
  let target = follower.logEndOffset;
  for (let round = 0; round < 64 && asked >= 0; round++) {
    const answer = leader.endOffsetForEpoch(asked);
    const mine = answer.endOffset < 0 ? { epoch: -1, endOffset: -1 } : follower.endOffsetForEpoch(answer.epoch);
    ({ target, next: asked } = divergenceStep(target, answer, mine, leader.logStartOffset));
  }
  if (follower.latestEpoch < 0) target = Math.min(target, leader.logStartOffset);
  await follower.truncateTo(target);
  return target;
}

/** Every batch of the log from its start to its end, as bytes (copies). */
export async function allBatches(log: PartitionLog): Promise<Uint8Array[]> {
  const batches: Uint8Array[] = [];
  let offset = log.logStartOffset;
  for (let round = 0; round < 1_000_000 && offset < log.logEndOffset; round++) {
    const result = await log.read(offset, 64 * 1024);
    if (result.records.length === 0) break;
    for (const batch of result.records) {
      batches.push(batch.slice());
      offset = lastOffsetOf(batch) + 1;
    }
  }
  return batches;
}

export function lastOffsetOf(batch: Uint8Array): number {
  return readI64(batch, 0) + new DataView(batch.buffer, batch.byteOffset, batch.byteLength).getInt32(BATCH_OFFSET_LAST_OFFSET_DELTA);
}

export function epochOf(batch: Uint8Array): number {
  return new DataView(batch.buffer, batch.byteOffset, batch.byteLength).getInt32(BATCH_OFFSET_LEADER_EPOCH);
}

/** The epoch cache the batches themselves imply: the first batch of each epoch newer than the one before. */
export function epochsOf(batches: readonly Uint8Array[]): { epoch: number; startOffset: number }[] {
  const entries: { epoch: number; startOffset: number }[] = [];
  for (const batch of batches) {
    const epoch = epochOf(batch);
    if (epoch > (entries.at(-1)?.epoch ?? -1)) entries.push({ epoch, startOffset: readI64(batch, 0) });
  }
  return entries;
}

/** Byte size of the batch starting at `pos` of `records`. */
export function batchSizeAt(records: Uint8Array, pos: number): number {
  return BATCH_LOG_OVERHEAD + new DataView(records.buffer, records.byteOffset, records.byteLength).getInt32(pos + BATCH_OFFSET_LENGTH);
}
