/**
 * What `queue.send` takes, as the producer's message: a bare value, or a
 * record with key, headers and a delivery time (`deliverAt` /
 * `deliverAfterMs`), which becomes the runnel.deliver.at header the share
 * group's coordinator holds the record back by.
 */
import { DELIVER_AT_HEADER } from '../../protocol/headers.js';
import { invalidArgument } from '../errors.js';
import { headersProblem } from '../headers.js';
import type { ProducerHeaders, ProducerMessage } from '../types.js';
import type { QueueSendMessage } from './queue-types.js';

export function toProducerMessage(message: string | Buffer | null | QueueSendMessage, nowMs: number): ProducerMessage {
  if (message === null || typeof message === 'string' || message instanceof Uint8Array) return { value: message as string | Buffer | null };
  if (typeof message !== 'object') throw invalidArgument('send() takes a value (string, Buffer or null) or { key?, value, headers?, deliverAt?, deliverAfterMs? }');
  const { key, value, headers, deliverAt, deliverAfterMs } = message;
  if (headers !== undefined) {
    const problem = headersProblem(headers);
    if (problem !== null) throw invalidArgument(problem);
  }
  const atMs = deliveryTime(deliverAt, deliverAfterMs, nowMs);
  if (atMs === undefined) return { key, value, headers };
  const list: (readonly [string, string | Buffer | null])[] = headers === undefined ? [] : Array.isArray(headers) ? [...(headers as readonly (readonly [string, string | Buffer | null])[])] : Object.entries(headers as Record<string, string | Buffer>);
  if (list.some(([name]) => name === DELIVER_AT_HEADER)) throw invalidArgument(`give deliverAt/deliverAfterMs or a "${DELIVER_AT_HEADER}" header, not both`);
  list.push([DELIVER_AT_HEADER, String(atMs)]);
  return { key, value, headers: list as ProducerHeaders };
}

function deliveryTime(deliverAt: Date | number | undefined, deliverAfterMs: number | undefined, nowMs: number): number | undefined {
  if (deliverAt !== undefined && deliverAfterMs !== undefined) throw invalidArgument('give deliverAt or deliverAfterMs, not both');
  if (deliverAt !== undefined) {
    const ms = deliverAt instanceof Date ? deliverAt.getTime() : deliverAt;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) throw invalidArgument('deliverAt must be a valid Date or a non-negative integer (ms since the epoch)');
    return ms;
  }
  if (deliverAfterMs !== undefined) {
    if (typeof deliverAfterMs !== 'number' || !Number.isSafeInteger(deliverAfterMs) || deliverAfterMs < 0) throw invalidArgument('deliverAfterMs must be a non-negative integer');
    return nowMs + deliverAfterMs;
  }
  return undefined;
}
