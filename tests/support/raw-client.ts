/**
 * A bare protocol client for broker tests: one TCP connection, requests
 * encoded with protocol/codec.ts, responses matched by correlation id. It
 * does nothing on its own (no retries, no metadata, no version negotiation),
 * so a test sees exactly what the broker answered, and it can also send
 * arbitrary bytes (`sendRaw`) for bad-input tests.
 */
import net from 'node:net';
import type { ApiName } from '../../protocol/api-keys.js';
import { decodeResponseBody, decodeResponseHeader, encodeRequest } from '../../protocol/codec.js';
import { tryDecodeErrorResponse } from '../../protocol/error-response.js';
import { errorNameOf } from '../../protocol/errors.js';
import { FrameReader } from '../../protocol/frame-reader.js';
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';

/** The broker answered with an error frame instead of the API's body. */
export class ErrorFrame extends Error {
  override name = 'ErrorFrame';
  constructor(
    readonly errorCode: number,
    readonly errorMessage: string | null,
  ) {
    super(`${errorNameOf(errorCode)} (${errorCode}): ${errorMessage ?? ''}`);
  }
  get errorName(): string {
    return errorNameOf(this.errorCode);
  }
}

interface Pending {
  resolve(frame: Uint8Array): void;
  reject(error: Error): void;
}

export class RawClient {
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, Pending>();
  #nextCorrelationId = 1;
  #closedError: Error | undefined;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const reader = new FrameReader({
      maxFrameBytes: 0x7fffffff,
      onFrame: (frame) => {
        const { correlationId } = decodeResponseHeader(frame);
        const pending = this.#pending.get(correlationId);
        if (pending === undefined) throw new Error(`response with unknown correlation id ${correlationId}`);
        this.#pending.delete(correlationId);
        pending.resolve(frame);
      },
    });
    socket.on('data', (chunk) => reader.push(chunk));
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#closedError = new Error('connection closed by the broker');
        for (const pending of this.#pending.values()) pending.reject(this.#closedError);
        this.#pending.clear();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  /** `localAddress`: the loopback address to connect from (127.0.0.2 looks like another client machine). */
  static connect(host: string, port: number, opts: { localAddress?: string } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, ...opts }, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.#closedError !== undefined;
  }

  /** Sends a request; resolves with its raw response frame (after the length prefix). */
  requestFrame<K extends ApiName>(api: K, version: number, body: RequestBodies[K], opts: { clientId?: string | null; correlationId?: number } = {}): Promise<Uint8Array> {
    const correlationId = opts.correlationId ?? this.#nextCorrelationId++;
    const chunks = encodeRequest(api, version, correlationId, opts.clientId ?? 'raw-client', body);
    const response = this.expectResponse(correlationId);
    this.#socket.cork();
    for (const chunk of chunks) this.#socket.write(chunk);
    this.#socket.uncork();
    return response;
  }

  /** Sends a request and decodes its response; an error frame rejects with ErrorFrame. */
  async request<K extends ApiName>(api: K, body: RequestBodies[K], version = 0): Promise<ResponseBodies[K]> {
    const frame = await this.requestFrame(api, version, body);
    return decodeOrThrow(api, version, frame);
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  sendOnly<K extends ApiName>(api: K, body: RequestBodies[K], version = 0): void {
    const chunks = encodeRequest(api, version, this.#nextCorrelationId++, 'raw-client', body);
    for (const chunk of chunks) this.#socket.write(chunk);
  }

  /** A promise for the response frame with `correlationId` (for requests written with `sendRaw`). */
  expectResponse(correlationId: number): Promise<Uint8Array> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => this.#pending.set(correlationId, { resolve, reject }));
  }

  /** Writes bytes as they are, for frames a well-behaved client would never send. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.#socket.write(bytes, () => resolve()));
  }

  close(): void {
    this.#socket.destroy();
  }
}

export function decodeOrThrow<K extends ApiName>(api: K, version: number, frame: Uint8Array): ResponseBodies[K] {
  const { bodyOffset } = decodeResponseHeader(frame);
  try {
    return decodeResponseBody(api, version, frame, bodyOffset);
  } catch (error) {
    const errorFrame = tryDecodeErrorResponse(frame, bodyOffset);
    if (errorFrame !== null) throw new ErrorFrame(errorFrame.errorCode, errorFrame.errorMessage);
    throw error;
  }
}

/** A request frame (length prefix included) with any header values, for bad-input tests. */
export function rawRequestFrame(header: { apiKey: number; apiVersion: number; correlationId: number; clientId?: string | null }, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const clientId = header.clientId === undefined ? 'raw' : header.clientId;
  const clientIdBytes = clientId === null ? Buffer.alloc(0) : Buffer.from(clientId);
  const frameBytes = 2 + 2 + 4 + 2 + clientIdBytes.length + body.byteLength;
  const buf = Buffer.alloc(4 + frameBytes);
  let pos = buf.writeInt32BE(frameBytes, 0);
  pos = buf.writeInt16BE(header.apiKey, pos);
  pos = buf.writeInt16BE(header.apiVersion, pos);
  pos = buf.writeInt32BE(header.correlationId, pos);
  pos = buf.writeInt16BE(clientId === null ? -1 : clientIdBytes.length, pos);
  buf.set(clientIdBytes, pos);
  buf.set(body, pos + clientIdBytes.length);
  return buf;
}
