/**
 * The network as broker code sees it: what a client sees (connect, and
 * connections; client/transport.ts, where the interfaces live so that both
 * sides may use them) plus a listener that hands over accepted connections.
 * Only the node adapter touches `node:net`; memory-transport.ts is the
 * simulated network.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ClientTransport, TransportConnection } from '../../client/transport.js';
import { NodeConnection, nodeClientTransport } from '../../client/transport-node.js';

export type { ConnectionEvents, OutgoingConnection, OutgoingConnectionEvents, TransportConnection } from '../../client/transport.js';

export interface TransportListener {
  /** The address actually bound (port 0 resolved to the OS's choice). */
  readonly host: string;
  readonly port: number;
  /** Stops accepting new connections; open ones are left to the caller (they are not waited for). */
  close(): Promise<void>;
}

/** A TLS listener's certificate and key (PEM contents), and whether it asks clients for theirs. */
export interface ServerTls {
  cert: Uint8Array;
  key: Uint8Array;
  /** CAs client certificates must chain to; absent: the system's. */
  ca?: Uint8Array;
  /** none: no client certificate asked; requested: asked, checked if sent; required: a client without a valid one is refused in the handshake. */
  clientAuth: 'none' | 'requested' | 'required';
}

export interface Transport extends ClientTransport {
  /**
   * `onError`: an incoming connection could not be accepted (EMFILE...); the
   * listener carries on. `tls`: connections are TLS, handed over once their
   * handshake completed (a failed handshake never reaches `onConnection`).
   */
  listen(opts: { host: string; port: number; onError?: (error: Error) => void; tls?: ServerTls }, onConnection: (connection: TransportConnection) => void): Promise<TransportListener>;
}

/** How long an accepted TLS connection may take to finish its handshake. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The real network: `node:net` over TCP (`node:tls` for TLS listeners). */
export const nodeTransport: Transport = {
  connect: nodeClientTransport.connect,
  listen(opts, onConnection) {
    return new Promise((resolve, reject) => {
      const server = opts.tls === undefined
        ? net.createServer({ pauseOnConnect: true }, (socket) => onConnection(new NodeConnection(socket)))
        : tls.createServer({
          cert: Buffer.from(opts.tls.cert),
          key: Buffer.from(opts.tls.key),
          ...(opts.tls.ca === undefined ? {} : { ca: Buffer.from(opts.tls.ca) }),
          requestCert: opts.tls.clientAuth !== 'none',
          rejectUnauthorized: opts.tls.clientAuth === 'required',
          // A client that opens TCP and never finishes the handshake must not hold a descriptor forever.
          handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
        }, (socket) => onConnection(new NodeConnection(socket)));
      // A failed handshake (wrong CA, no client certificate, plain bytes on a TLS port) closes that socket; the listener carries on.
      if (opts.tls !== undefined) server.on('tlsClientError', () => undefined);
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
