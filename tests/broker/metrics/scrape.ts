/** GET over loopback, and the Prometheus text format read back into samples by name and labels (for the metrics tests). */
import http from 'node:http';

export function getText(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: timeoutMs, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, contentType: String(response.headers['content-type'] ?? '') }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} took more than ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export interface Samples {
  has(name: string): boolean;
  /** The sample's value; 0 when absent (a counter not incremented yet). */
  value(name: string, labels?: Record<string, string>): number;
}

export function parseMetrics(text: string): Samples {
  const samples = new Map<string, number>();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    names.add(match[1]!);
    const labels = match[3] === undefined ? {} : Object.fromEntries([...match[3].matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.set(key(match[1]!, labels), Number(match[4]));
  }
  return {
    has: (name) => names.has(name),
    value: (name, labels = {}) => samples.get(key(name, labels)) ?? 0,
  };
}

function key(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
}
