/**
 * A scripted broker for SDK tests that need exact control of the other end:
 * it answers ApiVersions with `versions` (by default every API at v0 only,
 * the version the answer helpers below encode) and every other request
 * through `answer` (which may return null to stay silent; it gets the
 * request's version, to answer in kind); an InitProducerId that `answer`
 * leaves unanswered gets producer id 1, epoch 0. It can also play the
 * faults a real broker has, deterministically and at once: `hang()` keeps
 * every connection open but answers nothing (SIGSTOP: the kernel still
 * accepts connections and takes their bytes), `resume()` answers what came
 * meanwhile, in order, and goes on (SIGCONT), `stop()` closes every
 * connection and the port (a kill), `restart()` listens on the same port
 * again.
 */
import type { Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { apiNameOf, type ApiName } from '../../protocol/api-keys.js';
import { apiVersionsTable, decodeRequestBody, decodeRequestHeader, encodeResponse } from '../../protocol/codec.js';
import { FrameReader } from '../../protocol/frame-reader.js';
import type { ResponseBodies } from '../../protocol/messages.js';

export type Answer = (api: ApiName, correlationId: number, body: unknown, socket: net.Socket, version: number) => Uint8Array[] | null;

/** The ApiVersions table of a broker that speaks v0 of every API this build knows. */
export function v0Versions(): ResponseBodies['ApiVersions']['apiKeys'] {
  return apiVersionsTable().map((v) => ({ ...v, maxVersion: v.minVersion }));
}

export interface FakeBroker {
  readonly port: number;
  readonly server: net.Server;
  /** Connections accepted so far. */
  connections(): number;
  /** Requests received so far, by API. */
  requests(api: ApiName): number;
  hang(): void;
  resume(): void;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function fakeBroker(t: Test, answer: Answer, versions = v0Versions()): Promise<FakeBroker> {
  let connections = 0;
  let hung = false;
  /** What arrived while hung, answered on resume. */
  let backlog: (() => void)[] = [];
  const counts = new Map<ApiName, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const reader = new FrameReader({
      maxFrameBytes: 1 << 24,
      onFrame: (frame) => {
        const { header, bodyOffset } = decodeRequestHeader(frame);
        const api = apiNameOf(header.apiKey)!;
        counts.set(api, (counts.get(api) ?? 0) + 1);
        const handle = (): void => {
          if (socket.destroyed) return;
          const body = decodeRequestBody(api, header.apiVersion, frame, bodyOffset);
          // An idempotent producer (the SDK's default) asks for an id first; `answer` may script it, else every producer gets id 1.
          let scripted: Uint8Array[] | null = null;
          if (api === 'InitProducerId') {
            try {
              scripted = answer(api, header.correlationId, body, socket, header.apiVersion);
            } catch {
              scripted = null; // a script that knows nothing of it
            }
          } else if (api !== 'ApiVersions') {
            scripted = answer(api, header.correlationId, body, socket, header.apiVersion);
          }
          const out = api === 'ApiVersions'
            ? encodeResponse('ApiVersions', 0, header.correlationId, { errorCode: 0, apiKeys: versions })
            : scripted === null && api === 'InitProducerId'
              ? encodeResponse('InitProducerId', 0, header.correlationId, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, producerId: 1, producerEpoch: 0 })
              : scripted;
          if (out !== null) for (const chunk of out) socket.write(chunk);
        };
        if (hung) backlog.push(handle);
        else handle();
      },
    });
    socket.on('data', (chunk) => reader.push(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const stop = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.teardown(stop);
  return {
    port,
    server,
    connections: () => connections,
    requests: (api) => counts.get(api) ?? 0,
    hang: () => (hung = true),
    resume: () => {
      hung = false;
      const waiting = backlog;
      backlog = [];
      for (const handle of waiting) handle();
    },
    stop,
    async restart() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
  };
}

/** A Metadata answer naming one broker (node 1, at 127.0.0.1:`port`) and `topics` with their partition counts, all led by it. */
export function metadataAnswer(correlationId: number, port: number, topics: Record<string, number>): Uint8Array[] {
  return encodeResponse('Metadata', 0, correlationId, {
    brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
    clusterId: 'fake',
    controllerId: 1,
    topics: Object.entries(topics).map(([name, count]) => ({
      errorCode: 0,
      name,
      isInternal: false,
      partitions: Array.from({ length: count }, (_, partition) => ({ errorCode: 0, partition, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] })),
    })),
  });
}

/** A Produce answer giving every partition asked for `errorCode` (with `errorMessage`), or success at offset 0. */
export function produceAnswer(correlationId: number, body: unknown, errorCode = 0, errorMessage: string | null = null): Uint8Array[] {
  const req = body as { topics: { name: string; partitions: { partition: number }[] }[] };
  const topics: ResponseBodies['Produce']['topics'] = req.topics.map((tp) => ({
    name: tp.name,
    partitions: tp.partitions.map((p) => ({ partition: p.partition, errorCode, errorMessage, baseOffset: errorCode === 0 ? 0 : -1, logAppendTimeMs: -1, logStartOffset: 0 })),
  }));
  return encodeResponse('Produce', 0, correlationId, { throttleTimeMs: 0, topics });
}
