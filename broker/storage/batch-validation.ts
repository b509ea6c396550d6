/**
 * The first step of every append, leader or follower: check each batch of
 * the appended bytes without changing a byte, so a bad batch anywhere
 * refuses the whole append before anything is stamped or written.
 *
 * Every batch: whole and framed (bounds, magic: readBatchHeader), its
 * CRC-32C, recordCount at most lastOffsetDelta + 1. What differs is who has
 * already judged the batch:
 * - a leader takes a producer's batch, so it also applies the topic's
 *   limits (max.message.bytes; a key on every record of a compacted topic)
 *   and wants a dense batch (recordCount = lastOffsetDelta + 1: a producer
 *   numbers its records 0..n-1);
 * - a follower takes what its leader accepted and wrote: it re-checks the
 *   bytes (a bad disk or wire must not spread) but not the limits, which
 *   the leader applied under its own config (Kafka's `ignoreRecordSize` for
 *   replication: lowering max.message.bytes must not stall a follower on a
 *   batch its leader already has), and takes batches compaction thinned
 *   (fewer records than offsets, even none).
 */
import {
  BATCH_OFFSET_ATTRIBUTES,
  BATCH_OFFSET_CRC,
  BATCH_OFFSET_RECORD_COUNT,
  BatchFormatError,
  readBatchHeader,
  verifyBatchCrc,
} from '../../protocol/batch/header.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES } from '../../protocol/batch/reader.js';
import { ATTR_ENCRYPTED } from './encryption/batch-envelope.js';
import { assertRecordsKeyed } from './compaction-records.js';
import { RecordTooLargeError } from './errors.js';
import type { LogConfig } from './log-config.js';

export interface BatchRules {
  /** max.message.bytes, or null when the limit is not this append's to apply (a follower's). */
  maxMessageBytes: number | null;
  /** Every record needs a key (a leader of a compacted topic). */
  requireKeys: boolean;
  /** recordCount must equal lastOffsetDelta + 1 (a producer's batch); else at most that (a compacted one). */
  dense: boolean;
  /** Bound on one batch's inflated records when keys are checked. */
  maxUncompressedBytes: number;
}

/** What the headers of the checked batches say, for the assign and write steps. */
export interface BatchSummary {
  batchCount: number;
  /** Sum of recordCount: the offsets a dense append needs. */
  recordCount: number;
  /** Largest header maxTimestamp (-1 when every batch says -1). */
  maxTimestamp: number;
}

/** The rules for a leader's append under `config`. */
export function leaderRules(config: LogConfig): BatchRules {
  return {
    maxMessageBytes: config.maxMessageBytes,
    requireKeys: config.cleanupPolicy.compact,
    dense: true,
    maxUncompressedBytes: Math.max(DEFAULT_MAX_UNCOMPRESSED_BYTES, config.maxMessageBytes),
  };
}

/** The rules for a follower's append: the bytes are checked, the leader's limits are not applied again. */
export const FOLLOWER_RULES: BatchRules = { maxMessageBytes: null, requireKeys: false, dense: false, maxUncompressedBytes: DEFAULT_MAX_UNCOMPRESSED_BYTES };

/**
 * Checks every batch of `records` under `rules`; throws BatchFormatError
 * (or RecordTooLargeError, or compaction-records' KeylessRecordError) for
 * the first bad one, positioned in `records`. Changes nothing.
 */
export function validateBatches(records: Uint8Array, rules: BatchRules): BatchSummary {
  const totalBytes = records.byteLength;
  if (totalBytes === 0) throw new BatchFormatError('an append needs at least one batch', 0);
  let batchCount = 0;
  let recordCount = 0;
  let maxTimestamp = -1;
  for (let pos = 0; pos < totalBytes;) {
    const header = readBatchHeader(records, pos);
    if (rules.maxMessageBytes !== null && header.sizeBytes > rules.maxMessageBytes) throw new RecordTooLargeError(header.sizeBytes, rules.maxMessageBytes, pos);
    if (rules.dense ? header.recordCount !== header.lastOffsetDelta + 1 : header.recordCount > header.lastOffsetDelta + 1) {
      throw new BatchFormatError(`recordCount ${header.recordCount} does not match lastOffsetDelta ${header.lastOffsetDelta} + 1`, pos + BATCH_OFFSET_RECORD_COUNT);
    }
    // The broker's own disk-format bit: a batch arriving with it would later be read as an envelope.
    if ((header.attributes & ATTR_ENCRYPTED) !== 0) throw new BatchFormatError('attribute bit 14 is reserved for the broker\'s encrypted disk format', pos + BATCH_OFFSET_ATTRIBUTES);
    if (!verifyBatchCrc(records, pos, header.sizeBytes)) throw new BatchFormatError('CRC-32C mismatch: the batch was damaged in transit or built wrong', pos + BATCH_OFFSET_CRC);
    if (rules.requireKeys) assertRecordsKeyed(records, pos, header, rules.maxUncompressedBytes);
    recordCount += header.recordCount;
    if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
    batchCount += 1;
    pos += header.sizeBytes;
  }
  return { batchCount, recordCount, maxTimestamp };
}

const U32_MAX = 0xffffffff;

/** One append lands in one segment, whose index holds offsets relative to its base as a u32. */
export function checkOffsetSpan(baseOffset: number, lastOffset: number): void {
  if (lastOffset - baseOffset > U32_MAX) throw new BatchFormatError(`one append may span at most 2^32 offsets, this one spans ${lastOffset - baseOffset + 1}`, 0);
}
