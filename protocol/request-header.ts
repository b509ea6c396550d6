/**
 * The request header, fixed by DESIGN.md ("Wire protocol"): after the frame's
 * u32 length, every request starts
 * ```
 * apiKey         i16     which API (api-keys.ts)
 * apiVersion     i16     which version of its body follows
 * correlationId  i32     chosen by the client, echoed in the response
 * clientId       string  (nullable) the client's name, for logs and quotas
 * ```
 * and the body follows at `bodyOffset`. The response header is only
 * `correlationId i32` (see codec.ts).
 */
import { WireReader } from './wire-reader.js';
import { stringBytes, type WireWriter } from './wire-writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Encoded size of a request header with this client id. */
export function requestHeaderBytes(clientId: string | null): number {
  return 2 + 2 + 4 + stringBytes(clientId);
}

export function writeRequestHeader(w: WireWriter, header: RequestHeader): void {
  w.i16(header.apiKey, 'apiKey');
  w.i16(header.apiVersion, 'apiVersion');
  w.i32(header.correlationId, 'correlationId');
  w.nullableString(header.clientId, 'clientId');
}

/** Reads the header of a request frame (the bytes after the length prefix). Throws ProtocolDecodeError. */
export function decodeRequestHeader(frame: Uint8Array): { header: RequestHeader; bodyOffset: number } {
  const r = new WireReader(frame, 0, 'request header');
  const apiKey = r.i16('apiKey');
  const apiVersion = r.i16('apiVersion');
  const correlationId = r.i32('correlationId');
  const clientId = r.nullableString('clientId');
  return { header: { apiKey, apiVersion, correlationId, clientId }, bodyOffset: r.pos };
}
