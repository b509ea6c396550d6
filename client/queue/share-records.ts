/**
 * The records of one partition of a ShareFetch answer, as messages: the
 * answer carries batches (a compressed one whole, so it may hold records
 * this member did not acquire: settled ones, or others' locked ones) and
 * the acquired offsets in ranges, each with its delivery count. Only acquired offsets become
 * messages. Batches are decoded and CRC-checked as the consumer does it
 * (consumer/records.ts); a damaged batch is an error, never skipped.
 */
import type { ShareAcquiredRecords } from '../../protocol/messages.js';
import { decodeMessages, walkBatches } from '../consumer/records.js';
import type { Message } from '../types.js';

/**
 * Calls `visit` with each acquired record of `records`, in offset order, and
 * its delivery count. A visitor, not a list of pairs: this runs once per
 * record received, and the caller builds its own object from the two.
 */
export function acquiredRecords(topic: string, partition: number, records: Uint8Array, acquired: readonly ShareAcquiredRecords[], visit: (message: Message, deliveryCount: number) => void): void {
  if (acquired.length === 0 || records.byteLength === 0) return;
  const ranges = [...acquired].sort((a, b) => a.firstOffset - b.firstOffset);
  const lastAcquired = ranges.reduce((last, r) => Math.max(last, r.lastOffset), -1);
  const decoded: Message[] = [];
  for (const { position, header } of walkBatches(records).batches) {
    const last = header.baseOffset + header.lastOffsetDelta;
    // Only batches that hold some acquired offset are decoded.
    if (!ranges.some((r) => r.firstOffset <= last && r.lastOffset >= header.baseOffset)) continue;
    decodeMessages(records, position, header, topic, partition, ranges[0]!.firstOffset, decoded, lastAcquired);
  }
  let r = 0;
  for (const message of decoded) {
    while (r < ranges.length && ranges[r]!.lastOffset < message.offset) r++;
    const range = ranges[r];
    if (range === undefined) break;
    if (range.firstOffset <= message.offset) visit(message, range.deliveryCount);
  }
}
