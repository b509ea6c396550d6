/**
 * How `runnel consume` prints a record. `text` (the default) is the value's
 * raw bytes on a line, with kafka-console-consumer's optional fields before
 * it, tab-separated and in its order: `Timestamp:<ms>`, `Partition:<n>`,
 * `Offset:<n>`, the headers (`k:v,k:v`, or `NO_HEADERS`), the key.
 * `json` is one object a line with every field (kcat's -J): key, value and
 * header values as text when they are UTF-8, `{"base64": ...}` when they
 * are not, null when null; headers as `[key, value]` pairs in record order,
 * repeated keys included.
 */
import type { Message } from '../../client/index.js';

export type ConsumeFormat = 'text' | 'json';
export const CONSUME_FORMATS: readonly ConsumeFormat[] = ['text', 'json'];

export interface TextFields {
  printKey?: boolean;
  printOffset?: boolean;
  printPartition?: boolean;
  printTimestamp?: boolean;
  printHeaders?: boolean;
}

const TAB = Buffer.from('\t');
const NEWLINE = Buffer.from('\n');
const NULL_TEXT = Buffer.from('null');
const NO_HEADERS = Buffer.from('NO_HEADERS');
const COLON = Buffer.from(':');
const COMMA = Buffer.from(',');

/** The chunks of one record's line (written together with its neighbours, uncopied). */
export function formatRecord(message: Message, format: ConsumeFormat, fields: TextFields): Buffer[] {
  if (format === 'json') return [Buffer.from(`${JSON.stringify(recordJson(message))}\n`)];
  const parts: Buffer[] = [];
  if (fields.printTimestamp) parts.push(Buffer.from(`Timestamp:${message.timestamp}`), TAB);
  if (fields.printPartition) parts.push(Buffer.from(`Partition:${message.partition}`), TAB);
  if (fields.printOffset) parts.push(Buffer.from(`Offset:${message.offset}`), TAB);
  if (fields.printHeaders) parts.push(...headerText(message), TAB);
  if (fields.printKey) parts.push(message.key ?? NULL_TEXT, TAB);
  parts.push(message.value ?? NULL_TEXT, NEWLINE);
  return parts;
}

function headerText(message: Message): Buffer[] {
  if (message.headerList.length === 0) return [NO_HEADERS];
  return message.headerList.flatMap(([key, value], i) => [...(i === 0 ? [] : [COMMA]), Buffer.from(key), COLON, value ?? NULL_TEXT]);
}

type JsonBytes = string | { base64: string } | null;

export interface RecordJson {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: JsonBytes;
  value: JsonBytes;
  headers: [string, JsonBytes][];
}

export function recordJson(message: Message): RecordJson {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: jsonBytes(message.key),
    value: jsonBytes(message.value),
    headers: message.headerList.map(([key, value]) => [key, jsonBytes(value)]),
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function jsonBytes(bytes: Buffer | null): JsonBytes {
  if (bytes === null) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return { base64: bytes.toString('base64') };
  }
}
