/**
 * The committed offsets of one `__consumer_offsets` partition's groups, in
 * two views:
 * - latest: every commit accepted, including those still being replicated
 *   (what new commits and deletions are decided against);
 * - stable: only commits the log has made durable on the in-sync replicas
 *   (what OffsetFetch answers), so a reader never sees an offset a
 *   coordinator failover could take back.
 * A live write enters `latest` at once and `stable` when the runtime says
 * its log write is replicated (`durable(seq)`); a write at load (replay)
 * enters both.
 */
import type { OffsetValue } from './records.js';

interface PendingEntry {
  readonly groupId: string;
  readonly key: string;
  readonly value: OffsetValue | null;
}

export class OffsetsStore {
  readonly #latest = new Map<string, Map<string, OffsetValue>>();
  readonly #stable = new Map<string, Map<string, OffsetValue>>();
  #pending: { seq: number; entries: PendingEntry[] }[] = [];
  /** group + key -> how many writes of it are still pending. */
  readonly #unstable = new Map<string, number>();

  /** A record read from the log: already durable. */
  replay(groupId: string, key: string, value: OffsetValue | null): void {
    put(this.#latest, groupId, key, value);
    put(this.#stable, groupId, key, value);
  }

  /** A live write, durable once `durable(seq)` is called with this `seq` or a later one. */
  write(seq: number, groupId: string, key: string, value: OffsetValue | null): void {
    put(this.#latest, groupId, key, value);
    let last = this.#pending[this.#pending.length - 1];
    if (last === undefined || last.seq !== seq) this.#pending.push((last = { seq, entries: [] }));
    last.entries.push({ groupId, key, value });
    const id = `${groupId}\u0000${key}`;
    this.#unstable.set(id, (this.#unstable.get(id) ?? 0) + 1);
  }

  /** Writes up to `seq` are replicated: they become what OffsetFetch answers. */
  durable(seq: number): void {
    while (this.#pending.length > 0 && this.#pending[0]!.seq <= seq) {
      for (const { groupId, key, value } of this.#pending.shift()!.entries) {
        put(this.#stable, groupId, key, value);
        const id = `${groupId}\u0000${key}`;
        const left = this.#unstable.get(id)! - 1;
        if (left === 0) this.#unstable.delete(id);
        else this.#unstable.set(id, left);
      }
    }
  }

  latest(groupId: string): ReadonlyMap<string, OffsetValue> {
    return this.#latest.get(groupId) ?? EMPTY;
  }

  stable(groupId: string): ReadonlyMap<string, OffsetValue> {
    return this.#stable.get(groupId) ?? EMPTY;
  }

  isUnstable(groupId: string, key: string): boolean {
    return this.#unstable.has(`${groupId}\u0000${key}`);
  }

  /** The groups with at least one offset (latest view). */
  groupIds(): IterableIterator<string> {
    return this.#latest.keys();
  }
}

const EMPTY: ReadonlyMap<string, OffsetValue> = new Map();

function put(map: Map<string, Map<string, OffsetValue>>, groupId: string, key: string, value: OffsetValue | null): void {
  let offsets = map.get(groupId);
  if (value === null) {
    offsets?.delete(key);
    if (offsets?.size === 0) map.delete(groupId);
    return;
  }
  if (offsets === undefined) map.set(groupId, (offsets = new Map()));
  offsets.set(key, value);
}
