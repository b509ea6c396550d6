/**
 * Failover time of the fault tests: from a fault (the leader SIGKILLed, a
 * broker stopped or cut off) to producers succeeding again, read from the
 * ledger's acknowledgement times. For one fault, each affected partition
 * recovers at its first acknowledgement after the fault; the fault's
 * failover time is the slowest of them (all affected partitions writable
 * again). A partition with no acknowledgement after the fault, up to the
 * next fault of any kind, did not recover: counted apart, never as a time.
 *
 * An answer already on its way when the fault lands (in a socket buffer, or
 * read but not yet handled) would count as an instant recovery: acks within
 * `inFlightGraceMs` (default 100) after a fault are taken as such and not
 * counted. Real failovers take seconds; the grace only hides that noise.
 */
import type { SendEntry } from './ledger.js';

export interface FaultEvent {
  /** e.g. 'leader-kill', 'stop', 'cut' */
  readonly kind: string;
  /** On the ledger's clock. */
  readonly at: number;
  /** Partitions it affects; default: every partition with a send in the ledger. */
  readonly partitions?: readonly number[];
  readonly label?: string;
}

export interface FailoverReport {
  kind: string;
  faults: number;
  /** Milliseconds per recovered fault, in fault order. */
  times: number[];
  medianMs: number | null;
  maxMs: number | null;
  unrecovered: { at: number; label?: string; partitions: number[] }[];
}

export class FailoverTimer {
  readonly #faults: FaultEvent[] = [];
  readonly #now: () => number;
  readonly #graceMs: number;

  /** `now` must be the ledger's clock. */
  constructor(now: () => number = () => performance.now(), opts: { inFlightGraceMs?: number } = {}) {
    this.#now = now;
    this.#graceMs = opts.inFlightGraceMs ?? 100;
  }

  /** Stamps a fault now (call right before sending the signal or cutting). */
  fault(kind: string, opts: { partitions?: readonly number[]; label?: string } = {}): FaultEvent {
    const event: FaultEvent = { kind, at: this.#now(), ...opts };
    this.#faults.push(event);
    return event;
  }

  get faults(): readonly FaultEvent[] {
    return this.#faults;
  }

  report(kind: string, entries: readonly SendEntry[]): FailoverReport {
    return failoverTimes(this.#faults, entries, kind, this.#graceMs);
  }
}

export function failoverTimes(faults: readonly FaultEvent[], entries: readonly SendEntry[], kind: string, inFlightGraceMs: number): FailoverReport {
  const ackTimes = new Map<number, number[]>();
  for (const e of entries) {
    if (e.status !== 'acked') continue;
    const list = ackTimes.get(e.partition) ?? [];
    list.push(e.ackedAt!);
    ackTimes.set(e.partition, list);
  }
  for (const list of ackTimes.values()) list.sort((a, b) => a - b);
  const allPartitions = [...new Set(entries.map((e) => e.partition))].sort((a, b) => a - b);
  const ordered = [...faults].sort((a, b) => a.at - b.at);

  const report: FailoverReport = { kind, faults: 0, times: [], medianMs: null, maxMs: null, unrecovered: [] };
  for (const [index, fault] of ordered.entries()) {
    if (fault.kind !== kind) continue;
    report.faults++;
    const until = ordered[index + 1]?.at ?? Infinity;
    const partitions = fault.partitions ?? allPartitions;
    let slowest = 0;
    const stuck: number[] = [];
    for (const partition of partitions) {
      const first = firstAfter(ackTimes.get(partition) ?? [], fault.at + inFlightGraceMs);
      if (first === undefined || first >= until) stuck.push(partition);
      else slowest = Math.max(slowest, first - fault.at);
    }
    if (stuck.length > 0) report.unrecovered.push({ at: fault.at, ...(fault.label === undefined ? {} : { label: fault.label }), partitions: stuck });
    else report.times.push(slowest);
  }
  if (report.times.length > 0) {
    const sorted = [...report.times].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    report.medianMs = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    report.maxMs = sorted[sorted.length - 1]!;
  }
  return report;
}

/** The first time in a sorted list strictly after `t` (binary search). */
function firstAfter(sorted: readonly number[], t: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo];
}

export function summarizeFailover(report: FailoverReport): string {
  const ms = (v: number | null): string => (v === null ? 'n/a' : `${Math.round(v)} ms`);
  return `${report.kind}: ${report.faults} fault(s), ${report.times.length} recovered, median ${ms(report.medianMs)}, max ${ms(report.maxMs)}` +
    (report.unrecovered.length > 0 ? `, ${report.unrecovered.length} NOT recovered (partitions ${report.unrecovered.map((u) => u.partitions.join('/')).join(', ')})` : '');
}
