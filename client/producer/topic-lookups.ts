/**
 * The producer's metadata lookups. Sends waiting for a topic's partitions,
 * and batches whose leader must be learnt again, ask for the topic here; one
 * lookup per topic runs at a time, and a retriable failure is tried again
 * after a backoff for as long as something still needs the topic. What
 * bounds the waiting is the deadline of each send (the producer's and the
 * sender's timers), not this loop, so a lookup's failure does not by itself
 * fail a send: it is remembered, and a send that times out says it.
 *
 * A lookup gives up for good, failing everything that waits for the topic,
 * on a non-retriable answer (the topic does not exist and the broker will
 * not create it) or after `retries` failures in a row.
 */
import type { RetryPolicy } from '../backoff.js';
import type { TimerHandle } from '../clock.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';

export interface TopicLookupHooks {
  /** Whether anything still waits for the topic; when nothing does, retrying stops. */
  needed(topic: string): boolean;
  /** The topic's metadata is in the cluster's cache now. */
  found(topic: string): void;
  /** The topic cannot be looked up: fail whatever waits for it with `err`. */
  failed(topic: string, err: RunnelError): void;
}

interface LookupState {
  running: boolean;
  retryTimer: TimerHandle | null;
  /** Failed lookups in a row. */
  failures: number;
  lastError: RunnelError | null;
}

export class TopicLookups {
  readonly #cluster: Cluster;
  readonly #retry: RetryPolicy;
  readonly #hooks: TopicLookupHooks;
  readonly #states = new Map<string, LookupState>();
  #closed = false;

  constructor(cluster: Cluster, retry: RetryPolicy, hooks: TopicLookupHooks) {
    this.#cluster = cluster;
    this.#retry = retry;
    this.#hooks = hooks;
  }

  /** Looks the topic up now, unless a lookup is running or waiting out its backoff. */
  request(topic: string): void {
    if (this.#closed) return;
    let state = this.#states.get(topic);
    if (state === undefined) this.#states.set(topic, (state = { running: false, retryTimer: null, failures: 0, lastError: null }));
    if (state.running || state.retryTimer !== null) return;
    this.#attempt(topic, state);
  }

  /** Why the topic's last lookup failed, or null. */
  lastError(topic: string): RunnelError | null {
    return this.#states.get(topic)?.lastError ?? null;
  }

  /** Stops every retry timer; later requests do nothing. */
  close(): void {
    this.#closed = true;
    for (const state of this.#states.values()) {
      state.retryTimer?.cancel();
      state.retryTimer = null;
    }
  }

  #attempt(topic: string, state: LookupState): void {
    state.running = true;
    // One attempt: the retrying is ours, so it can stop when nothing needs the topic.
    this.#cluster.topic(topic, 0).then(
      () => {
        state.running = false;
        this.#states.delete(topic);
        if (!this.#closed) this.#hooks.found(topic);
      },
      (err: unknown) => {
        state.running = false;
        if (this.#closed) return;
        const e = err instanceof RunnelError ? err : new RunnelError('UNKNOWN_SERVER_ERROR', `Looking up topic "${topic}" failed: ${String(err)}`, { cause: err });
        state.lastError = e;
        state.failures++;
        if (!e.retriable || state.failures > this.#retry.retries) {
          if (e.retriable) e.message += ` (gave up looking up topic "${topic}" after ${state.failures} attempts)`;
          state.failures = 0;
          this.#hooks.failed(topic, e);
          return;
        }
        if (!this.#hooks.needed(topic)) {
          state.failures = 0;
          return;
        }
        // Kept alive: a process awaiting a send whose topic lookup is between retries must not exit.
        state.retryTimer = this.#cluster.clock.schedule(this.#cluster.backoffMs(state.failures - 1), () => {
          state.retryTimer = null;
          if (!this.#closed && this.#hooks.needed(topic)) this.#attempt(topic, state);
        }, { keepAlive: true });
      },
    );
  }
}
