/**
 * Time as the client's connections and the broker see it. One interface for
 * both: a broker hands its own (possibly simulated) clock to the client
 * `Connection`s it opens to other nodes, so a whole cluster can run in one
 * process on one `ManualClock` and replay exactly. Only `systemClock` reads
 * the wall clock or arms real timers.
 *
 * It lives in client/ because the arrows run broker -> client -> protocol:
 * the broker may import it, the client may not import the broker, and
 * protocol/ is the wire format, not a place for timers.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface ScheduleOptions {
  /**
   * Keep the process alive while the timer is pending. Off by default: a
   * pending timer never keeps the process alive by itself. A client's
   * reconnect backoff sets it, so a process awaiting a request between
   * retries does not exit.
   */
  keepAlive?: boolean;
}

export interface ClientClock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention, outage start). */
  nowMs(): number;
  /** Monotonic nanoseconds, for measuring durations; never goes backwards. */
  monotonicNs(): bigint;
  /** Runs `fn` once after `delayMs`. */
  schedule(delayMs: number, fn: () => void, opts?: ScheduleOptions): TimerHandle;
}

/** The real clock: `Date.now`, `process.hrtime` and Node timers. */
export const systemClock: ClientClock = {
  nowMs: () => Date.now(),
  monotonicNs: () => process.hrtime.bigint(),
  schedule(delayMs, fn, opts) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    if (opts?.keepAlive !== true) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Waits `ms` on `clock`; resolves early (never rejects) when `signal` aborts,
 * so a close() does not wait out a backoff.
 */
export function sleepOn(clock: ClientClock, ms: number, signal?: AbortSignal, opts?: ScheduleOptions): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.schedule(ms, done, opts);
    signal?.addEventListener('abort', done, { once: true });
  });
}
