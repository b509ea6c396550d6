/**
 * Structured request logs on demand: with `request.log.sample.rate` above 0
 * that fraction of requests (drawn with the injected Rng) is logged, one
 * line each through the broker's logger: API and version, principal,
 * client id, topics, latency, error code and name, bytes in and out. At 1
 * every request is logged: for debugging a client, not for production
 * traffic (a line costs a few microseconds and the log's disk).
 */
import { errorNameOf } from '../../protocol/errors.js';
import type { Logger } from '../log.js';
import type { Rng } from '../world/rng.js';
import type { RequestEvent, RequestObserver } from './request-observer.js';
import { requestTopics } from './request-topics.js';

export class RequestLog implements RequestObserver {
  readonly #logger: Logger;

  constructor(logger: Logger, private readonly sampleRate: number, private readonly rng: Rng) {
    this.#logger = logger.child({ component: 'requests' });
  }

  observe(event: RequestEvent): void {
    if (this.sampleRate < 1 && this.rng.next() >= this.sampleRate) return;
    const api = event.api ?? `unknown API key ${event.apiKey}`;
    const latencyMs = Math.round(event.latencySeconds * 1e6) / 1e3;
    const error = errorNameOf(event.errorCode);
    const topics = requestTopics(event.request);
    this.#logger.info(
      { event: 'request', api, apiVersion: event.apiVersion, principal: event.principal, clientId: event.clientId, topics, latencyMs, errorCode: event.errorCode, error, bytesIn: event.bytesIn, bytesOut: event.bytesOut },
      `${api} v${event.apiVersion} from ${event.principal} (client ${event.clientId ?? 'without an id'}) answered ${error} in ${latencyMs} ms`,
    );
  }
}
