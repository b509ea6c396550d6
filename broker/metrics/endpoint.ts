/**
 * The metrics listener (`metrics.listen=HOST:PORT`): `/metrics` in
 * Prometheus' text format, `/health` as JSON (200 while the broker serves,
 * 503 with the reasons otherwise: health.ts). Served through the injected
 * HttpServer (broker/world/http-server.ts), on its own port, apart from the
 * Kafka-protocol listener: a scraper or a load balancer never competes with
 * clients for connection slots, and the broker's connection limits do not
 * apply to it.
 */
import type { Logger } from '../log.js';
import type { HttpAnswer, HttpListener, HttpServer } from '../world/http-server.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { HealthReport } from './health.js';

const TEXT = 'text/plain; charset=utf-8';

export function metricsRoutes(metrics: BrokerMetrics | null, health: () => HealthReport): (path: string) => Promise<HttpAnswer> {
  return async (path) => {
    if (path === '/metrics' && metrics !== null) return { status: 200, contentType: metrics.contentType, body: await metrics.scrape() };
    if (path === '/health') {
      const report = health();
      return { status: report.status, contentType: 'application/json', body: `${JSON.stringify(report.body)}\n` };
    }
    return { status: 404, contentType: TEXT, body: 'not found: this listener serves /metrics and /health\n' };
  };
}

export async function startMetricsEndpoint(opts: { http: HttpServer; host: string; port: number; metrics: BrokerMetrics | null; health: () => HealthReport; logger: Logger }): Promise<HttpListener> {
  const listener = await opts.http.listen({ host: opts.host, port: opts.port }, metricsRoutes(opts.metrics, opts.health));
  opts.logger.info({ event: 'metricsListening', host: listener.host, port: listener.port }, `metrics and health on http://${listener.host}:${listener.port}/metrics and /health`);
  return listener;
}
