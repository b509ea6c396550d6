/**
 * The events producers and consumers emit (`on('broker-unreachable', ...)`),
 * typed by name. Listeners run synchronously; one that throws is logged and
 * skipped, so an app's bug in a listener never breaks the client's own
 * bookkeeping, which is mid-way through a connect when it emits.
 */
import { invalidArgument } from './errors.js';
import type { BrokerStats, ClientEventName, ClientEventSource, ClientEvents, Logger } from './types.js';

const EVENT_NAMES: ReadonlySet<string> = new Set<ClientEventName>(['broker-unreachable', 'broker-reachable', 'breaker-open', 'breaker-half-open', 'breaker-closed', 'bulkhead-full', 'throttled', 'offset-reset', 'partitions-assigned', 'partitions-revoked', 'partitions-lost']);

type Listener<E extends ClientEventName> = (event: ClientEvents[E]) => void;

export class ClientEventEmitter {
  readonly #listeners = new Map<ClientEventName, Set<Listener<never>>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<E extends ClientEventName>(event: E, listener: Listener<E>): void {
    if (!EVENT_NAMES.has(event)) throw invalidArgument(`there is no event '${String(event)}'; the events are ${[...EVENT_NAMES].map((e) => `'${e}'`).join(', ')}`);
    if (typeof listener !== 'function') throw invalidArgument(`a listener for '${event}' must be a function`);
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
  }

  off<E extends ClientEventName>(event: E, listener: Listener<E>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<E extends ClientEventName>(event: E, payload: ClientEvents[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(payload);
      } catch (err) {
        this.#logger.error({ event, err: (err as Error)?.message ?? String(err) }, 'an event listener threw; ignored');
      }
    }
  }
}

/** The `on` / `off` / `brokerStats` of producers and consumers: their cluster's emitter (returning the object so calls chain) and counters. */
export class EmitsClientEvents implements ClientEventSource {
  readonly #emitter: ClientEventEmitter;
  readonly #stats: () => BrokerStats[];

  /** `stats`: the cluster's `brokerStats()`. */
  constructor(emitter: ClientEventEmitter, stats: () => BrokerStats[]) {
    this.#emitter = emitter;
    this.#stats = stats;
  }

  brokerStats(): BrokerStats[] {
    return this.#stats();
  }

  on<E extends ClientEventName>(event: E, listener: (event: ClientEvents[E]) => void): this {
    this.#emitter.on(event, listener);
    return this;
  }

  off<E extends ClientEventName>(event: E, listener: (event: ClientEvents[E]) => void): this {
    this.#emitter.off(event, listener);
    return this;
  }
}
