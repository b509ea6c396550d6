/**
 * Record headers as the SDK takes them. Kafka headers are an ordered list in
 * which a key may repeat (a trace id per hop, several `tag`s), so besides the
 * object form `{ key: value }`, a producer may give a list of `[key, value]`
 * pairs, repeats and null values included. Both become the wire's list, in
 * order. The consumer hands out both views (`Message.headers`, the last value
 * per key, and `Message.headerList`, every header in order).
 */
import type { RecordHeader } from '../protocol/batch/index.js';
import type { ProducerHeaders } from './types.js';

/** Why `headers` is not a valid header set, or null when it is. */
export function headersProblem(headers: unknown): string | null {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const pair: unknown = headers[i];
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') return `headers[${i}] must be a [key, value] pair with a string key`;
      const value: unknown = pair[1];
      if (value !== null && typeof value !== 'string' && !(value instanceof Uint8Array)) return `header "${pair[0]}" must be a string, a Buffer or null`;
    }
    return null;
  }
  if (headers === null || typeof headers !== 'object') return 'headers must be an object of string or Buffer values, or a list of [key, value] pairs';
  for (const name in headers) {
    const value: unknown = (headers as Record<string, unknown>)[name];
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) return `header "${name}" must be a string or a Buffer`;
  }
  return null;
}

/** The headers in wire order (checked by `headersProblem` first). */
export function toRecordHeaders(headers: ProducerHeaders): RecordHeader[] {
  const out: RecordHeader[] = [];
  if (Array.isArray(headers)) {
    for (const [key, value] of headers as readonly (readonly [string, string | Uint8Array | null])[]) out.push({ key, value: headerBytes(value) });
    return out;
  }
  const record = headers as Readonly<Record<string, string | Uint8Array>>;
  for (const key in record) out.push({ key, value: headerBytes(record[key]!) });
  return out;
}

function headerBytes(value: string | Uint8Array | null): Uint8Array | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}
