/**
 * Delayed delivery (issue 10): a record may carry the time before which it
 * must not be delivered, in the `runnel.deliver.at` header (decimal
 * milliseconds since the epoch, the producer's clock). One set of functions
 * for every sender of such records (the producer's `deliverAt` /
 * `deliverAfterMs` options, the queue's `send`); every reader (a group
 * consumer with `delayedDelivery: 'wait'`, the broker's share groups) parses
 * it with protocol/headers.ts, so they cannot disagree on the format.
 */
import { DELIVER_AT_HEADER } from '../protocol/headers.js';
import type { RecordHeader } from '../protocol/batch/index.js';
import type { DeliveryTimeOptions, ProducerHeaders } from './types.js';

export type { DeliveryTimeOptions };

/**
 * Why `m`'s delivery options are invalid, or null when they are fine (also
 * when absent). A message whose own headers (checked valid already) carry
 * `runnel.deliver.at` may not also give an option: which of two times
 * wins would be a guess.
 */
export function deliveryTimeProblem(m: DeliveryTimeOptions & { headers?: ProducerHeaders }): string | null {
  const { deliverAt, deliverAfterMs } = m;
  if (deliverAt === undefined && deliverAfterMs === undefined) return null;
  if (deliverAt !== undefined && deliverAfterMs !== undefined) return 'give deliverAt or deliverAfterMs, not both';
  if (m.headers !== undefined && hasDeliverAtHeader(m.headers)) return `give deliverAt/deliverAfterMs or a "${DELIVER_AT_HEADER}" header, not both`;
  if (deliverAt !== undefined) {
    const ms = deliverAt instanceof Date ? deliverAt.getTime() : deliverAt;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) return 'deliverAt must be a valid Date or a non-negative integer (ms since the epoch)';
  }
  if (deliverAfterMs !== undefined && (typeof deliverAfterMs !== 'number' || !Number.isSafeInteger(deliverAfterMs) || deliverAfterMs < 0)) {
    return 'deliverAfterMs must be a non-negative integer';
  }
  return null;
}

function hasDeliverAtHeader(headers: ProducerHeaders): boolean {
  if (Array.isArray(headers)) return (headers as readonly (readonly [string, unknown])[]).some(([key]) => key === DELIVER_AT_HEADER);
  return Object.prototype.hasOwnProperty.call(headers, DELIVER_AT_HEADER);
}

/**
 * When `m` may be delivered (ms since the epoch), or undefined when it
 * names no time. `nowMs` is the send time `deliverAfterMs` counts from.
 * Checked by `deliveryTimeProblem` first.
 */
export function deliverAtMs(m: DeliveryTimeOptions, nowMs: number): number | undefined {
  if (m.deliverAt !== undefined) return m.deliverAt instanceof Date ? m.deliverAt.getTime() : m.deliverAt;
  if (m.deliverAfterMs !== undefined) return nowMs + m.deliverAfterMs;
  return undefined;
}

/** The header that carries `atMs`, in wire form. */
export function deliverAtHeader(atMs: number): RecordHeader {
  return { key: DELIVER_AT_HEADER, value: Buffer.from(String(atMs), 'utf8') };
}

// The reader is in protocol/headers.ts, shared with the broker's share groups; re-exported for the SDK's package root.
export { parseDeliverAt } from '../protocol/headers.js';
