/**
 * The network as broker code sees it: a listener that hands over
 * connections, and connections that take response chunks and give back
 * request bytes. Only `nodeTransport` below touches `node:net`, so the
 * server and connection logic can run over an in-memory transport in a
 * simulation, and a test can feed bytes without a socket.
 *
 * Flow control is explicit: `pause()`/`resume()` stop and restart reading,
 * `bufferedBytes` says how much written data the kernel has not taken yet,
 * and `onDrain` fires when that buffer empties, so a connection can stop
 * reading a client that does not read its responses.
 */
import net from 'node:net';

export interface ConnectionEvents {
  /** Bytes from the peer, in arrival order. */
  data(chunk: Uint8Array): void;
  /** Everything written so far has been handed to the kernel. */
  drain(): void;
  /** The connection is gone (peer closed, reset, or `destroy()`); fires once. */
  close(error?: Error): void;
}

export interface TransportConnection {
  /** `host:port` of the peer, for logs. */
  readonly remoteAddress: string;
  /** Must be called once, before any event is delivered. */
  attach(events: ConnectionEvents): void;
  /**
   * Queues `chunks` as one write (one writev where the platform allows).
   * Returns false when the unflushed buffer is above the transport's mark;
   * writing more is still allowed, `drain` says when it emptied.
   * `onWritten`, when given, is called once all of `chunks` has been handed
   * to the kernel, after which nothing reads them again; it is never called
   * if the connection fails or closes first.
   */
  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean;
  /** Bytes written but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  pause(): void;
  resume(): void;
  /** Closes now, dropping unwritten data. */
  destroy(): void;
  /** Closes once everything written so far is flushed (and stops reading now). */
  end(): void;
}

export interface TransportListener {
  /** The address actually bound (port 0 resolved to the OS's choice). */
  readonly host: string;
  readonly port: number;
  /** Stops accepting new connections; open ones are left to the caller (they are not waited for). */
  close(): Promise<void>;
}

export interface Transport {
  /** `onError`: an incoming connection could not be accepted (EMFILE...); the listener carries on. */
  listen(opts: { host: string; port: number; onError?: (error: Error) => void }, onConnection: (connection: TransportConnection) => void): Promise<TransportListener>;
}

class NodeConnection implements TransportConnection {
  readonly remoteAddress: string;
  readonly #socket: net.Socket;
  #attached = false;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    // Small responses (produce acks) must not wait for Nagle.
    socket.setNoDelay(true);
    // Data arrives only once attached; until then the socket must not flow.
    socket.pause();
  }

  attach(events: ConnectionEvents): void {
    if (this.#attached) throw new Error('transport connection attached twice');
    this.#attached = true;
    let closed = false;
    let lastError: Error | undefined;
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

const END_GRACE_MS = 5_000;

/** The real network: `node:net` over TCP. */
export const nodeTransport: Transport = {
  listen(opts, onConnection) {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => onConnection(new NodeConnection(socket)));
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen({ host: opts.host, port: opts.port }, () => {
        server.off('error', onError);
        // After listen, 'error' is a failed accept (out of descriptors): without a listener it would kill the process.
        server.on('error', (error) => opts.onError?.(error));
        const address = server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error(`listening socket has no TCP address (${String(address)})`));
          return;
        }
        resolve({
          host: address.address,
          port: address.port,
          // net.Server#close calls back only after every connection ended; the caller closes those itself.
          close: async () => {
            server.close();
          },
        });
      });
    });
  },
};
