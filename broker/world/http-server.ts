/**
 * A small HTTP server as broker code sees it: GET a path, get a status, a
 * content type and a body. Only the node adapter (`nodeHttpServer`) touches
 * `node:http`, as only the transport touches `node:net`; the metrics
 * endpoint (broker/metrics/endpoint.ts) is written against the interface, so
 * a test can call it without a socket.
 *
 * Deliberately plain: no keep-alive tuning, no request bodies (anything but
 * GET and HEAD gets 405), no TLS. It serves a scraper and a load balancer's
 * health check, not clients.
 */
import http from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Answers the path (without the query string) of a GET. */
export type HttpRoutes = (path: string) => Promise<HttpAnswer>;

export interface HttpListener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting and closes idle keep-alive connections; resolves once the server is closed. */
  close(): Promise<void>;
}

export interface HttpServer {
  listen(opts: { host: string; port: number }, routes: HttpRoutes): Promise<HttpListener>;
}

export const nodeHttpServer: HttpServer = {
  listen(opts, routes) {
    const server = http.createServer((request, response) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
        return;
      }
      const path = (request.url ?? '/').split('?')[0]!;
      routes(path).then(
        (answer) => {
          response.writeHead(answer.status, { 'content-type': answer.contentType, 'cache-control': 'no-store' });
          response.end(request.method === 'HEAD' ? undefined : answer.body);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(error as Error)?.message ?? String(error)}\n`);
        },
      );
    });
    // A scraper that goes away mid-answer must not take the broker with it.
    server.on('clientError', (_error, socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port }, () => {
        server.off('error', reject);
        const address = server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error(`the metrics listener has no TCP address (${String(address)})`));
          return;
        }
        resolve({
          host: address.address,
          port: address.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        });
      });
    });
  },
};
