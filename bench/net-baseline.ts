/**
 * Raw loopback TCP throughput from Node: the ceiling any broker written in
 * Node can approach on this machine, measured in the same run as the broker
 * so the ratio means something. One socket, large writes (1 MiB by default),
 * the receiver in a separate process (as the broker is), which discards what
 * it reads and answers one byte when it has everything. Prints figures only.
 *
 *   node dist/bench/net-baseline.js [--bytes N] [--write-bytes N] [--runs N] [--json]
 *   (env: NET_BASELINE_BYTES, NET_BASELINE_RUNS)
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainModule } from '../tools/main-module.js';

export interface NetBaselineRun {
  bytes: number;
  elapsedMs: number;
  mbPerSec: number;
}

export interface NetBaselineResult {
  runs: NetBaselineRun[];
  /** The median run by throughput. */
  median: NetBaselineRun;
}

const MiB = 1024 * 1024;
const HEADER_BYTES = 8;
const SINK_FLAG = '--sink';

export async function measureLoopbackTcp(opts: { totalBytes?: number; writeBytes?: number; runs?: number } = {}): Promise<NetBaselineResult> {
  const totalBytes = opts.totalBytes ?? 1024 * MiB;
  const writeBytes = opts.writeBytes ?? MiB;
  const runCount = opts.runs ?? 3;
  const sink = fork(fileURLToPath(import.meta.url), [SINK_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const [message] = (await once(sink, 'message')) as [{ port: number }];
    await sendOnce(message.port, Math.min(totalBytes, 256 * MiB), writeBytes); // warm-up: JIT, socket buffers
    const runs: NetBaselineRun[] = [];
    for (let i = 0; i < runCount; i++) runs.push(await sendOnce(message.port, totalBytes, writeBytes));
    const sorted = [...runs].sort((a, b) => a.mbPerSec - b.mbPerSec);
    return { runs, median: sorted[Math.floor(sorted.length / 2)]! };
  } finally {
    sink.kill('SIGTERM');
  }
}

async function sendOnce(port: number, totalBytes: number, writeBytes: number): Promise<NetBaselineRun> {
  const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  const chunk = Buffer.alloc(writeBytes, 0x61);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeBigUInt64BE(BigInt(totalBytes));
  const acknowledged = once(socket, 'data');
  const startMs = performance.now();
  socket.write(header);
  for (let sent = 0; sent < totalBytes; ) {
    const piece = totalBytes - sent >= writeBytes ? chunk : chunk.subarray(0, totalBytes - sent);
    sent += piece.length;
    if (!socket.write(piece)) await once(socket, 'drain');
  }
  await acknowledged;
  const elapsedMs = performance.now() - startMs;
  socket.destroy();
  return { bytes: totalBytes, elapsedMs: round(elapsedMs), mbPerSec: round((totalBytes / MiB) / (elapsedMs / 1000)) };
}

/** The receiving process: counts bytes per connection and answers once all have arrived. */
function runSink(): void {
  const server = createServer((socket: Socket) => {
    let expected = -1;
    let received = 0;
    let header = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      if (expected < 0) {
        header = Buffer.concat([header, data]);
        if (header.length < HEADER_BYTES) return;
        expected = Number(header.readBigUInt64BE(0));
        received = header.length - HEADER_BYTES;
      } else {
        received += data.length;
      }
      if (received >= expected) socket.write('k');
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('disconnect', () => process.exit(0));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { bytes: { type: 'string' }, 'write-bytes': { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' } },
  });
  const result = await measureLoopbackTcp({
    totalBytes: Number(values.bytes ?? process.env['NET_BASELINE_BYTES'] ?? 1024 * MiB),
    writeBytes: Number(values['write-bytes'] ?? MiB),
    runs: Number(values.runs ?? process.env['NET_BASELINE_RUNS'] ?? 3),
  });
  if (values.json === true) {
    console.log(JSON.stringify(result));
    return;
  }
  for (const run of result.runs) console.log(`raw loopback TCP: ${(run.bytes / MiB).toFixed(0)} MiB in ${run.elapsedMs.toFixed(1)} ms = ${run.mbPerSec.toFixed(1)} MB/s`);
  console.log(`raw loopback TCP median: ${result.median.mbPerSec.toFixed(1)} MB/s (${((result.median.mbPerSec * 8 * MiB) / 1e9).toFixed(2)} Gbit/s)`);
}

if (process.argv.includes(SINK_FLAG)) runSink();
else if (isMainModule(import.meta.url)) await main();
