/**
 * The roles as real processes on loopback for tests: `runnel controller`
 * (node 0) and `runnel broker`s 1..N, each with its own data directory under
 * `dir` and a free port, started and waited for until they listen. Each
 * node's output can be watched (tests/tools/run-cli.ts `Cli`); `start(id)`
 * starts broker `id` again on its port and data.
 */
import type { Test } from 'tap';
import { join } from 'node:path';
import { spawnCli, unusedPort, type Cli } from '../tools/run-cli.js';

/** Short sessions and heartbeats (failover within seconds), JSON logs to watch. */
export const FAST_CLUSTER = ['--set', 'broker.session.timeout.ms=2000', '--set', 'broker.heartbeat.interval.ms=300', '--set', 'logger.format=json'];

export interface ProcessCluster {
  controller: Cli;
  controllerPort: number;
  ports: Map<number, number>;
  brokers: Map<number, Cli>;
  /** Starts broker `id` (again) with its own port and data directory; not waited for. */
  start(id: number): Cli;
}

export async function startProcessCluster(t: Test, opts: { dir: string; brokers: number; flags?: string[] }): Promise<ProcessCluster> {
  const flags = opts.flags ?? FAST_CLUSTER;
  const controllerPort = await unusedPort();
  const controller = spawnCli(t, ['controller', '--node-id', '0', '--listen', `127.0.0.1:${controllerPort}`, '--data', join(opts.dir, 'controller'), ...flags]);
  await controller.printed(/"event":"listening"/);
  const ports = new Map<number, number>();
  const brokers = new Map<number, Cli>();
  const start = (id: number): Cli => {
    const cli = spawnCli(t, ['broker', '--node-id', String(id), '--listen', `127.0.0.1:${ports.get(id)}`, '--data', join(opts.dir, `b${id}`), '--controller', `127.0.0.1:${controllerPort}`, ...flags]);
    brokers.set(id, cli);
    return cli;
  };
  for (let id = 1; id <= opts.brokers; id++) {
    ports.set(id, await unusedPort());
    start(id);
  }
  for (const b of brokers.values()) await b.printed(/"event":"listening"/);
  return { controller, controllerPort, ports, brokers, start };
}
