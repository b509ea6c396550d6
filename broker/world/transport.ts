/**
 * The network as broker code sees it: what a client sees (connect, and
 * connections; client/transport.ts, where the interfaces live so that both
 * sides may use them) plus a listener that hands over accepted connections.
 * Only the node adapter touches `node:net`; memory-transport.ts is the
 * simulated network.
 */
import net from 'node:net';
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

export interface Transport extends ClientTransport {
  /** `onError`: an incoming connection could not be accepted (EMFILE...); the listener carries on. */
  listen(opts: { host: string; port: number; onError?: (error: Error) => void }, onConnection: (connection: TransportConnection) => void): Promise<TransportListener>;
}

/** The real network: `node:net` over TCP. */
export const nodeTransport: Transport = {
  connect: nodeClientTransport.connect,
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
