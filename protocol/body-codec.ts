/**
 * What one version of one API must provide to `codec.ts`: encoders and
 * decoders of its request and response bodies. The frame's length and header
 * are written by `codec.ts`, so every encoder leaves `headroomBytes` free at
 * the start of its first chunk (which it owns; it is never a caller's record
 * slice) and returns the frame as chunks, to be written with one
 * `socket.cork()`/`writev` and never concatenated. Decoders read
 * `frame[bodyOffset, end)`, must consume it exactly, and throw only
 * `ProtocolDecodeError` for bad bytes. `OutgoingRequest` is what the request
 * encoder takes, when it is wider than what the decoder gives (Produce
 * records in several buffers).
 */
export interface BodyCodec<Request, Response, OutgoingRequest = Request> {
  encodeRequest(body: OutgoingRequest, headroomBytes: number): Uint8Array[];
  decodeRequest(frame: Uint8Array, bodyOffset: number): Request;
  encodeResponse(body: Response, headroomBytes: number): Uint8Array[];
  decodeResponse(frame: Uint8Array, bodyOffset: number): Response;
}
