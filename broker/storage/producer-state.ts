/**
 * A partition's idempotent-producer state (KIP-98): per producer id, its
 * epoch and the last `PRODUCER_BATCHES_KEPT` batches it appended here (their
 * sequence range and offsets). The leader checks every batch that carries a
 * producer id against it before appending:
 *
 * - a batch whose sequence range matches one of the kept batches is a retry
 *   of one already appended (its response was lost): it is not appended
 *   again, and the producer gets the original offsets;
 * - an epoch older than the one seen: INVALID_PRODUCER_EPOCH (a newer
 *   instance of the producer took over);
 * - a newer epoch must start at sequence 0 (the producer reset its sequences
 *   when it bumped the epoch, KIP-360);
 * - otherwise the batch must start right after the last one (sequences wrap
 *   to 0 after 2^31 - 1): a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, since a
 *   batch before it never arrived; a batch behind the last one but older than
 *   the kept five is DUPLICATE_SEQUENCE_NUMBER (a duplicate whose offsets
 *   are no longer known).
 *
 * A producer the partition has no state for is taken at any sequence, as
 * Kafka does since KIP-360: its state may have gone with retention, and
 * refusing it would wedge the producer. That is why the state must survive
 * leader changes and restarts (partition.ts rebuilds it from the batch
 * headers of the log, producer-state-loader.ts): a new leader that forgot a
 * producer would append its retried batch a second time.
 *
 * Pure and synchronous: the leader's check-then-append runs in one turn of
 * the event loop, so two requests cannot interleave between them.
 */

/** How many of a producer's latest batches a partition remembers (Kafka's 5: the producer's max in flight). */
export const PRODUCER_BATCHES_KEPT = 5;

const MAX_SEQUENCE = 0x7fffffff;

/** One appended batch of a producer, as the partition remembers it. */
export interface ProducerBatchRecord {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
  /** What the produce response reports as the append time (-1: CreateTime topic). */
  logAppendTimeMs: number;
}

export interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_KEPT. */
  batches: ProducerBatchRecord[];
  /**
   * The newest batch timestamp (its maxTimestamp) seen from this producer:
   * what expiry goes by, as Kafka's does, so every replica and every rebuild
   * from the log expires the same producers. -1: not known yet (an entry
   * from a snapshot written before timestamps were kept).
   */
  lastTimestampMs: number;
}

/** The idempotence fields of a batch header. */
export interface ProducerBatchHeader {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
}

export type SequenceVerdict =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: ProducerBatchRecord }
  | { kind: 'refuse'; error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'INVALID_PRODUCER_EPOCH' | 'DUPLICATE_SEQUENCE_NUMBER'; message: string };

/** The last sequence of a batch: the base plus its records, wrapping after 2^31 - 1 as Kafka's do. */
export function lastSequenceOf(header: Pick<ProducerBatchHeader, 'baseSequence' | 'lastOffsetDelta'>): number {
  const last = header.baseSequence + header.lastOffsetDelta;
  return last > MAX_SEQUENCE ? last - MAX_SEQUENCE - 1 : last;
}

/** The sequence after `seq` (0 after 2^31 - 1). */
export function nextSequence(seq: number): number {
  return seq === MAX_SEQUENCE ? 0 : seq + 1;
}

export class ProducerStateTable {
  readonly #producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.#producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.#producers.get(producerId);
  }

  entries(): IterableIterator<[number, ProducerEntry]> {
    return this.#producers.entries();
  }

  /** What the leader must do with a batch carrying producer id `h.producerId` (>= 0). */
  check(h: ProducerBatchHeader): SequenceVerdict {
    const entry = this.#producers.get(h.producerId);
    if (entry === undefined) return { kind: 'append' };
    const firstSeq = h.baseSequence;
    const lastSeq = lastSequenceOf(h);
    const who = `producer ${h.producerId}`;
    if (h.producerEpoch < entry.epoch) {
      return { kind: 'refuse', error: 'INVALID_PRODUCER_EPOCH', message: `${who} sent epoch ${h.producerEpoch}, but this partition has seen its epoch ${entry.epoch}: a newer instance took over, this one is fenced` };
    }
    if (h.producerEpoch > entry.epoch) {
      if (firstSeq === 0) return { kind: 'append' };
      return { kind: 'refuse', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER', message: `${who} started its new epoch ${h.producerEpoch} at sequence ${firstSeq}; a new epoch starts at 0` };
    }
    const same = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
    if (same !== undefined) return { kind: 'duplicate', batch: same };
    const last = entry.batches[entry.batches.length - 1];
    // An entry always has a batch (see record); a missing one would only come from a bug, treated as no state.
    if (last === undefined || firstSeq === nextSequence(last.lastSeq)) return { kind: 'append' };
    const oldest = entry.batches[0]!;
    // Wholly before the kept batches: a resend of something appended long ago. Anything else out of line is a gap or a malformed retry.
    if (isBehind(firstSeq, oldest.firstSeq)) {
      return { kind: 'refuse', error: 'DUPLICATE_SEQUENCE_NUMBER', message: `${who} resent sequence ${firstSeq} of epoch ${h.producerEpoch}, older than the last ${PRODUCER_BATCHES_KEPT} batches this partition remembers (from ${oldest.firstSeq})` };
    }
    return { kind: 'refuse', error: 'OUT_OF_ORDER_SEQUENCE_NUMBER', message: `${who} sent sequence ${firstSeq} of epoch ${h.producerEpoch}, but the next one here is ${nextSequence(last.lastSeq)}: the batches between were never appended` };
  }

  /**
   * Notes a batch appended at `baseOffset..lastOffset` (by this leader, a
   * follower copying its leader, or a rebuild from the log). A newer epoch
   * replaces what was known of the producer; an older one (only a log
   * written before a fence could hold it) is ignored.
   */
  record(h: ProducerBatchHeader, baseOffset: number, lastOffset: number, logAppendTimeMs = -1): void {
    if (h.producerId < 0) return;
    const batch: ProducerBatchRecord = { firstSeq: h.baseSequence, lastSeq: lastSequenceOf(h), baseOffset, lastOffset, logAppendTimeMs };
    const entry = this.#producers.get(h.producerId);
    if (entry === undefined || h.producerEpoch > entry.epoch) {
      this.#producers.set(h.producerId, { epoch: h.producerEpoch, batches: [batch], lastTimestampMs: h.maxTimestamp });
      return;
    }
    if (h.producerEpoch < entry.epoch) return;
    entry.lastTimestampMs = Math.max(entry.lastTimestampMs, h.maxTimestamp);
    entry.batches.push(batch);
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) entry.batches.shift();
  }

  /** Loads a producer's entry as a snapshot kept it. */
  restore(producerId: number, entry: ProducerEntry): void {
    this.#producers.set(producerId, { epoch: entry.epoch, batches: entry.batches.slice(-PRODUCER_BATCHES_KEPT), lastTimestampMs: entry.lastTimestampMs ?? -1 });
  }

  /**
   * Forgets producers whose newest batch is `expirationMs` or more older
   * than `nowMs` (Kafka's producer.id.expiration.ms), so the table does not
   * grow with every producer that ever wrote here. A forgotten producer that
   * comes back is taken at any sequence, as after retention. An entry whose
   * time is not known starts its clock now. Returns how many were forgotten.
   */
  expire(nowMs: number, expirationMs: number): number {
    let expired = 0;
    for (const [producerId, entry] of this.#producers) {
      if (entry.lastTimestampMs < 0) entry.lastTimestampMs = nowMs;
      else if (nowMs - entry.lastTimestampMs >= expirationMs) {
        this.#producers.delete(producerId);
        expired += 1;
      }
    }
    return expired;
  }

  /**
   * Forgets the batches at `offset` and after (the log was truncated there).
   * False when a producer lost every batch kept for it: what it had before
   * them (an older epoch, earlier sequences) is only in the log, so the
   * caller rebuilds from it.
   */
  truncate(offset: number): boolean {
    let exact = true;
    for (const [producerId, entry] of this.#producers) {
      const kept = entry.batches.filter((b) => b.lastOffset < offset);
      if (kept.length === entry.batches.length) continue;
      if (kept.length === 0) {
        this.#producers.delete(producerId);
        exact = false;
      } else {
        entry.batches = kept;
      }
    }
    return exact;
  }

  clear(): void {
    this.#producers.clear();
  }
}

/** Whether `seq` is within half the sequence space before `ref` (so a resend of something older, not a jump ahead). */
function isBehind(seq: number, ref: number): boolean {
  const distance = (ref - seq + MAX_SEQUENCE + 1) % (MAX_SEQUENCE + 1);
  return distance > 0 && distance < (MAX_SEQUENCE + 1) / 2;
}
