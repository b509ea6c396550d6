/**
 * The record-by-record checker of the fault tests. Producers register every
 * send (a unique value, the partition it goes to) and how it settled (the
 * acknowledged offset, or the failure); after the test drains every
 * partition, `check(drained)` compares the two.
 *
 * What is checked, precisely (a retry after a lost answer may write a value
 * twice, at two offsets, and the acknowledgement names the copy the retry
 * wrote, so "present at exactly one offset" is not an invariant, a duplicate
 * is reported instead):
 * - the drain itself: within a partition, offsets strictly increase as read
 *   (so no offset holds two values); a value nobody sent is `unknown`.
 * - lost: an acknowledged value that is nowhere in its partition.
 * - wrongOffset: an acknowledged value that is in its partition, but not at
 *   the offset acknowledged (that offset holds another value or nothing: the
 *   acknowledged copy was truncated and another copy survives).
 * - wrongPartition: a value found in a partition it was not sent to.
 * - order, for acknowledged values that sit at their acknowledged offset:
 *   per partition, if x was acknowledged before y was sent, x's offset is
 *   below y's (real-time order, whichever producers sent them); and per
 *   producer and partition, offsets grow with send order (the SDK writes a
 *   partition's records in send() order, even across retries).
 * - duplicates: a value at more than one offset; counted (values, extra
 *   copies) and listed, never a violation until the idempotent producer.
 * - failed sends may or may not have been written ("a timeout is not a
 *   denial"): counted as `failedButWritten`, not a violation.
 * - unsettled: a send that neither succeeded nor failed by the check; a
 *   violation, since every send() settles within its delivery timeout.
 *
 * With `lossAllowed` (acks=1), lost and wrongOffset values are reported but do
 * not make the report fail: the run says what it lost instead of asserting.
 */

export interface DrainedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

export type SendStatus = 'pending' | 'acked' | 'failed';

export interface SendEntry {
  readonly value: string;
  readonly producer: string;
  /** Per producer, in the order of its send() calls. */
  readonly seq: number;
  readonly partition: number;
  readonly sentAt: number;
  status: SendStatus;
  offset?: number;
  ackedAt?: number;
  error?: string;
}

/** How many, and the first few for the failure message. */
export interface Finding<T> {
  count: number;
  examples: T[];
}

export interface LedgerReport {
  sent: number;
  acked: number;
  failed: number;
  unsettled: Finding<string>;
  /** Drained records looked at. */
  recordsChecked: number;
  partitions: number;
  lost: Finding<{ value: string; partition: number; offset: number }>;
  wrongOffset: Finding<{ value: string; partition: number; ackedOffset: number; heldThere: string | null; foundAt: number[] }>;
  wrongPartition: Finding<{ value: string; sentTo: number; foundIn: number }>;
  offsetsNotIncreasing: Finding<{ partition: number; offset: number; after: number; value: string }>;
  unknown: Finding<{ partition: number; offset: number; value: string }>;
  realTimeOrder: Finding<{ partition: number; first: string; firstOffset: number; then: string; thenOffset: number }>;
  producerOrder: Finding<{ producer: string; partition: number; first: string; firstOffset: number; then: string; thenOffset: number }>;
  /** Values written more than once; `extraCopies` = copies beyond the first. */
  duplicates: Finding<{ value: string; partition: number; offsets: number[]; status: SendStatus }> & { extraCopies: number };
  failedButWritten: number;
  lossAllowed: boolean;
  /** One line per kind of violation found; empty when ok. */
  violations: string[];
  ok: boolean;
}

const EXAMPLES = 10;

function finding<T>(): Finding<T> {
  return { count: 0, examples: [] };
}

function note<T>(f: Finding<T>, example: T): void {
  f.count++;
  if (f.examples.length < EXAMPLES) f.examples.push(example);
}

export class Ledger {
  readonly #byValue = new Map<string, SendEntry>();
  readonly #seqs = new Map<string, number>();
  readonly #now: () => number;

  /** `now`: the clock stamped on sends and acknowledgements (ms, monotonic by default). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Registers a send before it is handed to the producer. Values must be unique across the whole run. */
  sent(producer: string, value: string, partition: number): SendEntry {
    if (this.#byValue.has(value)) throw new Error(`value ${JSON.stringify(value)} was already sent: values must be unique`);
    const seq = this.#seqs.get(producer) ?? 0;
    this.#seqs.set(producer, seq + 1);
    const entry: SendEntry = { value, producer, seq, partition, sentAt: this.#now(), status: 'pending' };
    this.#byValue.set(value, entry);
    return entry;
  }

  acked(value: string, offset: number): void {
    const entry = this.#settle(value);
    entry.status = 'acked';
    entry.offset = offset;
    entry.ackedAt = this.#now();
  }

  failed(value: string, error: unknown): void {
    const entry = this.#settle(value);
    entry.status = 'failed';
    entry.error = error instanceof Error ? error.message : String(error);
  }

  #settle(value: string): SendEntry {
    const entry = this.#byValue.get(value);
    if (entry === undefined) throw new Error(`value ${JSON.stringify(value)} was never registered as sent`);
    if (entry.status !== 'pending') throw new Error(`value ${JSON.stringify(value)} settled twice (already ${entry.status})`);
    return entry;
  }

  entries(): readonly SendEntry[] {
    return [...this.#byValue.values()];
  }

  check(drained: Iterable<DrainedRecord>, opts: { lossAllowed?: boolean } = {}): LedgerReport {
    return checkLedger(this.entries(), drained, opts.lossAllowed ?? false);
  }
}

export function checkLedger(entries: readonly SendEntry[], drained: Iterable<DrainedRecord>, lossAllowed: boolean): LedgerReport {
  const byValue = new Map(entries.map((e) => [e.value, e]));
  const report: LedgerReport = {
    sent: entries.length,
    acked: 0,
    failed: 0,
    unsettled: finding(),
    recordsChecked: 0,
    partitions: 0,
    lost: finding(),
    wrongOffset: finding(),
    wrongPartition: finding(),
    offsetsNotIncreasing: finding(),
    unknown: finding(),
    realTimeOrder: finding(),
    producerOrder: finding(),
    duplicates: { ...finding(), extraCopies: 0 },
    failedButWritten: 0,
    lossAllowed,
    violations: [],
    ok: true,
  };

  // The drain: per partition, offset -> value; per value, where it was found.
  const logs = new Map<number, Map<number, string>>();
  const lastOffset = new Map<number, number>();
  const foundAt = new Map<string, { partition: number; offset: number }[]>();
  for (const record of drained) {
    report.recordsChecked++;
    const last = lastOffset.get(record.partition);
    if (last !== undefined && record.offset <= last) {
      note(report.offsetsNotIncreasing, { partition: record.partition, offset: record.offset, after: last, value: record.value });
    }
    lastOffset.set(record.partition, Math.max(record.offset, last ?? -1));
    let log = logs.get(record.partition);
    if (log === undefined) logs.set(record.partition, (log = new Map()));
    if (!log.has(record.offset)) log.set(record.offset, record.value);
    const places = foundAt.get(record.value) ?? [];
    places.push({ partition: record.partition, offset: record.offset });
    foundAt.set(record.value, places);
    const entry = byValue.get(record.value);
    if (entry === undefined) note(report.unknown, { partition: record.partition, offset: record.offset, value: record.value });
    else if (entry.partition !== record.partition) note(report.wrongPartition, { value: record.value, sentTo: entry.partition, foundIn: record.partition });
  }
  report.partitions = logs.size;

  for (const [value, places] of foundAt) {
    const offsets = [...new Set(places.map((p) => `${p.partition}:${p.offset}`))];
    if (offsets.length > 1) {
      report.duplicates.extraCopies += offsets.length - 1;
      note(report.duplicates, { value, partition: places[0]!.partition, offsets: places.map((p) => p.offset), status: byValue.get(value)?.status ?? 'pending' });
    }
  }

  // Acknowledged values that sit at their acknowledged offset: the ones whose order is checked.
  const survivors: SendEntry[] = [];
  for (const entry of entries) {
    const places = (foundAt.get(entry.value) ?? []).filter((p) => p.partition === entry.partition);
    if (entry.status === 'pending') note(report.unsettled, entry.value);
    if (entry.status === 'failed') {
      report.failed++;
      if (places.length > 0) report.failedButWritten++;
    }
    if (entry.status !== 'acked') continue;
    report.acked++;
    const offset = entry.offset!;
    if (places.length === 0) {
      note(report.lost, { value: entry.value, partition: entry.partition, offset });
    } else if (logs.get(entry.partition)?.get(offset) !== entry.value) {
      note(report.wrongOffset, { value: entry.value, partition: entry.partition, ackedOffset: offset, heldThere: logs.get(entry.partition)?.get(offset) ?? null, foundAt: places.map((p) => p.offset) });
    } else {
      survivors.push(entry);
    }
  }

  checkRealTimeOrder(survivors, report);
  checkProducerOrder(survivors, report);

  const violation = (count: number, text: string): void => {
    if (count > 0) report.violations.push(`${count} ${text}`);
  };
  if (!lossAllowed) {
    violation(report.lost.count, 'acknowledged value(s) lost');
    violation(report.wrongOffset.count, 'acknowledged value(s) not at their acknowledged offset');
  }
  violation(report.wrongPartition.count, 'value(s) in a partition they were not sent to');
  violation(report.offsetsNotIncreasing.count, 'drained record(s) at an offset not above the one before (two values at one offset, or out of order)');
  violation(report.unknown.count, 'drained value(s) nobody sent');
  violation(report.realTimeOrder.count, 'pair(s) out of real-time order (acknowledged before the other was sent, yet at a higher offset)');
  violation(report.producerOrder.count, 'pair(s) of one producer out of send order in a partition');
  violation(report.unsettled.count, 'send(s) never settled');
  report.ok = report.violations.length === 0;
  return report;
}

/** Per partition: x acknowledged before y was sent implies offset(x) < offset(y). O(n log n). */
function checkRealTimeOrder(survivors: readonly SendEntry[], report: LedgerReport): void {
  for (const group of groupBy(survivors, (e) => e.partition).values()) {
    const byAck = [...group].sort((a, b) => a.ackedAt! - b.ackedAt!);
    const bySend = [...group].sort((a, b) => a.sentAt - b.sentAt);
    let highest: SendEntry | undefined;
    let next = 0;
    for (const later of bySend) {
      // Every send acknowledged before `later` was sent must be below it: compare with the highest of them.
      while (next < byAck.length && byAck[next]!.ackedAt! < later.sentAt) {
        const acked = byAck[next++]!;
        if (highest === undefined || acked.offset! > highest.offset!) highest = acked;
      }
      if (highest !== undefined && highest.offset! >= later.offset!) {
        note(report.realTimeOrder, { partition: later.partition, first: highest.value, firstOffset: highest.offset!, then: later.value, thenOffset: later.offset! });
      }
    }
  }
}

function checkProducerOrder(survivors: readonly SendEntry[], report: LedgerReport): void {
  for (const group of groupBy(survivors, (e) => `${e.producer}\u0000${e.partition}`).values()) {
    const bySeq = [...group].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < bySeq.length; i++) {
      const [first, then] = [bySeq[i - 1]!, bySeq[i]!];
      if (first.offset! >= then.offset!) {
        note(report.producerOrder, { producer: then.producer, partition: then.partition, first: first.value, firstOffset: first.offset!, then: then.value, thenOffset: then.offset! });
      }
    }
  }
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

/** One paragraph for people: what was checked, what was found. */
export function summarizeLedger(report: LedgerReport): string {
  const lines = [
    `${report.ok ? 'OK' : 'FAILED'}: checked ${report.recordsChecked} drained records in ${report.partitions} partition(s) against ${report.sent} sends ` +
      `(${report.acked} acknowledged, ${report.failed} failed of which ${report.failedButWritten} written anyway).`,
    `lost ${report.lost.count}, at a wrong offset ${report.wrongOffset.count}${report.lossAllowed ? ' (loss allowed: reported, not asserted)' : ''}; ` +
      `duplicates ${report.duplicates.count} value(s), ${report.duplicates.extraCopies} extra copies.`,
  ];
  for (const v of report.violations) lines.push(`violation: ${v}`);
  const show = (name: string, f: Finding<unknown>): void => {
    if (f.count > 0) lines.push(`${name}: ${f.examples.map((e) => JSON.stringify(e)).join(', ')}${f.count > f.examples.length ? ', ...' : ''}`);
  };
  show('lost', report.lost);
  show('wrongOffset', report.wrongOffset);
  show('wrongPartition', report.wrongPartition);
  show('offsetsNotIncreasing', report.offsetsNotIncreasing);
  show('unknown', report.unknown);
  show('realTimeOrder', report.realTimeOrder);
  show('producerOrder', report.producerOrder);
  show('unsettled', report.unsettled);
  show('duplicates', report.duplicates);
  return lines.join('\n');
}
