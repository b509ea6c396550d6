/**
 * Delayed delivery (issue 10): a record may carry the time before which it
 * must not be delivered, in the `runnel.deliver.at` header (decimal
 * milliseconds since the epoch, the producer's clock). One set of functions
 * for every sender of such records (the producer's `deliverAt` /
 * `deliverAfterMs` options, the queue's `send`) and every reader (a group
 * consumer with `delayedDelivery: 'wait'`), so they cannot disagree on the
 * format.
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

/**
 * The delivery time a header value carries, or undefined when it carries
 * none that can be read (absent, null, not a non-negative decimal integer):
 * such a record is delivered at once, as if it had no header, because a
 * record that can never be delivered would stop its partition for good.
 */
export function parseDeliverAt(value: Uint8Array | string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const ms = Number(text);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The delivery time in a record's wire headers (the last `runnel.deliver.at` wins, as `Message.headers` shows it), or undefined. */
export function deliverAtOf(headers: readonly RecordHeader[] | undefined): number | undefined {
  if (headers === undefined) return undefined;
  for (let i = headers.length - 1; i >= 0; i--) {
    const h = headers[i]!;
    if (h.key === DELIVER_AT_HEADER) return parseDeliverAt(h.value);
  }
  return undefined;
}
