/**
 * A simulated network in one process: nodes (named hosts) listen and connect
 * by `host:port`, and every byte, connect, FIN and reset travels as an event
 * on the injected `Clock`, after a delay drawn from the injected `Rng`. No
 * real timer runs, so under a `ManualClock` a whole cluster (brokers,
 * controller, clients) moves only when the test advances time, and a seed
 * replays exactly.
 *
 * It models what a TCP connection shows an application, not packets:
 * - Streams are reliable and ordered; each write arrives as one chunk.
 * - Flow control: bytes stay in the sender's buffer (`bufferedBytes`) until the
 *   receiver reads them; a paused or unattached receiver reads nothing, so the
 *   sender's buffer grows, `write` returns false past the high-water mark, and
 *   `drain` fires when it empties (as Node: only after a write returned false).
 * - `destroy()` drops unsent data; the peer sees a clean close, or ECONNRESET
 *   if data was dropped. `end()` flushes, then closes both ends.
 * - Nothing listening: the connect fails with ECONNREFUSED.
 *
 * Faults for a simulation: `partition(a, b, 'hold')` is a firewall that drops
 * packets (TCP keeps retrying: nothing arrives, nothing is lost, connects hang
 * until the caller gives up, and everything flows again at `heal`);
 * `partition(a, b, 'reset')` rejects (connections between them are reset and
 * connects refused until `heal`). Silently losing bytes from the middle of a
 * stream is not something TCP does, so there is no mode for it. `kill(host)`
 * is the network's view of a process dying: its listeners vanish and its
 * connections are reset.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { Rng } from './rng.js';
import type { ConnectionEvents, OutgoingConnection, OutgoingConnectionEvents, Transport, TransportListener } from './transport.js';

export interface MemoryNetworkOptions {
  clock: Clock;
  rng: Rng;
  /** One-way delay of every delivery, uniform in [minDelayMs, maxDelayMs] (default 0..2 ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** `write` returns false once this many bytes are unread by the peer (default 16 KiB, Node's). */
  highWaterMark?: number;
}

export type PartitionMode = 'hold' | 'reset';

/** How long `end()` waits for a peer to take the rest of the data before it destroys the connection (as the node adapter). */
const END_GRACE_MS = 5_000;
const FIRST_EPHEMERAL_PORT = 32_768;
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

interface Listening {
  readonly onConnection: (connection: Endpoint) => void;
}

/** A packet that is not part of a stream's data: SYN, SYN-ACK, FIN, RST. */
interface Packet {
  readonly from: string;
  readonly to: string;
  readonly arrive: () => void;
}

function errnoError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${message} ${code}`), { code });
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

export class MemoryNetwork {
  readonly clock: Clock;
  readonly #rng: Rng;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly highWaterMark: number;
  readonly #listeners = new Map<string, Listening>();
  readonly #open = new Set<Endpoint>();
  readonly #partitions = new Map<string, PartitionMode>();
  #held: Packet[] = [];
  readonly #nextPort = new Map<string, number>();

  constructor(opts: MemoryNetworkOptions) {
    this.clock = opts.clock;
    this.#rng = opts.rng;
    this.#minDelayMs = opts.minDelayMs ?? 0;
    this.#maxDelayMs = opts.maxDelayMs ?? 2;
    if (!(this.#minDelayMs >= 0 && this.#maxDelayMs >= this.#minDelayMs)) throw new RangeError(`delays must satisfy 0 <= min <= max, got ${this.#minDelayMs}..${this.#maxDelayMs}`);
    this.highWaterMark = opts.highWaterMark ?? 16 * 1024;
  }

  /** The transport of the node named `host`: it listens on `host` (or a wildcard) and its connections come from `host`. */
  node(host: string): Transport {
    return {
      listen: async (opts, onConnection) => {
        if (opts.tls !== undefined) throw new Error('the simulated network has no TLS: simulate PLAINTEXT or SASL_PLAINTEXT listeners');
        if (!WILDCARDS.has(opts.host) && opts.host !== host) throw errnoError('EADDRNOTAVAIL', `listen ${opts.host}:${opts.port} on node ${host}`);
        const port = opts.port === 0 ? this.#ephemeralPort(host) : opts.port;
        const key = `${host}:${port}`;
        if (this.#listeners.has(key)) throw errnoError('EADDRINUSE', `listen ${key}`);
        const listening: Listening = { onConnection };
        this.#listeners.set(key, listening);
        const listener: TransportListener = {
          host: opts.host,
          port,
          close: async () => {
            if (this.#listeners.get(key) === listening) this.#listeners.delete(key);
          },
        };
        return listener;
      },
      connect: (opts) => this.#connect(host, opts.host, opts.port),
    };
  }

  /** Cuts `a` off from `b` (both ways) until `heal(a, b)`; see the header for the modes. */
  partition(a: string, b: string, mode: PartitionMode = 'hold'): void {
    this.#partitions.set(pairKey(a, b), mode);
    if (mode === 'reset') {
      for (const endpoint of [...this.#open]) if (endpoint.host === a && endpoint.peer?.host === b) endpoint.reset(true);
    }
  }

  /** Ends a partition: held packets and data move again, connects are accepted. */
  heal(a: string, b: string): void {
    const key = pairKey(a, b);
    if (!this.#partitions.delete(key)) return;
    const released = this.#held.filter((p) => pairKey(p.from, p.to) === key);
    this.#held = this.#held.filter((p) => pairKey(p.from, p.to) !== key);
    for (const packet of released) this.#transmit(packet);
    for (const endpoint of this.#open) if (endpoint.host === a || endpoint.host === b) endpoint.kick();
  }

  /** The process on `host` died: its listeners are gone and every connection to or from it is reset. */
  kill(host: string): void {
    for (const key of [...this.#listeners.keys()]) if (key.slice(0, key.lastIndexOf(':')) === host) this.#listeners.delete(key);
    for (const endpoint of [...this.#open]) if (endpoint.host === host) endpoint.reset(true);
  }

  /** Connections open now (both ends count), for tests and simulation invariants. */
  get openConnections(): number {
    return this.#open.size;
  }

  /** Whether traffic from `from` to `to` is held by a partition. */
  held(from: string, to: string): boolean {
    return this.#partitions.get(pairKey(from, to)) === 'hold';
  }

  delayMs(): number {
    return this.#minDelayMs + this.#rng.int(this.#maxDelayMs - this.#minDelayMs + 1);
  }

  /** Sends a control packet: held by a 'hold' partition until heal, else delivered after a delay. */
  send(from: string, to: string, arrive: () => void): void {
    this.#transmit({ from, to, arrive });
  }

  opened(endpoint: Endpoint): void {
    this.#open.add(endpoint);
  }

  closed(endpoint: Endpoint): void {
    this.#open.delete(endpoint);
  }

  #transmit(packet: Packet): void {
    if (this.held(packet.from, packet.to)) this.#held.push(packet);
    else this.clock.schedule(this.delayMs(), packet.arrive);
  }

  #ephemeralPort(host: string): number {
    for (;;) {
      const port = this.#nextPort.get(host) ?? FIRST_EPHEMERAL_PORT;
      this.#nextPort.set(host, port >= 65_535 ? FIRST_EPHEMERAL_PORT : port + 1);
      if (!this.#listeners.has(`${host}:${port}`)) return port;
    }
  }

  #connect(from: string, host: string, port: number): OutgoingConnection {
    const localPort = this.#ephemeralPort(from);
    const client = new Endpoint(this, from, `${host}:${port}`, 'connecting');
    // SYN: refused if nothing listens or a 'reset' partition rejects it; otherwise accepted there, and the SYN-ACK comes back.
    this.send(from, host, () => {
      if (client.closed) return;
      const listening = this.#listeners.get(`${host}:${port}`);
      if (listening === undefined || this.#partitions.get(pairKey(from, host)) === 'reset') {
        this.send(host, from, () => client.fail(errnoError('ECONNREFUSED', `connect ${host}:${port}`)));
        return;
      }
      const server = new Endpoint(this, host, `${from}:${localPort}`, 'open');
      client.peer = server;
      server.peer = client;
      listening.onConnection(server);
      this.send(host, from, () => client.establish());
    });
    return client;
  }
}

type Events = ConnectionEvents & Partial<Pick<OutgoingConnectionEvents, 'connect'>>;

/** One end of a simulated connection: its own write buffer, delivered to the peer on the network's clock. */
class Endpoint implements OutgoingConnection {
  readonly remoteAddress: string;
  readonly host: string;
  peer: Endpoint | null = null;
  readonly #net: MemoryNetwork;
  #state: 'connecting' | 'open' | 'closed';
  #events: Events | null = null;
  /** What happened before attach, replayed after it. */
  readonly #early: ((events: Events) => void)[] = [];
  readonly #outgoing: { bytes: Uint8Array; onWritten: (() => void) | undefined }[] = [];
  #buffered = 0;
  #needDrain = false;
  #paused = false;
  #ending = false;
  #delivery: TimerHandle | null = null;
  #grace: TimerHandle | null = null;

  /** `state`: 'connecting' for an end that connects (it hears `connect`), 'open' for one a listener accepts. */
  constructor(net: MemoryNetwork, host: string, remoteAddress: string, state: 'connecting' | 'open') {
    this.#net = net;
    this.#state = state;
    this.host = host;
    this.remoteAddress = remoteAddress;
    net.opened(this);
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  attach(events: Events): void {
    if (this.#events !== null) throw new Error('transport connection attached twice');
    this.#events = events;
    if (this.#early.length > 0) this.#net.clock.schedule(0, () => this.#early.splice(0).forEach((emit) => emit(events)));
    this.peer?.kick();
  }

  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean {
    if (this.#state === 'closed' || this.#ending) return false;
    // A copy: the writer may reuse its buffers once onWritten has run, and the reader may keep what it got.
    const bytes = Buffer.concat(chunks);
    this.#outgoing.push({ bytes, onWritten });
    this.#buffered += bytes.length;
    this.kick();
    const below = this.#buffered < this.#net.highWaterMark;
    if (!below) this.#needDrain = true;
    return below;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (this.#ending) return;
    this.#paused = false;
    this.peer?.kick();
  }

  ref(): void {}

  unref(): void {}

  destroy(): void {
    if (this.#state === 'closed') return;
    // Unsent data makes the kernel send a reset rather than a FIN.
    const dropped = this.#buffered > 0;
    const peer = this.peer;
    this.#close(undefined);
    if (peer !== null) this.#net.send(this.host, peer.host, () => peer.#close(dropped ? errnoError('ECONNRESET', 'read') : undefined));
  }

  end(): void {
    if (this.#state === 'closed' || this.#ending) return;
    this.#ending = true;
    this.#paused = true;
    this.#grace = this.#net.clock.schedule(END_GRACE_MS, () => this.destroy());
    if (this.#outgoing.length === 0 && this.#state === 'open') this.destroy();
    else this.kick();
  }

  /** The connecting end's SYN-ACK arrived: the connect succeeded. */
  establish(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.#emit((events) => events.connect?.());
    this.kick();
    this.peer?.kick();
  }

  /** The connect failed. */
  fail(error: Error): void {
    this.#close(error);
  }

  /** Reset by the network (a 'reset' partition, a killed host): this end now, the peer when the RST reaches it. */
  reset(both: boolean): void {
    const peer = this.peer;
    this.#close(errnoError('ECONNRESET', 'read'));
    if (both && peer !== null && !peer.closed) this.#net.send(this.host, peer.host, () => peer.#close(errnoError('ECONNRESET', 'read')));
  }

  /** Schedules delivery of the buffered data, if the path and the receiver allow it. */
  kick(): void {
    if (this.#delivery !== null || !this.#canSend()) return;
    if (this.#outgoing.length === 0 && !this.#ending) return;
    this.#delivery = this.#net.clock.schedule(this.#net.delayMs(), () => {
      this.#delivery = null;
      this.#flush();
    });
  }

  #canSend(): boolean {
    const peer = this.peer;
    return this.#state === 'open' && peer !== null && !this.#net.held(this.host, peer.host);
  }

  #canReceive(): boolean {
    return this.#state === 'open' && this.#events !== null && !this.#paused;
  }

  #flush(): void {
    const peer = this.peer;
    if (peer === null || !this.#canSend()) return;
    while (this.#outgoing.length > 0 && this.#canSend() && peer.#canReceive()) {
      const segment = this.#outgoing.shift()!;
      this.#buffered -= segment.bytes.length;
      peer.#events!.data(segment.bytes);
      segment.onWritten?.();
    }
    if (this.#outgoing.length > 0 || this.#state !== 'open') return;
    if (this.#ending) {
      this.destroy();
      return;
    }
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#emit((events) => events.drain());
    }
  }

  #close(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#delivery?.cancel();
    this.#grace?.cancel();
    this.#outgoing.length = 0;
    this.#buffered = 0;
    this.#net.closed(this);
    // As a socket's 'close', never inside the call that caused it.
    this.#net.clock.schedule(0, () => this.#emit((events) => events.close(error)));
  }

  #emit(event: (events: Events) => void): void {
    if (this.#events === null) this.#early.push(event);
    else event(this.#events);
  }
}
