/**
 * Piscina worker: runs one cleaner chunk task (compaction-chunk.ts) off the
 * main thread and hands the chunk buffer and the output back by transfer.
 */
import type { Transferable } from 'node:worker_threads';
import { runCleanRequest, type CleanReply, type CleanRequest } from '../compaction-chunk.js';
import { replyByTransfer } from './transfer-pool.js';

export default function clean(request: CleanRequest): CleanReply {
  const reply = runCleanRequest(request);
  const transfer: Transferable[] = [reply.buffer];
  if (reply.kind === 'filter') transfer.push(reply.output, reply.batches.buffer as ArrayBuffer);
  return replyByTransfer(reply, transfer);
}
