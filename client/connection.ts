/**
 * One TCP connection to one broker: framing, correlation ids, pipelining and
 * version negotiation. Every request gets the next correlation id and goes
 * out at once, up to `maxInFlightRequests`; responses are matched by id, so a
 * long-poll fetch never holds up the requests behind it. On connect the first
 * request is ApiVersions, and each API is then spoken at min(our max, the
 * broker's max).
 *
 * Failure policy, as Kafka's clients do it: a request that times out closes
 * the connection (its state is unknown; the response may never come), and
 * every request in flight on a closed connection fails with the retriable
 * NETWORK_EXCEPTION. The next request reconnects, after an exponential
 * backoff with jitter once connecting has failed. Retrying is the caller's
 * decision (only it knows whether a request may be repeated).
 *
 * The socket is unref'd whenever nothing is in flight, so an app that forgets
 * `close()` can still exit; anything awaited keeps the process alive.
 *
 * The network, the clock and the backoff's randomness come from the injected
 * `ClientWorld` (real ones by default), never from `node:net` or global
 * timers, so a broker can open connections to other nodes on its own
 * (simulated) world.
 *
 * Quotas: a response with a throttle time (the broker's client quotas)
 * holds every later request to this broker until it has passed, as Kafka's
 * clients do: the broker has stopped reading this connection for that long
 * anyway, so a request sent sooner would only wait in its socket, its
 * timeout running. Requests already in flight are not recalled.
 *
 * Health: the owner hears of trouble once per outage (`onTrouble`) and of
 * its end (`onReachable`). Trouble is a failed connect (TCP or the version
 * handshake), a request that timed out, or a broker that has gone silent:
 * while requests are in flight and nothing has been heard for half of
 * `connectTimeoutMs`, the connection sends an ApiVersions probe, which any
 * live broker answers at once whatever else it is doing; no answer within
 * the other half means the broker is hung (or cut off), reported
 * `connectTimeoutMs` after it last said anything, long before a request
 * timeout would say so. The probe does not reset the connection: a slow
 * broker that answers later was only slow. An outage
 * counts from the first sign of it (the broker last heard from, a lost
 * connection, the first failed connect), not from the latest retry.
 */
import { ApiKey, type ApiName } from '../protocol/api-keys.js';
import { encodeRequest, decodeResponseHeader, decodeResponseBody, negotiateVersion, SUPPORTED_VERSIONS } from '../protocol/codec.js';
import { FrameReader } from '../protocol/frame-reader.js';
import { tryDecodeErrorResponse } from '../protocol/error-response.js';
import { errorNameOf } from '../protocol/errors.js';
import type { OutgoingRequestBodies, ResponseBodies } from '../protocol/messages.js';
import { backoffMs, type RetryPolicy } from './backoff.js';
import { sleepOn, type ClientClock, type TimerHandle } from './clock.js';
import { RunnelError, clientClosed, systemCodeOf } from './errors.js';
import type { OutgoingConnection } from './transport.js';
import { SaslAuthenticationError } from './security/sasl-transport.js';
import type { Logger } from './types.js';
import { systemClientWorld, type ClientWorld } from './world.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Requests written and not yet answered; more wait their turn (FIFO). */
  maxInFlightRequests: number;
  /** Largest response frame accepted; a bigger length closes the connection. */
  maxFrameBytes: number;
  reconnect: Pick<RetryPolicy, 'initialBackoffMs' | 'maxBackoffMs'>;
  logger: Logger;
  /** Called when an established connection is lost (not on close()). */
  onDisconnect?: (err: RunnelError) => void;
  /**
   * Called on each sign of trouble (a failed connect, a request timed out, a
   * probe unanswered), with a short reason (an errno code, or what got no
   * answer) and when the trouble began (ms since the epoch).
   */
  onTrouble?: (err: RunnelError, reason: string, sinceMs: number) => void;
  /** Called for each response that carries a throttle time (the broker's quotas): requests wait it out first. */
  onThrottled?: (throttleMs: number, api: ApiName) => void;
  /** Called when the broker answers again after trouble was reported (a completed connect, or any response). */
  onReachable?: () => void;
  /** The network, clock and randomness to run on (default: the real ones). */
  world?: ClientWorld;
}

interface Pending {
  api: ApiName;
  version: number;
  resolve: (body: never) => void;
  reject: (err: RunnelError) => void;
  timer: TimerHandle;
}

/** One live transport connection and its state; replaced on reconnect. */
interface Link {
  conn: OutgoingConnection;
  inFlight: Map<number, Pending>;
  /** Requests that expect no response and are not yet handed to the network: they fail if the link dies first. */
  unwritten: Set<(err: RunnelError) => void>;
  versions: Map<ApiName, number>;
  dead: boolean;
  /** When bytes last came from the broker (or the link was made). */
  lastHeardMs: number;
  /** The correlation id of the liveness probe awaiting its answer, or -1. */
  probeId: number;
  /** Checks, while requests are in flight, that the broker still says something. */
  watchdog: TimerHandle | null;
}

const SOFTWARE_NAME = 'runnel-js';
const SOFTWARE_VERSION = '0.1.0';

export class Connection {
  readonly host: string;
  readonly port: number;
  readonly #opts: ConnectionOptions;
  readonly #world: ClientWorld;
  readonly #clock: ClientClock;
  #link: Link | null = null;
  #connecting: Promise<Link> | null = null;
  #failures = 0;
  #closed = false;
  #closeReason: RunnelError | null = null;
  #nextCorrelationId = 0;
  #slotWaiters: (() => void)[] = [];
  readonly #abort = new AbortController();
  /** When the current trouble began (ms since the epoch), or null while the broker answers. */
  #troubleSinceMs: number | null = null;
  /** The owner has been told of the current trouble (so it hears when it ends). */
  #troubleReported = false;
  /** No request goes out before this (ms since the epoch): the broker's last throttle time. */
  #throttledUntilMs = 0;
  /** Responses that carried a throttle time, and those times added up (brokerStats()). */
  throttledResponses = 0;
  throttleTimeMs = 0;

  constructor(opts: ConnectionOptions) {
    this.#opts = opts;
    this.#world = opts.world ?? systemClientWorld;
    this.#clock = this.#world.clock;
    this.host = opts.host;
    this.port = opts.port;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get isConnected(): boolean {
    return this.#link !== null && !this.#link.dead;
  }

  /** Requests written and not yet answered. */
  get inFlightCount(): number {
    return this.#link?.inFlight.size ?? 0;
  }

  /**
   * Sends one request and resolves with the decoded response body. Rejects
   * with a RunnelError: NETWORK_EXCEPTION / CONNECTION_FAILED (retriable),
   * REQUEST_TIMED_OUT (retriable), UNSUPPORTED_VERSION, CLIENT_CLOSED.
   * `timeoutMs` adds to nothing: long polls pass their own (maxWait + margin).
   */
  request<A extends ApiName>(api: A, body: OutgoingRequestBodies[A], timeoutMs = this.#opts.requestTimeoutMs): Promise<ResponseBodies[A]> {
    return this.#send(api, body, timeoutMs, true) as Promise<ResponseBodies[A]>;
  }

  /**
   * Sends a request that gets no response (Produce with acks=0). Resolves once
   * the bytes are handed to the kernel, which is what paces a fire-and-forget
   * producer to the speed of the socket.
   */
  async sendOnly<A extends ApiName>(api: A, body: OutgoingRequestBodies[A]): Promise<void> {
    await this.#send(api, body, this.#opts.requestTimeoutMs, false);
  }

  /**
   * Writes as soon as the connection is up and has a free slot. The check and
   * the write run in one synchronous step, so concurrent callers can never
   * overshoot maxInFlightRequests.
   */
  async #send(api: ApiName, body: unknown, timeoutMs: number, expectResponse: boolean): Promise<unknown> {
    for (;;) {
      const link = this.#link;
      const throttledMs = this.#throttledUntilMs - this.#clock.nowMs();
      if (throttledMs > 0) {
        // Kept alive: the caller awaits this request.
        await sleepOn(this.#clock, throttledMs, this.#abort.signal, { keepAlive: true });
      } else if (link === null || link.dead) {
        await this.#ready();
      } else if (link.inFlight.size < this.#opts.maxInFlightRequests) {
        return this.#write(link, api, body, timeoutMs, expectResponse);
      } else {
        await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
      }
      if (this.#closed) throw this.#closedError();
    }
  }

  /** Connects now (otherwise the first request does); resolves after the version handshake. */
  async connect(): Promise<void> {
    await this.#ready();
  }

  /** The version this connection speaks for `api` (after connect). */
  versionOf(api: ApiName): number | undefined {
    return this.#link?.versions.get(api);
  }

  /**
   * Fails everything in flight (with `reason`, by default CLIENT_CLOSED) and
   * destroys the connection: whatever was unanswered is failed already, so
   * there is nothing left worth flushing.
   */
  async close(reason: RunnelError = clientClosed(`The connection to ${this.address}`)): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#abort.abort();
    const link = this.#link;
    if (link !== null) this.#kill(link, reason, false);
    for (const wake of this.#slotWaiters.splice(0)) wake();
  }

  #closedError(): RunnelError {
    return this.#closeReason ?? clientClosed(`The connection to ${this.address}`);
  }

  #releaseSlot(): void {
    const wake = this.#slotWaiters.shift();
    if (wake !== undefined) wake();
  }

  #ready(): Promise<Link> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const link = this.#link;
    if (link !== null && !link.dead) return Promise.resolve(link);
    this.#connecting ??= this.#connectWithBackoff().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connectWithBackoff(): Promise<Link> {
    if (this.#failures > 0) {
      // Kept alive: a process awaiting a request between reconnects must not exit.
      await sleepOn(this.#clock, backoffMs(this.#opts.reconnect, this.#failures - 1, () => this.#world.rng.next()), this.#abort.signal, { keepAlive: true });
      if (this.#closed) throw this.#closedError();
    }
    const attemptMs = this.#clock.nowMs();
    try {
      const link = await this.#open();
      if (this.#closed) {
        this.#kill(link, this.#closedError(), false);
        throw this.#closedError();
      }
      this.#failures = 0;
      this.#link = link;
      this.#healthy();
      return link;
    } catch (err) {
      this.#failures++;
      if (err instanceof ConnectFailure) {
        this.#trouble(err.error, err.reason, attemptMs);
        throw err.error;
      }
      throw err;
    }
  }

  /**
   * Transport connect plus ApiVersions, within connectTimeoutMs (one timer
   * for both, which knows which of the two got no answer). Fails with a
   * ConnectFailure, which carries the reason for the owner.
   */
  async #open(): Promise<Link> {
    const conn = this.#world.transport.connect({ host: this.host, port: this.port });
    const link: Link = { conn, inFlight: new Map(), unwritten: new Set(), versions: new Map(), dead: false, lastHeardMs: this.#clock.nowMs(), probeId: -1, watchdog: null };
    const reader = new FrameReader({
      maxFrameBytes: this.#opts.maxFrameBytes,
      onFrame: (frame: Uint8Array) => this.#onFrame(link, frame),
    });
    let tcpConnected = false;
    let onConnected: () => void = () => {};
    let onConnectFailure: (err: ConnectFailure) => void = () => {};
    conn.attach({
      connect: () => onConnected(),
      data: (chunk) => {
        link.lastHeardMs = this.#clock.nowMs();
        try {
          reader.push(chunk);
        } catch (err) {
          this.#kill(link, new RunnelError('NETWORK_EXCEPTION', `Bad response framing from ${this.address}: ${(err as Error).message}; reconnecting.`, { cause: err }), true);
        }
      },
      // Requests are small and the in-flight cap bounds them: nothing waits for the buffer to empty.
      drain: () => {},
      close: (error) => {
        const err = this.#networkError(error ?? new Error('closed'));
        const reason = systemCodeOf(err) ?? (tcpConnected ? 'the connection closed during the version handshake' : 'the connection closed while connecting');
        onConnectFailure(new ConnectFailure(
          // A refused login is said as it is (not retriable): connecting again with the same password cannot help.
          err.errorName === 'CONNECTION_FAILED' || !err.retriable ? err : new RunnelError('CONNECTION_FAILED', `Could not connect to ${this.address}: ${err.message}`, { cause: err, reason }),
          reason,
        ));
        this.#kill(link, err, true);
      },
    });
    const timeoutMs = this.#opts.connectTimeoutMs;
    const timer = this.#clock.schedule(timeoutMs, () => {
      const reason = tcpConnected ? `connected, but no answer to the version handshake within ${timeoutMs} ms` : `no answer to connect within ${timeoutMs} ms`;
      const failure = new ConnectFailure(
        tcpConnected
          ? new RunnelError('CONNECTION_FAILED', `Connected to ${this.address}, but it did not answer the version handshake within ${timeoutMs} ms; is the broker hung or overloaded?`, { reason })
          : new RunnelError('CONNECTION_FAILED', `Connecting to ${this.address} took longer than ${timeoutMs} ms; check that the broker is up and reachable.`, { reason }),
        reason,
      );
      onConnectFailure(failure);
      this.#kill(link, failure.error, false);
    }, { keepAlive: true });
    try {
      const failed = new Promise<never>((_, reject) => (onConnectFailure = reject));
      await Promise.race([new Promise<void>((resolve) => (onConnected = resolve)), failed]);
      tcpConnected = true;
      // The handshake is spoken at our lowest ApiVersions version, which every broker knows. Its own timer is
      // longer than the one above, which is the one to say that it got no answer.
      link.versions.set('ApiVersions', SUPPORTED_VERSIONS.ApiVersions.min);
      const answer = this.#write(link, 'ApiVersions', { clientSoftwareName: SOFTWARE_NAME, clientSoftwareVersion: SOFTWARE_VERSION }, 2 * timeoutMs, true);
      answer.catch(() => {});
      const res = await Promise.race([answer, failed]);
      negotiate(link.versions, res as ResponseBodies['ApiVersions']);
      this.#opts.logger.debug({ broker: this.address, versions: Object.fromEntries(link.versions) }, 'connected');
      return link;
    } catch (err) {
      const failure = err instanceof ConnectFailure
        ? err
        : new ConnectFailure(err instanceof RunnelError ? err : this.#networkError(err as Error), err instanceof RunnelError ? err.errorName : 'the version handshake failed');
      this.#kill(link, failure.error, false);
      throw failure;
    } finally {
      timer.cancel();
    }
  }

  /** A sign of trouble: remembered from its first moment, reported to the owner on every sign (the owner counts outages). */
  #trouble(err: RunnelError, reason: string, sinceMs: number): void {
    if (this.#closed) return;
    this.#troubleSinceMs ??= sinceMs;
    this.#troubleReported = true;
    this.#opts.onTrouble?.(err, reason, this.#troubleSinceMs);
  }

  /** The broker answered: any trouble is over. */
  #healthy(): void {
    this.#troubleSinceMs = null;
    if (!this.#troubleReported) return;
    this.#troubleReported = false;
    if (!this.#closed) this.#opts.onReachable?.();
  }

  /**
   * Arms the watchdog of a link with requests in flight: after half of
   * connectTimeoutMs with nothing heard it sends a probe; after the other
   * half with still nothing, the broker is reported silent.
   */
  #watch(link: Link): void {
    if (link.watchdog !== null || link.dead) return;
    const halfMs = Math.max(1, Math.floor(this.#opts.connectTimeoutMs / 2));
    // The requests in flight keep the process alive; the watchdog never does by itself.
    link.watchdog = this.#clock.schedule(this.#watchDelayMs(link, halfMs), () => {
      link.watchdog = null;
      if (link.dead || (link.inFlight.size === 0 && link.probeId < 0)) return;
      const silentMs = this.#clock.nowMs() - link.lastHeardMs;
      if (link.probeId >= 0 && silentMs >= 2 * halfMs) {
        const err = new RunnelError('REQUEST_TIMED_OUT', `${this.address} has not answered anything for ${silentMs} ms, not even a probe; is the broker hung or cut off?`);
        this.#trouble(err, 'connected, but it answers nothing', link.lastHeardMs);
      } else if (link.probeId < 0 && silentMs >= halfMs) {
        this.#probe(link);
      }
      this.#watch(link);
    });
  }

  /** Until the silence reaches the next threshold: half (probe it), or all of connectTimeoutMs with a probe out (report it). */
  #watchDelayMs(link: Link, halfMs: number): number {
    const dueMs = link.lastHeardMs + (link.probeId >= 0 ? 2 * halfMs : halfMs);
    const nowMs = this.#clock.nowMs();
    // Past due (just reported): look again in half a timeout.
    return dueMs > nowMs ? dueMs - nowMs : halfMs;
  }

  /** An ApiVersions whose only job is to be answered; outside the in-flight slots, and its answer is not decoded. */
  #probe(link: Link): void {
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) & 0x7fffffff;
    const version = link.versions.get('ApiVersions') ?? SUPPORTED_VERSIONS.ApiVersions.min;
    const chunks = encodeRequest('ApiVersions', version, correlationId, this.#opts.clientId, { clientSoftwareName: SOFTWARE_NAME, clientSoftwareVersion: SOFTWARE_VERSION });
    link.probeId = correlationId;
    link.conn.write(chunks);
  }

  #networkError(err: Error & { code?: unknown }): RunnelError {
    if (err instanceof SaslAuthenticationError) return new RunnelError(err.code, `${this.address}: ${err.message}`, { cause: err });
    if (err.code === 'ECONNREFUSED') {
      return new RunnelError('CONNECTION_FAILED', `Connection refused by ${this.address}: is the broker running on that address?`, { cause: err });
    }
    const why = typeof err.code === 'string' ? err.code : err.message;
    return new RunnelError('NETWORK_EXCEPTION', `The connection to ${this.address} was lost (${why}); the client will reconnect.`, { cause: err });
  }

  #write(link: Link, api: ApiName, body: unknown, timeoutMs: number, expectResponse: boolean): Promise<unknown> {
    if (link.dead) return Promise.reject(new RunnelError('NETWORK_EXCEPTION', `The connection to ${this.address} was lost; retry.`));
    const version = link.versions.get(api);
    if (version === undefined) {
      return Promise.reject(new RunnelError('UNSUPPORTED_VERSION', `The broker at ${this.address} supports no version of ${api} that this client speaks; upgrade the client or the broker.`));
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) & 0x7fffffff;
    let chunks: Uint8Array[];
    try {
      chunks = encodeRequest(api, version, correlationId, this.#opts.clientId, body as never);
    } catch (err) {
      return Promise.reject(new RunnelError('INVALID_ARGUMENT', `Could not encode the ${api} request: ${(err as Error).message}`, { cause: err }));
    }
    return new Promise((resolve, reject) => {
      if (expectResponse) {
        const sentAtMs = this.#clock.nowMs();
        const onTimeout = (): void => {
          link.inFlight.delete(correlationId);
          const err = new RunnelError('REQUEST_TIMED_OUT', `No response to ${api} from ${this.address} within ${timeoutMs} ms, so the connection was reset; retry, or raise requestTimeoutMs.`);
          reject(err);
          // The broker was last seen alive when it last said something, or when this request left, whichever came later.
          if (link === this.#link) this.#trouble(err, `no answer to a ${api} request within ${timeoutMs} ms`, Math.max(sentAtMs, link.lastHeardMs));
          this.#kill(link, new RunnelError('NETWORK_EXCEPTION', `Reset the connection to ${this.address} after a ${api} request timed out; retry.`), true);
        };
        const timer = this.#clock.schedule(timeoutMs, onTimeout, { keepAlive: true });
        link.inFlight.set(correlationId, { api, version, resolve: resolve as (body: never) => void, reject, timer });
        if (link.inFlight.size === 1) {
          link.conn.ref();
          if (link === this.#link) this.#watch(link);
        }
        link.conn.write(chunks);
        return;
      }
      // No response to wait for: done once the network has the bytes, failed if the link dies first.
      link.unwritten.add(reject);
      link.conn.write(chunks, () => {
        link.unwritten.delete(reject);
        resolve(undefined);
      });
    });
  }

  #onFrame(link: Link, frame: Uint8Array): void {
    let correlationId: number;
    let bodyOffset: number;
    try {
      ({ correlationId, bodyOffset } = decodeResponseHeader(frame));
    } catch (err) {
      this.#kill(link, new RunnelError('NETWORK_EXCEPTION', `Unreadable response header from ${this.address}: ${(err as Error).message}; reconnecting.`, { cause: err }), true);
      return;
    }
    // Any answer from the broker ends a silence that was reported.
    if (this.#troubleReported && link === this.#link) this.#healthy();
    if (correlationId === link.probeId) {
      link.probeId = -1;
      return;
    }
    const pending = link.inFlight.get(correlationId);
    if (pending === undefined) {
      this.#opts.logger.warn({ broker: this.address, correlationId }, 'response for no request in flight; ignored');
      return;
    }
    link.inFlight.delete(correlationId);
    pending.timer.cancel();
    if (link.inFlight.size === 0) link.conn.unref();
    this.#releaseSlot();
    let body: unknown;
    try {
      body = decodeResponseBody(pending.api, pending.version, frame, bodyOffset);
    } catch (err) {
      // A request the broker could not answer in the API's own body comes back as an error frame.
      const errorFrame = tryDecodeErrorResponse(frame, bodyOffset);
      pending.reject(errorFrame !== null
        ? RunnelError.fromCode(errorFrame.errorCode, `${pending.api} v${pending.version} to ${this.address}`, errorFrame.errorMessage)
        : new RunnelError('UNKNOWN_SERVER_ERROR', `Could not decode the ${pending.api} v${pending.version} response from ${this.address}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const throttleMs = (body as { throttleTimeMs?: unknown }).throttleTimeMs;
    if (typeof throttleMs === 'number' && throttleMs > 0) this.#throttled(throttleMs, pending.api);
    pending.resolve(body as never);
  }

  #throttled(throttleMs: number, api: ApiName): void {
    this.throttledResponses += 1;
    this.throttleTimeMs += throttleMs;
    this.#throttledUntilMs = Math.max(this.#throttledUntilMs, this.#clock.nowMs() + throttleMs);
    this.#opts.onThrottled?.(throttleMs, api);
  }

  /** Marks a link dead once: fails its requests, destroys its connection, wakes slot waiters. */
  #kill(link: Link, err: RunnelError, notify: boolean): void {
    if (link.dead) return;
    link.dead = true;
    const wasEstablished = this.#link === link;
    if (wasEstablished) this.#link = null;
    link.watchdog?.cancel();
    link.watchdog = null;
    const pending = [...link.inFlight.values()];
    link.inFlight.clear();
    const unwritten = [...link.unwritten];
    link.unwritten.clear();
    link.conn.destroy();
    for (const p of pending) {
      p.timer.cancel();
      p.reject(err);
    }
    for (const reject of unwritten) reject(err);
    for (const wake of this.#slotWaiters.splice(0)) wake();
    if (notify && wasEstablished && !this.#closed) {
      // Not an outage yet (the next connect decides), but if it is one, it began here: when requests were
      // waiting for answers. (A link lost while idle may only have been closed as idle by the broker.)
      if (pending.length > 0) this.#troubleSinceMs ??= this.#clock.nowMs();
      this.#opts.logger.warn({ broker: this.address, err: err.message }, 'connection lost');
      this.#opts.onDisconnect?.(err);
    }
  }
}

/** Why a connect failed: the error for callers, and a short reason for the owner ("ECONNREFUSED", what got no answer). */
class ConnectFailure extends Error {
  constructor(
    readonly error: RunnelError,
    readonly reason: string,
  ) {
    super(error.message);
  }
}

/** Our version of each API: min(our max, broker max), where the ranges overlap. */
function negotiate(versions: Map<ApiName, number>, res: ResponseBodies['ApiVersions']): void {
  if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, 'ApiVersions handshake');
  const theirs = new Map(res.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  for (const api of Object.keys(SUPPORTED_VERSIONS) as ApiName[]) {
    const range = theirs.get(ApiKey[api]);
    const version = range === undefined ? null : negotiateVersion(SUPPORTED_VERSIONS[api], range);
    if (version === null) versions.delete(api);
    else versions.set(api, version);
  }
}
