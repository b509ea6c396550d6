/**
 * SASL/SCRAM as a layer of the transport: a connection it makes says
 * `connect` only once the broker has accepted the client's proof and proved
 * itself back (SaslHandshake, then two SaslAuthenticate round trips), so
 * everything above (the Connection's version handshake, its requests, its
 * connect timeout, which covers this too) runs on an authenticated
 * connection without knowing SASL exists. Brokers wrap their own
 * connections to other brokers the same way (inter-broker SASL).
 *
 * A refused login closes the connection with a SaslAuthenticationError
 * (code SASL_AUTHENTICATION_FAILED): not retriable, since trying the same
 * password again cannot help; the Connection turns it into a RunnelError of
 * that name.
 */
import { decodeResponseBody, decodeResponseHeader, encodeRequest } from '../../protocol/codec.js';
import { Errors, errorNameOf } from '../../protocol/errors.js';
import { FrameReader } from '../../protocol/frame-reader.js';
import type { ClientTransport, ConnectionEvents, OutgoingConnection, OutgoingConnectionEvents } from '../transport.js';
import { ScramClient, ScramClientError } from './scram-client.js';
import { nonceFrom, type ScramMechanism } from './scram.js';

export interface SaslCredentials {
  mechanism: ScramMechanism;
  username: string;
  password: string;
}

/** Authentication was refused (or the broker failed to prove itself); `code` is what the Connection reads. */
export class SaslAuthenticationError extends Error {
  override name = 'SaslAuthenticationError';
  readonly code: 'SASL_AUTHENTICATION_FAILED' | 'UNSUPPORTED_SASL_MECHANISM' | 'ILLEGAL_SASL_STATE';
  constructor(code: SaslAuthenticationError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** Largest SASL response accepted (SCRAM messages are a few hundred bytes). */
const MAX_SASL_FRAME_BYTES = 64 * 1024;
const CLIENT_ID = 'runnel-sasl';

/** `randomBytes`: a cryptographic source for the client nonce. */
export function saslTransport(inner: ClientTransport, credentials: SaslCredentials, randomBytes: (n: number) => Uint8Array): ClientTransport {
  return { connect: (opts) => new SaslConnection(inner.connect(opts), credentials, randomBytes) };
}

class SaslConnection implements OutgoingConnection {
  readonly #inner: OutgoingConnection;
  readonly #credentials: SaslCredentials;
  readonly #randomBytes: (n: number) => Uint8Array;
  /** Writes before authentication completed wait here, in order. */
  readonly #queued: { chunks: readonly Uint8Array[]; onWritten: (() => void) | undefined }[] = [];
  #authenticated = false;
  #failure: Error | undefined;

  constructor(inner: OutgoingConnection, credentials: SaslCredentials, randomBytes: (n: number) => Uint8Array) {
    this.#inner = inner;
    this.#credentials = credentials;
    this.#randomBytes = randomBytes;
  }

  get remoteAddress(): string {
    return this.#inner.remoteAddress;
  }

  get bufferedBytes(): number {
    return this.#inner.bufferedBytes;
  }

  attach(events: OutgoingConnectionEvents): void {
    let upper: ConnectionEvents | null = null;
    const exchange = new SaslExchange(this.#credentials, this.#randomBytes, (chunks) => this.#inner.write(chunks));
    this.#inner.attach({
      connect: () => exchange.start(),
      data: (chunk) => {
        if (upper !== null) {
          upper.data(chunk);
          return;
        }
        const outcome = exchange.push(chunk);
        if (outcome === 'pending') return;
        if (outcome instanceof Error) {
          this.#failure = outcome;
          this.#inner.destroy();
          return;
        }
        this.#authenticated = true;
        upper = events;
        events.connect();
        for (const { chunks, onWritten } of this.#queued.splice(0)) this.#inner.write(chunks, onWritten);
      },
      drain: () => upper?.drain(),
      close: (error) => events.close(this.#failure ?? error),
    });
  }

  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean {
    if (this.#authenticated) return this.#inner.write(chunks, onWritten);
    this.#queued.push({ chunks, onWritten });
    return true;
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  destroy(): void {
    this.#inner.destroy();
  }

  end(): void {
    this.#inner.end();
  }

  ref(): void {
    this.#inner.ref();
  }

  unref(): void {
    this.#inner.unref();
  }
}

/**
 * The three round trips, as a state machine fed with the broker's bytes:
 * SaslHandshake, SaslAuthenticate(client-first), SaslAuthenticate(client-final).
 * One request at a time, so responses need no matching beyond their order.
 */
class SaslExchange {
  readonly #credentials: SaslCredentials;
  readonly #write: (chunks: Uint8Array[]) => void;
  readonly #scram: ScramClient;
  readonly #reader: FrameReader;
  #step: 'handshake' | 'first' | 'final' = 'handshake';
  #correlationId = 0;
  #outcome: 'pending' | 'done' | Error = 'pending';

  constructor(credentials: SaslCredentials, randomBytes: (n: number) => Uint8Array, write: (chunks: Uint8Array[]) => void) {
    this.#credentials = credentials;
    this.#write = write;
    this.#scram = new ScramClient(credentials.mechanism, credentials.username, credentials.password, nonceFrom(randomBytes(24)));
    this.#reader = new FrameReader({ maxFrameBytes: MAX_SASL_FRAME_BYTES, onFrame: (frame) => this.#onFrame(frame) });
  }

  start(): void {
    this.#send('SaslHandshake', { mechanism: this.#credentials.mechanism });
  }

  /** Feeds the broker's bytes; says whether the exchange is still going, done, or failed (and why). */
  push(chunk: Uint8Array): 'pending' | 'done' | Error {
    try {
      this.#reader.push(chunk);
    } catch (error) {
      this.#outcome = new SaslAuthenticationError('ILLEGAL_SASL_STATE', `the broker's answer during SASL authentication is malformed: ${(error as Error).message}`);
    }
    return this.#outcome;
  }

  #send(api: 'SaslHandshake' | 'SaslAuthenticate', body: { mechanism: string } | { authBytes: Uint8Array }): void {
    this.#correlationId += 1;
    this.#write(encodeRequest(api, 0, this.#correlationId, CLIENT_ID, body as never));
  }

  #onFrame(frame: Uint8Array): void {
    if (this.#outcome !== 'pending') return;
    try {
      const { correlationId, bodyOffset } = decodeResponseHeader(frame);
      if (correlationId !== this.#correlationId) throw new Error(`response ${correlationId} to request ${this.#correlationId}`);
      this.#outcome = this.#step === 'handshake' ? this.#afterHandshake(frame, bodyOffset) : this.#afterAuthenticate(frame, bodyOffset);
    } catch (error) {
      this.#outcome = error instanceof SaslAuthenticationError ? error
        : error instanceof ScramClientError ? new SaslAuthenticationError('SASL_AUTHENTICATION_FAILED', `SASL ${this.#credentials.mechanism} authentication as ${this.#credentials.username} failed: ${error.message}`)
        : new SaslAuthenticationError('ILLEGAL_SASL_STATE', `the broker's answer during SASL authentication does not decode (is this a SASL listener?): ${(error as Error).message}`);
    }
  }

  #afterHandshake(frame: Uint8Array, bodyOffset: number): 'pending' {
    const response = decodeResponseBody('SaslHandshake', 0, frame, bodyOffset);
    const error = errorNameOf(response.errorCode);
    if (error === 'UNSUPPORTED_SASL_MECHANISM') throw new SaslAuthenticationError(error, `the broker does not enable ${this.#credentials.mechanism} on this listener; it offers ${response.mechanisms.join(', ') || 'none'}`);
    if (error === 'ILLEGAL_SASL_STATE') throw new SaslAuthenticationError(error, 'this listener does not use SASL: connect without a username, or to the broker\'s SASL listener');
    if (error !== 'NONE') throw new SaslAuthenticationError('ILLEGAL_SASL_STATE', `SaslHandshake failed: ${Errors[error].message}`);
    this.#step = 'first';
    this.#send('SaslAuthenticate', { authBytes: Buffer.from(this.#scram.firstMessage(), 'utf8') });
    return 'pending';
  }

  #afterAuthenticate(frame: Uint8Array, bodyOffset: number): 'pending' | 'done' {
    const response = decodeResponseBody('SaslAuthenticate', 0, frame, bodyOffset);
    if (errorNameOf(response.errorCode) !== 'NONE') {
      throw new SaslAuthenticationError('SASL_AUTHENTICATION_FAILED', `SASL ${this.#credentials.mechanism} authentication as ${this.#credentials.username} failed: ${response.errorMessage ?? Errors.SASL_AUTHENTICATION_FAILED.message}`);
    }
    const message = Buffer.from(response.authBytes).toString('utf8');
    if (this.#step === 'first') {
      this.#step = 'final';
      this.#send('SaslAuthenticate', { authBytes: Buffer.from(this.#scram.finalMessage(message), 'utf8') });
      return 'pending';
    }
    this.#scram.verifyServerFinal(message);
    return 'done';
  }
}
