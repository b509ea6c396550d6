/**
 * The connection's one hook for metrics and request logs: called once per
 * request that got as far as a header, when its answer is handed to the
 * socket (or when it was answered with nothing: Produce acks=0, or a
 * connection that closed first). Runs on the hot path, so observers do a
 * few counter updates and nothing that allocates per topic unless asked to
 * (the request log decides to sample before it looks at the bodies).
 */
import type { ApiName } from '../../protocol/api-keys.js';

export interface RequestEvent {
  readonly apiKey: number;
  /** Undefined for an API key this broker does not know. */
  readonly api: ApiName | undefined;
  readonly apiVersion: number;
  readonly clientId: string | null;
  /** Who sent it: the authenticated principal, `User:ANONYMOUS` without authentication. */
  readonly principal: string;
  /** The request's error (responseErrorCode): 0 when everything in it succeeded. */
  readonly errorCode: number;
  /** From the frame's arrival to its answer handed to the socket, on the monotonic clock. */
  readonly latencySeconds: number;
  /** Request and response frames on the wire, length prefixes included (0 out: no response). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The decoded request body, when it decoded (the request log reads its topics). */
  readonly request: unknown;
}

export interface RequestObserver {
  observe(event: RequestEvent): void;
}

/** One observer for several (metrics and the request log), or null when there are none. */
export function combineObservers(observers: readonly (RequestObserver | null)[]): RequestObserver | null {
  const live = observers.filter((o): o is RequestObserver => o !== null);
  if (live.length <= 1) return live[0] ?? null;
  return { observe: (event) => { for (const o of live) o.observe(event); } };
}
