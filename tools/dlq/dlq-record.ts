/**
 * A dead-lettered record as the `runnel dlq` commands see it: the
 * `runnel.dlq.*` headers the share-group coordinator wrote (protocol/headers.ts,
 * the contract) decoded, and the original record (key, value and its own
 * headers, in order, the dlq ones stripped) that a redrive produces again.
 * A header that is missing or unreadable decodes as null: a record copied
 * by hand, or by an older coordinator, is still shown and can be redriven
 * with --to.
 */
import { DLQ_HEADER_PREFIX, DlqHeader, type Message } from '../../client/index.js';
import { recordJson, type RecordJson } from '../consume/record-format.js';

export interface DeadLetterInfo {
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: number | null;
  group: string | null;
  deliveryCount: number | null;
  /** "rejected" or "max-delivery-attempts" as written; null when absent. */
  reason: string | null;
  /** The last reason a member gave; null when none. */
  error: string | null;
  /** When it was dead-lettered (ms since the epoch). */
  timeMs: number | null;
}

const text = (m: Message, name: string): string | null => m.headers[name]?.toString('utf8') ?? null;

function integer(m: Message, name: string): number | null {
  const raw = text(m, name);
  if (raw === null || !/^\d{1,16}$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

export function deadLetterInfo(m: Message): DeadLetterInfo {
  return {
    sourceTopic: text(m, DlqHeader.SOURCE_TOPIC),
    sourcePartition: integer(m, DlqHeader.SOURCE_PARTITION),
    sourceOffset: integer(m, DlqHeader.SOURCE_OFFSET),
    group: text(m, DlqHeader.GROUP),
    deliveryCount: integer(m, DlqHeader.DELIVERY_COUNT),
    reason: text(m, DlqHeader.REASON),
    error: text(m, DlqHeader.ERROR),
    timeMs: integer(m, DlqHeader.TIME),
  };
}

/** Whether the record carries any `runnel.dlq.*` header (what marks a dead letter). */
export function isDeadLetter(m: Message): boolean {
  return m.headerList.some(([key]) => key.startsWith(DLQ_HEADER_PREFIX));
}

/** The record's own headers, in order, repeats kept: everything but `runnel.dlq.*`. */
export function originalHeaders(m: Message): [string, Buffer | null][] {
  return m.headerList.filter(([key]) => !key.startsWith(DLQ_HEADER_PREFIX)).map(([key, value]) => [key, value]);
}

export interface DeadLetterJson extends RecordJson {
  deadLetter: DeadLetterInfo;
}

/** `inspect --json`: the record as `consume --format json` prints it (headers without the dlq ones), with the dlq headers decoded beside it. */
export function deadLetterJson(m: Message): DeadLetterJson {
  const json = recordJson(m);
  return { ...json, headers: json.headers.filter(([key]) => !key.startsWith(DLQ_HEADER_PREFIX)), deadLetter: deadLetterInfo(m) };
}

/** `inspect`'s text: one block per record. */
export function deadLetterText(m: Message): string {
  const d = deadLetterInfo(m);
  const source = d.sourceTopic === null ? '(unknown)' : `${d.sourceTopic}-${d.sourcePartition ?? '?'}@${d.sourceOffset ?? '?'}`;
  const when = d.timeMs === null ? '(unknown)' : new Date(d.timeMs).toISOString();
  const own = originalHeaders(m);
  const lines = [
    `${m.topic}-${m.partition}@${m.offset}  from ${source}  group ${d.group ?? '(unknown)'}  deliveries ${d.deliveryCount ?? '?'}`,
    `  reason: ${d.reason ?? '(none)'}${d.error === null ? '' : `: ${d.error}`}`,
    `  dead-lettered: ${when}`,
    `  key: ${m.key === null ? 'null' : m.key.toString('utf8')}`,
    `  value: ${m.value === null ? 'null' : m.value.toString('utf8')}`,
  ];
  if (own.length > 0) lines.push(`  headers: ${own.map(([k, v]) => `${k}=${v === null ? 'null' : v.toString('utf8')}`).join(', ')}`);
  return lines.join('\n');
}
