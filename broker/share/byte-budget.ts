/**
 * ShareFetch's maxBytes, a soft bound on the answer's record bytes (as
 * Kafka's fetch: at least one batch is sent even if it alone is larger,
 * then no batch that would go past the bound). Applied before anything is
 * acquired, to the records the runtime read after each window's end: the
 * candidates are cut after the last whole batch that fits, so every record
 * acquired is in the answer and none is locked to a member that never saw
 * it. Records redelivered from inside a window are not cut (their batches
 * are read only once they are acquired); maxRecords bounds them.
 */
import { batchesIn } from '../../protocol/batch/reader.js';
import type { Candidates } from './window.js';

export interface ReadPartition {
  candidates: Candidates | null;
  /** The whole batches the candidates came from, in offset order. */
  batches: Uint8Array[];
}

/** Cuts `partitions` (in the order the answer takes them) in place to `maxBytes` of batches, at least one batch in all. */
export function applyByteBudget(partitions: readonly ReadPartition[], maxBytes: number): void {
  let left = maxBytes;
  let kept = 0;
  for (const p of partitions) {
    if (p.candidates === null) continue;
    let n = 0;
    while (n < p.batches.length && (kept === 0 || p.batches[n]!.length <= left)) {
      left -= p.batches[n]!.length;
      kept++;
      n++;
    }
    if (n === p.batches.length) continue;
    const { candidates } = p;
    if (n === 0) {
      p.candidates = null;
      p.batches = [];
      continue;
    }
    const last = p.batches[n - 1]!;
    const header = batchesIn(last).next().value!.header;
    const toOffset = Math.min(candidates.toOffset, header.baseOffset + header.lastOffsetDelta + 1);
    p.candidates = { fromOffset: candidates.fromOffset, toOffset, records: candidates.records.filter((r) => r.offset < toOffset) };
    p.batches = p.batches.slice(0, n);
  }
}
