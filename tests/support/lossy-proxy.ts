/**
 * Lost responses on real sockets: a loopback TCP proxy in front of each
 * broker that reads the frames going both ways and, when told to, swallows
 * a Produce response and drops the connection instead of passing it on. The
 * broker has appended the records by then (it answers only after that), so
 * the producer sees a dead connection with its request unanswered, exactly
 * as when a network fails between the broker's reply and the client: it
 * retries a batch that is already in the log.
 *
 * The client reaches brokers through a ClientTransport that sends every
 * connection for `host:port` to that broker's proxy (`clientWorld`), so the
 * addresses the metadata gives still work.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { ApiKey } from '../../protocol/api-keys.js';
import { nodeClientTransport as nodeTransport } from '../../client/transport-node.js';
import type { ClientTransport } from '../../client/transport.js';

export interface DroppedResponse {
  /** `host:port` of the broker whose answer was swallowed. */
  broker: string;
  correlationId: number;
}

export interface LossyProxies {
  /** For `new Runnel(opts, world)`: connects go to the proxy of the broker asked for. */
  transport: ClientTransport;
  /** Decides per Produce response whether to swallow it (and drop that connection). */
  shouldDrop: (broker: string) => boolean;
  /** Every response swallowed so far. */
  readonly dropped: DroppedResponse[];
  /** Called after a response was swallowed (the test may kill that broker then). */
  onDrop: (d: DroppedResponse) => void;
  close(): Promise<void>;
}

/** Reads length-prefixed frames from a byte stream as they complete. */
class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const size = this.#pending.readInt32BE(0);
      if (this.#pending.length < 4 + size) break;
      frames.push(this.#pending.subarray(0, 4 + size));
      this.#pending = this.#pending.subarray(4 + size);
    }
    return frames;
  }
}

export function lossyProxies(): LossyProxies {
  const servers = new Map<string, Promise<{ server: Server; port: number }>>();
  const sockets = new Set<Socket>();
  const proxies: LossyProxies = {
    transport: undefined as unknown as ClientTransport,
    shouldDrop: () => false,
    dropped: [],
    onDrop: () => undefined,
    async close() {
      for (const s of sockets) s.destroy();
      for (const entry of servers.values()) {
        const { server } = await entry;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };

  const proxyFor = (host: string, port: number): Promise<{ server: Server; port: number }> => {
    const broker = `${host}:${port}`;
    let entry = servers.get(broker);
    if (entry !== undefined) return entry;
    entry = new Promise((resolve, reject) => {
      const server = createServer((client) => {
        const upstream = netConnect({ host, port });
        sockets.add(client);
        sockets.add(upstream);
        const produceIds = new Set<number>();
        const requests = new FrameSplitter();
        const responses = new FrameSplitter();
        const kill = (): void => {
          client.destroy();
          upstream.destroy();
        };
        client.on('data', (chunk: Buffer) => {
          // Request header: size, apiKey i16, apiVersion i16, correlationId i32.
          for (const frame of requests.push(chunk)) {
            if (frame.readInt16BE(4) === ApiKey.Produce) produceIds.add(frame.readInt32BE(8));
            upstream.write(frame);
          }
        });
        upstream.on('data', (chunk: Buffer) => {
          for (const frame of responses.push(chunk)) {
            const correlationId = frame.readInt32BE(4);
            if (produceIds.delete(correlationId) && proxies.shouldDrop(broker)) {
              const d = { broker, correlationId };
              proxies.dropped.push(d);
              kill();
              proxies.onDrop(d);
              return;
            }
            client.write(frame);
          }
        });
        client.on('close', kill);
        upstream.on('close', kill);
        client.on('error', () => undefined);
        upstream.on('error', () => undefined);
      });
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') return reject(new Error('proxy has no port'));
        resolve({ server, port: address.port });
      });
    });
    servers.set(broker, entry);
    return entry;
  };

  // The proxy's port is known only once it listens: connect to it when it does, through the real transport.
  proxies.transport = {
    connect({ host, port }) {
      let target: ReturnType<typeof nodeTransport.connect> | null = null;
      let events: Parameters<ReturnType<typeof nodeTransport.connect>['attach']>[0] | null = null;
      const queued: { chunks: readonly Uint8Array[]; onWritten?: () => void }[] = [];
      let destroyed = false;
      let ref = true;
      void proxyFor(host, port).then(({ port: proxyPort }) => {
        if (destroyed) {
          events?.close(new Error('destroyed before connecting'));
          return;
        }
        target = nodeTransport.connect({ host: '127.0.0.1', port: proxyPort });
        if (!ref) target.unref();
        target.attach(events!);
        for (const q of queued.splice(0)) target.write(q.chunks, q.onWritten);
      }, (error: Error) => events?.close(error));
      return {
        remoteAddress: `${host}:${port}`,
        attach(e) {
          events = e;
        },
        write(chunks, onWritten) {
          if (target !== null) return target.write(chunks, onWritten);
          queued.push({ chunks, ...(onWritten === undefined ? {} : { onWritten }) });
          return true;
        },
        get bufferedBytes() {
          return target?.bufferedBytes ?? 0;
        },
        pause: () => target?.pause(),
        resume: () => target?.resume(),
        destroy() {
          destroyed = true;
          target?.destroy();
        },
        end() {
          destroyed = true;
          target?.end();
        },
        ref() {
          ref = true;
          target?.ref();
        },
        unref() {
          ref = false;
          target?.unref();
        },
      };
    },
  };
  return proxies;
}
