/**
 * Record headers with a meaning to Runnel itself (queues, issue 10). They
 * are ordinary headers on the wire and on disk; these names are the
 * contract between producers, the share-group coordinator, consumers and
 * the `runnel dlq` tools. Values are UTF-8 text.
 */
import type { RecordHeader } from './batch/index.js';

/** When the record may be delivered: decimal milliseconds since the Unix epoch (producer's clock). Share groups hold it back until then; group consumers only when they opt in. */
export const DELIVER_AT_HEADER = 'runnel.deliver.at';

/** Headers of a dead-lettered record (its key, value, timestamp and own headers are the original's). */
export const DlqHeader = {
  /** The topic the record came from. */
  SOURCE_TOPIC: 'runnel.dlq.source.topic',
  /** Its partition there, decimal. */
  SOURCE_PARTITION: 'runnel.dlq.source.partition',
  /** Its offset there, decimal. */
  SOURCE_OFFSET: 'runnel.dlq.source.offset',
  /** The share group that gave up on it. */
  GROUP: 'runnel.dlq.group',
  /** How many times it was delivered, decimal. */
  DELIVERY_COUNT: 'runnel.dlq.delivery.count',
  /** Why: "rejected" (a member rejected it) or "max-delivery-attempts". */
  REASON: 'runnel.dlq.reason',
  /** The last reason a member gave when releasing or rejecting it; absent when none was given. */
  ERROR: 'runnel.dlq.error',
  /** When it was dead-lettered: decimal milliseconds since the Unix epoch (coordinator's clock). */
  TIME: 'runnel.dlq.time',
} as const;

export type DlqReason = 'rejected' | 'max-delivery-attempts';

/** Every header name above starts with this: redrive strips them. */
export const DLQ_HEADER_PREFIX = 'runnel.dlq.';

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
