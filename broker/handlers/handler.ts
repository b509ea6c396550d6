/**
 * What a request handler is: one API, the versions it answers, and a function
 * from a decoded request body to a response body. Handlers are collected in a
 * table keyed by API key (`index.ts`), as redpanda's `handler_for_key`, so
 * the connection never needs a switch over APIs.
 *
 * The context gives a handler what it needs from the connection:
 * - `ordered(step)`: runs `step` after every earlier ordered step of the same
 *   connection has finished (at once if none is pending). Handlers put their
 *   reads and writes of partitions in it, which keeps requests that touch the
 *   same partition in arrival order while the waiting parts (a long-poll, an
 *   fsync) overlap freely.
 * - `whenWritable()`: resolves once the client has read enough of its earlier
 *   responses (unflushed bytes within `max.unflushed.response.bytes`);
 *   handlers that build large responses wait for it before reading.
 * - `signal`: aborted when the connection closes or the broker shuts down;
 *   a long-poll stops waiting and answers.
 * - `closeConnection(reason)`: for the one case where the protocol's answer
 *   is hanging up (a failed acks=0 produce, which has no response to carry it).
 * - `afterResponseWritten(fn)`: `fn` runs once this request's response has
 *   been handed to the kernel in full (never if the connection goes first),
 *   so buffers the response points into may be reused from then on.
 */
import type { ApiName, VersionRange } from '../../protocol/api-keys.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import type { Logger } from '../log.js';

/** Returned by a handler when the request gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');

export interface RequestContext {
  readonly apiVersion: number;
  readonly clientId: string | null;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  ordered<T>(step: () => T | Promise<T>): Promise<T>;
  whenWritable(): Promise<void>;
  closeConnection(reason: string): void;
  afterResponseWritten(fn: () => void): void;
}

export interface ApiHandler<K extends ApiName = ApiName> {
  readonly api: K;
  readonly versions: VersionRange;
  handle(ctx: RequestContext, request: RequestBodies[K]): Promise<ResponseBodies[K] | typeof NO_RESPONSE>;
}
