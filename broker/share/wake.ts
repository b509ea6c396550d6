/**
 * How a ShareFetch that found nothing waits (its long poll), without
 * polling: it sleeps until the coordinator changed something of its group
 * and partitions (a record released, a lock or session ended, a delay came
 * due: runtime.ts onGroupChange), one of its partitions got new records (Partition.onAdvance,
 * or a long-polling Fetch to the leader on another broker),
 * its time is up (a Clock timer) or its connection closed; then it looks
 * again.
 */
import type { Partition } from '../partition.js';
import type { Clock } from '../world/clock.js';

/** What ended a wait. */
export type Woken = 'change' | 'data' | 'time' | 'closed';

export function nextWake(opts: { clock: Clock; ms: number; partitions: readonly Partition[]; also?: readonly Promise<void>[]; onChange: (listener: () => void) => () => void; signal?: AbortSignal }): Promise<Woken> {
  return new Promise((resolve) => {
    const cleanups: (() => void)[] = [];
    let done = false;
    const wake = (by: Woken): void => {
      if (done) return;
      done = true;
      for (const cleanup of cleanups) cleanup();
      resolve(by);
    };
    const timer = opts.clock.schedule(Math.max(0, opts.ms), () => wake('time'));
    cleanups.push(() => timer.cancel());
    cleanups.push(opts.onChange(() => wake('change')));
    for (const partition of opts.partitions) cleanups.push(partition.onAdvance(() => wake('data')));
    for (const promise of opts.also ?? []) void promise.then(() => wake('data'));
    if (opts.signal !== undefined) {
      if (opts.signal.aborted) wake('closed');
      const onAbort = (): void => wake('closed');
      opts.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => opts.signal!.removeEventListener('abort', onAbort));
    }
  });
}

/**
 * Listens, while a ShareFetch looks, for the changes its wait would listen
 * for: a change that lands during the look (between reading the window and
 * registering for the wait: another member's release, new data, or the
 * look's own write taking delayed records in) must send it round again,
 * not into a wait that would never hear of it. New data counts only for a
 * partition whose window had room (the caller decides): a full window takes
 * nothing in however much arrives.
 */
export function watchChanges(opts: { partitions: readonly Partition[]; onChange: (listener: () => void) => () => void }): { readonly coordinatorChanged: boolean; readonly advanced: ReadonlySet<Partition>; stop(): void } {
  let coordinatorChanged = false;
  const advanced = new Set<Partition>();
  const cleanups = [
    opts.onChange(() => {
      coordinatorChanged = true;
    }),
    ...opts.partitions.map((partition) => partition.onAdvance(() => advanced.add(partition))),
  ];
  return {
    get coordinatorChanged() {
      return coordinatorChanged;
    },
    advanced,
    stop: () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}
