/**
 * The error frame: the response to a request the broker cannot answer in its
 * API's own body, because it does not know the API key (UNKNOWN_API), does
 * not speak that version (UNSUPPORTED_VERSION), or the body does not decode
 * (INVALID_REQUEST).
 * ```
 * response: u32 length | i32 correlationId | i16 errorCode | string errorMessage
 * ```
 * `errorCode` is never 0 and the frame ends right after `errorMessage`.
 *
 * ApiVersions is the exception, as in Kafka: a request for a version the
 * broker does not speak is answered with an ApiVersions v0 body carrying
 * UNSUPPORTED_VERSION and the broker's version table, so any client can
 * always learn what to speak.
 *
 * A client that fails to decode a response as the body it expected tries
 * `tryDecodeErrorResponse`; a body that has exactly this shape is the error.
 */
import { ProtocolDecodeError } from './decode-error.js';
import { stringBytes, WireWriter } from './wire-writer.js';
import { WireReader } from './wire-reader.js';

const LENGTH_PREFIX_BYTES = 4;
const CORRELATION_ID_BYTES = 4;

export interface ErrorResponse {
  errorCode: number;
  errorMessage: string | null;
}

/** A whole error frame, length prefix included. */
export function encodeErrorResponse(correlationId: number, errorCode: number, errorMessage: string | null): Uint8Array[] {
  if (errorCode === 0) throw new RangeError('an error frame needs a non-zero error code');
  // Messages are for people; keep them well inside the i16 string limit.
  const message = errorMessage !== null && Buffer.byteLength(errorMessage) > 4096 ? `${errorMessage.slice(0, 4000)}…` : errorMessage;
  const frameBytes = CORRELATION_ID_BYTES + 2 + stringBytes(message);
  const w = new WireWriter(LENGTH_PREFIX_BYTES + frameBytes, 0, 'error response');
  w.i32(frameBytes, 'length');
  w.i32(correlationId, 'correlationId');
  w.i16(errorCode, 'errorCode');
  w.nullableString(message, 'errorMessage');
  return [w.finish()];
}

/** The error of an error frame's body; throws ProtocolDecodeError if the body is not exactly that shape. */
export function decodeErrorResponse(frame: Uint8Array, bodyOffset: number): ErrorResponse {
  const r = new WireReader(frame, bodyOffset, 'error response');
  const errorCode = r.i16('errorCode');
  if (errorCode === 0) r.fail('errorCode', 'is 0, which is not an error', bodyOffset);
  const errorMessage = r.nullableString('errorMessage');
  r.end();
  return { errorCode, errorMessage };
}

/** The error when the body has exactly the error frame's shape, else null. */
export function tryDecodeErrorResponse(frame: Uint8Array, bodyOffset: number): ErrorResponse | null {
  try {
    return decodeErrorResponse(frame, bodyOffset);
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return null;
    throw error;
  }
}
