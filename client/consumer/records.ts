/**
 * Turns the record bytes of one fetched partition into Messages. A fetch
 * answer holds whole batches, except that the first may start before the
 * offset asked for (records below it are skipped) and the last may be cut
 * short by the byte limit (it is dropped, and fetched whole next time).
 * Control batches (transaction markers) are skipped. Every batch's CRC is
 * checked: a damaged batch is an error, never silently skipped.
 *
 * Keys, values and header values are Buffers that view the response frame
 * (no copy). They are made through a Uint8Array subclass whose prototype is
 * Buffer's, the way Node makes its own Buffers; that costs half of
 * `Buffer.from(arrayBuffer, offset, length)`, which counts at millions of
 * records a second.
 */
import {
  ATTR_CONTROL,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  decodeBatch,
  readBatchHeader,
  type BatchHeader,
} from '../../protocol/batch/index.js';
import { BATCH_OFFSET_LENGTH } from '../../protocol/batch/header.js';
import type { Message } from '../types.js';

class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);

function asBuffer(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null) return null;
  return new BufferView(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength) as unknown as Buffer;
}

export interface BatchWalk {
  /** Whole batches in `records`, in order. */
  batches: { position: number; header: BatchHeader }[];
  /** Offset after the last whole batch (where the next fetch starts), or -1 if there was none. */
  nextOffset: number;
  /** Size of a cut-off batch that was the first one (so the fetch limit must grow), else 0. */
  truncatedFirstBatchBytes: number;
}

/** Finds the whole batches in `records` without decoding them. */
export function walkBatches(records: Uint8Array): BatchWalk {
  const batches: { position: number; header: BatchHeader }[] = [];
  let position = 0;
  let nextOffset = -1;
  let truncatedFirstBatchBytes = 0;
  const length = records.byteLength;
  while (position < length) {
    const remaining = length - position;
    if (remaining < BATCH_HEADER_BYTES) {
      if (batches.length === 0 && remaining >= BATCH_LOG_OVERHEAD) truncatedFirstBatchBytes = BATCH_LOG_OVERHEAD + readI32(records, position + BATCH_OFFSET_LENGTH);
      break;
    }
    const sizeBytes = BATCH_LOG_OVERHEAD + readI32(records, position + BATCH_OFFSET_LENGTH);
    if (sizeBytes > remaining) {
      if (batches.length === 0) truncatedFirstBatchBytes = sizeBytes;
      break;
    }
    const header = readBatchHeader(records, position);
    batches.push({ position, header });
    nextOffset = header.baseOffset + header.lastOffsetDelta + 1;
    position += sizeBytes;
  }
  return { batches, nextOffset, truncatedFirstBatchBytes };
}

/** Decodes the records at or after `minOffset` of one batch into `out`. */
export function decodeMessages(records: Uint8Array, position: number, header: BatchHeader, topic: string, partition: number, minOffset: number, out: Message[]): void {
  if ((header.attributes & ATTR_CONTROL) !== 0) return;
  if (header.baseOffset + header.lastOffsetDelta < minOffset) return;
  const decoded = decodeBatch(records, position).records;
  for (let i = 0; i < decoded.length; i++) {
    const r = decoded[i]!;
    if (r.offset < minOffset) continue;
    const headers: Record<string, Buffer | null> = {};
    for (let h = 0; h < r.headers.length; h++) {
      const header = r.headers[h]!;
      headers[header.key] = asBuffer(header.value);
    }
    out.push({ topic, partition, offset: r.offset, timestamp: r.timestamp, key: asBuffer(r.key), value: asBuffer(r.value), headers });
  }
}

function readI32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) | 0;
}
