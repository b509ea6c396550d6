/**
 * Piscina worker: runs one recovery scan chunk (batch-scan.ts) off the main
 * thread and hands the chunk buffer and the result arrays back by transfer.
 */
import type { Transferable } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { scanChunk } from '../batch-scan.js';
import type { ScanReply, ScanRequest } from '../segment-scanner.js';

export default function scan(request: ScanRequest): ScanReply {
  const output = scanChunk(new Uint8Array(request.buffer, 0, request.length), request.params, request.state);
  const reply: ScanReply = { buffer: request.buffer, output, state: request.state };
  const transfer: Transferable[] = [request.buffer, output.offsetEntries.buffer as ArrayBuffer, output.timeEntries.buffer as ArrayBuffer, output.epochStarts.buffer as ArrayBuffer];
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return reply;
    },
  } as never) as unknown as ScanReply;
}
