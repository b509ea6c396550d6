/**
 * The real network: `node:net` over TCP, for both the connections a client
 * opens and the ones a broker accepts (broker/world/transport.ts listens),
 * and `node:tls` over it when TLS is asked for (tlsClientTransport).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ClientTransport, ConnectionEvents, OutgoingConnection, OutgoingConnectionEvents } from './transport.js';

/** How long `end()` waits for a peer to take the rest of the data before it destroys the socket. */
const END_GRACE_MS = 5_000;

export class NodeConnection implements OutgoingConnection {
  readonly remoteAddress: string;
  readonly peerCertificateCn?: string | null;
  readonly #socket: net.Socket;
  /** 'secureConnect' for TLS: established means handshaken and verified. */
  readonly #connectEvent: 'connect' | 'secureConnect';
  #attached = false;

  /**
   * `target`: the address being connected to, for an outgoing socket (its
   * peer address is not known yet). An accepted TLS socket arrives after its
   * handshake, so its peer certificate is known here.
   */
  constructor(socket: net.Socket, target?: string, connectEvent: 'connect' | 'secureConnect' = 'connect') {
    this.#connectEvent = connectEvent;
    this.#socket = socket;
    this.remoteAddress = target ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (socket instanceof tls.TLSSocket && target === undefined) this.peerCertificateCn = verifiedPeerCn(socket);
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
    if ('connect' in events) this.#socket.once(this.#connectEvent, () => events.connect());
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

/**
 * The subject CN of a verified client certificate, or null (none sent, or it
 * did not chain to the CA: with tls.client.auth=requested the connection is
 * kept, but the certificate names nobody).
 */
function verifiedPeerCn(socket: tls.TLSSocket): string | null {
  if (!socket.authorized) return null;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  // A subject with several CNs gives an array: ambiguous, so nobody.
  return typeof cn === 'string' && cn !== '' ? cn : null;
}

/** How a client connects over TLS: PEM contents, not file names (the caller reads its files). */
export interface ClientTlsOptions {
  /** CA certificates the broker's certificate must chain to; absent: the system's CAs. */
  ca?: string | Uint8Array;
  /** A client certificate and its key, for mutual TLS. */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  /** false accepts any broker certificate (testing only: anyone in the middle can read everything). Default true. */
  rejectUnauthorized?: boolean;
}

/**
 * Connects over TLS. `connect` fires once the TLS handshake completed and
 * the broker's certificate verified (for the host name connected to), so a
 * connect timeout covers the handshake too; a failed verification is
 * `close(error)` with the reason (error.code such as
 * ERR_TLS_CERT_ALTNAME_INVALID or UNABLE_TO_VERIFY_LEAF_SIGNATURE).
 */
export function tlsClientTransport(opts: ClientTlsOptions): ClientTransport {
  const toBuffer = (v: string | Uint8Array | undefined): Buffer | undefined => (v === undefined ? undefined : Buffer.from(v));
  const ca = toBuffer(opts.ca);
  const cert = toBuffer(opts.cert);
  const key = toBuffer(opts.key);
  return {
    connect(target) {
      const socket = tls.connect({
        host: target.host,
        port: target.port,
        // SNI takes a name, never an IP address (node warns); verification still checks the IP against the certificate.
        ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
        rejectUnauthorized: opts.rejectUnauthorized ?? true,
      });
      return new NodeConnection(socket, `${target.host}:${target.port}`, 'secureConnect');
    },
  };
}

/** Connects over TCP; the caller's clock bounds the attempt (see ClientTransport.connect). */
export const nodeClientTransport: ClientTransport = {
  connect(opts) {
    return new NodeConnection(net.connect({ host: opts.host, port: opts.port }), `${opts.host}:${opts.port}`);
  },
};
