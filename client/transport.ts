/**
 * The network as Runnel code sees it: connections that take chunks to send
 * and give back the peer's bytes, opened by connecting (here) or accepted by
 * a listener (broker/world/transport.ts adds `listen`). Only the node adapter
 * (transport-node.ts) touches `node:net`, so the client's `Connection`, the
 * broker's server and a broker's own connections to other nodes all run over
 * an in-memory network in a simulation (broker/world/memory-transport.ts).
 *
 * The interfaces live in client/ because the arrows run broker -> client ->
 * protocol: both sides may import them here, and protocol/ stays the wire
 * format with no notion of a socket.
 *
 * Flow control is explicit: `pause()`/`resume()` stop and restart reading,
 * `bufferedBytes` says how much written data the network has not taken yet,
 * and `drain` fires when that buffer empties after a write returned false,
 * so a connection can stop reading a peer that does not read its responses.
 */

export interface ConnectionEvents {
  /** Bytes from the peer, in arrival order. */
  data(chunk: Uint8Array): void;
  /** Everything written so far has been handed to the network (after a write returned false). */
  drain(): void;
  /** The connection is gone (refused, peer closed, reset, or `destroy()`); fires once, last. */
  close(error?: Error): void;
}

export interface TransportConnection {
  /** `host:port` of the peer, for logs. */
  readonly remoteAddress: string;
  /**
   * Only on a connection accepted over TLS: the subject CN of the peer's
   * client certificate when it sent one that verified against the CA, else
   * null. Undefined: not TLS.
   */
  readonly peerCertificateCn?: string | null;
  /** Must be called once, in the same synchronous step that received the connection; events come only after it. */
  attach(events: ConnectionEvents): void;
  /**
   * Queues `chunks` as one write (one writev where the platform allows).
   * Returns false when the unflushed buffer is above the transport's mark;
   * writing more is still allowed, `drain` says when it emptied.
   * `onWritten`, when given, is called once all of `chunks` has been handed
   * to the network, after which nothing reads them again; it is never called
   * if the connection fails or closes first.
   */
  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean;
  /** Bytes written but not yet handed to the network. */
  readonly bufferedBytes: number;
  pause(): void;
  resume(): void;
  /** Closes now, dropping unwritten data. */
  destroy(): void;
  /** Closes once everything written so far is flushed (and stops reading now). */
  end(): void;
}

export interface OutgoingConnectionEvents extends ConnectionEvents {
  /** The peer accepted the connection; fires at most once, before any data. A failed connect is `close(error)` instead. */
  connect(): void;
}

/** A connection this side opened: it also says when it is established, and whether it keeps the process alive. */
export interface OutgoingConnection extends Omit<TransportConnection, 'attach'> {
  attach(events: OutgoingConnectionEvents): void;
  /** Keep the process alive while this connection is open (the default). */
  ref(): void;
  /** Let the process exit even though this connection is open (an idle client connection). */
  unref(): void;
}

export interface ClientTransport {
  /**
   * Starts connecting and returns at once; the outcome arrives after
   * `attach` as `connect()` or `close(error)` (an `error.code` such as
   * ECONNREFUSED says why). There is no timeout here: the caller bounds the
   * attempt on its own clock and `destroy()`s it. Writes before `connect`
   * are queued.
   */
  connect(opts: { host: string; port: number }): OutgoingConnection;
}
