/**
 * The broker's front door: listens through the injected Transport, wraps
 * each accepted connection in a ClientConnection, closes connections idle
 * past `connections.max.idle.ms`, and shuts down gracefully: stop accepting,
 * end long-polls early, give in-flight requests until the deadline to answer,
 * then close what is left.
 *
 * Connection limits (Kafka's names): past `max.connections.per.ip` from one
 * address (or its entry in `max.connections.per.ip.overrides`), past
 * `max.connection.creation.rate` new connections per second from one
 * address (quota/connection-rate.ts), or past `max.connections` in all, a
 * new connection is closed as soon as it is accepted; the client sees the connection drop and retries
 * with backoff. Loopback connections may go `admin.reserved.connections`
 * past `max.connections`, so an operator on the broker's machine can get in
 * when clients hold every slot. Each connection holds a descriptor and up to
 * `max.request.bytes` of buffered frame, so the limits bound both; the
 * default `max.connections` comes from the descriptor limit
 * (descriptor-budget.ts). The limits span every listener (a broker may
 * listen on several: PLAINTEXT, SSL, SASL_SSL...; broker/security/).
 * Refusals and failed accepts (EMFILE) are logged at
 * most once per LIMIT_LOG_INTERVAL_MS with a count; the broker carries on.
 */
import type { BrokerConfig } from '../config.js';
import type { HandlerTable } from '../handlers/index.js';
import type { Logger } from '../log.js';
import type { RequestObserver } from '../metrics/request-observer.js';
import { monotonicMs, type Clock, type TimerHandle } from '../world/clock.js';
import type { ServerTls, Transport, TransportConnection, TransportListener } from '../world/transport.js';
import type { ListenerSpec, SecurityProtocol } from '../security/listeners.js';
import { ClientConnection } from './connection.js';
import { ConnectionRateLimiter } from '../quota/connection-rate.js';
import type { ClientQuotaEnforcer } from '../quota/client-quotas.js';

/** How often idle connections are looked for, at most (a fraction of the idle limit below that). */
const IDLE_SWEEP_MS_MAX = 30_000;
/** Refused connections and failed accepts are logged at most this often (with how many since). */
const LIMIT_LOG_INTERVAL_MS = 10_000;

export interface ConnectionCaps {
  /** Client connections at once, not counting the admin reserve. */
  maxConnections: number;
  /** Per client address; -1: none. */
  maxConnectionsPerIp: number;
  /** Loopback connections accepted past maxConnections. */
  adminReservedConnections: number;
  /** Per-address exceptions to maxConnectionsPerIp (-1: none for that address). */
  maxConnectionsPerIpOverrides?: ReadonlyMap<string, number>;
  /** New connections per second per address; 0 or absent: no limit. */
  maxConnectionCreationRate?: number;
}

/** Which limit refused a connection (logs and metrics). */
export type RefusedBy = 'max.connections.per.ip' | 'max.connection.creation.rate' | 'max.connections';

/** `host` of a `host:port` remote address (IPv6 hosts contain colons; the port is after the last). */
export function remoteHostOf(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  return colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
}

export function isLoopbackHost(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host.startsWith('::ffff:127.');
}

/** Counts events and logs them at most once per interval. */
class ThrottledLog {
  #count = 0;
  #lastLogMs = Number.NEGATIVE_INFINITY;
  constructor(private readonly clock: Clock, private readonly log: (count: number) => void) {}
  note(): void {
    this.#count += 1;
    const nowMs = monotonicMs(this.clock);
    if (nowMs - this.#lastLogMs < LIMIT_LOG_INTERVAL_MS) return;
    this.#lastLogMs = nowMs;
    this.log(this.#count);
    this.#count = 0;
  }
}

/** A listener to open: where, its security protocol, and its certificate when it is TLS. */
export interface ListenerToOpen {
  readonly spec: ListenerSpec;
  readonly tls?: ServerTls;
}

/** A listener as bound (port 0 resolved). */
export interface BoundListener {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  readonly host: string;
  readonly port: number;
}

export class BrokerServer {
  /** The first is the inter-broker listener: `host`/`port` are its. */
  readonly #listeners: { bound: BoundListener; transport: TransportListener }[];
  readonly #connections = new Set<ClientConnection>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #caps: ConnectionCaps;
  /** Open connections per client address. */
  readonly #perHost = new Map<string, number>();
  readonly #refusals: ThrottledLog;
  readonly #creationRate: ConnectionRateLimiter;
  readonly #onRefused: ((by: RefusedBy) => void) | undefined;
  #refusedTotal = 0;
  #idleTimer: TimerHandle | undefined;
  #closing = false;

  private constructor(listeners: { bound: BoundListener; transport: TransportListener }[], clock: Clock, logger: Logger, caps: ConnectionCaps, onRefused?: (by: RefusedBy) => void) {
    this.#listeners = listeners;
    this.#clock = clock;
    this.#logger = logger;
    this.#caps = caps;
    this.#onRefused = onRefused;
    this.#creationRate = new ConnectionRateLimiter(caps.maxConnectionCreationRate ?? 0);
    const { maxConnectionsPerIpOverrides: _overrides, ...logged } = caps;
    this.#refusals = new ThrottledLog(clock, (count) => logger.warn({ event: 'connectionsRefused', count, connections: this.#connections.size, ...logged },
      `refused ${count} connection(s) at the connection limits (max.connections ${caps.maxConnections}, max.connections.per.ip ${caps.maxConnectionsPerIp}, max.connection.creation.rate ${caps.maxConnectionCreationRate ?? 0}, admin.reserved.connections ${caps.adminReservedConnections}); clients retry`));
  }

  /**
   * `caps` default to the config's, with max.connections -1 meaning no
   * limit (the broker passes the limits its descriptor budget resolved).
   */
  /**
   * `listeners` default to the config's, none of them TLS (the caller that
   * has TLS listeners reads their certificate files and passes them here);
   * the inter-broker listener is opened first.
   */
  /** `quotas`: client-quota enforcement for every connection; `onRefused`: hears each connection refused at a limit (metrics). */
  static async start(opts: { transport: Pick<Transport, 'listen'>; config: BrokerConfig; handlers: HandlerTable; clock: Clock; logger: Logger; caps?: ConnectionCaps; listeners?: readonly ListenerToOpen[]; observer?: RequestObserver | null; quotas?: ClientQuotaEnforcer | null; onRefused?: (by: RefusedBy) => void }): Promise<BrokerServer> {
    const { config, clock, logger } = opts;
    const caps = opts.caps ?? {
      maxConnections: config.maxConnections < 0 ? Number.POSITIVE_INFINITY : config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      adminReservedConnections: config.adminReservedConnections,
      maxConnectionsPerIpOverrides: config.maxConnectionsPerIpOverrides,
      maxConnectionCreationRate: config.maxConnectionCreationRate,
    };
    const limits = {
      maxRequestBytes: config.maxRequestBytes,
      queuedMaxRequests: config.queuedMaxRequests,
      maxUnflushedResponseBytes: config.maxUnflushedResponseBytes,
    };
    let nextId = 1;
    let server: BrokerServer | undefined;
    const acceptFailures = new ThrottledLog(clock, (count) => logger.error({ event: 'acceptFailed', count },
      `${count} incoming connection(s) could not be accepted (the process is out of file descriptors?): check ulimit -n and max.connections`));
    const onConnection = (listener: ListenerSpec) => (transport: TransportConnection): void => {
      if (server === undefined || server.#closing) {
        transport.destroy();
        return;
      }
      const host = remoteHostOf(transport.remoteAddress);
      const refusedBy = server.#refusal(host);
      if (refusedBy !== null) {
        server.#refusedTotal += 1;
        transport.destroy();
        server.#refusals.note();
        server.#onRefused?.(refusedBy);
        return;
      }
      const connection = new ClientConnection({ id: nextId++, transport, handlers: opts.handlers, limits, clock, logger, listener, observer: opts.observer ?? null, quotas: opts.quotas ?? null });
      server.#connections.add(connection);
      server.#perHost.set(host, (server.#perHost.get(host) ?? 0) + 1);
      connection.onClosed(() => server!.#forget(connection, host));
    };
    const toOpen: ListenerToOpen[] = [...(opts.listeners ?? config.listeners.map((spec) => ({ spec })))].sort((a, b) => Number(b.spec.name === config.interBrokerListenerName) - Number(a.spec.name === config.interBrokerListenerName));
    const opened: { bound: BoundListener; transport: TransportListener }[] = [];
    try {
      for (const { spec, tls } of toOpen) {
        const transportListener = await opts.transport.listen({ host: spec.host, port: spec.port, onError: () => acceptFailures.note(), ...(tls === undefined ? {} : { tls }) }, onConnection(spec));
        opened.push({ bound: { name: spec.name, securityProtocol: spec.securityProtocol, host: transportListener.host, port: transportListener.port }, transport: transportListener });
      }
    } catch (error) {
      // One listener failed to bind: close the ones already open, so a retry can bind them again.
      await Promise.all(opened.map((l) => l.transport.close()));
      throw error;
    }
    server = new BrokerServer(opened, clock, logger, caps, opts.onRefused);
    if (config.connectionsMaxIdleMs > 0) server.#sweepIdle(config.connectionsMaxIdleMs);
    return server;
  }

  /** Which limit a new connection from `host` is past, or null when it fits them all (it then counts against the creation rate). */
  #refusal(host: string): RefusedBy | null {
    const caps = this.#caps;
    const perIp = caps.maxConnectionsPerIpOverrides?.get(host) ?? caps.maxConnectionsPerIp;
    if (perIp >= 0 && (this.#perHost.get(host) ?? 0) >= perIp) return 'max.connections.per.ip';
    const cap = caps.maxConnections + (isLoopbackHost(host) ? caps.adminReservedConnections : 0);
    if (this.#connections.size >= cap) return 'max.connections';
    if (!this.#creationRate.admit(host, monotonicMs(this.#clock))) return 'max.connection.creation.rate';
    return null;
  }

  #forget(connection: ClientConnection, host: string): void {
    this.#connections.delete(connection);
    const left = (this.#perHost.get(host) ?? 1) - 1;
    if (left <= 0) this.#perHost.delete(host);
    else this.#perHost.set(host, left);
  }

  /** Connections closed at the limits since start. */
  get refusedConnections(): number {
    return this.#refusedTotal;
  }

  /** The inter-broker listener's bound address. */
  get host(): string {
    return this.#listeners[0]!.bound.host;
  }

  get port(): number {
    return this.#listeners[0]!.bound.port;
  }

  /** Every listener as bound, the inter-broker one first. */
  get listeners(): readonly BoundListener[] {
    return this.#listeners.map((l) => l.bound);
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** True from the start of `close`: the listener stops, and health checks say the broker is going away. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Stops accepting, ends waits, lets in-flight requests answer until `timeoutMs`, then closes every connection. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#idleTimer?.cancel();
    await Promise.all(this.#listeners.map((l) => l.transport.close()));
    const connections = [...this.#connections];
    for (const connection of connections) connection.abortWaits();
    const drained = Promise.all(connections.map((connection) => new Promise<void>((resolve) => connection.onIdle(resolve))));
    let timer: TimerHandle | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = this.#clock.schedule(timeoutMs, () => resolve('timeout'));
    });
    const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
    timer?.cancel();
    if (outcome === 'timeout') {
      const busy = connections.filter((c) => c.inFlightRequests > 0).length;
      this.#logger.warn({ busyConnections: busy }, `shutdown deadline of ${timeoutMs} ms passed with ${busy} connection(s) still busy; closing them`);
    }
    for (const connection of connections) connection.close('broker shutting down', 'debug', { flush: true });
  }

  #sweepIdle(idleMs: number): void {
    const everyMs = Math.max(10, Math.min(IDLE_SWEEP_MS_MAX, Math.floor(idleMs / 4)));
    const sweep = (): void => {
      const nowMs = monotonicMs(this.#clock);
      for (const connection of this.#connections) {
        if (connection.idleMs(nowMs) >= idleMs) connection.close(`idle for more than ${idleMs} ms (connections.max.idle.ms)`, 'debug');
      }
      this.#creationRate.sweep(nowMs);
      if (!this.#closing) this.#idleTimer = this.#clock.schedule(everyMs, sweep);
    };
    this.#idleTimer = this.#clock.schedule(everyMs, sweep);
  }
}
