/**
 * Who is told that the coordinator changed something, and about what.
 *
 * A share-group ShareFetch that found nothing waits for a change that could
 * give it records: a record of its group released, a lock or session ended,
 * a delay came due. Waking every waiter of every group at every write makes
 * N waiting groups cost N looks per write (and each look reads the machine
 * and the partitions); so a waiter names its group and partitions, and a
 * change names what it touched: the (group, partition) keys of its share
 * records, the whole group for group-level records (a member left: its
 * fetch should learn it at once). A load wakes everyone (every group of the
 * shard is new). Listeners of "any change" (the dead-letter copier) hear
 * every one.
 */
import { tp } from './partition-set.js';
import type { CoordinatorRecord } from './records.js';

/** What changed: per group, the "topic:partition" keys touched, or 'group' for the whole group; 'all' for everything. */
export type Changed = 'all' | ReadonlyMap<string, ReadonlySet<string> | 'group'>;

interface Waiter {
  /** null: any change of the group. */
  readonly partitions: ReadonlySet<string> | null;
  readonly listener: () => void;
}

export class ChangeListeners {
  readonly #any = new Set<() => void>();
  readonly #byGroup = new Map<string, Set<Waiter>>();

  /** `listener` after every change. */
  onAny(listener: () => void): () => void {
    this.#any.add(listener);
    return () => this.#any.delete(listener);
  }

  /** `listener` after a change of `groupId` touching one of `partitions` ("topic:partition"; null: any), or of the whole group. */
  onGroup(groupId: string, partitions: ReadonlySet<string> | null, listener: () => void): () => void {
    let waiters = this.#byGroup.get(groupId);
    if (waiters === undefined) this.#byGroup.set(groupId, (waiters = new Set()));
    const waiter: Waiter = { partitions, listener };
    waiters.add(waiter);
    return () => {
      waiters.delete(waiter);
      if (waiters.size === 0 && this.#byGroup.get(groupId) === waiters) this.#byGroup.delete(groupId);
    };
  }

  notify(changed: Changed): void {
    const called: (() => void)[] = [...this.#any];
    if (changed === 'all') {
      for (const waiters of this.#byGroup.values()) for (const w of waiters) called.push(w.listener);
    } else {
      for (const [groupId, touched] of changed) {
        for (const w of this.#byGroup.get(groupId) ?? []) {
          if (touched === 'group' || w.partitions === null || [...touched].some((key) => w.partitions!.has(key))) called.push(w.listener);
        }
      }
    }
    for (const listener of called) listener();
  }

  clear(): void {
    this.#any.clear();
    this.#byGroup.clear();
  }
}

/** What a write's records touched. */
export function changedBy(records: readonly CoordinatorRecord[]): Map<string, Set<string> | 'group'> {
  const out = new Map<string, Set<string> | 'group'>();
  for (const r of records) {
    const partitionLevel = r.kind === 'sharePartition' || r.kind === 'shareChunk' || r.kind === 'shareDelayed';
    addChange(out, r.groupId, partitionLevel ? tp(r.topic, r.partition) : 'group');
  }
  return out;
}

/** Adds one touched key (or the whole group) to `changed`. */
export function addChange(changed: Map<string, Set<string> | 'group'>, groupId: string, key: string | 'group'): void {
  const now = changed.get(groupId);
  if (now === 'group') return;
  if (key === 'group') changed.set(groupId, 'group');
  else if (now === undefined) changed.set(groupId, new Set([key]));
  else now.add(key);
}
