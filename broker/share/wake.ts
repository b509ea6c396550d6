/**
 * How a ShareFetch that found nothing waits (its long poll), without
 * polling: it sleeps until the coordinator changed something (a record
 * released, a lock or session ended, a delay came due: runtime.ts
 * onChange), one of its partitions got new records (Partition.onAdvance,
 * or a long-polling Fetch to the leader on another broker),
 * its time is up (a Clock timer) or its connection closed; then it looks
 * again.
 */
import type { Partition } from '../partition.js';
import type { Clock } from '../world/clock.js';

export function nextWake(opts: { clock: Clock; ms: number; partitions: readonly Partition[]; also?: readonly Promise<void>[]; onChange: (listener: () => void) => () => void; signal?: AbortSignal }): Promise<void> {
  return new Promise((resolve) => {
    const cleanups: (() => void)[] = [];
    let done = false;
    const wake = (): void => {
      if (done) return;
      done = true;
      for (const cleanup of cleanups) cleanup();
      resolve();
    };
    const timer = opts.clock.schedule(Math.max(0, opts.ms), wake);
    cleanups.push(() => timer.cancel());
    cleanups.push(opts.onChange(wake));
    for (const partition of opts.partitions) cleanups.push(partition.onAdvance(wake));
    for (const promise of opts.also ?? []) void promise.then(wake);
    if (opts.signal !== undefined) {
      if (opts.signal.aborted) wake();
      const onAbort = (): void => wake();
      opts.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => opts.signal!.removeEventListener('abort', onAbort));
    }
  });
}
