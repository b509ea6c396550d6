/**
 * What a broker process holds in memory, asked of the broker itself: start
 * it with `memoryProbeEnv()` in its environment (that preloads
 * memory-probe.mjs, a unix socket inside the broker process), then
 * `brokerMemory()` answers with its `process.memoryUsage()` after a full
 * garbage collection. Tests bound `arrayBuffers`: bytes the broker has
 * allocated for buffers, whether or not their pages were ever touched.
 */
import net from 'node:net';
import { join } from 'node:path';
import { freshDataDir } from './broker-process.js';
import { repoUrl } from './repo-root.js';

const PROBE_PRELOAD = repoUrl('tests', 'support', 'memory-probe.mjs');

export interface MemoryProbe {
  /** Environment for startBrokerProcess({ env }). */
  env: Record<string, string>;
  /** The broker's memory use now, after a full collection. */
  read(): Promise<NodeJS.MemoryUsage>;
}

export function memoryProbe(): MemoryProbe {
  const socketPath = join(freshDataDir('runnel-probe-'), 'memory.sock');
  return {
    env: {
      BROKER_TEST_MEMORY_PROBE: socketPath,
      NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import=${PROBE_PRELOAD}`.trim(),
    },
    read: () =>
      new Promise((resolve, reject) => {
        let text = '';
        const socket = net.connect(socketPath);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.once('error', reject);
        socket.once('end', () => {
          try {
            resolve(JSON.parse(text) as NodeJS.MemoryUsage);
          } catch (error) {
            reject(new Error(`the broker's memory probe answered ${JSON.stringify(text)}`, { cause: error }));
          }
        });
      }),
  };
}

export const MiB = 1024 * 1024;

/** "12.3 MiB" */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
