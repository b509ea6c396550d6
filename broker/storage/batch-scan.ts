/**
 * The recovery scan of one chunk of a segment's .log: validate each batch
 * (length bounds, magic, CRC-32C, offsets rising within a u32 of the segment
 * base) and derive what recovery must rebuild: index entries (by the same
 * rule as appends, indexing.ts), leader-epoch starts, and the running
 * largest timestamp. Pure and synchronous so it runs the same inline or on a
 * worker thread (workers/scan-worker.ts); the caller feeds chunks in file
 * order and carries `state` from one to the next.
 *
 * A chunk ends in one of three ways: `end` (every byte was a whole valid
 * batch, and the chunk ends the file), `more` (the next batch continues past
 * the chunk: feed the file again from `consumedBytes`, with at least
 * `needBytes`), or `bad` (the batch at `consumedBytes` fails a check; the
 * caller decides whether that is a torn tail or corruption).
 */
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_OFFSET_LENGTH,
  readBatchHeader,
  verifyBatchCrc,
} from '../../protocol/batch/header.js';
import { indexBatch, type IndexingState, type IndexSink } from './indexing.js';

export interface ScanState extends IndexingState {
  /** Every batch's baseOffset must be >= this; after the scan, the segment's next offset. */
  nextOffset: number;
  latestEpoch: number;
  /** maxTimestamp of the segment's first batch (-1 until seen). */
  firstBatchMaxTimestampMs: number;
}

export interface ScanParams {
  /** File position of the chunk's first byte. */
  filePosition: number;
  atFileEnd: boolean;
  segmentBaseOffset: number;
  indexIntervalBytes: number;
}

export interface ScanOutput {
  stop: 'end' | 'more' | 'bad';
  /** Bytes of whole valid batches from the chunk's start. */
  consumedBytes: number;
  /** For `more`: bytes needed from `consumedBytes` to hold the next batch. */
  needBytes: number;
  /** For `bad`: what failed. */
  badReason: string;
  batches: number;
  /** (relativeOffset, position) pairs. */
  offsetEntries: Uint32Array;
  /** (timestampMs, relativeOffset) pairs. */
  timeEntries: Float64Array;
  /** (epoch, startOffset) pairs for epochs newer than state.latestEpoch. */
  epochStarts: Float64Array;
}

const U32_MAX = 0xffffffff;
const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD;

export function scanChunk(bytes: Uint8Array, params: ScanParams, state: ScanState): ScanOutput {
  const offsetEntries: number[] = [];
  const timeEntries: number[] = [];
  const epochStarts: number[] = [];
  const sink: IndexSink = {
    offsetEntry: (relOffset, position) => offsetEntries.push(relOffset, position),
    timeEntry: (timestampMs, relOffset) => timeEntries.push(timestampMs, relOffset),
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  let pos = 0;
  let batches = 0;
  let stop: ScanOutput['stop'] = 'end';
  let needBytes = 0;
  let badReason = '';
  const bad = (reason: string): void => {
    stop = 'bad';
    badReason = reason;
  };
  for (;;) {
    const remaining = length - pos;
    if (remaining === 0) {
      stop = params.atFileEnd ? 'end' : 'more';
      needBytes = BATCH_HEADER_BYTES;
      break;
    }
    if (remaining < BATCH_HEADER_BYTES) {
      if (params.atFileEnd) bad(`the file ends ${remaining} bytes into a batch header`);
      else {
        stop = 'more';
        needBytes = BATCH_HEADER_BYTES;
      }
      break;
    }
    const batchLength = view.getInt32(pos + BATCH_OFFSET_LENGTH);
    if (batchLength < MIN_BATCH_LENGTH) {
      bad(`batchLength ${batchLength} is below the header size`);
      break;
    }
    const sizeBytes = BATCH_LOG_OVERHEAD + batchLength;
    if (sizeBytes > remaining) {
      if (params.atFileEnd) bad(`a batch of ${sizeBytes} bytes runs past the end of the file (${remaining} bytes left)`);
      else {
        stop = 'more';
        needBytes = sizeBytes;
      }
      break;
    }
    let baseOffset: number;
    let lastOffset: number;
    let maxTimestamp: number;
    let epoch: number;
    try {
      const header = readBatchHeader(bytes, pos, sizeBytes);
      baseOffset = header.baseOffset;
      lastOffset = header.baseOffset + header.lastOffsetDelta;
      maxTimestamp = header.maxTimestamp;
      epoch = header.partitionLeaderEpoch;
    } catch (err) {
      bad(err instanceof Error ? err.message : String(err));
      break;
    }
    if (!verifyBatchCrc(bytes, pos, sizeBytes)) {
      bad('CRC-32C mismatch');
      break;
    }
    if (baseOffset < state.nextOffset) {
      bad(`baseOffset ${baseOffset} is below the expected ${state.nextOffset}`);
      break;
    }
    if (lastOffset - params.segmentBaseOffset > U32_MAX) {
      bad(`last offset ${lastOffset} is more than 2^32 past the segment base ${params.segmentBaseOffset}`);
      break;
    }
    const filePos = params.filePosition + pos;
    if (filePos === 0) state.firstBatchMaxTimestampMs = maxTimestamp;
    indexBatch(state, sink, params.segmentBaseOffset, params.indexIntervalBytes, baseOffset, lastOffset, maxTimestamp, filePos, sizeBytes);
    if (epoch > state.latestEpoch) {
      epochStarts.push(epoch, baseOffset);
      state.latestEpoch = epoch;
    }
    state.nextOffset = lastOffset + 1;
    batches += 1;
    pos += sizeBytes;
  }
  return {
    stop,
    consumedBytes: pos,
    needBytes,
    badReason,
    batches,
    offsetEntries: Uint32Array.from(offsetEntries),
    timeEntries: Float64Array.from(timeEntries),
    epochStarts: Float64Array.from(epochStarts),
  };
}
