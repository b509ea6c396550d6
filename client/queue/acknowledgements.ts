/**
 * Acknowledgements on their way to the coordinator, batched on the wire as
 * Kafka's share consumer does: each ack(), release(), reject() or extend()
 * adds one offset here; they leave together, coalesced into ranges of
 * consecutive offsets settled alike, either on the member's next ShareFetch
 * or in one ShareAcknowledge `lingerMs` after the first of them. Each caller
 * is told how its own offset went once the answer is in.
 *
 * One entry per offset: a renew waiting to go is replaced by a settlement of
 * the same record given before it left (the settlement ends the lock
 * anyway), and the renew's caller hears the settlement's outcome.
 */
import { AcknowledgeType, type ShareAcknowledgement, type ShareFailedAcknowledgement } from '../../protocol/messages.js';
import { errorNameOf } from '../../protocol/errors.js';
import type { ClientClock, TimerHandle } from '../clock.js';
import { RunnelError } from '../errors.js';

export interface AckWaiter {
  resolve(): void;
  reject(err: RunnelError): void;
}

export interface AckKind {
  type: number;
  delayMs: number;
  lockMs: number;
  reason: string | null;
}

interface Pending extends AckKind {
  offset: number;
  /** Whom to tell: nearly always one caller (no array then: this is per record acknowledged), more when a settlement took over a renew. */
  waiters: Waiters;
}

type Waiters = AckWaiter | AckWaiter[] | null;

interface PartitionAcks {
  topic: string;
  partition: number;
  byOffset: Map<number, Pending>;
}

/** How one partition's acknowledgements went: the partition's error, and the ranges refused. */
export interface AckResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  failed: readonly ShareFailedAcknowledgement[];
}

export type WireAcks = { topic: string; partitions: { partition: number; acknowledgements: ShareAcknowledgement[] }[] }[];

const TYPE_NAMES: Record<number, string> = { [AcknowledgeType.ACCEPT]: 'ack', [AcknowledgeType.RELEASE]: 'release', [AcknowledgeType.REJECT]: 'reject', [AcknowledgeType.RENEW]: 'extend' };

/** The acknowledgements of one request: what goes on the wire, and whom to tell how it went. */
export class AckBatch {
  readonly #partitions: { topic: string; partition: number; pending: Pending[] }[];

  constructor(partitions: { topic: string; partition: number; pending: Pending[] }[]) {
    this.#partitions = partitions;
  }


  /** Per partition, the offsets in ascending ranges of consecutive offsets settled alike. */
  wire(): WireAcks {
    const byTopic = new Map<string, { partition: number; acknowledgements: ShareAcknowledgement[] }[]>();
    for (const p of this.#partitions) {
      let list = byTopic.get(p.topic);
      if (list === undefined) byTopic.set(p.topic, (list = []));
      list.push({ partition: p.partition, acknowledgements: toRanges(p.pending) });
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  /** Tells every caller: refused where a result lists its offset (or its partition failed), done otherwise. */
  settle(results: readonly AckResult[]): void {
    const byKey = new Map(results.map((r) => [`${r.topic}\0${r.partition}`, r]));
    for (const p of this.#partitions) {
      const r = byKey.get(`${p.topic}\0${p.partition}`);
      if (r === undefined) {
        this.#failPartition(p, new RunnelError('UNKNOWN_SERVER_ERROR', `Acknowledging records of ${p.topic}-${p.partition}: the coordinator's answer did not mention the partition`));
        continue;
      }
      if (errorNameOf(r.errorCode) !== 'NONE') {
        this.#failPartition(p, RunnelError.fromCode(r.errorCode, `Acknowledging records of ${p.topic}-${p.partition}`, r.errorMessage, { topicPartition: { topic: p.topic, partition: p.partition } }));
        continue;
      }
      const failed = [...r.failed].sort((a, b) => a.firstOffset - b.firstOffset);
      let f = 0;
      for (const ack of p.pending) {
        while (f < failed.length && failed[f]!.lastOffset < ack.offset) f++;
        const range = failed[f];
        if (range !== undefined && range.firstOffset <= ack.offset) rejectAll(ack, refusal(p.topic, p.partition, ack, range.errorCode));
        else resolveAll(ack);
      }
    }
  }

  /** Every caller hears `err` (the request failed as a whole). */
  fail(err: RunnelError): void {
    for (const p of this.#partitions) this.#failPartition(p, err);
  }

  #failPartition(p: { pending: Pending[] }, err: RunnelError): void {
    for (const ack of p.pending) rejectAll(ack, err);
  }

  /** The entries, for `Acknowledgements.putBack`. */
  get partitions(): readonly { topic: string; partition: number; pending: readonly Pending[] }[] {
    return this.#partitions;
  }
}

export class Acknowledgements {
  readonly #pending = new Map<string, PartitionAcks>();
  readonly #clock: ClientClock;
  readonly #lingerMs: number;
  readonly #flush: () => void;
  #timer: TimerHandle | null = null;
  #count = 0;
  /** The entry the last acknowledgement went to (cleared with the batch). */
  #last: PartitionAcks | null = null;

  /** `flush` is called `lingerMs` after the first acknowledgement of a batch, unless a fetch took them first. */
  constructor(clock: ClientClock, lingerMs: number, flush: () => void) {
    this.#clock = clock;
    this.#lingerMs = lingerMs;
    this.#flush = flush;
  }

  /** Offsets waiting to be sent. */
  get size(): number {
    return this.#count;
  }

  add(topic: string, partition: number, offset: number, kind: AckKind, waiter: AckWaiter | null): void {
    // Built field by field (no spread): this runs once per record acknowledged.
    this.#put(topic, partition, { type: kind.type, delayMs: kind.delayMs, lockMs: kind.lockMs, reason: kind.reason, offset, waiters: waiter });
    if (this.#timer === null) {
      this.#timer = this.#clock.schedule(this.#lingerMs, () => {
        this.#timer = null;
        if (this.#count > 0) this.#flush();
      }, { keepAlive: true });
    }
  }

  /** Everything waiting, for one request (null when nothing is). */
  take(): AckBatch | null {
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#count === 0) return null;
    const partitions = [...this.#pending.values()].map((p) => ({ topic: p.topic, partition: p.partition, pending: [...p.byOffset.values()].sort((a, b) => a.offset - b.offset) }));
    this.#pending.clear();
    this.#last = null;
    this.#count = 0;
    return new AckBatch(partitions);
  }

  /** A batch whose request did not get through goes out again (a newer settlement of an offset wins over it). */
  putBack(batch: AckBatch): void {
    for (const p of batch.partitions) {
      for (const ack of p.pending) {
        const newer = this.#entry(p.topic, p.partition).byOffset.get(ack.offset);
        if (newer !== undefined && newer.type !== AcknowledgeType.RENEW) newer.waiters = joined(newer.waiters, ack.waiters);
        else this.#put(p.topic, p.partition, ack);
      }
    }
    if (this.#count > 0) this.#flush();
  }

  #entry(topic: string, partition: number): PartitionAcks {
    // Acknowledgements come in runs of one partition: the last one's entry is usually the one.
    const last = this.#last;
    if (last !== null && last.partition === partition && last.topic === topic) return last;
    const key = `${topic}\0${partition}`;
    let entry = this.#pending.get(key);
    if (entry === undefined) this.#pending.set(key, (entry = { topic, partition, byOffset: new Map() }));
    this.#last = entry;
    return entry;
  }

  #put(topic: string, partition: number, ack: Pending): void {
    const byOffset = this.#entry(topic, partition).byOffset;
    const existing = byOffset.get(ack.offset);
    if (existing === undefined) {
      byOffset.set(ack.offset, ack);
      this.#count++;
      return;
    }
    if (ack.type === AcknowledgeType.RENEW && existing.type !== AcknowledgeType.RENEW) {
      existing.waiters = joined(existing.waiters, ack.waiters);
      return;
    }
    ack.waiters = joined(existing.waiters, ack.waiters);
    byOffset.set(ack.offset, ack);
  }
}

/** Sorted pending acknowledgements as ranges: consecutive offsets with the same type, delay, lock and reason share one. */
export function toRanges(sorted: readonly (AckKind & { offset: number })[]): ShareAcknowledgement[] {
  const out: ShareAcknowledgement[] = [];
  let last: ShareAcknowledgement | undefined;
  for (const a of sorted) {
    if (last !== undefined && last.lastOffset + 1 === a.offset && last.type === a.type && last.delayMs === a.delayMs && last.lockMs === a.lockMs && last.reason === a.reason) {
      last.lastOffset = a.offset;
      continue;
    }
    last = { firstOffset: a.offset, lastOffset: a.offset, type: a.type, delayMs: a.delayMs, lockMs: a.lockMs, reason: a.reason };
    out.push(last);
  }
  return out;
}

/** `first`'s waiters, then `then`'s. */
function joined(first: Waiters, then: Waiters): Waiters {
  if (first === null) return then;
  if (then === null) return first;
  return [...(Array.isArray(first) ? first : [first]), ...(Array.isArray(then) ? then : [then])];
}

function resolveAll(ack: Pending): void {
  const w = ack.waiters;
  if (w === null) return;
  if (!Array.isArray(w)) w.resolve();
  else for (const one of w) one.resolve();
}

function rejectAll(ack: Pending, err: RunnelError): void {
  const w = ack.waiters;
  if (w === null) return;
  if (!Array.isArray(w)) w.reject(err);
  else for (const one of w) one.reject(err);
}

/** The error a refused acknowledgement's caller gets. */
function refusal(topic: string, partition: number, ack: Pending, errorCode: number): RunnelError {
  const what = `${TYPE_NAMES[ack.type] ?? `acknowledgement type ${ack.type}`} of ${topic}-${partition} offset ${ack.offset}`;
  const opts = { topicPartition: { topic, partition }, offsets: { first: ack.offset, last: ack.offset } };
  if (errorNameOf(errorCode) === 'INVALID_RECORD_STATE') {
    return new RunnelError('INVALID_RECORD_STATE', `${what} refused: lock expired, the record may have been redelivered (or it was settled already)`, opts);
  }
  return RunnelError.fromCode(errorCode, `${what} refused`, null, opts);
}
