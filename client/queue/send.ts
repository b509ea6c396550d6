/**
 * What `queue.send` takes, as the producer's message: a bare value, or a
 * record with key, headers and a delivery time (`deliverAt` /
 * `deliverAfterMs`), which the producer turns into the runnel.deliver.at
 * header (client/delivery-time.ts) the share group's coordinator holds the
 * record back by. The producer checks all of it.
 */
import { invalidArgument } from '../errors.js';
import type { ProducerMessage } from '../types.js';
import type { QueueSendMessage } from './queue-types.js';

export function toProducerMessage(message: string | Buffer | null | QueueSendMessage): ProducerMessage {
  if (message === null || typeof message === 'string' || message instanceof Uint8Array) return { value: message as string | Buffer | null };
  if (typeof message !== 'object') throw invalidArgument('send() takes a value (string, Buffer or null) or { key?, value, headers?, deliverAt?, deliverAfterMs? }');
  const { key, value, headers, deliverAt, deliverAfterMs } = message;
  return { key, value, headers, deliverAt, deliverAfterMs };
}
