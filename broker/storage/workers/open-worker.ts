/**
 * Piscina worker: opens the encrypted batches of one read in its shared
 * buffer (encryption/batch-opener.ts). Nothing moves: the buffer is shared.
 */
import { runOpenRequest, type OpenReply, type OpenRequest } from '../encryption/batch-opener.js';

export default function open(request: OpenRequest): OpenReply {
  return runOpenRequest(request);
}
