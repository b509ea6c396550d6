/**
 * What `runnel produce` makes of one line of stdin: the value (and with
 * `--key-separator` the key before the separator), the `-H` headers, the
 * `--partition`, and, with `--null-value`, a null value for an empty one (a
 * tombstone on a compacted topic, as kcat's -Z); `--deliver-at` /
 * `--deliver-after-ms` delay its delivery (the producer's options of the
 * same names: the runnel.deliver.at header).
 */
import type { ProducerMessage } from '../../client/index.js';

export interface LineRecordOptions {
  keySeparator?: string;
  /** `-H key=value` in order; a key may repeat. */
  header: [string, string][];
  partition?: number;
  nullValue?: boolean;
  deliverAt?: number;
  deliverAfterMs?: number;
}

/** The record for `line`, or an Error saying why the line cannot be one. */
export function lineRecord(line: string, opts: LineRecordOptions): ProducerMessage | Error {
  let key: string | undefined;
  let value = line;
  const separator = opts.keySeparator;
  if (separator !== undefined && separator !== '') {
    const at = line.indexOf(separator);
    if (at < 0) return new Error(`no key separator ${JSON.stringify(separator)} in the line; write key${separator}value, or drop --key-separator`);
    key = line.slice(0, at);
    value = line.slice(at + separator.length);
  }
  const message: ProducerMessage = { value: opts.nullValue === true && value === '' ? null : value };
  if (key !== undefined) message.key = key;
  if (opts.header.length > 0) message.headers = opts.header;
  if (opts.partition !== undefined) message.partition = opts.partition;
  if (opts.deliverAt !== undefined) message.deliverAt = opts.deliverAt;
  if (opts.deliverAfterMs !== undefined) message.deliverAfterMs = opts.deliverAfterMs;
  return message;
}
