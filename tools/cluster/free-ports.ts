/**
 * A run of consecutive free loopback ports, for a local cluster whose nodes
 * listen on base, base+1, ... (cluster-ops.ts `layOut`): what the benchmark
 * and the cluster tests use when nobody names a --base-port. Free now only:
 * another process may take a port before the node binds it, so callers
 * launching on it must still handle a node that fails to listen.
 */
import { createServer } from 'node:net';

const FIRST_PORT = 20_000;
const PORT_SPAN = 40_000;
const ATTEMPTS = 50;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port P with P..P+count-1 all free on 127.0.0.1 now (random tries, bounded). */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const base = FIRST_PORT + Math.floor(Math.random() * PORT_SPAN);
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await portFree(p);
    if (free) return base;
  }
  throw new Error(`no run of ${count} free loopback ports found in ${ATTEMPTS} tries`);
}
