/**
 * One client connection: bytes in, frames out of the FrameReader, requests
 * dispatched to their handlers, responses written back as each completes.
 *
 * Requests are pipelined: every frame is dispatched as soon as it is read,
 * and its response is written when its handler finishes, carrying its
 * correlation id, so a long-polling fetch never holds back a produce behind
 * it. Handlers put their partition reads and writes in `ordered` steps, which
 * run one after another in arrival order; that keeps requests touching the
 * same partition in order while their waits overlap.
 *
 * Bad input, kept apart from bugs:
 * - a frame length that is 0, negative or above `max.request.bytes` (checked
 *   before any of the body is buffered), or a frame too short for a request
 *   header: the stream cannot be trusted any more, so this connection (and
 *   only it) is closed, with the reason logged;
 * - an unknown API key, an unsupported version, or a body that does not
 *   decode: the framing is intact, so the client gets an error response
 *   (protocol/error-response.ts) and the connection carries on.
 *
 * Flow control: reading stops while the connection has `queued.max.requests`
 * requests in flight, or requests totalling `max.request.bytes` bytes, or
 * more than `max.unflushed.response.bytes` of responses the client has not
 * read yet, and resumes when that clears. The check is per frame, not per
 * chunk: frames that arrive in the same chunk after the limit wait, unread,
 * in a backlog. Handlers that build large responses (Fetch) also wait for
 * `whenWritable()` before reading, so a client that pipelines fetches and
 * never reads them holds at most about one response beyond the limit.
 * Memory per connection is therefore bounded however fast a client sends or
 * however slowly it reads.
 *
 * Client quotas (broker/quota/client-quotas.ts): once a request is
 * answered, the quotas say how long its client must wait; the response
 * carries that throttle time (when its API has the field) and goes out at
 * once, and then this connection reads nothing more for that long (Kafka's
 * KIP-219 mute), so a client that ignores the throttle time is held to its
 * quota all the same. The wait runs on the injected clock.
 *
 * Every request that got as far as a header is reported once to the
 * `observer` (metrics, the sampled request log) when its answer goes out:
 * API, version, latency on the monotonic clock, error code, bytes in and out.
 *
 * Everything runs on the event loop; nothing here is shared across threads.
 */
import { apiNameOf } from '../../protocol/api-keys.js';
import { decodeRequestHeader, encodeResponse } from '../../protocol/codec.js';
import { ProtocolDecodeError } from '../../protocol/decode-error.js';
import { encodeErrorResponse } from '../../protocol/error-response.js';
import { Errors, type ErrorName } from '../../protocol/errors.js';
import { FrameError, FrameReader } from '../../protocol/frame-reader.js';
import type { RequestHeader } from '../../protocol/request-header.js';
import type { Logger } from '../log.js';
import type { RequestObserver } from '../metrics/request-observer.js';
import { responseErrorCode } from '../metrics/response-error.js';
import { apiVersionsTable } from '../handlers/api-versions.js';
import { requestWireError } from '../handlers/errors.js';
import { NO_RESPONSE, type DecodedRequest, type RegisteredHandler, type RequestContext } from '../handlers/handler.js';
import type { HandlerTable } from '../handlers/index.js';
import { monotonicMs, type Clock } from '../world/clock.js';
import type { TransportConnection } from '../world/transport.js';
import { ConnectionSession } from '../security/session.js';
import type { SecurityProtocol } from '../security/listeners.js';
import type { ClientQuotaEnforcer } from '../quota/client-quotas.js';
import type { TimerHandle } from '../world/clock.js';

export interface ConnectionLimits {
  maxRequestBytes: number;
  queuedMaxRequests: number;
  maxUnflushedResponseBytes: number;
}

type PauseReason = 'requests' | 'requestBytes' | 'unflushed' | 'throttled';

/** What the observer needs of a request besides its answer: when it arrived, its size, its body. */
interface Seen {
  readonly startNs: bigint;
  readonly bytesIn: number;
  readonly request: unknown;
}

/** Frames are counted on the wire: the 4-byte length prefix the reader strips is added back. */
const LENGTH_PREFIX_BYTES = 4;

const noop = (): void => undefined;

export class ClientConnection {
  readonly id: number;
  readonly #transport: TransportConnection;
  readonly #handlers: HandlerTable;
  readonly #limits: ConnectionLimits;
  readonly #clock: Clock;
  #logger: Logger;
  readonly #session: ConnectionSession;
  readonly #reader: FrameReader;
  readonly #abort = new AbortController();
  readonly #paused = new Set<PauseReason>();
  #inFlightRequests = 0;
  #inFlightBytes = 0;
  #orderedTail: Promise<void> | null = null;
  /** Frames read while paused, dispatched in order once the pause clears. */
  readonly #backlog: Uint8Array[] = [];
  #drainingBacklog = false;
  #writableWaiters: (() => void)[] = [];
  #closed = false;
  #lastActivityMs: number;
  readonly #closedListeners: (() => void)[] = [];
  readonly #idleListeners: (() => void)[] = [];
  readonly #observer: RequestObserver | null;
  readonly #quotas: ClientQuotaEnforcer | null;
  /** Ends the current throttle (the connection reads again), or null while not throttled. */
  #unmuteTimer: TimerHandle | null = null;
  #mutedUntilMs = 0;

  /** `listener`: the one it was accepted on (default: the one PLAINTEXT listener). */
  constructor(opts: { id: number; transport: TransportConnection; handlers: HandlerTable; limits: ConnectionLimits; clock: Clock; logger: Logger; observer?: RequestObserver | null; listener?: { name: string; securityProtocol: SecurityProtocol }; quotas?: ClientQuotaEnforcer | null }) {
    this.id = opts.id;
    this.#transport = opts.transport;
    this.#handlers = opts.handlers;
    this.#limits = opts.limits;
    this.#clock = opts.clock;
    this.#observer = opts.observer ?? null;
    this.#quotas = opts.quotas ?? null;
    const listener = opts.listener ?? { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' };
    this.#session = new ConnectionSession({
      listener: listener.name,
      securityProtocol: listener.securityProtocol,
      peerCertificateCn: opts.transport.peerCertificateCn,
      onAuthenticated: (principal) => {
        this.#logger = connectionLogger.child({ principal });
        this.#logger.info({ event: 'authenticated' }, `authenticated as ${principal}`);
      },
    });
    // Every line of this connection names its listener and principal (the principal changes once, when SASL authenticates).
    const connectionLogger = opts.logger.child({ connection: opts.id, remote: opts.transport.remoteAddress, listener: listener.name });
    this.#logger = connectionLogger.child({ principal: this.#session.principal });
    this.#lastActivityMs = monotonicMs(opts.clock);
    this.#reader = new FrameReader({ maxFrameBytes: opts.limits.maxRequestBytes, onFrame: (frame) => this.#onFrame(frame) });
    this.#transport.attach({
      data: (chunk) => this.#onData(chunk),
      drain: () => this.#updateFlow(),
      close: (error) => this.#onClosed(error),
    });
    this.#logger.debug('connection opened');
  }

  get inFlightRequests(): number {
    return this.#inFlightRequests;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Milliseconds since the client last sent a byte (0 while requests are in flight: busy is not idle). */
  idleMs(nowMs: number): number {
    return this.#inFlightRequests > 0 ? 0 : nowMs - this.#lastActivityMs;
  }

  onClosed(listener: () => void): void {
    this.#closedListeners.push(listener);
  }

  /** Called once no request is in flight (used by a graceful shutdown). */
  onIdle(listener: () => void): void {
    if (this.#inFlightRequests === 0) listener();
    else this.#idleListeners.push(listener);
  }

  /** Ends long-polls and other waits early: they answer with what they have. */
  abortWaits(): void {
    this.#abort.abort();
  }

  /** Closes the connection; `flush` lets responses already written reach the client first. */
  close(reason: string, level: 'debug' | 'info' | 'warn' = 'info', opts: { flush?: boolean } = {}): void {
    if (this.#closed) return;
    this.#logger[level]({ reason }, `closing connection: ${reason}`);
    this.#markClosed();
    if (opts.flush === true) this.#transport.end();
    else this.#transport.destroy();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#lastActivityMs = monotonicMs(this.#clock);
    try {
      this.#reader.push(chunk);
    } catch (error) {
      if (this.#closed) return;
      if (error instanceof FrameError) this.close(`malformed frame: ${error.message}`, 'warn');
      else {
        this.#logger.error({ err: error }, 'unexpected error while reading a frame');
        this.close('unexpected error while reading a frame (see the error above)', 'warn');
      }
    }
  }

  #onFrame(frame: Uint8Array): void {
    if (this.#closed) return;
    if (this.#paused.size > 0 || this.#backlog.length > 0) this.#backlog.push(frame);
    else this.#handleFrame(frame);
  }

  #drainBacklog(): void {
    if (this.#drainingBacklog) return;
    this.#drainingBacklog = true;
    try {
      while (this.#backlog.length > 0 && this.#paused.size === 0 && !this.#closed) this.#handleFrame(this.#backlog.shift()!);
    } catch (error) {
      this.#logger.error({ err: error }, 'unexpected error while handling a frame');
      this.close('unexpected error while handling a frame (see the error above)', 'warn');
    } finally {
      this.#drainingBacklog = false;
    }
  }

  #handleFrame(frame: Uint8Array): void {
    const startNs = this.#observer === null ? 0n : this.#clock.monotonicNs();
    let header: RequestHeader;
    let bodyOffset: number;
    try {
      ({ header, bodyOffset } = decodeRequestHeader(frame));
    } catch (error) {
      if (!(error instanceof ProtocolDecodeError)) throw error;
      this.close(`malformed request header: ${error.message}`, 'warn');
      return;
    }
    // The authentication gate: on a SASL listener nothing but the handshake is read before it succeeds.
    const refusal = this.#session.refusal(header.apiKey);
    if (refusal !== null) {
      this.close(refusal, 'warn');
      return;
    }
    const seen: Seen = { startNs, bytesIn: frame.byteLength + LENGTH_PREFIX_BYTES, request: undefined };
    const handler = this.#handlers.get(header.apiKey);
    if (handler === undefined) {
      const known = [...this.#handlers.keys()].sort((a, b) => a - b).join(', ');
      this.#sendError(header, 'UNKNOWN_API', `API key ${header.apiKey} is unknown to this broker (it answers ${known}); check ApiVersions`, seen);
      return;
    }
    const { min, max } = handler.versions;
    if (header.apiVersion < min || header.apiVersion > max) {
      const message = `${handler.api} v${header.apiVersion} is not supported; this broker answers v${min} to v${max}`;
      if (handler.api === 'ApiVersions') this.#send(header, encodeResponse('ApiVersions', 0, header.correlationId, { errorCode: Errors.UNSUPPORTED_VERSION.code, apiKeys: apiVersionsTable([...this.#handlers.values()]) }), undefined, seen, Errors.UNSUPPORTED_VERSION.code);
      else this.#sendError(header, 'UNSUPPORTED_VERSION', message, seen);
      return;
    }
    let call: DecodedRequest;
    try {
      call = handler.decode(header.apiVersion, frame, bodyOffset);
    } catch (error) {
      const wire = requestWireError(error, this.#logger, { api: handler.api, stage: 'decode' });
      this.#logger.debug({ api: handler.api, reason: wire.message }, 'request body does not decode');
      this.#sendError(header, wire.errorName, wire.message, seen);
      return;
    }
    this.#dispatch(handler, header, call, frame.byteLength, { ...seen, request: call.body });
  }

  #dispatch(handler: RegisteredHandler, header: RequestHeader, call: DecodedRequest, frameBytes: number, seen: Seen): void {
    this.#inFlightRequests += 1;
    this.#inFlightBytes += frameBytes;
    this.#updateFlow();
    let written: (() => void)[] | null = null;
    const onWritten = (): void => {
      for (const fn of written!) fn();
    };
    const ctx: RequestContext = {
      apiVersion: header.apiVersion,
      clientId: header.clientId,
      // host:port -> host (the port is the client's ephemeral one)
      clientHost: this.#transport.remoteAddress.replace(/:\d+$/, ''),
      signal: this.#abort.signal,
      logger: this.#logger,
      session: this.#session,
      ordered: (step) => this.#ordered(step),
      whenWritable: () => this.#whenWritable(),
      closeConnection: (reason) => this.close(reason, 'warn', { flush: true }),
      afterResponseWritten: (fn) => (written ??= []).push(fn),
    };
    let pending: ReturnType<DecodedRequest>;
    try {
      pending = call(ctx);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        (response) => {
          if (response === NO_RESPONSE) {
            this.#observe(header, seen, 0, 0);
            this.#throttle(this.#throttleMsFor(handler, header, seen, frameBytes, 0));
            return;
          }
          let chunks: Uint8Array[];
          let throttleMs = 0;
          try {
            chunks = response(header.correlationId);
            throttleMs = this.#throttleMsFor(handler, header, seen, frameBytes, byteLengthOf(chunks));
            // The throttle time goes in the response itself when its API has the field (re-encoded: cheap, records are referenced).
            const body = response.body as { throttleTimeMs?: unknown } | undefined;
            if (throttleMs > 0 && typeof body?.throttleTimeMs === 'number') {
              body.throttleTimeMs = throttleMs;
              chunks = response(header.correlationId);
            }
          } catch (error) {
            const wire = requestWireError(error, this.#logger, { api: handler.api, stage: 'encode' });
            this.#sendError(header, wire.errorName, wire.message, seen);
            return;
          }
          this.#send(header, chunks, written === null ? undefined : onWritten, seen, this.#observer === null ? 0 : responseErrorCode(response.body));
          this.#throttle(throttleMs);
        },
        (error: unknown) => {
          const wire = requestWireError(error, this.#logger, { api: handler.api, correlationId: header.correlationId });
          this.#sendError(header, wire.errorName, wire.message, seen);
        },
      )
      .finally(() => {
        this.#inFlightRequests -= 1;
        this.#inFlightBytes -= frameBytes;
        this.#updateFlow();
        if (this.#inFlightRequests === 0) for (const listener of this.#idleListeners.splice(0)) listener();
      });
  }

  /** What the client quotas ask of this request (0 without quotas). */
  #throttleMsFor(handler: RegisteredHandler, header: RequestHeader, seen: Seen, requestBytes: number, responseBytes: number): number {
    if (this.#quotas === null) return 0;
    return this.#quotas.throttleMs({ api: handler.api, principal: this.#session.principal, clientId: header.clientId, request: seen.request, requestBytes, responseBytes });
  }

  /** Reads nothing more from this connection for `ms` (a later, longer throttle extends it). */
  #throttle(ms: number): void {
    if (ms <= 0 || this.#closed) return;
    const untilMs = monotonicMs(this.#clock) + ms;
    if (untilMs <= this.#mutedUntilMs && this.#unmuteTimer !== null) return;
    this.#mutedUntilMs = untilMs;
    this.#unmuteTimer?.cancel();
    this.#unmuteTimer = this.#clock.schedule(ms, () => {
      this.#unmuteTimer = null;
      this.#updateFlow();
    });
    this.#updateFlow();
  }

  /** Runs `step` after every earlier ordered step of this connection (synchronously when none is pending). */
  #ordered<T>(step: () => T | Promise<T>): Promise<T> {
    let run: Promise<T>;
    if (this.#orderedTail === null) {
      let result: T | Promise<T>;
      try {
        result = step();
      } catch (error) {
        return Promise.reject(error);
      }
      if (!(result instanceof Promise)) return Promise.resolve(result);
      run = result;
    } else {
      run = this.#orderedTail.then(step);
    }
    const tail: Promise<void> = run.then(noop, noop).then(() => {
      if (this.#orderedTail === tail) this.#orderedTail = null;
    });
    this.#orderedTail = tail;
    return run;
  }

  #whenWritable(): Promise<void> {
    if (this.#closed || this.#transport.bufferedBytes <= this.#limits.maxUnflushedResponseBytes) return Promise.resolve();
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  #sendError(header: RequestHeader, errorName: ErrorName, message: string, seen: Seen): void {
    this.#send(header, encodeErrorResponse(header.correlationId, Errors[errorName].code, message), undefined, seen, Errors[errorName].code);
  }

  #send(header: RequestHeader, chunks: Uint8Array[], onWritten: (() => void) | undefined, seen: Seen, errorCode: number): void {
    if (this.#closed) {
      this.#observe(header, seen, 0, errorCode);
      return;
    }
    this.#logger.trace({ api: apiNameOf(header.apiKey), correlationId: header.correlationId }, 'response');
    this.#transport.write(chunks, onWritten);
    this.#updateFlow();
    if (this.#observer === null) return;
    this.#observe(header, seen, byteLengthOf(chunks), errorCode);
  }

  #observe(header: RequestHeader, seen: Seen, bytesOut: number, errorCode: number): void {
    if (this.#observer === null) return;
    this.#observer.observe({
      apiKey: header.apiKey,
      api: apiNameOf(header.apiKey),
      apiVersion: header.apiVersion,
      clientId: header.clientId,
      principal: this.#session.principal,
      errorCode,
      latencySeconds: Number(this.#clock.monotonicNs() - seen.startNs) / 1e9,
      bytesIn: seen.bytesIn,
      bytesOut,
      request: seen.request,
    });
  }

  #updateFlow(): void {
    if (this.#closed) return;
    const wasPaused = this.#paused.size > 0;
    const unflushed = this.#transport.bufferedBytes > this.#limits.maxUnflushedResponseBytes;
    this.#setPaused('requests', this.#inFlightRequests >= this.#limits.queuedMaxRequests);
    this.#setPaused('requestBytes', this.#inFlightBytes >= this.#limits.maxRequestBytes);
    this.#setPaused('unflushed', unflushed);
    this.#setPaused('throttled', this.#unmuteTimer !== null);
    if (!unflushed && this.#writableWaiters.length > 0) for (const resolve of this.#writableWaiters.splice(0)) resolve();
    const isPaused = this.#paused.size > 0;
    if (isPaused && !wasPaused) this.#transport.pause();
    else if (!isPaused && wasPaused) {
      this.#transport.resume();
      this.#drainBacklog();
    }
  }

  #setPaused(reason: PauseReason, on: boolean): void {
    if (on) this.#paused.add(reason);
    else this.#paused.delete(reason);
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backlog.length = 0;
    this.#unmuteTimer?.cancel();
    this.#unmuteTimer = null;
    for (const resolve of this.#writableWaiters.splice(0)) resolve();
    this.#abort.abort();
    for (const listener of this.#closedListeners.splice(0)) listener();
  }

  #onClosed(error: Error | undefined): void {
    if (!this.#closed) {
      if (error !== undefined) this.#logger.debug({ err: error }, 'connection failed');
      else this.#logger.debug('connection closed by the client');
    }
    this.#markClosed();
  }
}

function byteLengthOf(chunks: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const chunk of chunks) bytes += chunk.byteLength;
  return bytes;
}
