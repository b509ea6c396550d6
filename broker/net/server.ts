/**
 * The broker's front door: listens through the injected Transport, wraps
 * each accepted connection in a ClientConnection, closes connections idle
 * past `connections.max.idle.ms`, and shuts down gracefully: stop accepting,
 * end long-polls early, give in-flight requests until the deadline to answer,
 * then close what is left.
 */
import type { BrokerConfig } from '../config.js';
import type { HandlerTable } from '../handlers/index.js';
import type { Logger } from '../log.js';
import type { Clock, TimerHandle } from '../world/clock.js';
import type { Transport, TransportListener } from '../world/transport.js';
import { ClientConnection } from './connection.js';

/** How often idle connections are looked for, at most (a fraction of the idle limit below that). */
const IDLE_SWEEP_MS_MAX = 30_000;

export class BrokerServer {
  readonly #listener: TransportListener;
  readonly #connections = new Set<ClientConnection>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  #idleTimer: TimerHandle | undefined;
  #closing = false;

  private constructor(listener: TransportListener, clock: Clock, logger: Logger) {
    this.#listener = listener;
    this.#clock = clock;
    this.#logger = logger;
  }

  static async start(opts: { transport: Transport; config: BrokerConfig; handlers: HandlerTable; clock: Clock; logger: Logger }): Promise<BrokerServer> {
    const { config, clock, logger } = opts;
    const limits = {
      maxRequestBytes: config.maxRequestBytes,
      queuedMaxRequests: config.queuedMaxRequests,
      maxUnflushedResponseBytes: config.maxUnflushedResponseBytes,
    };
    let nextId = 1;
    let server: BrokerServer | undefined;
    const listener = await opts.transport.listen({ host: config.host, port: config.port }, (transport) => {
      if (server === undefined || server.#closing) {
        transport.destroy();
        return;
      }
      const connection = new ClientConnection({ id: nextId++, transport, handlers: opts.handlers, limits, clock, logger });
      server.#connections.add(connection);
      connection.onClosed(() => server!.#connections.delete(connection));
    });
    server = new BrokerServer(listener, clock, logger);
    if (config.connectionsMaxIdleMs > 0) server.#sweepIdle(config.connectionsMaxIdleMs);
    return server;
  }

  get host(): string {
    return this.#listener.host;
  }

  get port(): number {
    return this.#listener.port;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops accepting, ends waits, lets in-flight requests answer until `timeoutMs`, then closes every connection. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#idleTimer?.cancel();
    await this.#listener.close();
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
      const nowMs = this.#clock.nowMs();
      for (const connection of this.#connections) {
        if (connection.idleMs(nowMs) >= idleMs) connection.close(`idle for more than ${idleMs} ms (connections.max.idle.ms)`, 'debug');
      }
      if (!this.#closing) this.#idleTimer = this.#clock.schedule(everyMs, sweep);
    };
    this.#idleTimer = this.#clock.schedule(everyMs, sweep);
  }
}
