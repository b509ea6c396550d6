/**
 * Piscina worker: runs one recovery scan chunk (batch-scan.ts) off the main
 * thread and hands the chunk buffer and the result arrays back by transfer.
 */
import { runScanRequest, type ScanReply, type ScanRequest } from '../segment-scanner.js';
import { replyByTransfer } from './transfer-pool.js';

export default function scan(request: ScanRequest): ScanReply {
  const reply = runScanRequest(request);
  const { output } = reply;
  return replyByTransfer(reply, [request.buffer, output.offsetEntries.buffer as ArrayBuffer, output.timeEntries.buffer as ArrayBuffer, output.epochStarts.buffer as ArrayBuffer]);
}
