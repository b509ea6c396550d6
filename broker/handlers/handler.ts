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
 * - `session`: the connection's listener and principal (User:ANONYMOUS, or
 *   the authenticated user), for authorization and quotas.
 * - `afterResponseWritten(fn)`: `fn` runs once this request's response has
 *   been handed to the kernel in full (never if the connection goes first),
 *   so buffers the response points into may be reused from then on.
 *
 * The table holds `RegisteredHandler`s: `registered(handler)` checks a
 * handler's request and response types against its API once, where the
 * handler's `K` is known, and closes over them, so the table needs no cast
 * and the connection never handles a body of unknown type.
 */
import type { ApiName, VersionRange } from '../../protocol/api-keys.js';
import { decodeRequestBody, encodeResponse } from '../../protocol/codec.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import type { Logger } from '../log.js';
import { InvariantError } from '../world/assert.js';
import type { ConnectionSession } from '../security/session.js';

/** Returned by a handler when the request gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');

export interface RequestContext {
  readonly apiVersion: number;
  readonly clientId: string | null;
  /** The client's address (host, without the port) when the request came over a connection; group members are described with it. */
  readonly clientHost?: string;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Who sent it: the listener, its security protocol and the principal (broker/security/session.ts). */
  readonly session: ConnectionSession;
  ordered<T>(step: () => T | Promise<T>): Promise<T>;
  whenWritable(): Promise<void>;
  closeConnection(reason: string): void;
  afterResponseWritten(fn: () => void): void;
}

export interface ApiHandler<K extends ApiName = ApiName> {
  readonly api: K;
  readonly versions: VersionRange;
  /** A property, not a method: its request type is then checked strictly, so no handler passes for another API's. */
  readonly handle: (ctx: RequestContext, request: RequestBodies[K]) => Promise<ResponseBodies[K] | typeof NO_RESPONSE>;
}

/**
 * A handler with its API's types erased, for the table: `decode` reads a
 * request body of this API (throwing ProtocolDecodeError); the call it
 * returns runs the handler, and resolves to the response's encoder (or
 * NO_RESPONSE). Every step works on this one API's types, bound by `registered`.
 */
export interface RegisteredHandler {
  readonly api: ApiName;
  readonly versions: VersionRange;
  decode(version: number, frame: Uint8Array, bodyOffset: number): DecodedRequest;
}

/** A decoded request, ready to be answered; `body` is the decoded request (the request observer reads it). */
export type DecodedRequest = ((ctx: RequestContext) => Promise<ResponseEncoder | typeof NO_RESPONSE>) & { readonly body?: unknown };

/** The whole response frame for a correlation id, as chunks (throws if the body does not encode); `body`: the response it encodes. */
export type ResponseEncoder = ((correlationId: number) => Uint8Array[]) & { readonly body?: unknown };

/**
 * What a handler that throws a broken invariant sets off: the broker-wide
 * fatal path (broker/faults.ts). A partition's own broken invariants never
 * get here: the partition turns them into its log going offline.
 */
export interface InvariantSink {
  fatal(error: InvariantError, context: Record<string, unknown>): void;
}

export function registered<K extends ApiName>(handler: ApiHandler<K>, faults: InvariantSink): RegisteredHandler {
  const { api, versions } = handler;
  return {
    api,
    versions,
    decode(version, frame, bodyOffset) {
      const request = decodeRequestBody(api, version, frame, bodyOffset);
      const call = async (ctx: RequestContext): Promise<ResponseEncoder | typeof NO_RESPONSE> => {
        let response: ResponseBodies[K] | typeof NO_RESPONSE;
        try {
          response = await handler.handle(ctx, request);
        } catch (error) {
          if (error instanceof InvariantError) faults.fatal(error, { api });
          throw error;
        }
        if (response === NO_RESPONSE) return NO_RESPONSE;
        const body = response;
        return Object.assign((correlationId: number) => encodeResponse(api, version, correlationId, body), { body });
      };
      return Object.assign(call, { body: request });
    },
  };
}
