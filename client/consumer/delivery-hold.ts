/**
 * Delayed delivery for group consumers that opt in (`delayedDelivery:
 * 'wait'`): which record of a fetched run is the first whose time has not
 * come. The record's `runnel.deliver.at` header (the last one, as
 * `Message.headers` shows it) is read with the same parser every Runnel
 * reader uses (client/delivery-time.ts); a header that cannot be read
 * delays nothing.
 */
import { DELIVER_AT_HEADER } from '../../protocol/headers.js';
import { parseDeliverAt } from '../delivery-time.js';
import type { Message } from '../types.js';

/** The first message not due at `nowMs` and when it is, or null when all are due. */
export function firstNotDue(messages: readonly Message[], nowMs: number): { index: number; dueMs: number } | null {
  for (let i = 0; i < messages.length; i++) {
    const header = messages[i]!.headers[DELIVER_AT_HEADER];
    if (header === undefined) continue;
    const dueMs = parseDeliverAt(header);
    if (dueMs !== undefined && dueMs > nowMs) return { index: i, dueMs };
  }
  return null;
}
