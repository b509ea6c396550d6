/**
 * The real network: `node:net` over TCP, for both the connections a client
 * opens and the ones a broker accepts (broker/world/transport.ts listens).
 */
import net from 'node:net';
import type { ClientTransport, ConnectionEvents, OutgoingConnection, OutgoingConnectionEvents } from './transport.js';

/** How long `end()` waits for a peer to take the rest of the data before it destroys the socket. */
const END_GRACE_MS = 5_000;

export class NodeConnection implements OutgoingConnection {
  readonly remoteAddress: string;
  readonly #socket: net.Socket;
  #attached = false;

  /** `target`: the address being connected to, for an outgoing socket (its peer address is not known yet). */
  constructor(socket: net.Socket, target?: string) {
    this.#socket = socket;
    this.remoteAddress = target ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    // Small requests and responses (produce acks) must not wait for Nagle.
    socket.setNoDelay(true);
    // Data arrives only once attached; until then the socket must not flow.
    socket.pause();
  }

  attach(events: ConnectionEvents | OutgoingConnectionEvents): void {
    if (this.#attached) throw new Error('transport connection attached twice');
    this.#attached = true;
    let closed = false;
    let lastError: Error | undefined;
    if ('connect' in events) this.#socket.once('connect', () => events.connect());
    this.#socket.on('data', (chunk: Buffer) => events.data(chunk));
    this.#socket.on('drain', () => events.drain());
    this.#socket.on('error', (error) => { lastError = error; });
    this.#socket.on('close', () => {
      if (closed) return;
      closed = true;
      events.close(lastError);
    });
    this.#socket.resume();
  }

  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean {
    const socket = this.#socket;
    if (socket.destroyed) return false;
    const done = onWritten === undefined ? undefined : (error?: Error | null) => {
      if (error === undefined || error === null) onWritten();
    };
    if (chunks.length === 1) return socket.write(chunks[0] as Uint8Array, done);
    // cork + several writes = one writev of the header and the record slices, no concatenation.
    // The last chunk's callback runs once the writev that carries all of them has completed.
    socket.cork();
    let below = true;
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) below = socket.write(chunks[i] as Uint8Array);
    below = socket.write(chunks[last] as Uint8Array, done);
    socket.uncork();
    return below;
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  end(): void {
    this.#socket.pause();
    this.#socket.end();
    // A peer that never reads would hold the socket open forever; the flush gets a bounded grace.
    setTimeout(() => this.#socket.destroy(), END_GRACE_MS).unref();
  }
}

/** Connects over TCP; the caller's clock bounds the attempt (see ClientTransport.connect). */
export const nodeClientTransport: ClientTransport = {
  connect(opts) {
    return new NodeConnection(net.connect({ host: opts.host, port: opts.port }), `${opts.host}:${opts.port}`);
  },
};
